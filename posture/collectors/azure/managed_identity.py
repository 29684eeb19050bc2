"""User-assigned managed identities and their federated identity credentials, per subscription.

A federated identity credential lets a token from an external issuer (GitHub Actions:
``https://token.actions.githubusercontent.com``) be exchanged for the identity's token when its
``subject`` equals the token's ``sub`` claim exactly (no wildcards) and an audience matches. The
ARM listings (``Microsoft.ManagedIdentity/userAssignedIdentities`` and each identity's
``federatedIdentityCredentials``, api-version 2023-01-31) are read through
:class:`~posture.collectors.azure.graph.ArmRest`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.azure.base import (
    SubscriptionScope,
    parallel_flat_map,
    props,
    region_of,
    resource_group,
    rid,
)
from posture.collectors.azure.graph import ArmRest
from posture.model import Asset

IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
API_VERSION = "2023-01-31"
PERMISSIONS = (
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
)


def collect(scope: SubscriptionScope) -> list[Asset]:
    client = scope.client(ArmRest)
    url = client.url(f"{scope.sub_uid}/providers/{IDENTITY}", {"api-version": API_VERSION})
    items = scope.listing("managedidentity", "UserAssignedIdentities_ListBySubscription",
                          (IDENTITY, f"{IDENTITY}#federated_credentials"),
                          lambda: client.pages(url))
    return parallel_flat_map(lambda item: [_identity(scope, client, item)], items or ())


def _identity(scope: SubscriptionScope, client: ArmRest, item: Mapping[str, Any]) -> Asset:
    uid = str(rid(item["id"]))
    url = client.url(f"{uid}/federatedIdentityCredentials", {"api-version": API_VERSION})
    creds = scope.listing("managedidentity", "FederatedIdentityCredentials_List",
                          (f"{IDENTITY}#federated_credentials",), lambda: client.pages(url),
                          region=region_of(item), resource_uid=uid)
    return normalize_identity(scope, item, creds)


def normalize_credential(item: Mapping[str, Any]) -> dict[str, Any]:
    p = props(item)
    return {
        "name": item.get("name"),
        "issuer": p.get("issuer"),
        "subject": p.get("subject"),
        "audiences": sorted(str(a) for a in p.get("audiences") or ()),
    }


def normalize_identity(scope: SubscriptionScope, item: Mapping[str, Any],
                       credentials: list[dict[str, Any]] | None) -> Asset:
    p = props(item)
    attrs = {
        "identity_name": item.get("name"),
        "resource_group": resource_group(item.get("id")),
        "principal_id": p.get("principalId"),
        "client_id": p.get("clientId"),
        "tenant_id": p.get("tenantId"),
        "federated_credentials": None if credentials is None
        else sorted((normalize_credential(c) for c in credentials), key=lambda c: str(c["name"])),
    }
    return scope.arm_asset(IDENTITY, item, attrs)
