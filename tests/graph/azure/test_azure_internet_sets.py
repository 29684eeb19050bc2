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
from posture.model import Asset, Finding, Severity, Status

ADMIN = "azure.network.admin_ports_not_internet_reachable"
DBPORTS = "azure.network.db_ports_not_internet_reachable"
LATENT = "azure.network.no_latent_sensitive_port_exposure"
DEPTH = "azure.network.sensitive_ports_defense_in_depth"
PIP = public_ip("pip-h", "20.0.0.1", sku="Standard")


def ssh(name: str, priority: int, src: str | list[str], access: str = "allow") -> dict[str, Any]:
    """An inbound NSG rule on tcp/22 from ``src``."""
    return rule(name, priority, access, src=src, ports="22")


def denied_ahead(name: str, *denied: str, src: str = "*") -> Asset:
    """NSG ``name``: tcp/22 denied from each of ``denied`` (priorities 100, 101, ...), then
    allowed from ``src`` (priority 200)."""
    denies = [ssh(f"deny-{n}", 100 + n, d, "deny") for n, d in enumerate(denied)]
    return nsg(name, *denies, ssh("ssh", 200, src))


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
    assets = _vm(nic_nsg=denied_ahead("partial", "20.0.0.0/8", src="Internet"))
    admin = _run(ADMIN, assets)
    assert admin.status is Status.FAIL and admin.severity is Severity.CRITICAL
    _consistent(assets, exposed=True)


def test_denying_half_of_ipv4_ahead_of_any_leaves_the_other_half_wide() -> None:
    _consistent(_vm(subnet_nsg=denied_ahead("half", "0.0.0.0/1")), exposed=True)


ALL_BUT_223 = ("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/4", "208.0.0.0/5", "216.0.0.0/6",
               "220.0.0.0/7", "222.0.0.0/8")
"""Every IPv4 address outside 223.0.0.0/8."""


def test_denies_leaving_less_than_a_slash_8_are_not_exposure() -> None:
    assets = _vm(nic_nsg=denied_ahead("almost-all", *ALL_BUT_223, "223.128.0.0/9"))
    _consistent(assets, exposed=False)
    assert "223.0.0.0/9" in _run(ADMIN, assets).message  # the narrow range left is named
    # leaving exactly a /8 (223.0.0.0/8) is wide
    _consistent(_vm(nic_nsg=denied_ahead("all-but-8", *ALL_BUT_223)), exposed=True)


def test_disjoint_allow_lists_at_the_two_levels_do_not_overlap() -> None:
    sub = nsg("sub-20", ssh("allow-20", 100, "20.0.0.0/8"))
    card = nsg("nic-30", ssh("allow-30", 100, "30.0.0.0/8"))
    assets = _vm(subnet_nsg=sub, nic_nsg=card)
    _consistent(assets, exposed=False)
    assert _depth(assets) == 1  # opening either level exposes it
    depth = _run(DEPTH, assets)
    layers = {x["layer"]: x for x in depth.evidence["layers"]}
    assert layers["nic-nsg"]["blocking"] is True and "20.0.0.0/8" in layers["nic-nsg"]["detail"]


def test_the_same_slash_8_at_both_levels_is_exposure() -> None:
    sub = nsg("sub-20", ssh("allow-20", 100, "20.0.0.0/8"))
    card = nsg("nic-20", ssh("allow-20", 300, "20.0.0.0/8"))
    _consistent(_vm(subnet_nsg=sub, nic_nsg=card), exposed=True)


def test_a_narrow_allow_list_passes_and_is_named() -> None:
    group = nsg("office", ssh("office-ssh", 100, "203.0.113.0/24"))
    assets = _vm(nic_nsg=group)
    _consistent(assets, exposed=False)
    assert "203.0.113.0/24" in _run(ADMIN, assets).message
    assert _run(DBPORTS, assets).status is Status.PASS


def test_service_tags_are_inconclusive_only_when_they_can_change_the_verdict() -> None:
    # an allow from AzureCloud: wide or not depends on the tag's ranges
    cloud = nsg("cloud", ssh("azurecloud", 100, "AzureCloud"))
    verdict = _verdict(_vm(nic_nsg=cloud))
    assert verdict.state is Reach.UNKNOWN and "service tags" in verdict.detail
    # ... but not behind a deny of everything, nor ahead of an allow from everywhere
    shut = nsg("shut", ssh("deny", 90, "*", "deny"),
               ssh("azurecloud", 100, "AzureCloud"))
    assert _verdict(_vm(nic_nsg=shut)).state is Reach.BLOCKED
    open_ = nsg("open", ssh("azurecloud", 100, "AzureCloud"),
                ssh("ssh-any", 200, "*"))
    assert _verdict(_vm(nic_nsg=open_)).state is Reach.EXPOSED
    # a deny of a tag ahead of an allow from everywhere: the tag could be the whole internet
    deny_tag = denied_ahead("deny-tag", "Storage")
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
    group = nsg("g", ssh("r", 100, sources))
    net = AzureNetwork(inventory(*_vm(nic_nsg=group)))
    ((_, (ep,)),) = net.hosts()
    dst = net.target(ep)
    assert is_wide(internet_admission(group, dst, 22).sure, 4) is wide
    assert (internet_reach(None, group, dst, 22).open is True) is wide
