"""Hierarchical and network firewall policies (posture/graph/gcp/fwpolicy.py) in the exposure
checks: evaluation order, goto_next, enforcement order, targets, secure tags and other undecidable
matches, regional policies, and collection gaps - each with its trap."""

from __future__ import annotations

from support.checks import run_one
from support.gcp import (
    NET,
    PROJECT_ID,
    epolicy,
    firewall,
    gcp_error,
    ginventory,
    instance,
    network,
    network_policy,
    prule,
    statuses,
)

from posture.model import Asset, Status

ADMIN = "gcp.network.admin_ports_not_internet_reachable"
DB = "gcp.network.db_ports_not_internet_reachable"
LATENT = "gcp.network.no_latent_sensitive_port_exposure"
HYGIENE = "gcp.network.firewall_admin_ports_not_open_to_world"
CI_SA = "ci@acme-test.iam.gserviceaccount.com"


def message(check_id: str, name: str, *assets: Asset) -> str:
    found = [f for f in run_one(check_id, ginventory(*assets)) if f.resource_name == name]
    return found[0].message


def test_hierarchical_deny_blocks_an_otherwise_open_vpc_rule() -> None:
    org = epolicy("org", prule(100, "deny", ports=("22",)))
    assets = (network(policies=[org]), firewall("ssh-open"), instance("vm"))
    assert statuses(ADMIN, *assets) == {"vm": Status.PASS}
    assert "org rule 100" in message(ADMIN, "vm", *assets)
    # trap: without the policy the same VPC rule exposes the instance
    assert statuses(ADMIN, network(), firewall("ssh-open"), instance("vm")) == {"vm": Status.FAIL}


def test_hierarchical_allow_exposes_without_any_vpc_rule() -> None:
    folder = epolicy("folder", prule(500, "allow", target_service_accounts=(CI_SA,)))
    assets = (
        network(policies=[folder]),
        instance("ci", service_accounts=(CI_SA,)),
        instance("app"),
    )
    assert statuses(ADMIN, *assets) == {"ci": Status.FAIL, "app": Status.PASS}
    assert "folder rule 500" in message(ADMIN, "ci", *assets)
    findings = {f.resource_name: f for f in run_one(ADMIN, ginventory(*assets))}
    rule = findings["ci"].evidence["paths"][0]["firewall_rule"]
    assert rule["policy_type"] == "HIERARCHY" and rule["priority"] == 500


def test_organisation_is_evaluated_before_folders_and_folders_before_vpc_rules() -> None:
    org_deny = epolicy("org", prule(100, "deny"))
    folder_allow = epolicy("folder", prule(10, "allow"))
    # the folder's lower priority number does not matter: the organisation's policy comes first
    assert statuses(ADMIN, network(policies=[org_deny, folder_allow]), instance("vm")) == {
        "vm": Status.PASS
    }
    # a hierarchical allow decides before a VPC deny
    assert statuses(
        ADMIN,
        network(policies=[folder_allow]),
        firewall("deny-all", action="deny", priority=0, rules=(("all", ()),)),
        instance("vm"),
    ) == {"vm": Status.FAIL}


def test_goto_next_passes_to_the_next_level() -> None:
    org = epolicy("org", prule(100, "goto_next"), prule(200, "deny"))
    # goto_next matched first: the org's deny at 200 is skipped; the VPC rule decides
    assert statuses(ADMIN, network(policies=[org]), firewall("ssh"), instance("vm")) == {
        "vm": Status.FAIL
    }
    folder = epolicy("folder", prule(100, "deny"))
    assert statuses(ADMIN, network(policies=[org, folder]), firewall("ssh"), instance("vm")) == {
        "vm": Status.PASS
    }
    # the default rules of a hierarchical policy are goto_next: nothing decided there
    defaults = epolicy("org", prule(2147483646, "goto_next", protocol="all", ports=()))
    assert statuses(ADMIN, network(policies=[defaults]), instance("vm")) == {"vm": Status.PASS}
    assert statuses(ADMIN, network(policies=[defaults]), firewall("ssh"), instance("vm")) == {
        "vm": Status.FAIL
    }


def test_network_policy_and_enforcement_order() -> None:
    allow = epolicy("netpol", prule(1000, "allow", ports=("3306",)), type_="NETWORK")
    deny = epolicy("netpol", prule(1000, "deny", ports=("3306",)), type_="NETWORK")
    vpc_allow = firewall("mysql", rules=(("tcp", ("3306",)),))
    vpc_deny = firewall("no-mysql", action="deny", rules=(("tcp", ("3306",)),))
    after, before = "AFTER_CLASSIC_FIREWALL", "BEFORE_CLASSIC_FIREWALL"
    vm = instance("vm")
    # a network-policy allow exposes even with no VPC rule (VPC stage has no match: next stage)
    assert statuses(DB, network(policies=[allow]), vm) == {"vm": Status.FAIL}
    # AFTER (default): the VPC rules decide first
    assert statuses(DB, network(policies=[allow], order=after), vpc_deny, vm) == {"vm": Status.PASS}
    assert statuses(DB, network(policies=[deny], order=after), vpc_allow, vm) == {"vm": Status.FAIL}
    # BEFORE: the network policy decides first
    got = statuses(DB, network(policies=[allow], order=before), vpc_deny, vm)
    assert got == {"vm": Status.FAIL}
    got = statuses(DB, network(policies=[deny], order=before), vpc_allow, vm)
    assert got == {"vm": Status.PASS}


def test_rule_targets_networks_service_accounts_direction_and_disabled() -> None:
    other_net = f"projects/{PROJECT_ID}/global/networks/other"
    org = epolicy(
        "org",
        prule(10, "allow", target_resources=(other_net,)),
        prule(20, "allow", target_service_accounts=("someone@x.iam.gserviceaccount.com",)),
        prule(30, "allow", disabled=True),
        prule(40, "allow", direction="EGRESS"),
        prule(50, "allow", target_type="INTERNAL_MANAGED_LB"),
    )
    assert statuses(ADMIN, network(policies=[org]), instance("vm")) == {"vm": Status.PASS}
    org_here = epolicy("org", prule(10, "allow", target_resources=(NET,)))
    assert statuses(ADMIN, network(policies=[org_here]), instance("vm")) == {"vm": Status.FAIL}


def test_secure_tag_targets_are_undecidable_never_silently_applied() -> None:
    tagged = epolicy(
        "netpol", prule(1000, "allow", target_tags=(("tagValues/1", "EFFECTIVE"),)), type_="NETWORK"
    )
    findings = run_one(ADMIN, ginventory(network(policies=[tagged]), instance("vm")))
    vm = findings[0]
    assert vm.status is Status.INCONCLUSIVE
    assert "tagValues/1" in vm.message and "tag bindings" in vm.message
    # a tag-targeted deny that the verdict does not depend on changes nothing
    tagged_deny = epolicy(
        "org", prule(100, "deny", target_tags=(("tagValues/1", "EFFECTIVE"),)), type_="HIERARCHY"
    )
    assert statuses(ADMIN, network(policies=[tagged_deny]), instance("vm")) == {"vm": Status.PASS}
    # ... but it makes an otherwise certain exposure undecided
    assert statuses(ADMIN, network(policies=[tagged_deny]), firewall("ssh"), instance("vm")) == {
        "vm": Status.INCONCLUSIVE
    }
    # a certain exposure on another port still fails, whatever the tag does
    assert statuses(
        ADMIN,
        network(policies=[tagged]),
        firewall("rdp", rules=(("tcp", ("3389",)),)),
        instance("vm"),
    ) == {"vm": Status.FAIL}
    # INEFFECTIVE tags (deleted) apply to nothing
    gone = epolicy(
        "netpol",
        prule(1000, "allow", target_tags=(("tagValues/2", "INEFFECTIVE"),)),
        type_="NETWORK",
    )
    assert statuses(ADMIN, network(policies=[gone]), instance("vm")) == {"vm": Status.PASS}
    # no external IP: the tag does not matter to the CRITICAL check, but latent is undecided
    assets = (network(policies=[tagged]), instance("private", external=False))
    assert statuses(ADMIN, *assets) == {"private": Status.PASS}
    assert statuses(LATENT, *assets) == {"private": Status.INCONCLUSIVE}


def test_sources_fqdn_secure_tags_and_network_type() -> None:
    fqdn = epolicy("netpol", prule(10, "allow", src=(), src_fqdns=("ops.example.com",)))
    assert statuses(ADMIN, network(policies=[fqdn]), instance("vm")) == {"vm": Status.INCONCLUSIVE}
    tag_src = epolicy("netpol", prule(10, "allow", src=(), src_secure_tags=("tagValues/9",)))
    assert statuses(ADMIN, network(policies=[tag_src]), instance("vm")) == {"vm": Status.PASS}
    internet = epolicy("org", prule(10, "allow", src=(), src_network_type="INTERNET"))
    assert statuses(ADMIN, network(policies=[internet]), instance("vm")) == {"vm": Status.FAIL}
    intra = epolicy("org", prule(10, "allow", src=("0.0.0.0/0",), src_network_type="INTRA_VPC"))
    assert statuses(ADMIN, network(policies=[intra]), instance("vm")) == {"vm": Status.PASS}
    iap = epolicy("org", prule(10, "allow", src=("35.235.240.0/20",)))
    assert "Identity-Aware Proxy" in message(ADMIN, "vm", network(policies=[iap]), instance("vm"))


def test_security_profile_group_is_an_allow() -> None:
    inspect = epolicy("netpol", prule(10, "apply_security_profile_group"), type_="NETWORK")
    assert statuses(ADMIN, network(policies=[inspect]), instance("vm")) == {"vm": Status.FAIL}


def test_regional_policy_applies_only_in_its_region() -> None:
    east = network_policy("east", prule(1000, "allow"), region="us-east1")
    assert statuses(
        ADMIN,
        network(),
        east,
        instance("central", zone="us-central1-a"),
        instance("eastern", zone="us-east1-b"),
    ) == {"central": Status.PASS, "eastern": Status.FAIL}
    # attached to another network: nothing
    other = network_policy(
        "east", prule(1000, "allow"), region="us-east1", networks=("projects/x/global/networks/y",)
    )
    assert statuses(ADMIN, network(), other, instance("eastern", zone="us-east1-b")) == {
        "eastern": Status.PASS
    }


def test_effective_firewalls_error_is_inconclusive_never_pass() -> None:
    net = network(unknown=True)
    err = gcp_error(
        "compute",
        "networks.getEffectiveFirewalls",
        ("compute.googleapis.com/Network#effective_firewalls",),
        resource_uid=net.uid,
    )
    got = statuses(
        ADMIN,
        net,
        firewall("ssh"),
        instance("open"),
        instance("closed", tags=("x",)),
        instance("private", external=False),
        errors=(err,),
    )
    assert got == {
        "open": Status.INCONCLUSIVE,
        "closed": Status.INCONCLUSIVE,
        "private": Status.INCONCLUSIVE,
        "vpc": Status.INCONCLUSIVE,  # the network itself: not verified
    }
    assert statuses(DB, net, instance("open"), errors=(err,))["open"] is Status.INCONCLUSIVE
    assert statuses(LATENT, net, instance("open"), errors=(err,))["open"] is Status.INCONCLUSIVE


def test_policy_listing_failure_leaves_the_regional_stage_unknown() -> None:
    err = gcp_error(
        "compute",
        "networkFirewallPolicies.aggregatedList",
        ("compute.googleapis.com/FirewallPolicy",),
    )
    got = statuses(
        ADMIN,
        network(),
        firewall("ssh", target_tags=("web",)),
        instance("open", tags=("web",)),
        instance("vm", tags=("t",)),
        errors=(err,),
    )
    # AFTER order: the VPC rule decides before any network policy -> still a certain exposure
    assert got["open"] is Status.FAIL
    # nothing in the VPC rules: the regional policy could allow -> not verified
    assert got["vm"] is Status.INCONCLUSIVE


def test_latent_exposure_through_a_hierarchical_allow() -> None:
    folder = epolicy("folder", prule(500, "allow"))
    findings = run_one(
        LATENT, ginventory(network(policies=[folder]), instance("db", external=False))
    )
    assert findings[0].status is Status.FAIL
    assert "folder rule 500" in findings[0].message


def test_network_policy_world_open_admin_rule_is_a_hygiene_failure() -> None:
    got = statuses(
        HYGIENE,
        network_policy("open", prule(10, "allow", ports=("3389",))),
        network_policy("iap", prule(10, "allow", src=("35.235.240.0/20",))),
        network_policy("off", prule(10, "allow", disabled=True)),
        network_policy("deny", prule(10, "deny")),
        network_policy("v6", prule(10, "allow", src=("::/0",)), region="us-east1"),
    )
    assert got == {
        "open": Status.FAIL,
        "iap": Status.PASS,
        "off": Status.PASS,
        "deny": Status.PASS,
        "v6": Status.FAIL,
    }


def test_unlisted_vpc_rules_or_networks_leave_their_stage_unknown() -> None:
    fw_err = gcp_error("compute", "firewalls.list", ("compute.googleapis.com/Firewall",))
    netpol = epolicy("netpol", prule(1000, "allow"), type_="NETWORK")
    folder = epolicy("folder", prule(500, "allow"))
    # AFTER order: a VPC deny could come before the network policy's allow -> not decided
    assert statuses(ADMIN, network(policies=[netpol]), instance("vm"), errors=(fw_err,))["vm"] is (
        Status.INCONCLUSIVE
    )
    # a hierarchical allow decides before any VPC rule -> still certain
    assert (
        statuses(ADMIN, network(policies=[folder]), instance("vm"), errors=(fw_err,))["vm"]
        is Status.FAIL
    )
    net_err = gcp_error("compute", "networks.list", ("compute.googleapis.com/Network",))
    # the VPC rule is open, but a hierarchical deny of the unlisted network could block it
    assert statuses(ADMIN, firewall("ssh"), instance("vm"), errors=(net_err,))["vm"] is (
        Status.INCONCLUSIVE
    )
