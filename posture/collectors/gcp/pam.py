"""Privileged Access Manager (v1 REST): the entitlements of each project, i.e. the roles its
eligible principals may request for a limited time, with or without approval.

google-api-python-client 2.202 ships no discovery document for ``privilegedaccessmanager`` and
no GAPIC package is a dependency, so the one listing is a GET on the REST endpoint through
google-auth's ``AuthorizedSession`` (the same credentials, the same ``--api-endpoint``
template), paged with ``pageToken``; an HTTP error becomes the ``google.api_core`` exception
the other clients raise (so retries on 429/5xx and error capture are the shared ones).

A project where the API is not enabled (403 with reason ``SERVICE_DISABLED``) has no usable
entitlement: that is an answer (no assets, no error), not a failure. Entitlements on folders
and the organisation are not read yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, endpoint_for
from posture.gcp import PAM_ENTITLEMENT
from posture.model import GLOBAL, Asset

SERVICE = "privilegedaccessmanager"
PERMISSIONS = ("privilegedaccessmanager.entitlements.list",)
DEFAULT_ENDPOINT = "https://privilegedaccessmanager.googleapis.com"
LOCATION = "global"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def uid(name: str) -> str:
    return f"//privilegedaccessmanager.googleapis.com/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    from google.auth.transport.requests import AuthorizedSession

    base = endpoint_for(scope.clients.target.api_endpoint, SERVICE) or DEFAULT_ENDPOINT
    parent = f"projects/{scope.project}/locations/{LOCATION}"
    url = f"{base}/v1/{parent}/entitlements"
    retry = scope.clients.retry
    with AuthorizedSession(scope.clients.credentials) as session:

        def page(token: str | None) -> dict[str, Any] | None:
            params = {"pageSize": "100", **({"pageToken": token} if token else {})}
            return _get(session, url, params)

        def listing() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = []
            token: str | None = None
            while True:
                answer = retry(page)(token)
                if answer is None:
                    return None
                items += answer.get("entitlements") or []
                token = answer.get("nextPageToken")
                if not token:
                    return items

        found = scope.call(SERVICE, "entitlements.list", (PAM_ENTITLEMENT,), listing)
    return [normalize_entitlement(scope, e) for e in found or []]


def _get(session: Any, url: str, params: Mapping[str, str]) -> dict[str, Any] | None:
    """One page; None when the API is not enabled on the project."""
    from google.api_core import exceptions as gexc

    response = session.get(url, params=dict(params), timeout=60)
    if response.status_code == 403 and _service_disabled(response):
        return None
    if response.status_code >= 400:
        raise gexc.from_http_response(response)
    answer: dict[str, Any] = response.json()
    return answer


def _service_disabled(response: Any) -> bool:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return False
    return any(
        isinstance(d, Mapping) and d.get("reason") == "SERVICE_DISABLED"
        for d in error.get("details") or ()
    )


def duration_seconds(value: Any) -> int | None:
    """A protobuf Duration in JSON (``"3600s"``, ``"1.5s"``) as whole seconds."""
    found = _DURATION.match(str(value or ""))
    return int(float(found.group(1))) if found else None


def normalize_entitlement(scope: ProjectScope, e: Mapping[str, Any]) -> Asset:
    access = (e.get("privilegedAccess") or {}).get("gcpIamAccess") or {}
    manual = (e.get("approvalWorkflow") or {}).get("manualApprovals") or {}
    steps = [
        {
            "approvers": sorted({p for a in s.get("approvers") or [] for p in a.get("principals")
                                 or []}),
            "approvals_needed": int(s.get("approvalsNeeded") or 1),
        }
        for s in manual.get("steps") or []
    ]
    justification = e.get("requesterJustificationConfig") or {}
    name = str(e["name"])
    short = name.rsplit("/", 1)[-1]
    attrs: dict[str, Any] = {
        "entitlement_name": short,
        "state": e.get("state"),
        "resource": access.get("resource"),
        "resource_type": access.get("resourceType"),
        "role_bindings": sorted(
            ({"role": rb.get("role"), "condition": rb.get("conditionExpression") or None}
             for rb in access.get("roleBindings") or []),
            key=lambda rb: str(rb["role"]),
        ),
        "eligible_principals": sorted(
            {p for u in e.get("eligibleUsers") or [] for p in u.get("principals") or []}
        ),
        "max_request_duration_seconds": duration_seconds(e.get("maxRequestDuration")),
        "approval_required": bool(steps),
        "approval_steps": steps,
        "requester_justification_required": "unstructured" in justification,
        "create_time": e.get("createTime"),
    }
    region = name.split("/locations/", 1)[1].split("/", 1)[0] if "/locations/" in name else GLOBAL
    return scope.asset(uid(name), PAM_ENTITLEMENT, short, attrs, e,
                       region=region)
