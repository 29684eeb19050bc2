"""A world-open admin rule says what it does today (issue 14, item 6): MEDIUM while it exposes a
target, LOW - naming the shadowing deny, the missing external address or the missing target -
when the latent check already reports the hosts or nothing is behind it."""

from __future__ import annotations

from support.checks import only, run_one
from support.gcp import PROJECT_ID, firewall, gasset, gcp_error, ginventory, instance

from posture.model import Asset, CollectionError, Finding, Severity, Status

RULE = "gcp.network.firewall_admin_ports_not_open_to_world"
LATENT = "gcp.network.no_latent_sensitive_port_exposure"


def _rule(*assets: Asset, errors: tuple[CollectionError, ...] = ()) -> Finding:
    found = run_one(RULE, ginventory(*assets, errors=errors))
    return only([f for f in found if f.resource_name == "ssh-web"])


def test_rule_exposing_a_target_stays_medium_and_names_it() -> None:
    f = _rule(firewall("ssh-web", target_tags=("web",)), instance("web-1", tags=("web",)))
    assert (f.status, f.severity) == (Status.FAIL, Severity.MEDIUM)
    assert "the internet reaches web-1" in f.message
    assert f.evidence["exposing"] == ["web-1"]


def test_rule_shadowed_by_a_higher_priority_deny_is_low_and_names_the_deny() -> None:
    f = _rule(
        firewall("ssh-web", target_tags=("web",)),
        firewall("deny-ssh", priority=900, action="deny", target_tags=("web",)),
        instance("web-1", tags=("web",)),
    )
    assert (f.status, f.severity) == (Status.FAIL, Severity.LOW)
    assert "shadowed by deny-ssh on web-1" in f.message
    assert f.evidence["shadowed"] == {"deny-ssh": ["web-1"]}


def test_rule_whose_targets_have_no_external_address_is_low_and_latent_reports_the_host() -> None:
    assets = (
        firewall("ssh-web", target_tags=("web",)),
        instance("web-1", tags=("web",), external=False),
    )
    f = _rule(*assets)
    assert (f.status, f.severity) == (Status.FAIL, Severity.LOW)
    assert "no external address on web-1" in f.message
    latent = only(run_one(LATENT, ginventory(*assets)))
    assert latent.status is Status.FAIL and latent.severity is Severity.MEDIUM  # said once


def test_rule_without_any_target_today_is_low() -> None:
    f = _rule(firewall("ssh-web", target_tags=("web",)), instance("db-1", tags=("db",)))
    assert (f.status, f.severity) == (Status.FAIL, Severity.LOW)
    assert "no instance matches its targets today" in f.message


def test_one_exposed_target_among_shadowed_ones_keeps_medium() -> None:
    f = _rule(
        firewall("ssh-web", target_tags=("web",)),
        firewall("deny-a", priority=900, action="deny", target_tags=("a",)),
        instance("web-a", tags=("web", "a")),
        instance("web-b", tags=("web",)),
    )
    assert f.severity is Severity.MEDIUM and f.evidence["exposing"] == ["web-b"]


def test_unread_instances_give_no_context_and_keep_medium() -> None:
    instances = ("compute.googleapis.com/Instance",)
    errors = (gcp_error("compute", "instances.aggregatedList", instances),)
    f = _rule(firewall("ssh-web", target_tags=("web",)), errors=errors)
    assert (f.status, f.severity) == (Status.FAIL, Severity.MEDIUM)
    assert "targets" not in f.evidence


# -- Cloud SQL: a public address that accepts only IAM-authorised connectors -------------------

SQL_PUBLIC_IP = "gcp.network.sql_no_public_ip"


def _sql(name: str, **attrs: object) -> Asset:
    base: dict[str, object] = {"ipv4_enabled": True, "authorized_networks": [],
                               "public_ips": ["34.1.1.1"]}
    base.update(attrs)
    uid = f"//cloudsql.googleapis.com/projects/{PROJECT_ID}/instances/{name}"
    return gasset("sqladmin.googleapis.com/Instance", uid, region="us-central1", **base)


def test_public_sql_with_connector_enforcement_and_no_networks_is_a_low_note() -> None:
    found = {f.resource_name: f for f in run_one(SQL_PUBLIC_IP, ginventory(
        _sql("connectors", connector_enforcement="REQUIRED"),
        _sql("direct"),
        _sql("listed", connector_enforcement="REQUIRED", authorized_networks=["203.0.113.0/24"]),
    ))}
    assert (found["connectors"].status, found["connectors"].severity) == (Status.FAIL, Severity.LOW)
    assert "only IAM-authorised Cloud SQL connector" in found["connectors"].message
    # the traps: no enforcement, or an authorized network next to it, stay MEDIUM
    assert found["direct"].severity is Severity.MEDIUM
    assert found["listed"].severity is Severity.MEDIUM
