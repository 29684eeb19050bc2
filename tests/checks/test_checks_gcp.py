"""The GCP checks on small hand-built inventories: pass, fail and trap cases per check."""

from __future__ import annotations

from support.checks import only, run_one
from support.gcp import (
    PROJECT_ID,
    binding,
    firewall,
    gasset,
    gcp_error,
    ginventory,
    instance,
    project,
    statuses,
)

from posture.model import Status

SQL = "sqladmin.googleapis.com/Instance"
BUCKET = "storage.googleapis.com/Bucket"
KEY = "cloudkms.googleapis.com/CryptoKey"


# -- network -----------------------------------------------------------------------------------

ADMIN = "gcp.network.admin_ports_not_internet_reachable"
DB = "gcp.network.db_ports_not_internet_reachable"


def test_admin_ports_exposed_and_traps() -> None:
    got = statuses(
        ADMIN,
        firewall("ssh-web", target_tags=("web",)),
        firewall("ssh-app", target_tags=("app",)),
        firewall("deny-app", target_tags=("app",), priority=900, action="deny"),
        firewall("ssh-old", target_tags=("old",), disabled=True),
        firewall("ssh-out", target_tags=("worker",), direction="EGRESS"),
        firewall("iap", source_ranges=("35.235.240.0/20",)),
        firewall("ssh-db", target_tags=("db",)),
        instance("web", tags=("web",)),
        instance("app", tags=("app",)),
        instance("old", tags=("old",)),
        instance("worker", tags=("worker",)),
        instance("bastionless"),
        instance("db", tags=("db",), external=False),
    )
    assert got == {
        "web": Status.FAIL,
        "app": Status.PASS,
        "old": Status.PASS,
        "worker": Status.PASS,
        "bastionless": Status.PASS,
        "db": Status.PASS,
    }


def test_admin_port_messages_name_the_reason() -> None:
    findings = run_one(
        ADMIN,
        ginventory(
            firewall("iap", source_ranges=("35.235.240.0/20",)),
            instance("vm"),
            firewall("ssh", target_tags=("db",)),
            instance("db", tags=("db",), external=False),
        ),
    )
    msgs = {f.resource_name: f.message for f in findings}
    assert "Identity-Aware Proxy" in msgs["vm"]
    assert "no external IP" in msgs["db"]
    fail = only(run_one(ADMIN, ginventory(firewall("ssh"), instance("vm"))))
    assert fail.status is Status.FAIL
    assert fail.evidence["paths"][0]["firewall_rule"]["firewall"] == "ssh"


def test_db_ports_and_firewall_gap_is_inconclusive() -> None:
    rule = firewall("mongo", rules=(("tcp", ("27017",)),))
    assert statuses(DB, rule, instance("mongo")) == {"mongo": Status.FAIL}
    assert statuses(DB, rule, instance("mongo", external=False)) == {"mongo": Status.PASS}
    inv = ginventory(
        instance("vm"),
        errors=(gcp_error("compute", "firewalls.list", ("compute.googleapis.com/Firewall",)),),
    )
    assert {f.status for f in run_one(DB, inv)} == {Status.INCONCLUSIVE}


def test_firewall_admin_ports_not_open_to_world() -> None:
    got = statuses(
        "gcp.network.firewall_admin_ports_not_open_to_world",
        firewall("ssh"),
        firewall("rdp", rules=(("tcp", ("3389",)),)),
        firewall("off", disabled=True),
        firewall("iap", source_ranges=("35.235.240.0/20",)),
        firewall("https", rules=(("tcp", ("443",)),)),
    )
    assert got == {
        "ssh": Status.FAIL,
        "rdp": Status.FAIL,
        "off": Status.PASS,
        "iap": Status.PASS,
        "https": Status.PASS,
    }


def _network(name: str) -> object:
    return gasset(
        "compute.googleapis.com/Network",
        f"//compute.googleapis.com/projects/{PROJECT_ID}/global/networks/{name}",
        network_name=name,
        path=f"projects/{PROJECT_ID}/global/networks/{name}",
        peerings=[],
    )


def test_default_network_rules_not_permissive() -> None:
    default = f"projects/{PROJECT_ID}/global/networks/default"
    check_id = "gcp.network.default_network_rules_not_permissive"
    fail = statuses(
        check_id,
        _network("default"),
        _network("vpc"),
        firewall("default-allow-internal", source_ranges=("10.128.0.0/9",), network=default),
    )
    assert fail == {"default": Status.FAIL}
    cleaned = statuses(
        check_id,
        _network("default"),
        firewall("default-allow-ssh", network=default, disabled=True),
        firewall("iap", source_ranges=("35.235.240.0/20",), network=default),
    )
    assert cleaned == {"default": Status.PASS}


def _sql(name: str, **attrs: object) -> object:
    base = {
        "ipv4_enabled": True,
        "authorized_networks": [],
        "ssl_enforced": True,
        "ssl_mode": "ENCRYPTED_ONLY",
        "require_ssl": False,
        "public_ips": ["34.1.1.1"],
    }
    base.update(attrs)
    return gasset(
        SQL,
        f"//cloudsql.googleapis.com/projects/{PROJECT_ID}/instances/{name}",
        region="us-central1",
        **base,
    )


def test_sql_authorized_networks_and_public_ip() -> None:
    nets = "gcp.network.sql_no_public_authorized_networks"
    got = statuses(
        nets,
        _sql("open", authorized_networks=["0.0.0.0/0"]),
        _sql("office", authorized_networks=["203.0.113.0/24"]),
        _sql("private", ipv4_enabled=False, authorized_networks=["0.0.0.0/0"]),
    )
    assert got == {"open": Status.FAIL, "office": Status.PASS, "private": Status.PASS}
    got = statuses("gcp.network.sql_no_public_ip", _sql("pub"), _sql("priv", ipv4_enabled=False))
    assert got == {"pub": Status.FAIL, "priv": Status.PASS}


# -- transit -----------------------------------------------------------------------------------


def _policy(name: str, profile: str, min_tls: str, custom: tuple[str, ...] = ()) -> object:
    path = f"projects/{PROJECT_ID}/global/sslPolicies/{name}"
    return gasset(
        "compute.googleapis.com/SslPolicy",
        f"//compute.googleapis.com/{path}",
        policy_name=name,
        path=path,
        profile=profile,
        min_tls_version=min_tls,
        custom_features=list(custom),
    )


def _proxy(name: str, policy: str | None, kind: str = "TargetHttpsProxy") -> object:
    ref = f"projects/{PROJECT_ID}/global/sslPolicies/{policy}" if policy else None
    return gasset(
        f"compute.googleapis.com/{kind}",
        f"//compute.googleapis.com/projects/{PROJECT_ID}/global/x/{name}",
        proxy_name=name,
        ssl_policy=ref,
    )


def test_lb_proxy_tls12_minimum() -> None:
    got = statuses(
        "gcp.transit.lb_proxy_tls12_minimum",
        _policy("modern", "MODERN", "TLS_1_2"),
        _policy("old", "MODERN", "TLS_1_0"),
        _policy("compat", "COMPATIBLE", "TLS_1_2"),
        _policy("restricted", "RESTRICTED", "TLS_1_2"),
        _policy("custom-weak", "CUSTOM", "TLS_1_2", ("TLS_RSA_WITH_AES_128_CBC_SHA",)),
        _proxy("a", "modern"),
        _proxy("b", "old"),
        _proxy("c", "compat"),
        _proxy("d", None),
        _proxy("e", "restricted", "TargetSslProxy"),
        _proxy("f", "custom-weak"),
        _proxy("g", "missing"),
    )
    assert got == {
        "a": Status.PASS,
        "b": Status.FAIL,
        "c": Status.FAIL,
        "d": Status.FAIL,
        "e": Status.PASS,
        "f": Status.FAIL,
        "g": Status.INCONCLUSIVE,
    }


def test_sql_ssl_enforced() -> None:
    got = statuses(
        "gcp.transit.sql_ssl_enforced",
        _sql("enc"),
        _sql("plain", ssl_enforced=False, ssl_mode="ALLOW_UNENCRYPTED_AND_ENCRYPTED"),
    )
    assert got == {"enc": Status.PASS, "plain": Status.FAIL}


# -- encryption and storage --------------------------------------------------------------------


def _key(
    name: str,
    seconds: int | None,
    purpose: str = "ENCRYPT_DECRYPT",
    state: str = "ENABLED",
    bindings: list[dict[str, object]] | None = None,
) -> object:
    uid = (
        f"//cloudkms.googleapis.com/projects/{PROJECT_ID}/locations/global/keyRings/r/"
        f"cryptoKeys/{name}"
    )
    return gasset(
        KEY,
        uid,
        purpose=purpose,
        rotation_period_seconds=seconds,
        primary_state=state,
        iam_bindings=bindings if bindings is not None else [],
    )


def test_kms_key_rotation_enabled() -> None:
    got = statuses(
        "gcp.encryption.kms_key_rotation_enabled",
        _key("q", 90 * 86400),
        _key("never", None),
        _key("yearly", 365 * 86400),
        _key("sign", None, purpose="ASYMMETRIC_SIGN"),
        _key("gone", None, state="DESTROYED"),
    )
    assert got == {"q": Status.PASS, "never": Status.FAIL, "yearly": Status.FAIL}


def _bucket(name: str, labels: dict[str, str] | None = None, **attrs: object) -> object:
    base = {
        "uniform_access": True,
        "public_access_prevention": "inherited",
        "default_kms_key": None,
        "iam_bindings": [],
    }
    base.update(attrs)
    return gasset(BUCKET, f"//storage.googleapis.com/{name}", tags=labels, region="us", **base)


def test_bucket_cmek_encrypted() -> None:
    check_id = "gcp.encryption.bucket_cmek_encrypted"
    got = statuses(
        check_id,
        _bucket("conf", {"data": "confidential"}),
        _bucket("conf-cmek", {"data": "Confidential"}, default_kms_key="k"),
        _bucket("public", {"data": "public"}),
    )
    assert got == {"conf": Status.FAIL, "conf-cmek": Status.PASS, "public": Status.PASS}
    assert statuses(check_id, _bucket("any"), required_for_labels=()) == {"any": Status.FAIL}


def test_bucket_not_public_and_uniform_access() -> None:
    public = [binding("roles/storage.objectViewer", "allUsers")]
    got = statuses(
        "gcp.storage.bucket_not_public",
        _bucket("pub", iam_bindings=public),
        _bucket("pap", iam_bindings=public, public_access_prevention="enforced"),
        _bucket("priv"),
        _bucket("unknown", iam_bindings=None),
    )
    assert got == {
        "pub": Status.FAIL,
        "pap": Status.PASS,
        "priv": Status.PASS,
        "unknown": Status.INCONCLUSIVE,
    }
    got = statuses(
        "gcp.storage.bucket_uniform_access_enabled",
        _bucket("u"),
        _bucket("acl", uniform_access=False),
    )
    assert got == {"u": Status.PASS, "acl": Status.FAIL}


def test_bucket_policy_gap_makes_pass_inconclusive() -> None:
    b = _bucket("priv")
    inv = ginventory(
        b,
        errors=(
            gcp_error(
                "storage",
                "buckets.getIamPolicy",
                (f"{BUCKET}#iam_policy",),
                resource_uid="//storage.googleapis.com/priv",
            ),
        ),
    )
    assert only(run_one("gcp.storage.bucket_not_public", inv)).status is Status.INCONCLUSIVE
    # the listing facet is not affected by the IAM-policy error
    assert only(run_one("gcp.storage.bucket_uniform_access_enabled", inv)).status is Status.PASS


# -- identity ----------------------------------------------------------------------------------


def test_no_basic_roles_for_users() -> None:
    timed = {"title": "until friday", "expression": "request.time < timestamp('2026-01-09')"}
    check_id = "gcp.iam.no_basic_roles_for_users"
    fail = project(bindings=[binding("roles/owner", "user:a@x.example")])
    assert only(run_one(check_id, ginventory(fail))).status is Status.FAIL
    ok = project(
        bindings=[
            binding("roles/owner", "user:a@x.example", condition=timed),
            binding("roles/editor", "serviceAccount:ci@p.iam.gserviceaccount.com"),
            binding("roles/viewer", "group:all@x.example"),
        ]
    )
    finding = only(run_one(check_id, ginventory(ok)))
    assert finding.status is Status.PASS and finding.evidence["time_bound"]
    assert only(run_one(check_id, ginventory(project()))).status is Status.INCONCLUSIVE


def test_default_compute_sa_not_editor() -> None:
    check_id = "gcp.iam.default_compute_sa_not_editor"
    sa = "serviceAccount:123456789-compute@developer.gserviceaccount.com"
    assert (
        only(run_one(check_id, ginventory(project(bindings=[binding("roles/editor", sa)])))).status
        is Status.FAIL
    )
    assert (
        only(run_one(check_id, ginventory(project(bindings=[binding("roles/viewer", sa)])))).status
        is Status.PASS
    )
    assert (
        only(run_one(check_id, ginventory(project(number=None, bindings=[])))).status
        is Status.INCONCLUSIVE
    )


def test_no_project_level_sa_impersonation() -> None:
    check_id = "gcp.iam.no_project_level_sa_impersonation"
    cond = {"title": "one SA", "expression": "resource.name.endsWith('x')"}
    got = {
        "plain": project(
            "plain", bindings=[binding("roles/iam.serviceAccountTokenCreator", "user:b@x.example")]
        ),
        "cond": project(
            "cond",
            bindings=[binding("roles/iam.serviceAccountUser", "user:b@x.example", condition=cond)],
        ),
        "none": project("none", bindings=[binding("roles/viewer", "user:b@x.example")]),
    }
    assert statuses(check_id, *got.values()) == {
        "plain": Status.FAIL,
        "cond": Status.INCONCLUSIVE,
        "none": Status.PASS,
    }


def _sa_key(kid: str, valid_after: str | None, disabled: bool = False) -> object:
    return gasset(
        "iam.googleapis.com/ServiceAccountKey",
        f"//iam.googleapis.com/projects/{PROJECT_ID}/serviceAccounts/a@x/keys/{kid}",
        key_type="USER_MANAGED",
        valid_after_time=valid_after,
        disabled=disabled,
    )


def test_sa_keys_rotated_measured_at_scan_time() -> None:
    got = statuses(
        "gcp.iam.sa_keys_rotated",
        _sa_key("old", "2025-06-01T00:00:00Z"),
        _sa_key("new", "2025-12-01T00:00:00Z"),
        _sa_key("off", "2020-01-01T00:00:00Z", disabled=True),
        _sa_key("undated", None),
    )
    assert got == {"old": Status.FAIL, "new": Status.PASS, "undated": Status.INCONCLUSIVE}


def test_no_public_iam_bindings() -> None:
    got = statuses(
        "gcp.iam.no_public_iam_bindings",
        _key(
            "pub",
            None,
            bindings=[binding("roles/cloudkms.cryptoKeyDecrypter", "allAuthenticatedUsers")],
        ),
        _key("priv", None),
        project(bindings=[]),
    )
    assert got == {"pub": Status.FAIL, "priv": Status.PASS, PROJECT_ID: Status.PASS}


# -- audit and segregation ---------------------------------------------------------------------


def test_data_access_logs_enabled() -> None:
    check_id = "gcp.audit.data_access_logs_enabled"
    full = {"ADMIN_READ": [], "DATA_READ": [], "DATA_WRITE": []}
    cases = {
        "ok": [{"service": "allServices", "log_types": full}],
        "partial": [{"service": "allServices", "log_types": {"ADMIN_READ": []}}],
        "exempt": [{"service": "allServices", "log_types": {**full, "DATA_READ": ["user:x"]}}],
        "one-service": [{"service": "storage.googleapis.com", "log_types": full}],
    }
    got = statuses(check_id, *(project(k, audit_configs=v, bindings=[]) for k, v in cases.items()))
    assert got == {
        "ok": Status.PASS,
        "partial": Status.FAIL,
        "exempt": Status.FAIL,
        "one-service": Status.FAIL,
    }


def _peered(project_id: str, name: str, *peers: tuple[str, str]) -> object:
    path = f"projects/{project_id}/global/networks/{name}"
    return gasset(
        "compute.googleapis.com/Network",
        f"//compute.googleapis.com/{path}",
        project=project_id,
        network_name=name,
        path=path,
        peerings=[{"name": f"to-{n}", "network": n, "state": s} for n, s in peers],
    )


def test_no_prod_nonprod_peering() -> None:
    check_id = "gcp.segregation.no_prod_nonprod_peering"
    prod = project("prod", labels={"env": "production"}, bindings=[])
    dev = project("dev", labels={"env": "dev"}, bindings=[])
    prod2 = project("prod2", labels={"environment": "prd"}, bindings=[])
    dev_net = "projects/dev/global/networks/d"
    got = statuses(
        check_id,
        prod,
        dev,
        prod2,
        _peered("prod", "p", (dev_net, "ACTIVE")),
        _peered("prod2", "q", ("projects/prod/global/networks/p", "ACTIVE"), (dev_net, "INACTIVE")),
        _peered("dev", "d", ("projects/unknown/global/networks/z", "ACTIVE")),
        _peered("dev", "lonely"),
    )
    assert got == {
        "p": Status.FAIL,
        "q": Status.PASS,
        "d": Status.INCONCLUSIVE,
        "lonely": Status.PASS,
    }


def test_gcp_check_reads_are_documented_types_and_facets() -> None:
    import re

    from support import REPO
    from support.checks import catalogue

    doc = (REPO / "docs" / "gcp-assets.md").read_text("utf-8")
    known = set(re.findall(r"`([a-z]+\.googleapis\.com/[A-Za-z]+)`", doc))
    for check in catalogue().checks:
        if check.spec.provider.value != "gcp":
            continue
        assert check.controls.get("SOC2"), check.spec.id
        for read in check.spec.reads:
            type_, _, facet = read.partition("#")
            assert type_ in known, (check.spec.id, read)
            assert not facet or f"#{facet}" in doc, (check.spec.id, read)


LATENT = "gcp.network.no_latent_sensitive_port_exposure"


def test_latent_exposure_names_the_missing_layer_and_skips_traps() -> None:
    got = statuses(
        LATENT,
        firewall("ssh-db", target_tags=("db",)),
        firewall("pg-any", rules=(("tcp", ("5432",)),), target_tags=("pg",)),
        firewall("ssh-web", target_tags=("web",)),
        firewall("ssh-app", target_tags=("app",)),
        firewall("deny-app", target_tags=("app",), priority=900, action="deny"),
        firewall("ssh-old", target_tags=("old",), disabled=True),
        firewall("iap", source_ranges=("35.235.240.0/20",)),
        instance("db", tags=("db",), external=False),
        instance("pg", tags=("pg",), external=False),
        instance("web", tags=("web",)),  # really exposed: the CRITICAL check's finding
        instance("app", tags=("app",), external=False),  # shadowed by a deny
        instance("old", tags=("old",), external=False),  # disabled rule
        instance("private"),  # IAP only
    )
    assert got == {
        "db": Status.FAIL,
        "pg": Status.FAIL,
        "web": Status.PASS,
        "app": Status.PASS,
        "old": Status.PASS,
        "private": Status.PASS,
    }
    findings = {
        f.resource_name: f
        for f in run_one(
            LATENT,
            ginventory(
                firewall("ssh-db", target_tags=("db",)),
                instance("db", tags=("db",), external=False),
                firewall("ssh-web", target_tags=("web",)),
                instance("web", tags=("web",)),
            ),
        )
    }
    db = findings["db"]
    assert "ssh-db" in db.message and "tcp/22" in db.message
    assert "external IPv4 address" in db.message
    assert db.evidence["latent"][0]["state"] == "latent"
    assert "CRITICAL" in findings["web"].message


def test_latent_exposure_is_inconclusive_without_firewalls() -> None:
    inv = ginventory(
        instance("vm", external=False),
        errors=(gcp_error("compute", "firewalls.list", ("compute.googleapis.com/Firewall",)),),
    )
    assert {f.status for f in run_one(LATENT, inv)} == {Status.INCONCLUSIVE}
