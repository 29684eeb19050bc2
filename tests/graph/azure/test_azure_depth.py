"""Defense depth on Azure: scenarios at depth 0, 1 and 2+, with the blocking layers named, the
traps (priority shadowing, subnet allow / NIC deny, private VM with open NSGs, secure by
default), load balancers, firewall DNAT, undecidable layers, and the reports' depth column."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from support.azure import (
    NET,
    az,
    error,
    inventory,
    lb_rule,
    load_balancer,
    nic,
    nsg,
    one_vm,
    public_ip,
    rule,
    subnet,
    vm,
    vnet,
)
from support.checks import catalogue, only, run_one

from posture.engine import RunOptions, run
from posture.graph.azure.depth import vm_depths
from posture.graph.azure.reach import AzureNetwork
from posture.model import Asset, Finding, Inventory, Severity, Status
from posture.reporters import OutputFormat, Report, reporter_for

DEPTH = "azure.network.sensitive_ports_defense_in_depth"
ADMIN = "azure.network.admin_ports_not_internet_reachable"
LATENT = "azure.network.no_latent_sensitive_port_exposure"
FW_TYPE = "Microsoft.Network/azureFirewalls"
POLICY_TYPE = "Microsoft.Network/firewallPolicies"

OPEN_SSH = nsg("open-ssh", rule("ssh-any", 110, src="Internet", ports="22"))
CLOSED = nsg("closed")  # only the default rules: DenyAllInBound for the internet
SHADOW = nsg(
    "shadow",
    rule("deny-internet", 100, "deny", src="Internet", ports=["22", "3389"]),
    rule("allow-any", 200, src="*", ports=["22", "3389"]),
)
DENY_ALL = nsg("deny-all", rule("deny-all", 4000, "deny", src="*", ports="*", protocol="*"))
STANDARD = public_ip("pip-h", "20.0.0.1", sku="Standard")


def _depth(assets: list[Any], **params: Any) -> Finding | None:
    found = run_one(DEPTH, inventory(*assets), **params)
    return found[0] if found else None


def _ssh(assets: list[Any], port: int = 22) -> Any:
    inv = inventory(*assets)
    net = AzureNetwork(inv)
    depths = vm_depths(net, inv.of("Microsoft.Compute/virtualMachines")[0], (port,))
    assert depths is not None
    return depths[0]


def _changes(f: Finding, key: str = "changes") -> list[tuple[str, str]]:
    return [(x["layer"], x["resource"]) for x in f.evidence[key]]


# -- the traps at depth 1 -------------------------------------------------------------------------


def test_priority_shadowing_the_deny_is_the_single_blocking_layer() -> None:
    assets = one_vm(subnet_nsg=SHADOW, pip=STANDARD)
    assert only(run_one(ADMIN, inventory(*assets))).status is Status.PASS  # not exposed
    f = _depth(assets)
    assert f is not None and f.status is Status.FAIL and f.severity is Severity.LOW
    assert f.evidence["depth"] == 1 and f.evidence["port"] == 22
    change = f.evidence["single_change"]
    assert (change["layer"], change["resource"]) == ("subnet-nsg", "shadow")
    assert change["rule"] == "deny-internet, priority 100: deny tcp/22,3389 from Internet"
    assert change["change"] == (
        "delete rule deny-internet (priority 100) from shadow: rule allow-any (priority 200) "
        "behind it admits tcp/22 from Internet"
    )
    assert f.message.startswith(
        "only subnet NSG shadow (rule deny-internet, priority 100: deny tcp/22,3389 from "
        "Internet) keeps SSH (tcp/22) on h from the internet; open: nic-h/ipconfig1 has public "
        "IP pip-h (20.0.0.1, Standard SKU); one change exposes it: delete rule deny-internet"
    )
    # the other ports meet the default DenyAllInBound, also a single layer
    assert f.evidence["depth_by_port"]["1433"] == 1
    assert "Also below depth 2: tcp/1433" in f.message


def test_subnet_allow_and_nic_deny_names_the_nic_rule() -> None:
    f = _depth(one_vm(subnet_nsg=OPEN_SSH, nic_nsg=DENY_ALL, pip=STANDARD))
    assert f is not None and f.status is Status.FAIL
    assert _changes(f) == [("nic-nsg", "deny-all")]
    layers = {x["layer"]: x for x in f.evidence["layers"]}
    assert layers["subnet-nsg"]["blocking"] is False
    assert layers["subnet-nsg"]["rule"] == "ssh-any, priority 110: allow tcp/22 from Internet"
    assert layers["nic-nsg"]["rule"] == "deny-all, priority 4000: deny any/* from *"
    assert f.evidence["single_change"]["change"] == (
        "add an inbound rule to deny-all allowing tcp/22 from Internet at a priority ahead of "
        "deny-all (below 4000)"
    )
    assert "NSG open-ssh admits tcp/22 from the internet (rule ssh-any" in f.message


def test_private_vm_with_open_nsgs_counts_the_missing_public_ip() -> None:
    assets = one_vm(subnet_nsg=OPEN_SSH)
    assert only(run_one(LATENT, inventory(*assets))).status is Status.FAIL  # latent, and ...
    f = _depth(assets)  # ... one change away
    assert f is not None and f.status is Status.FAIL and f.evidence["depth"] == 1
    assert _changes(f) == [("public-address", "nic-h/ipconfig1")]
    assert f.message.startswith(
        "only the absence of a public IP address on nic-h/ipconfig1 keeps SSH (tcp/22) on h "
        "from the internet; open: NSG open-ssh admits tcp/22 from the internet"
    )
    assert f.message.endswith(
        "one change exposes it: associate a public IP address with nic-h/ipconfig1."
    )


def test_default_deny_all_inbound_is_named() -> None:
    f = _depth(one_vm(subnet_nsg=CLOSED, pip=STANDARD))
    assert f is not None and f.evidence["depth"] == 1
    change = f.evidence["single_change"]
    assert change["rule"] == "DenyAllInBound, priority 65500, default: deny any/* from *"
    assert change["change"] == (
        "add an inbound rule to closed allowing tcp/22 from Internet (any priority 100-4096)"
    )


def test_allow_listed_office_range_is_the_single_layer() -> None:
    office = nsg("office", rule("office-ssh", 100, src="203.0.113.0/24", ports="22"))
    f = _depth(one_vm(nic_nsg=office, pip=STANDARD))
    assert f is not None and f.evidence["depth"] == 1
    assert f.evidence["single_change"]["detail"] == (
        "admits tcp/22 only from 203.0.113.0/24 (rule office-ssh)"
    )


def test_deny_at_the_first_priority_must_be_rewritten() -> None:
    first = nsg("first", rule("deny-ssh", 100, "deny", src="*", ports="22"))
    change = _ssh(one_vm(subnet_nsg=first, pip=STANDARD)).best.changes[0].change
    assert change == (
        "rewrite rule deny-ssh of first (priority 100: no rule can precede it) as an allow for "
        "tcp/22 from Internet"
    )


# -- secure by default (Standard SKU) -------------------------------------------------------------


def test_standard_public_ip_without_any_nsg_is_depth_one_secure_by_default() -> None:
    f = _depth(one_vm(pip=STANDARD))
    assert f is not None and f.evidence["depth"] == 1
    assert _changes(f) == [("secure-by-default", "nic-h")]
    assert f.evidence["single_change"]["change"] == (
        "associate an NSG admitting tcp/22 from Internet with subnet web or NIC nic-h"
    )
    assert "admits no inbound traffic while no NSG is associated" in f.message
    # a Basic SKU public IP is open without an NSG: exposed, the exposure check's finding
    basic = one_vm(pip=public_ip("pip-h", "20.0.0.1", sku="Basic"))
    assert _depth(basic) is None and _ssh(basic).depth == 0
    exposed = only(run_one(ADMIN, inventory(*basic)))
    assert exposed.status is Status.FAIL and exposed.evidence["depth"] == 0
    assert exposed.evidence["paths"][0]["port"] == 22


def test_no_public_ip_and_no_nsg_needs_the_address_and_an_nsg() -> None:
    # the public IP one would associate today is Standard SKU: closed until an NSG allows
    f = _depth(one_vm())
    assert f is not None and f.status is Status.PASS and f.evidence["depth"] == 2
    assert _changes(f) == [("public-address", "nic-h/ipconfig1"), ("secure-by-default", "nic-h")]
    assert f.message.startswith("every sensitive port is at depth >= 2; the weakest, SSH")


def test_unallocated_public_ip_is_a_layer() -> None:
    f = _depth(one_vm(subnet_nsg=OPEN_SSH, pip=public_ip("pip-h", None, sku="Basic")))
    assert f is not None and f.evidence["depth"] == 1
    assert f.evidence["single_change"]["change"] == (
        "allocate an address to public IP pip-h (starting the VM allocates a dynamic one)"
    )


# -- depth 2 and more ---------------------------------------------------------------------------


def test_private_vm_behind_a_closed_subnet_nsg_is_depth_two() -> None:
    f = _depth(one_vm(subnet_nsg=CLOSED))
    assert f is not None and f.status is Status.PASS and f.evidence["depth"] == 2
    assert _changes(f) == [("public-address", "nic-h/ipconfig1"), ("subnet-nsg", "closed")]
    assert "single_change" not in f.evidence
    strict = _depth(one_vm(subnet_nsg=CLOSED), min_depth=3)
    assert strict is not None and strict.status is Status.FAIL
    assert strict.message.startswith("only 2 layers keep SSH (tcp/22) on h from the internet")


def test_two_closed_nsgs_and_no_public_ip_is_depth_three() -> None:
    d = _ssh(one_vm(subnet_nsg=CLOSED, nic_nsg=DENY_ALL))
    assert d.depth == 3
    assert [x.layer for x in d.best.changes] == ["public-address", "subnet-nsg", "nic-nsg"]


def test_one_nsg_at_both_levels_is_one_layer() -> None:
    d = _ssh(one_vm(subnet_nsg=CLOSED, nic_nsg=CLOSED))
    assert d.depth == 2
    assert [(x.layer, x.resource) for x in d.best.changes] == [
        ("public-address", "nic-h/ipconfig1"), ("subnet-nsg+nic-nsg", "closed"),
    ]


# -- load balancers and firewall DNAT -------------------------------------------------------------


def _lb(sku: str, *, protocol: str = "tcp", backend: int = 80, public: bool = True) -> list[Asset]:
    lb_ip = public_ip("pip-lb", "20.0.0.9", sku=sku)
    rule_ = lb_rule("http", 80, backend, "web", protocol)
    return [load_balancer(lb_ip if public else None, rules=(rule_,), sku=sku), lb_ip]


POOL = (f"{NET}/loadbalancers/lb/backendaddresspools/web",)


def test_load_balancer_rule_backend_port_is_the_single_change() -> None:
    # a Basic load balancer needs no NSG; the VM's own path needs a (Standard) IP and an NSG
    f = _depth(one_vm(extra=tuple(_lb("Basic")), pools=POOL))
    assert f is not None and f.status is Status.FAIL and f.evidence["depth"] == 1
    assert f.evidence["via"] == "load balancer lb load-balancing rule http -> nic-h/ipconfig1"
    change = f.evidence["single_change"]
    assert (change["layer"], change["resource"]) == ("lb-rule", "lb")
    assert change["change"] == "set the backend port of load-balancing rule http on lb to 22 (tcp)"
    assert "load balancer lb (load-balancing rule http: frontend tcp/80 -> backend port 80" in (
        f.message
    )


def test_internal_load_balancer_is_no_entry_point() -> None:
    d = _ssh(one_vm(extra=tuple(_lb("Basic", public=False)), pools=POOL))
    assert d.depth == 2 and not d.best.via.startswith("load balancer")


def test_standard_load_balancer_without_nsg_needs_two_changes() -> None:
    d = _ssh(one_vm(extra=tuple(_lb("Standard")), pools=POOL))
    assert d.depth == 2
    assert {x.layer for x in d.best.changes} <= {"lb-rule", "secure-by-default",
                                                 "public-address"}
    # HA-ports style rule (backend port 0, all protocols) delivers every port: exposed
    assert _ssh(one_vm(extra=tuple(_lb("Basic", protocol="all", backend=0)), pools=POOL)).depth == 0


def _firewall(translated: int = 3389, sources: tuple[str, ...] = ("*",),
              policy: str | None = None, rules: bool = True) -> Asset:
    nat = {
        "collection": "dnat", "name": "rdp-to-h", "protocols": ["tcp"],
        "source_addresses": list(sources), "destination_addresses": ["20.0.0.50"],
        "destination_ports": ["3389"], "translated_address": "10.0.2.4",
        "translated_port": str(translated),
    }
    return az(FW_TYPE, f"{NET}/azurefirewalls/fw", private_ips=["10.0.1.4"],
              firewall_policy_id=policy, nat_rules=[nat] if rules else [])


def test_firewall_dnat_from_an_office_range_is_one_change_away() -> None:
    # the DNAT admits only an office range; the NSGs admit the firewall (AllowVnetInBound)
    assets = one_vm(subnet_nsg=CLOSED, extra=(_firewall(sources=("203.0.113.0/24",)),))
    d = _ssh(assets, 3389)
    assert d.depth == 1 and d.best.via == "firewall fw DNAT rule rdp-to-h -> nic-h/ipconfig1"
    (change,) = d.best.changes
    assert (change.layer, change.detail) == ("dnat-rule", "sources 203.0.113.0/24")
    assert change.change == (
        "edit DNAT rule rdp-to-h of firewall fw to translate tcp/3389 from any source (*)"
    )
    layers = {x.layer: x for x in d.best.layers}
    assert layers["subnet-nsg"].detail == "admits tcp/3389 from firewall fw (10.0.1.4)"
    assert layers["subnet-nsg"].blocking is False and "AllowVnetInBound" in layers[
        "subnet-nsg"].rule
    # the rule targets the VM: retargeting it to another port is one edit of the same rule
    f = _depth(assets)
    assert f is not None and f.status is Status.FAIL and f.evidence["port"] == 22
    assert f.evidence["single_change"]["detail"] == (
        "translates to port 3389; sources 203.0.113.0/24"
    )
    assert f.evidence["depth_by_port"]["3389"] == 1


def test_firewall_dnat_blocked_by_the_nsg_names_the_firewall_source() -> None:
    group = nsg("no-fw", rule("deny-vnet", 100, "deny", src="VirtualNetwork", ports="3389"))
    d = _ssh(one_vm(subnet_nsg=group, extra=(_firewall(),)), 3389)
    assert d.depth == 1 and d.best.via.startswith("firewall fw DNAT")
    assert d.best.changes[0].change == (
        "delete rule deny-vnet (priority 100) from no-fw: rule AllowVnetInBound (priority 65000) "
        "behind it admits tcp/3389 from 10.0.1.4"
    )


def test_dnat_rules_inherited_from_a_base_policy_count() -> None:
    base = az(POLICY_TYPE, f"{NET}/firewallpolicies/base", base_policy_id=None,
              nat_rules=_firewall().attrs["nat_rules"])
    child = az(POLICY_TYPE, f"{NET}/firewallpolicies/child", base_policy_id=base.uid,
               nat_rules=[])
    fw = _firewall(policy=child.uid, rules=False)
    assets = one_vm(extra=(fw, base, child))
    exposed = only(run_one(ADMIN, inventory(*assets)))
    assert exposed.status is Status.FAIL and "firewall-dnat" in exposed.message


# -- undecidable layers: lower bounds, never PASS ---------------------------------------------


def test_uncollected_nsg_is_inconclusive() -> None:
    assets = [a for a in one_vm(subnet_nsg=CLOSED, pip=STANDARD) if a.uid != CLOSED.uid]
    f = _depth(assets)
    assert f is not None and f.status is Status.INCONCLUSIVE
    assert "NSG closed not collected" in f.message and f.evidence["depth"] is None


def test_uncollected_public_ip_gives_a_lower_bound() -> None:
    ghost = public_ip("pip-ghost", "20.0.0.1", "Standard")
    assets = [a for a in one_vm(subnet_nsg=CLOSED, pip=ghost) if a.uid != ghost.uid]
    d = _ssh(assets)
    assert d.depth is None and d.at_least == 1 and "not collected" in str(d.unknown)
    f = _depth(assets)
    assert f is not None and f.status is Status.INCONCLUSIVE and f.evidence["depth_at_least"] == 1
    # two closed NSGs already make 2 layers, whatever the public IP: the bound suffices
    both = [a for a in one_vm(subnet_nsg=CLOSED, nic_nsg=DENY_ALL, pip=ghost) if a.uid != ghost.uid]
    f = _depth(both)
    assert f is not None and f.status is Status.PASS and f.evidence["depth_at_least"] == 2


def test_uncollected_nic_and_subnet_are_inconclusive() -> None:
    assets = one_vm(subnet_nsg=OPEN_SSH, pip=STANDARD)
    no_nic = [a for a in assets if a.type != "Microsoft.Network/networkInterfaces"]
    f = _depth(no_nic)
    assert f is not None and f.status is Status.INCONCLUSIVE and "nic-h not collected" in f.message
    no_subnet = [a for a in one_vm(subnet_nsg=CLOSED) if not a.type.endswith("/subnets")]
    f = _depth(no_subnet)
    assert f is not None and f.status is Status.INCONCLUSIVE and "subnet web" in f.message


def test_unknown_firewall_policy_rules_are_inconclusive() -> None:
    policy = az(POLICY_TYPE, f"{NET}/firewallpolicies/pol", base_policy_id=None, nat_rules=None)
    fw = _firewall(policy=policy.uid, rules=False)
    f = _depth(one_vm(subnet_nsg=CLOSED, extra=(fw, policy)))
    assert f is not None and f.status is Status.INCONCLUSIVE
    assert "DNAT rules of firewall policy pol not collected" in f.message
    # an NSG denying the firewall's address keeps the bound at 1 ... and 2 with both levels
    deny_fw = nsg("deny-fw", rule("deny-fw", 100, "deny", src="10.0.1.4", ports="*"))
    f = _depth(one_vm(subnet_nsg=deny_fw, nic_nsg=DENY_ALL, extra=(fw, policy)))
    assert f is not None and f.status is Status.PASS


def test_nsg_listing_gap_never_passes() -> None:
    gap = error("network", "NetworkSecurityGroups_ListAll",
                ("Microsoft.Network/networkSecurityGroups",))
    inv = inventory(*one_vm(subnet_nsg=CLOSED, nic_nsg=DENY_ALL), errors=(gap,))
    assert Status.PASS not in {f.status for f in run_one(DEPTH, inv)}


# -- parameters and the VM without a NIC ------------------------------------------------------


def test_class_severity_and_port_classes_are_configurable() -> None:
    assets = one_vm(subnet_nsg=SHADOW, pip=STANDARD)
    high = _depth(assets, class_severity={"admin": "high"})
    assert high is not None and high.severity is Severity.HIGH
    db_only = _depth(assets, port_classes={"database": (5432,)},
                     class_severity={"database": "medium"})
    assert db_only is not None and db_only.severity is Severity.MEDIUM
    assert db_only.evidence["port"] == 5432 and list(db_only.evidence["depth_by_port"]) == ["5432"]


def test_vm_without_a_network_interface_passes() -> None:
    f = only(run_one(DEPTH, inventory(vm("lonely"))))
    assert f.status is Status.PASS and "no network interface" in f.message


# -- the reports: depth table (HTML) and depth column (CSV) -------------------------------------


def _estate() -> Inventory:
    """Four VMs: exposed (0), shadowed (1), private with open NSGs (1), private closed (2)."""
    def one(name: str, ip: str, subnet_nsg: Any, pip: Any = None) -> list[Any]:
        sn = subnet(f"sn-{name}", f"10.0.{ip}.0/24", subnet_nsg)
        card = nic(f"nic-{name}", sn, f"10.0.{ip}.4", public=pip)
        return [sn, card, vm(name, card)] + [a for a in (subnet_nsg, pip) if a is not None]

    return inventory(
        vnet(),
        *one("exposed", "1", OPEN_SSH, public_ip("pip-e", "20.0.0.1", "Standard")),
        *one("shadowed", "2", SHADOW, public_ip("pip-s", "20.0.0.2", "Standard")),
        *one("private", "3", nsg("open-b", rule("ssh-any", 110, src="Internet", ports="22"))),
        *one("closed", "4", CLOSED),
    )


def test_reports_show_azure_depths_without_reporter_changes() -> None:
    inv = _estate()
    findings = tuple(run(catalogue(), inv, [DEPTH, ADMIN], RunOptions(raise_errors=True)))
    assert {(f.resource_name, f.check_id) for f in findings if f.check_id == DEPTH} == {
        ("shadowed", DEPTH), ("private", DEPTH), ("closed", DEPTH),
    }
    rep = Report(findings=findings, inventory_meta=inv.meta)
    html = reporter_for(OutputFormat.HTML).render(rep).decode("utf-8")
    section = html[html.index('<section id="defense-depth">'):]
    section = section[: section.index("</section>")]
    assert re.findall(r'<tr data-depth="([^"]+)">', section) == ["0", "1", "1", "2+"]
    assert "exposed: reachable from the internet today" in section
    assert "subnet-nsg shadow: deny-internet, priority 100: deny tcp/22,3389 from Internet" in (
        section
    )
    assert "One change exposes it:</b> associate a public IP address with nic-private/" in section
    counts = re.findall(r'<tr data-type="([^"]+)">', section)
    assert counts == ["Microsoft.Compute/virtualMachines"]
    rows = list(csv.DictReader(io.StringIO(
        reporter_for(OutputFormat.CSV).render(rep).decode("utf-8-sig"), newline="")))
    cells = {(r["resource_name"], r["check_id"]): r["depth"] for r in rows}
    assert cells[("exposed", ADMIN)] == "0"
    assert cells[("shadowed", DEPTH)] == "1" and cells[("private", DEPTH)] == "1"
    assert cells[("closed", DEPTH)] == "2"
    assert cells[("shadowed", ADMIN)] == ""  # a PASS of the exposure check carries no depth
