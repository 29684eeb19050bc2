"""IAM (discovery client): service accounts, their IAM policies (who may impersonate them) and
their user-managed keys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from posture.collectors.gcp.base import ProjectScope, discovery_items, last, parallel_flat_map
from posture.collectors.gcp.resourcemanager import bindings
from posture.model import Asset

SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
SA_KEY = "iam.googleapis.com/ServiceAccountKey"
SERVICE = "iam"
PERMISSIONS = (
    "iam.serviceAccountKeys.list",
    "iam.serviceAccounts.getIamPolicy",
    "iam.serviceAccounts.list",
)


def uid(name: str) -> str:
    return f"//iam.googleapis.com/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    retries = scope.clients.target.discovery_retries

    def accounts() -> list[dict[str, Any]]:
        coll = scope.clients.discovery("iam", "v1").projects().serviceAccounts()
        return list(
            discovery_items(coll.list(name=f"projects/{scope.project}"), coll, "accounts", retries)
        )

    found = scope.call(SERVICE, "serviceAccounts.list", (SERVICE_ACCOUNT, SA_KEY), accounts)
    if not found:
        return []

    def keys(sa: Mapping[str, Any]) -> list[Asset]:
        name = str(sa["name"])

        def run() -> list[dict[str, Any]]:
            coll = scope.clients.discovery("iam", "v1").projects().serviceAccounts().keys()
            resp = coll.list(name=name, keyTypes="USER_MANAGED").execute(num_retries=retries)
            return list(resp.get("keys") or [])

        listed = scope.call(
            SERVICE,
            "serviceAccounts.keys.list",
            (f"{SERVICE_ACCOUNT}#keys", SA_KEY),
            run,
            resource_uid=uid(name),
        )

        def policy() -> dict[str, Any]:
            coll = scope.clients.discovery("iam", "v1").projects().serviceAccounts()
            request = coll.getIamPolicy(resource=name, options_requestedPolicyVersion=3)
            answer: dict[str, Any] = request.execute(num_retries=retries)
            return answer

        got = scope.call(
            SERVICE,
            "serviceAccounts.getIamPolicy",
            (f"{SERVICE_ACCOUNT}#iam_policy",),
            policy,
            resource_uid=uid(name),
        )
        out = [normalize_service_account(scope, sa, listed, got)]
        out += [normalize_key(scope, sa, k) for k in listed or []]
        return out

    return parallel_flat_map(keys, found)


def normalize_service_account(
    scope: ProjectScope,
    sa: Mapping[str, Any],
    keys: Sequence[Mapping[str, Any]] | None,
    policy: Mapping[str, Any] | None = None,
) -> Asset:
    """The account; ``policy`` is its own IAM policy (who may act as it), None = unknown."""
    attrs = {
        "email": sa.get("email"),
        "unique_id": sa.get("uniqueId"),
        "display_name": sa.get("displayName"),
        "disabled": bool(sa.get("disabled")),
        "user_managed_key_ids": (
            sorted(last(k.get("name")) for k in keys) if keys is not None else None
        ),
        "iam_bindings": bindings(policy) if policy is not None else None,
    }
    return scope.asset(uid(str(sa["name"])), SERVICE_ACCOUNT, str(sa.get("email")), attrs, sa)


def normalize_key(scope: ProjectScope, sa: Mapping[str, Any], k: Mapping[str, Any]) -> Asset:
    attrs = {
        "key_id": last(k.get("name")),
        "service_account_email": sa.get("email"),
        "key_type": k.get("keyType") or "USER_MANAGED",
        "key_origin": k.get("keyOrigin"),
        "valid_after_time": k.get("validAfterTime"),
        "valid_before_time": k.get("validBeforeTime"),
        "disabled": bool(k.get("disabled")),
    }
    return scope.asset(
        uid(str(k["name"])), SA_KEY, f"{sa.get('email')}/{last(k.get('name'))}", attrs, k
    )
