"""Lateral administrative access on Azure, graded by where it comes from: Azure's default
AllowVnetInBound named and reported once for the NSG with all its VMs (LOW inside one tier), a
peered dev VNet and an internet-exposed VM (HIGH), a custom rule admitting only the Bastion
subnet (PASS), service tags that could decide a verdict (INCONCLUSIVE)."""

from __future__ import annotations

import ipaddress
from typing import Any

from support.azure import NET, RG, az, inventory, nic, nsg, public_ip, rule, subnet, vnet
from support.checks import run_one
from support.lateral import judging, sources, verdict

from posture.graph.azure.lateral import undecided
from posture.graph.azure.nsg import Peer
from posture.model import Asset, Severity, Status

CHECK = "azure.network.admin_access_only_from_bastion"
VM = "Microsoft.Compute/virtualMachines"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
DEFAULT = "AllowVnetInBound (priority 65000, default rule of every NSG)"
BASTION = subnet("AzureBastionSubnet", "10.0.0.0/26")
ONLY_BASTION = (
    rule("ssh-from-bastion", 100, src="10.0.0.0/26", ports=["22", "3389"]),
    rule("deny-vnet-admin", 200, "deny", src="VirtualNetwork", ports=["22", "3389"]),
)


def machine(
    name: str, sn: Asset, address: str, pip: Asset | None = None, tags: dict[str, str] | None = None
) -> list[Asset]:
    card = nic(f"nic-{name}", sn, address, public=pip)
    uid = f"{RG}/providers/microsoft.compute/virtualmachines/{name}"
    return [card, az(VM, uid, tags=tags, vm_name=name, nic_ids=[card.uid]),
            *([pip] if pip else [])]


def vm_uid(name: str) -> str:
    return f"{RG}/providers/microsoft.compute/virtualmachines/{name}".lower()


def tier(*rules: dict[str, Any], extra: tuple[Asset, ...] = ()) -> list[Asset]:
    """VNet ``vnet`` (Environment=prod, 10.0.0.0/16) with the AzureBastionSubnet and subnet app
    (NSG nsg-app with ``rules``, then Azure's defaults) holding vm-a, vm-b and vm-c."""
    guard = nsg("nsg-app", *rules)
    app = subnet("app", "10.0.3.0/24", guard)
    return [
        vnet(tags={"Environment": "prod"}), BASTION, app, guard,
        *machine("vm-a", app, "10.0.3.4"), *machine("vm-b", app, "10.0.3.5"),
        *machine("vm-c", app, "10.0.3.6"), *extra,
    ]


def dev_vnet(tags: dict[str, str]) -> tuple[Asset, ...]:
    """VNet vnet-dev (10.1.0.0/16, subnet default) peered with vnet (Connected)."""
    peering = az(PEERING, f"{NET}/virtualnetworks/vnet/virtualnetworkpeerings/prod-to-dev",
                 vnet_id=f"{NET}/virtualnetworks/vnet".lower(),
                 remote_vnet_id=f"{NET}/virtualnetworks/vnet-dev".lower(),
                 peering_state="Connected", allow_virtual_network_access=True,
                 remote_address_prefixes=["10.1.0.0/16"])
    return (vnet("vnet-dev", ("10.1.0.0/16",), tags), peering,
            subnet("default", "10.1.0.0/24", vnet_name="vnet-dev"))


def test_the_default_rule_is_named_and_reported_once_for_the_nsg() -> None:
    findings = run_one(CHECK, inventory(*tier()))
    assert len(findings) == 1  # not once per VM
    finding = findings[0]
    assert finding.resource_name == "nsg-app" and finding.resource_type.endswith(
        "networkSecurityGroups"
    )
    assert finding.status is Status.FAIL and finding.severity is Severity.LOW
    assert finding.evidence["affected"] == ["vm-a", "vm-b", "vm-c"]
    assert finding.message.startswith(f"rule {DEFAULT} admits SSH/RDP")
    assert "to 3 VM(s): vm-a, vm-b, vm-c" in finding.message
    assert finding.evidence["rules"] == [
        {"rule": DEFAULT, "default_rule": True, "severity": "low",
         "targets": ["vm-a", "vm-b", "vm-c"], "sources": ["vm-a", "vm-b", "vm-c"]}
    ]
    # the Bastion subnet is admitted too, and never an offender
    assert "subnet AzureBastionSubnet (10.0.0.0/26)" not in sources(finding)
    assert {s["reason"] for s in finding.evidence["sources"]} == {"same tier"}


def test_only_the_bastion_subnet_passes_each_vm() -> None:
    findings = run_one(CHECK, inventory(*tier(*ONLY_BASTION)))
    assert {(f.resource_name, f.status) for f in findings} == {
        (n, Status.PASS) for n in ("vm-a", "vm-b", "vm-c")
    }
    assert findings[0].evidence["sources"] == ["subnet AzureBastionSubnet (10.0.0.0/26)"]


def test_a_peered_dev_vnet_is_high_and_names_the_peering() -> None:
    finding = verdict(CHECK, inventory(*tier(extra=dev_vnet({"Environment": "dev"}))),
                      vm_uid("vm-a"))
    assert finding.severity is Severity.HIGH
    assert sources(finding, "vm-a") == {
        "subnet default (10.1.0.0/24)": "high", "vm-b": "low", "vm-c": "low"
    }
    grade = finding.evidence["grade"]
    assert grade["reason"] == "another environment"
    assert "through VNet peering prod-to-dev" in grade["why"]
    hops = finding.evidence["paths"][0]["hops"]
    assert [h["kind"] for h in hops][:3] == ["source", "vnet-peering", "nsg (subnet)"]
    assert hops[2]["detail"] == f"allow: {DEFAULT}"
    # the same peering between two production VNets is one tier
    same = verdict(CHECK, inventory(*tier(extra=dev_vnet({"Environment": "prd"}))),
                   vm_uid("vm-a"))
    assert same.severity is Severity.LOW


def test_an_internet_exposed_vm_next_door_is_high() -> None:
    web_nsg = nsg("nsg-web", rule("https", 100, src="Internet", ports="443"))
    web = subnet("web", "10.0.2.0/24", web_nsg)
    exposed = (web_nsg, web, *machine("vm-web", web, "10.0.2.4", public_ip("pip-web", "20.0.0.9")))
    findings = run_one(CHECK, inventory(*tier(extra=exposed)))
    app = next(f for f in findings if f.resource_name == "nsg-app")
    assert app.severity is Severity.HIGH
    assert sources(app, "vm-a")["vm-web"] == "high"
    assert app.evidence["grade"]["why"].startswith(
        "vm-web is internet-exposed (tcp/443 through public-ip pip-web)"
    )
    # vm-web's own subnet NSG: its default rule admits the app tier, not exposed (LOW)
    own = next(f for f in findings if f.resource_name == "nsg-web")
    assert own.severity is Severity.LOW and own.evidence["affected"] == ["vm-web"]


def test_no_nsg_at_either_level_is_reported_on_the_subnet() -> None:
    bare = subnet("bare", "10.0.5.0/24")
    findings = run_one(CHECK, inventory(vnet(), BASTION, bare, *machine("vm-x", bare, "10.0.5.4"),
                                        *machine("vm-y", bare, "10.0.5.5")))
    assert [(f.resource_name, f.status) for f in findings] == [("bare", Status.FAIL)]
    assert "no NSG on subnet bare or NIC nic-vm-x: nothing filters it" in findings[0].message


def test_a_service_tag_that_could_decide_is_inconclusive() -> None:
    rules = (rule("ssh-azurecloud", 90, src="AzureCloud", ports="22"), *ONLY_BASTION,
             rule("deny-all", 4000, "deny", src="*", ports="*", protocol="*"))
    pip = public_ip("pip-a", "20.0.0.7")
    guard = nsg("nsg-app", *rules)
    app = subnet("app", "10.0.3.0/24", guard)
    inv = inventory(vnet(), BASTION, app, guard, *machine("vm-a", app, "10.0.3.4", pip))
    finding = verdict(CHECK, inv, vm_uid("vm-a"))
    assert finding.status is Status.INCONCLUSIVE
    assert "service tags" in finding.message


def test_service_tags_decide_only_public_sources() -> None:
    guard = nsg("g", rule("deny-storage", 100, "deny", src="Storage", ports="22"))
    dst = Peer(None, virtual_network=True)
    private = Peer(ipaddress.ip_address("10.0.3.4"), virtual_network=True)
    public = Peer(ipaddress.ip_address("20.1.0.4"), virtual_network=True)
    assert undecided(guard, private, dst, 22) is None
    why = undecided(guard, public, dst, 22)
    assert why is not None and "service tag Storage" in why


def test_each_vm_is_judged_once() -> None:
    # vm-a in the NSG finding, never on its own as well
    inv = inventory(*tier(extra=dev_vnet({"Environment": "dev"})))
    assert len(judging(run_one(CHECK, inv), vm_uid("vm-a"))) == 1
