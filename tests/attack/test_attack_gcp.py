"""The GCP join (posture.attack.gcp): instance → service account (access scopes) → project
Owner/Editor, directly or by impersonation; the default compute service account named; the
scopes as the gate; conditional grants and unread IAM policies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.gcp import PROJECT_ID, binding, firewall, gasset, ginventory, instance, project

from posture.attack.gcp import COMPUTE_SCOPE, FULL_SCOPE, GcpAttack
from posture.attack.path import AttackPath, Power, Reached
from posture.graph.gcp.exposure import Estate
from posture.iam.gcp import build_impersonation_graph
from posture.model import Asset

APP = f"app@{PROJECT_ID}.iam.gserviceaccount.com"
BOSS = f"boss@{PROJECT_ID}.iam.gserviceaccount.com"
DEFAULT_SA = "123456789-compute@developer.gserviceaccount.com"
TOKEN = "roles/iam.serviceAccountTokenCreator"
NARROW = ("https://www.googleapis.com/auth/devstorage.read_only",
          "https://www.googleapis.com/auth/logging.write")
WEB = firewall("web", rules=(("tcp", ("443",)),))


def vm(scopes: tuple[str, ...] = (FULL_SCOPE,), sa: str = APP, **knobs: Any) -> Asset:
    a = instance("vm", service_accounts=(sa,), **knobs)
    return replace(a, attrs={**a.attrs, "scopes": list(scopes)})


def account(email: str) -> Asset:
    return gasset("iam.googleapis.com/ServiceAccount",
                  f"//iam.googleapis.com/projects/{PROJECT_ID}/serviceAccounts/{email}",
                  name=email, email=email, disabled=False, user_managed_key_ids=[],
                  iam_bindings=[])


def path_of(*assets: Asset) -> AttackPath:
    inv = ginventory(*assets)
    attack = GcpAttack.of(inv, Estate.of(inv), build_impersonation_graph(inv))
    (host,) = inv.of("compute.googleapis.com/Instance")
    return attack.path(host)


def test_editor_with_cloud_platform_is_admin() -> None:
    path = path_of(WEB, vm(), project(bindings=[binding("roles/editor", f"serviceAccount:{APP}")]))
    assert path.identity.state is Power.ADMIN and not path.identity.gate
    assert path.network.state is Reached.EXPOSED and path.network.ports == "tcp/443"
    assert path.summary() == (
        f"internet -> tcp/443 -> vm -> service account {APP} -> administrator of project "
        f"{PROJECT_ID}"
    )
    assert [(h["kind"], h["layer"]) for h in path.hops()] == [
        ("internet", "network"), ("external IP", "network"), ("port", "network"),
        ("Instance", "network"), ("service account", "identity"),
        ("administrator of", "identity"),
    ]
    assert path.evidence()["identity"]["admin_roles"] == [
        {"project": PROJECT_ID, "role": "roles/editor"}
    ]


def test_scopes_gate_the_role() -> None:
    editor = project(bindings=[binding("roles/editor", f"serviceAccount:{APP}")])
    narrow = path_of(WEB, vm(NARROW), editor).identity
    assert narrow.state is Power.ADMIN
    assert narrow.gate.startswith("the instance's access scopes (devstorage.read_only, "
                                  "logging.write) leave out cloud-platform")
    # the compute scope creates an instance as the same account with cloud-platform: no gate,
    # one more hop
    compute = path_of(WEB, vm((COMPUTE_SCOPE,)), editor).identity
    assert not compute.gate
    assert [h["kind"] for h in compute.hops] == ["service account", "instance", "administrator of"]


def test_the_default_compute_account_is_named() -> None:
    editor = project(bindings=[binding("roles/editor", f"serviceAccount:{DEFAULT_SA}")])
    identity = path_of(WEB, vm(sa=DEFAULT_SA), editor).identity
    assert identity.state is Power.ADMIN
    assert identity.label == f"default compute service account {DEFAULT_SA}"
    assert identity.evidence["default_compute_service_account"] is True


def test_admin_by_impersonation_and_conditions() -> None:
    impersonates = project(bindings=[binding("roles/editor", f"serviceAccount:{BOSS}"),
                                     binding(TOKEN, f"serviceAccount:{APP}")])
    identity = path_of(WEB, vm(), impersonates, account(APP), account(BOSS)).identity
    assert identity.state is Power.ADMIN
    assert [h["id"] for h in identity.hops] == [APP, BOSS, f"project {PROJECT_ID}"]
    assert identity.evidence["impersonation"]["steps"][0]["role"] == TOKEN
    cond = {"title": "office hours", "expression": "request.time.getHours() < 18"}
    conditional = project(bindings=[binding("roles/owner", f"serviceAccount:{APP}",
                                            condition=cond)])
    assert path_of(WEB, vm(), conditional).identity.state is Power.CONDITIONAL


def test_none_and_unknown() -> None:
    viewer = project(bindings=[binding("roles/viewer", f"serviceAccount:{APP}")])
    none = path_of(WEB, vm(), viewer)
    assert none.identity.state is Power.NONE and none.network.state is Reached.CLOSED
    unknown = path_of(WEB, vm(), project(bindings=None)).identity
    assert unknown.state is Power.UNKNOWN and PROJECT_ID in unknown.text
    bare = path_of(WEB, replace(vm(), attrs={**vm().attrs, "service_accounts": []}), viewer)
    assert bare.identity.text == "the instance runs without a service account"


def test_network_half_without_an_external_address() -> None:
    editor = project(bindings=[binding("roles/editor", f"serviceAccount:{APP}")])
    path = path_of(WEB, vm(external=False), editor)
    assert path.network.state is Reached.CLOSED and "no external address" in path.network.why
    assert path.network.evidence["latent"]
