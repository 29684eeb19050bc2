"""The Azure collector: credential, subscriptions, then every service module concurrently.

Service modules live beside this file; each exposes ``collect(scope) -> list[Asset]`` and a
``PERMISSIONS`` tuple of read-only ARM actions (``posture permissions azure`` prints them as a
custom role definition). Every module runs once per subscription, on the shared runner
(:mod:`posture.collectors.runner`).
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

from posture.collectors import runner
from posture.collectors.azure import management
from posture.collectors.azure.base import (
    AzureTarget,
    ClientFactory,
    SubscriptionScope,
    error_code,
    error_message,
    wire,
)
from posture.errors import CollectorError
from posture.model import ALL, GLOBAL, Asset, CollectionError, Inventory, Provider

MODULES = (
    "network", "network_edge", "compute", "storage", "keyvault", "sql", "authorization", "monitor",
    "jit", "managed_identity", "defender", "aks", "appservice", "acr", "dbflex", "cosmos",
)
TENANT_MODULES = ("entra",)
"""Modules run once per scan against the credential's Entra ID tenant through Microsoft Graph
(``collect(scope: TenantScope)``; ``GRAPH_PERMISSIONS``: Graph application permissions)."""
CORE_PERMISSIONS = ("Microsoft.Resources/subscriptions/read",)
PACKAGE = "posture.collectors.azure"

__all__ = ["AzureTarget", "collect", "make_credential", "role_definition"]


def all_permissions() -> tuple[str, ...]:
    actions = set(CORE_PERMISSIONS) | set(management.PERMISSIONS)
    actions |= runner.declared_permissions(PACKAGE, MODULES)
    return tuple(sorted(actions, key=str.lower))


def graph_permissions() -> tuple[str, ...]:
    """The Microsoft Graph application permissions the tenant modules need (read-only)."""
    found: set[str] = set()
    for name in TENANT_MODULES:
        found.update(getattr(runner.service_module(PACKAGE, name), "GRAPH_PERMISSIONS", ()))
    return tuple(sorted(found))


def tenant_of(subs: list[dict[str, Any]]) -> str:
    """The credential's tenant: the most common ``tenantId`` of the subscriptions' ARM payloads
    (ties broken by id), ``unknown`` when none says."""
    from collections import Counter

    tenants = Counter(str(s["tenantId"]).lower() for s in subs if s.get("tenantId"))
    return min(tenants, key=lambda t: (-tenants[t], t)) if tenants else "unknown"


def tenant_jobs(credential: Any, target: AzureTarget, tenant: str) -> list[Any]:
    """The Graph jobs of ``tenant``; none without a Graph endpoint (:attr:`AzureTarget.graph`)."""
    from posture.collectors.azure.graph import TenantScope, graph_client

    if not target.graph:
        return []
    scope = TenantScope(tenant, graph_client(credential, target, target.graph))
    return [runner.Job(name, scope) for name in TENANT_MODULES]


def collect_tenant(
    credential: Any, target: AzureTarget, tenant: str
) -> tuple[tuple[Asset, ...], tuple[CollectionError, ...]]:
    """Entra ID of ``tenant`` alone, once (an organisation's coordinator reads it for every
    subscription): its assets and collection errors; nothing without a Graph endpoint."""
    jobs = tenant_jobs(credential, target, tenant)
    if not jobs:
        return (), ()
    found = runner.run_jobs(PACKAGE, jobs, max_workers=target.max_workers)
    return found.assets, found.errors


def role_definition() -> dict[str, Any]:
    """The scanner's minimal read-only custom role (``az role definition create`` input)."""
    return {
        "Name": "posture reader",
        "IsCustom": True,
        "Description": "Read-only access for the posture auditor (management plane only). "
        "Entra ID is read through Microsoft Graph with the application permissions "
        f"{', '.join(graph_permissions())} (posture permissions azure --graph).",
        "Actions": list(all_permissions()),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": ["/subscriptions/<subscription-id>"],
    }


def make_credential(target: AzureTarget) -> Any:
    """``DefaultAzureCredential``: environment (service principal: ``AZURE_TENANT_ID``,
    ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``), workload or managed identity, Azure CLI ...

    With a custom authority host the credential must not ask the public cloud for instance
    discovery; with a CA bundle the token requests trust it too.
    """
    import logging

    from azure.identity import DefaultAzureCredential

    # the chain's own multi-line warning repeats what the one-line CollectorError says
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    kwargs: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if target.authority_host:
        kwargs["authority"] = target.authority_host
        kwargs["disable_instance_discovery"] = True
    if target.ca_bundle:
        kwargs["connection_verify"] = target.ca_bundle
    return DefaultAzureCredential(**kwargs)


def _subscription_client(credential: Any, target: AzureTarget) -> Any:
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return SubscriptionClient(credential, **target.client_kwargs())


def _fatal(exc: Exception, what: str) -> CollectorError:
    status = getattr(exc, "status_code", None)
    if isinstance(exc, HttpResponseError) and status is not None and (
        status >= 500 or status in (408, 429)
    ):  # still failing after the retries: the service's fault, never the credentials'
        return CollectorError(
            f"cannot {what}: Azure answered HTTP {status} after retries ({error_code(exc)}: "
            f"{error_message(exc)}), not a credential problem; try again later"
        )
    if isinstance(exc, ClientAuthenticationError):
        return CollectorError(
            f"Azure rejected the credentials or no credential is available "
            f"(set AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET): "
            f"{error_message(exc)}"
        )
    return CollectorError(f"cannot {what} ({error_code(exc)}: {error_message(exc)})")


def subscriptions(
    credential: Any,
    target: AzureTarget,
    errors: list[CollectionError],
    below: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The subscriptions to scan (ARM payloads): the requested ones and those ``below`` the
    requested management groups, else every enabled one. A subscription below a group that
    cannot be read is a collection error; a requested one that does not exist stops the scan."""
    client = _subscription_client(credential, target)
    if not target.subscriptions and not target.management_groups:
        try:
            found = [wire(s) for s in client.subscriptions.list()]
        except (AzureError, ValueError) as exc:
            raise _fatal(exc, "list the subscriptions") from None
        usable = [
            s for s in found if str(s.get("state", "Enabled")) in ("Enabled", "PastDue", "Warned")
        ]
        if not usable:
            raise CollectorError(
                "the credential sees no enabled Azure subscription "
                "(pass --subscription, or grant it Reader on one)"
            )
        return sorted(usable, key=lambda s: str(s.get("subscriptionId")))
    out = []
    named = {s.lower() for s in target.subscriptions}
    for sub in dict.fromkeys([*(s.lower() for s in target.subscriptions), *below]):
        try:
            out.append(wire(client.subscriptions.get(sub)))
        except ClientAuthenticationError as exc:
            raise _fatal(exc, "authenticate") from None
        except HttpResponseError as exc:
            if exc.status_code == 404 and sub in named:
                raise CollectorError(
                    f"unknown Azure subscription {sub} (or not visible to the credential)"
                ) from None
            errors.append(
                CollectionError(
                    Provider.AZURE,
                    sub,
                    GLOBAL,
                    "resources",
                    "Subscriptions_Get",
                    error_code(exc),
                    error_message(exc),
                    (ALL,),
                )
            )
            out.append({"subscriptionId": sub})
        except (AzureError, ValueError) as exc:
            raise _fatal(exc, f"read subscription {sub}") from None
    return out


def collect(
    target: AzureTarget,
    progress: runner.Progress | None = None,
    credential: Any = None,
    *,
    tenant: bool = True,
) -> Inventory:
    """Collect Azure subscriptions. Raises :class:`CollectorError` only if nothing can be scanned.

    ``credential`` overrides ``DefaultAzureCredential`` (tests and the demo inject one);
    ``tenant=False`` leaves Entra ID out (an organisation task: its coordinator read the tenant
    once and adds it as context).
    """
    started = runner.now()
    credential = credential or make_credential(target)
    errors: list[CollectionError] = []
    below, groups = management.expand(
        _subscription_client(credential, target), target, errors
    )
    if target.management_groups and not below and not target.subscriptions:
        if errors:
            raise CollectorError(f"cannot read the management group: {errors[0].describe()}")
        raise CollectorError(
            f"no subscription below management group(s) {', '.join(target.management_groups)}"
        )
    subs = subscriptions(credential, target, errors, tuple(below))
    clients = ClientFactory(credential=credential, target=target)
    jobs = [
        runner.Job(name, SubscriptionScope(str(s["subscriptionId"]).lower(), clients, info=s))
        for s in subs
        for name in MODULES
    ]
    if tenant:
        jobs += tenant_jobs(credential, target, tenant_of(subs))
    found = runner.run_jobs(PACKAGE, jobs, max_workers=target.max_workers, progress=progress)
    return runner.build_inventory(
        Provider.AZURE,
        started=started,
        accounts=[str(s["subscriptionId"]).lower() for s in subs],
        regions=runner.regions_of(found.assets),
        endpoint_url=target.arm_endpoint,
        assets=(*found.assets, *groups),
        errors=(*errors, *found.errors),
    )
