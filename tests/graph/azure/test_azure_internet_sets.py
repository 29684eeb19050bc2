"""Azure NSGs over sets of internet clients: a port is open to the internet when the public
addresses both NSG levels admit (first match per address, by priority) are wide - at least a
/8 of IPv4 (2^24 addresses) - the same threshold as on AWS (posture.graph.depth.wide)."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import inventory, nsg, one_vm, public_ip, rule
from support.checks import only, run_one

from posture.graph.azure.depth import vm_depths
from posture.graph.azure.nsg import internet_admission, internet_reach, is_wide
from posture.graph.azure.reach import AzureNetwork, Reach
from posture.model import Finding, Severity, Status

ADMIN = "azure.network.admin_ports_not_internet_reachable"
DBPORTS = "azure.network.db_ports_not_internet_reachable"
LATENT = "azure.network.no_latent_sensitive_port_exposure"
DEPTH = "azure.network.sensitive_ports_defense_in_depth"
PIP = public_ip("pip-h", "20.0.0.1", sku="Standard")


def _vm(subnet_nsg: Any = None, nic_nsg: Any = None, pip: Any = PIP) -> list[Any]:
    return one_vm(subnet_nsg, nic_nsg, pip)


def _run(check_id: str, assets: list[Any]) -> Finding:
    return only(run_one(check_id, inventory(*assets)))


def _depth(assets: list[Any], port: int = 22) -> int | None:
    inv = inventory(*assets)
    (host,) = inv.of("Microsoft.Compute/virtualMachines")
    depths = vm_depths(AzureNetwork(inv), host, (port,))
    assert depths is not None
    return depths[0].depth


def _verdict(assets: list[Any], port: int = 22) -> Any:
    net = AzureNetwork(inventory(*assets))
    ((_, (ep,)),) = net.hosts()
    return net.internet_exposure(ep, port)


def _consistent(assets: list[Any], exposed: bool) -> None:
    """The CRITICAL check, the depth check (depth 0 iff exposed) and the latent check agree."""
    admin = _run(ADMIN, assets)
    assert admin.status is (Status.FAIL if exposed else Status.PASS), admin.message
    assert (_depth(assets) == 0) is exposed
    depth = run_one(DEPTH, inventory(*assets))  # depth 0 is left to the CRITICAL checks
    assert (not depth) is exposed, [f.message for f in depth]
    latent = _run(LATENT, assets)
    assert latent.status is Status.PASS, latent.message  # real exposure is never latent


def test_a_partial_deny_ahead_of_internet_leaves_the_rest_of_the_internet_in() -> None:
    group = nsg(
        "partial",
        rule("deny-20", 100, "deny", src="20.0.0.0/8", ports="22"),
        rule("ssh-internet", 200, src="Internet", ports="22"),
    )
    assets = _vm(nic_nsg=group)
    admin = _run(ADMIN, assets)
    assert admin.status is Status.FAIL and admin.severity is Severity.CRITICAL
    _consistent(assets, exposed=True)


def test_denying_half_of_ipv4_ahead_of_any_leaves_the_other_half_wide() -> None:
    group = nsg(
        "half",
        rule("deny-low", 100, "deny", src="0.0.0.0/1", ports="22"),
        rule("ssh-any", 200, src="*", ports="22"),
    )
    _consistent(_vm(subnet_nsg=group), exposed=True)


DENY_ALL_BUT = [
    rule("d1", 100, "deny", src="0.0.0.0/1", ports="22"),
    rule("d2", 101, "deny", src="128.0.0.0/2", ports="22"),
    rule("d3", 102, "deny", src="192.0.0.0/4", ports="22"),
    rule("d4", 103, "deny", src="208.0.0.0/5", ports="22"),
    rule("d5", 104, "deny", src="216.0.0.0/6", ports="22"),
    rule("d6", 105, "deny", src="220.0.0.0/7", ports="22"),
    rule("d7", 106, "deny", src="222.0.0.0/8", ports="22"),
]


def test_denies_leaving_less_than_a_slash_8_are_not_exposure() -> None:
    group = nsg(
        "almost-all",
        *DENY_ALL_BUT,
        rule("d8", 107, "deny", src="223.128.0.0/9", ports="22"),
        rule("ssh-any", 200, src="*", ports="22"),
    )
    assets = _vm(nic_nsg=group)
    _consistent(assets, exposed=False)
    assert "223.0.0.0/9" in _run(ADMIN, assets).message  # the narrow range left is named
    # leaving exactly a /8 (223.0.0.0/8) is wide
    exactly = nsg("all-but-8", *DENY_ALL_BUT, rule("ssh-any", 200, src="*", ports="22"))
    _consistent(_vm(nic_nsg=exactly), exposed=True)


def test_disjoint_allow_lists_at_the_two_levels_do_not_overlap() -> None:
    sub = nsg("sub-20", rule("allow-20", 100, src="20.0.0.0/8", ports="22"))
    card = nsg("nic-30", rule("allow-30", 100, src="30.0.0.0/8", ports="22"))
    assets = _vm(subnet_nsg=sub, nic_nsg=card)
    _consistent(assets, exposed=False)
    assert _depth(assets) == 1  # opening either level exposes it
    depth = _run(DEPTH, assets)
    layers = {x["layer"]: x for x in depth.evidence["layers"]}
    assert layers["nic-nsg"]["blocking"] is True and "20.0.0.0/8" in layers["nic-nsg"]["detail"]


def test_the_same_slash_8_at_both_levels_is_exposure() -> None:
    sub = nsg("sub-20", rule("allow-20", 100, src="20.0.0.0/8", ports="22"))
    card = nsg("nic-20", rule("allow-20", 300, src="20.0.0.0/8", ports="22"))
    _consistent(_vm(subnet_nsg=sub, nic_nsg=card), exposed=True)


def test_a_narrow_allow_list_passes_and_is_named() -> None:
    group = nsg("office", rule("office-ssh", 100, src="203.0.113.0/24", ports="22"))
    assets = _vm(nic_nsg=group)
    _consistent(assets, exposed=False)
    assert "203.0.113.0/24" in _run(ADMIN, assets).message
    assert _run(DBPORTS, assets).status is Status.PASS


def test_service_tags_are_inconclusive_only_when_they_can_change_the_verdict() -> None:
    # an allow from AzureCloud: wide or not depends on the tag's ranges
    cloud = nsg("cloud", rule("azurecloud", 100, src="AzureCloud", ports="22"))
    verdict = _verdict(_vm(nic_nsg=cloud))
    assert verdict.state is Reach.UNKNOWN and "service tags" in verdict.detail
    # ... but not behind a deny of everything, nor ahead of an allow from everywhere
    shut = nsg("shut", rule("deny", 90, "deny", src="*", ports="22"),
               rule("azurecloud", 100, src="AzureCloud", ports="22"))
    assert _verdict(_vm(nic_nsg=shut)).state is Reach.BLOCKED
    open_ = nsg("open", rule("azurecloud", 100, src="AzureCloud", ports="22"),
                rule("ssh-any", 200, src="*", ports="22"))
    assert _verdict(_vm(nic_nsg=open_)).state is Reach.EXPOSED
    # a deny of a tag ahead of an allow from everywhere: the tag could be the whole internet
    deny_tag = nsg("deny-tag", rule("no-storage", 100, "deny", src="Storage", ports="22"),
                   rule("ssh-any", 200, src="*", ports="22"))
    assert _verdict(_vm(nic_nsg=deny_tag)).state is Reach.UNKNOWN


@pytest.mark.parametrize(
    ("sources", "wide"),
    [
        (["*"], True),
        (["Internet"], True),
        (["0.0.0.0/0"], True),
        (["::/0"], False),  # an IPv4 NIC: IPv6 clients do not count
        (["20.0.0.0/8"], True),
        (["20.0.0.0/9"], False),
        (["10.0.0.0/8"], False),  # private: not internet clients
        (["VirtualNetwork"], False),
        (["AzureLoadBalancer"], False),
        (["20.0.0.0/9", "20.128.0.0/9"], True),
    ],
)
def test_one_allow_rule(sources: list[str], wide: bool) -> None:
    group = nsg("g", rule("r", 100, src=sources, ports="22"))
    net = AzureNetwork(inventory(*_vm(nic_nsg=group)))
    ((_, (ep,)),) = net.hosts()
    dst = net.target(ep)
    assert is_wide(internet_admission(group, dst, 22).sure, 4) is wide
    assert (internet_reach(None, group, dst, 22).open is True) is wide
