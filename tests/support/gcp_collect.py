"""Collecting GCP with the real clients from the loopback fake of the Google APIs
(:mod:`posture.demo.gcp_fake`): anonymous, retries 10 ms apart; one project's scope for calling a
single collector module; and a fresh fake on which chosen calls are refused."""

from __future__ import annotations

from typing import Any

from google.auth.credentials import AnonymousCredentials

from posture.collectors.gcp.base import Clients, GcpTarget, ProjectScope
from posture.collectors.gcp.collector import collect
from posture.demo.gcp_fake import FakeGoogle, load_routes, serving
from posture.model import Inventory

PROJECTS = ("acme-prod", "acme-dev")
"""The fake's two projects (fixtures/gcp/)."""
DENIED = {"__status__": 403,
          "error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}
"""A route's answer refusing the call (403 PERMISSION_DENIED)."""


def fake_target(base: str, *projects: str, **target: Any) -> GcpTarget:
    """``projects`` (both of the fake's if none) on the fake at ``base``; ``target``: more
    GcpTarget fields."""
    return GcpTarget(projects=projects or PROJECTS, api_endpoint=base, anonymous=True,
                     retry_initial=0.01, **target)


def collect_fake(base: str, *projects: str) -> Inventory:
    """Collect ``projects`` (both of the fake's if none) from the fake at ``base``."""
    return collect(fake_target(base, *projects))


def project_scope(fake: FakeGoogle, project: str) -> ProjectScope:
    """``project``'s scope on ``fake``, to call one collector module's ``collect``."""
    clients = Clients(target=fake_target(fake.base, project), credentials=AnonymousCredentials())
    return ProjectScope(project, clients)


def collect_denied(
    *calls: str, projects: tuple[str, ...] = ("acme-prod",), routes: dict[str, Any] | None = None
) -> Inventory:
    """Collect ``projects`` from a fresh fake (serving ``routes``, all the fixtures' unless
    given) that refuses ``calls`` (``"GET /v1/..."``, as the routes spell them)."""
    routes = load_routes() if routes is None else routes
    with serving({**routes, **dict.fromkeys(calls, DENIED)}) as running:
        return collect_fake(running.base, *projects)


def collected_by_name(fake: FakeGoogle, module: Any, project: str = "acme-prod") -> dict[str, Any]:
    """``module.collect`` on one project of the fake, by asset name, asserting that it recorded
    no collection error."""
    scope = project_scope(fake, project)
    found = {a.name: a for a in module.collect(scope)}
    assert scope.errors == []
    return found
