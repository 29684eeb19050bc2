"""The GCP collector with the real Google clients against the loopback fake (posture.demo.gcp_fake):
every asset type, paging, a 403 (collection error), a 429 (retried), org/folder discovery, and
the service-account key-file credential path."""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import pytest
from support.gcp_collect import collect_denied, collect_fake

from posture.collectors.gcp.base import GcpTarget
from posture.collectors.gcp.collector import (
    all_permissions,
    collect,
    custom_role,
    discover_projects,
)
from posture.demo.gcp_fake import TOKEN, FakeGoogle, load_routes, serving
from posture.errors import CollectorError
from posture.model import Inventory

PROD = "acme-prod"
C = "//compute.googleapis.com/projects/acme-prod"


@pytest.fixture(scope="module")
def inv(gcp_fake: FakeGoogle) -> Inventory:
    return collect_fake(gcp_fake.base)


def _prod(inv: Inventory) -> Counter[str]:
    return Counter(a.type for a in inv.assets if a.account == PROD)


def test_every_asset_type_is_collected_across_pages(inv: Inventory) -> None:
    assert _prod(inv) == {
        "cloudresourcemanager.googleapis.com/Project": 1,
        "compute.googleapis.com/Network": 2,
        "compute.googleapis.com/Subnetwork": 4,
        "compute.googleapis.com/Firewall": 17,  # three pages
        "compute.googleapis.com/Route": 2,
        "compute.googleapis.com/Instance": 9,  # two pages of zones
        "compute.googleapis.com/Address": 2,
        "compute.googleapis.com/GlobalAddress": 1,
        "compute.googleapis.com/TargetHttpsProxy": 3,
        "compute.googleapis.com/TargetSslProxy": 1,
        "compute.googleapis.com/SslPolicy": 3,
        "compute.googleapis.com/GlobalForwardingRule": 3,
        "compute.googleapis.com/ForwardingRule": 3,
        "compute.googleapis.com/UrlMap": 3,
        "compute.googleapis.com/BackendService": 5,  # global and regional (aggregated)
        "compute.googleapis.com/TargetPool": 1,
        "compute.googleapis.com/InstanceGroup": 4,
        "cloudkms.googleapis.com/KeyRing": 1,
        "cloudkms.googleapis.com/CryptoKey": 4,  # two pages, locations on two pages
        "storage.googleapis.com/Bucket": 3,  # two pages
        # storage.publicAccessPrevention and the three identity constraints
        "orgpolicy.googleapis.com/Policy": 4,
        "compute.googleapis.com/Project": 1,  # common instance metadata (OS Login)
        "privilegedaccessmanager.googleapis.com/Entitlement": 2,  # two pages
        "sqladmin.googleapis.com/Instance": 2,  # two pages (discovery list_next)
        "iam.googleapis.com/ServiceAccount": 3,  # two pages
        "iam.googleapis.com/ServiceAccountKey": 2,
        "iam.googleapis.com/WorkloadIdentityPool": 1,
        "iam.googleapis.com/WorkloadIdentityPoolProvider": 2,  # two pages
        # platforms (issue 18)
        "serviceusage.googleapis.com/Service": 2,  # OS Config, Container Scanning
        "osconfig.googleapis.com/Inventory": 4,
        "osconfig.googleapis.com/VulnerabilityReport": 4,
        "osconfig.googleapis.com/PatchDeployment": 3,  # weekly, one-time, a label nobody has
        "osconfig.googleapis.com/PatchJob": 6,  # two pages
        "compute.googleapis.com/Image": 3,  # two pages
        "artifactregistry.googleapis.com/Repository": 3,
        "container.googleapis.com/Cluster": 2,
        "run.googleapis.com/Service": 4,
        "cloudfunctions.googleapis.com/Function": 2,
        "bigquery.googleapis.com/Dataset": 2,
        "secretmanager.googleapis.com/Secret": 2,
    }
    assert inv.meta.accounts == ("acme-dev", PROD)
    assert {"global", "us-central1", "us-central1-a", "us"} <= set(inv.meta.regions)


def test_the_403_is_the_only_error_and_the_429_was_retried(
    inv: Inventory, gcp_fake: FakeGoogle
) -> None:
    assert [
        (e.account, e.region, e.service, e.operation, e.code, e.asset_types, e.resource_uid)
        for e in inv.errors
    ] == [
        (
            "acme-dev",
            "global",
            "sqladmin",
            "instances.list",
            "PERMISSION_DENIED",
            ("sqladmin.googleapis.com/Instance",),
            None,
        )
    ]
    assert (
        gcp_fake.paths("/compute/v1/projects/acme-dev/global/firewalls").count(
            "/compute/v1/projects/acme-dev/global/firewalls"
        )
        == 2
    )
    assert (
        inv.get("//compute.googleapis.com/projects/acme-dev/global/firewalls/dev-allow-ssh-iap")
        is not None
    )


def test_instance_and_firewall_attrs(inv: Inventory) -> None:
    web = inv.get(f"{C}/zones/us-central1-a/instances/web-1")
    assert web is not None and web.region == "us-central1-a" and web.tags == {"tier": "web"}
    assert web.attr("network_tags") == ["web"]
    assert web.attr("service_accounts") == ["111111111111-compute@developer.gserviceaccount.com"]
    assert web.attr("network_interfaces") == [
        {
            "name": "nic0",
            "network": "projects/acme-prod/global/networks/prod-vpc",
            "subnetwork": "projects/acme-prod/regions/us-central1/subnetworks/prod-app",
            "internal_ip": "10.10.0.2",
            "has_external_ipv4": True,
            "external_ipv4": ["34.120.10.1"],
            "has_external_ipv6": False,
            "external_ipv6": [],
        }
    ]
    db = inv.get(f"{C}/zones/us-central1-b/instances/db-1")
    assert db is not None and db.attr("external_ips") == []
    assert db.attr("metadata") == {"enable-oslogin": "TRUE"}
    deny = inv.get(f"{C}/global/firewalls/deny-rdp-win")
    assert deny is not None
    assert {
        k: deny.attr(k)
        for k in ("priority", "action", "rules", "direction", "target_tags", "disabled")
    } == {
        "priority": 500,
        "action": "deny",
        "rules": [{"protocol": "all", "ports": []}],
        "direction": "INGRESS",
        "target_tags": ["win"],
        "disabled": False,
    }
    legacy = inv.get(f"{C}/global/firewalls/allow-ssh-legacy")
    assert legacy is not None and legacy.attr("disabled") is True
    net = inv.get(f"{C}/global/networks/prod-vpc")
    assert net is not None and net.attr("peerings") == [
        {
            "name": "prod-to-dev",
            "network": "projects/acme-dev/global/networks/dev-vpc",
            "state": "ACTIVE",
            "export_custom_routes": False,
            "import_custom_routes": False,
        }
    ]
    route = inv.get(f"{C}/global/routes/default-route-prod-internet")
    assert route is not None and route.attr("next_hop_kind") == "internet_gateway"


def test_project_policy_is_version_3_with_audit_configs(
    inv: Inventory, gcp_fake: FakeGoogle
) -> None:
    proj = inv.get("//cloudresourcemanager.googleapis.com/projects/acme-prod")
    assert proj is not None
    assert proj.attr("project_number") == "111111111111"
    assert proj.attr("labels") == {"env": "prod", "team": "platform"}
    assert proj.attr("iam_policy_version") == 3
    carol = [b for b in proj.attr("iam_bindings") if b["members"] == ["user:carol@acme.example"]]
    assert carol[0]["condition"]["title"] == "break-glass until 2026-12-31"
    assert proj.attr("audit_configs") == [
        {"service": "allServices", "log_types": {"ADMIN_READ": []}}
    ]


def test_kms_storage_sql_iam_attrs(inv: Inventory) -> None:
    ring = "//cloudkms.googleapis.com/projects/acme-prod/locations/us-central1/keyRings/prod-ring"
    key = inv.get(f"{ring}/cryptoKeys/data-90d")
    assert key is not None and key.region == "us-central1"
    assert (
        key.attr("rotation_period_seconds"),
        key.attr("primary_state"),
        key.attr("purpose"),
    ) == (7776000, "ENABLED", "ENCRYPT_DECRYPT")
    never = inv.get(f"{ring}/cryptoKeys/data-never")
    assert never is not None and never.attr("rotation_period_seconds") is None
    assert never.attr("iam_bindings")[0]["members"] == ["allAuthenticatedUsers"]
    bucket = inv.get("//storage.googleapis.com/acme-prod-data")
    assert bucket is not None and bucket.region == "us"
    assert (bucket.attr("uniform_access"), bucket.attr("public_access_prevention")) == (
        True,
        "enforced",
    )
    assert bucket.attr("default_kms_key", "").endswith("/cryptoKeys/data-90d")
    public = inv.get("//storage.googleapis.com/acme-prod-public-assets")
    assert public is not None
    assert {
        "role": "roles/storage.objectViewer",
        "members": ["allUsers"],
        "condition": None,
    } in public.attr("iam_bindings")
    pg = inv.get("//cloudsql.googleapis.com/projects/acme-prod/instances/orders-pg")
    assert pg is not None
    assert {
        k: pg.attr(k)
        for k in (
            "ipv4_enabled",
            "public_ips",
            "authorized_networks",
            "ssl_enforced",
            "backups_enabled",
            "connector_enforcement",
        )
    } == {
        "ipv4_enabled": True,
        "public_ips": ["34.70.1.1"],
        "authorized_networks": ["0.0.0.0/0", "203.0.113.0/24"],
        "ssl_enforced": False,
        "backups_enabled": False,
        "connector_enforcement": "NOT_REQUIRED",
    }
    sa = inv.get(
        "//iam.googleapis.com/projects/acme-prod/serviceAccounts/"
        "analytics@acme-prod.iam.gserviceaccount.com"
    )
    assert sa is not None and len(sa.attr("user_managed_key_ids")) == 2


def test_organization_and_folder_discovery(gcp_fake: FakeGoogle) -> None:
    from posture.collectors.gcp.base import Clients

    gcp_fake.routes.update(
        {
            "GET /v3/folders?parent=organizations/42": {"folders": [{"name": "folders/7"}]},
            "GET /v3/projects?parent=organizations/42": {
                "projects": [{"name": "projects/1", "projectId": PROD, "state": "ACTIVE"}]
            },
            "GET /v3/folders?parent=folders/7": {},
            "GET /v3/projects?parent=folders/7": {
                "__pages__": [
                    {
                        "projects": [
                            {"name": "projects/2", "projectId": "acme-dev", "state": "ACTIVE"}
                        ]
                    },
                    {
                        "projects": [
                            {"name": "projects/3", "projectId": "gone", "state": "DELETE_REQUESTED"}
                        ]
                    },
                ]
            },
        }
    )
    target = GcpTarget(organization="42", api_endpoint=gcp_fake.base, anonymous=True)
    from google.auth.credentials import AnonymousCredentials

    errors: list[object] = []
    clients = Clients(target=target, credentials=AnonymousCredentials())
    assert discover_projects(clients, target, errors) == ["acme-dev", PROD]  # type: ignore[arg-type]
    assert errors == []


def test_key_file_credentials_use_the_token_endpoint(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with serving(load_routes(("acme-prod",))) as fake:
        info = {
            "type": "service_account",
            "project_id": PROD,
            "private_key_id": "k1",
            "private_key": pem,
            "client_email": "posture@acme-prod.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": f"{fake.base}/token",
        }
        path = tmp_path / "key.json"
        path.write_text(json.dumps(info), encoding="utf-8")
        inv = collect(
            GcpTarget(
                projects=(PROD,), api_endpoint=fake.base, key_file=str(path), retry_initial=0.01
            )
        )
        assert inv.errors == ()
        assert "/token" in fake.paths("/token")
        auth = {r.path: r.authorization for r in fake.requests}
    assert auth["/storage/v1/b"] == f"Bearer {TOKEN}"
    assert auth["/v1/projects/acme-prod/instances"] == f"Bearer {TOKEN}"  # discovery (SQL)
    assert str(auth["/compute/v1/projects/acme-prod/global/firewalls"]).startswith("Bearer ")


def test_unreachable_endpoint_and_missing_project_fail_fast() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = GcpTarget(projects=(PROD,), api_endpoint=f"http://127.0.0.1:{port}", anonymous=True)
    with pytest.raises(CollectorError, match="cannot reach"):
        collect(target)
    with pytest.raises(CollectorError, match="no GCP project"):
        collect(GcpTarget(anonymous=True))


def test_bad_key_file_is_a_collector_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(CollectorError, match="no usable GCP credentials"):
        collect(GcpTarget(projects=(PROD,), key_file=str(bad)))


def test_permissions_are_read_only_and_cover_every_module() -> None:
    perms = all_permissions()
    assert "compute.firewalls.list" in perms and "resourcemanager.projects.getIamPolicy" in perms
    reads = ("list", "get", "getIamPolicy", "getEffectiveFirewalls")
    assert all(p.rsplit(".", 1)[1] in reads for p in perms), perms
    assert {
        "compute.networks.getEffectiveFirewalls",
        "compute.firewallPolicies.list",
        "compute.regionFirewallPolicies.list",
        "compute.forwardingRules.list",
        "compute.globalForwardingRules.list",
        "compute.backendServices.list",
        "compute.regionBackendServices.list",
        "compute.instanceGroups.list",
        "compute.targetPools.list",
        "compute.urlMaps.list",
    } <= set(perms)
    role = custom_role()
    assert role.startswith("title: ") and "includedPermissions:\n- " in role


D = "//compute.googleapis.com/projects/acme-dev"


def test_firewall_policies_in_effect_and_network_policies(inv: Inventory) -> None:
    net = inv.get(f"{D}/global/networks/dev-vpc")
    assert net is not None
    assert net.attr("firewall_policy_enforcement_order") == "AFTER_CLASSIC_FIREWALL"
    policies = net.attr("effective_firewall_policies")
    assert [(p["type"], p["short_name"] or p["name"]) for p in policies] == [
        ("HIERARCHY", "org-guardrails"),  # the API's order: organisation, folders, network
        ("HIERARCHY", "dev-folder"),
        ("NETWORK", "dev-netpol"),
    ]
    ci = policies[1]["rules"][0]
    assert {k: ci[k] for k in ("priority", "action", "direction", "src_ip_ranges")} == {
        "priority": 500,
        "action": "allow",
        "direction": "INGRESS",
        "src_ip_ranges": ["0.0.0.0/0"],
    }
    assert ci["layer4_configs"] == [{"protocol": "tcp", "ports": ["22"]}]
    assert ci["target_service_accounts"] == ["ci-runner@acme-dev.iam.gserviceaccount.com"]
    assert policies[0]["rules"][-1]["priority"] == 2147483647  # the default goto_next rules
    east = inv.get(f"{D}/regions/us-east1/firewallPolicies/dev-east-policy")
    assert east is not None and east.region == "us-east1"
    assert east.attr("scope") == "regional"
    assert east.attr("associations") == ["projects/acme-dev/global/networks/dev-vpc"]
    assert east.attr("rules")[0]["target_secure_tags"] == [
        {"name": "tagValues/281484079012345", "state": "EFFECTIVE"}
    ]
    prod = inv.get(f"{C}/global/networks/prod-vpc")
    assert prod is not None and len(prod.attr("effective_firewall_policies")) == 2


def test_load_balancer_attrs(inv: Inventory) -> None:
    tls = inv.get(f"{C}/global/forwardingRules/tcp-tls")
    assert tls is not None and tls.type == "compute.googleapis.com/GlobalForwardingRule"
    assert {k: tls.attr(k) for k in ("ip_protocol", "port_range", "load_balancing_scheme")} == {
        "ip_protocol": "TCP",
        "port_range": "443-443",
        "load_balancing_scheme": "EXTERNAL",
    }
    assert tls.attr("target") == "projects/acme-prod/global/targetSslProxies/tcp-tls"
    nlb = inv.get(f"{C}/regions/us-central1/forwardingRules/worker-ssh-nlb")
    assert nlb is not None and nlb.attr("ports") == ["22"]
    assert nlb.attr("backend_service") == (
        "projects/acme-prod/regions/us-central1/backendServices/worker-nlb"
    )
    web = inv.get(f"{C}/global/urlMaps/web")
    assert web is not None and web.attr("services") == [
        "projects/acme-prod/global/backendBuckets/static-assets",
        "projects/acme-prod/global/backendServices/web-backend",
    ]
    bs = inv.get(f"{C}/global/backendServices/tls-backend")
    assert bs is not None and bs.attr("port_name") == "tls" and bs.attr("protocol") == "SSL"
    assert bs.attr("backends") == [
        {
            "group": "projects/acme-prod/zones/us-central1-a/instanceGroups/web-ig",
            "kind": "instance_group",
            "balancing_mode": "UTILIZATION",
        }
    ]
    group = inv.get(f"{C}/zones/us-central1-b/instanceGroups/db-ig")
    assert group is not None and group.attr("named_ports") == [{"name": "pg", "port": 5432}]
    assert group.attr("instances") == ["projects/acme-prod/zones/us-central1-b/instances/db-1"]
    pool = inv.get(f"{C}/regions/us-central1/targetPools/win-pool")
    assert pool is not None
    assert pool.attr("instances") == ["projects/acme-prod/zones/us-central1-a/instances/win-1"]


def test_effective_firewalls_and_group_member_failures_are_recorded() -> None:
    compute = "/compute/v1/projects/acme-prod"
    got = collect_denied(
        f"GET {compute}/global/networks/prod-vpc/getEffectiveFirewalls",
        f"POST {compute}/zones/us-central1-b/instanceGroups/db-ig/listInstances",
    )
    errors = {(e.operation, e.asset_types, e.resource_uid, e.region) for e in got.errors}
    assert errors == {
        (
            "networks.getEffectiveFirewalls",
            ("compute.googleapis.com/Network#effective_firewalls",),
            f"{C}/global/networks/prod-vpc",
            "global",
        ),
        (
            "instanceGroups.listInstances",
            ("compute.googleapis.com/InstanceGroup#instances",),
            f"{C}/zones/us-central1-b/instanceGroups/db-ig",
            "us-central1-b",
        ),
    }
    net = got.get(f"{C}/global/networks/prod-vpc")
    assert net is not None and net.attr("effective_firewall_policies") is None
    group = got.get(f"{C}/zones/us-central1-b/instanceGroups/db-ig")
    assert group is not None and group.attr("instances") is None


def test_service_account_policies_are_read_as_version_3(
    inv: Inventory, gcp_fake: FakeGoogle
) -> None:
    email = "deployer@acme-prod.iam.gserviceaccount.com"
    deployer = inv.get(f"//iam.googleapis.com/projects/acme-prod/serviceAccounts/{email}")
    assert deployer is not None
    assert deployer.attr("iam_bindings") == [
        {
            "role": "roles/iam.serviceAccountTokenCreator",
            "members": ["group:ci-admins@acme.example"],
            "condition": None,
        }
    ]
    calls = [
        r for r in gcp_fake.requests
        if r.path.endswith(":getIamPolicy") and "serviceAccounts" in r.path
    ]
    assert len(calls) == 3
    assert {r.query.get("options.requestedPolicyVersion") for r in calls} == {"3"}
