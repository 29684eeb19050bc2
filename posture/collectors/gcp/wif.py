"""Workload identity federation (IAM v1, discovery client): the project's workload identity pools
and their providers (OIDC issuer, attribute mapping, attribute condition), the trust that lets a
GitHub Actions workflow obtain Google credentials. Deleted pools and providers are left out
(the listing's default)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, discovery_items, last, parallel_flat_map
from posture.model import Asset

POOL = "iam.googleapis.com/WorkloadIdentityPool"
PROVIDER = "iam.googleapis.com/WorkloadIdentityPoolProvider"
SERVICE = "iam"
PERMISSIONS = (
    "iam.workloadIdentityPools.list",
    "iam.workloadIdentityPoolProviders.list",
)


def uid(name: str) -> str:
    return f"//iam.googleapis.com/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    retries = scope.clients.target.discovery_retries

    def pools() -> list[dict[str, Any]]:
        coll = scope.clients.discovery("iam", "v1").projects().locations() \
            .workloadIdentityPools()
        request = coll.list(parent=f"projects/{scope.project}/locations/global")
        return list(discovery_items(request, coll, "workloadIdentityPools", retries))

    found = scope.call(SERVICE, "workloadIdentityPools.list", (POOL, PROVIDER), pools)

    def providers(pool: Mapping[str, Any]) -> list[Asset]:
        name = str(pool["name"])

        def run() -> list[dict[str, Any]]:
            coll = scope.clients.discovery("iam", "v1").projects().locations() \
                .workloadIdentityPools().providers()
            return list(discovery_items(coll.list(parent=name), coll,
                                        "workloadIdentityPoolProviders", retries))

        listed = scope.call(SERVICE, "workloadIdentityPools.providers.list", (PROVIDER,), run,
                            resource_uid=uid(name))
        return [normalize_pool(scope, pool, listed)] + [
            normalize_provider(scope, pool, p) for p in listed or ()]

    return parallel_flat_map(providers, found or ())


def normalize_pool(scope: ProjectScope, pool: Mapping[str, Any],
                   providers: list[dict[str, Any]] | None) -> Asset:
    attrs = {
        "pool_id": last(pool.get("name")),
        "display_name": pool.get("displayName"),
        "state": pool.get("state"),
        "disabled": bool(pool.get("disabled")),
        "provider_ids": None if providers is None
        else sorted(str(last(p.get("name"))) for p in providers),
    }
    return scope.asset(uid(str(pool["name"])), POOL, str(last(pool.get("name"))), attrs, pool)


def normalize_provider(scope: ProjectScope, pool: Mapping[str, Any],
                       provider: Mapping[str, Any]) -> Asset:
    oidc = provider.get("oidc") or {}
    attrs = {
        "provider_id": last(provider.get("name")),
        "pool_name": pool.get("name"),
        "pool_disabled": bool(pool.get("disabled")),
        "state": provider.get("state"),
        "disabled": bool(provider.get("disabled")),
        "issuer_uri": oidc.get("issuerUri"),
        "allowed_audiences": sorted(oidc.get("allowedAudiences") or ()),
        "attribute_mapping": dict(provider.get("attributeMapping") or {}),
        "attribute_condition": provider.get("attributeCondition"),
    }
    return scope.asset(uid(str(provider["name"])), PROVIDER, str(last(provider.get("name"))),
                       attrs, provider)
