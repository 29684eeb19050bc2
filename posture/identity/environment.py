"""Whether a scope (an AWS account, an Azure subscription, a GCP project) holds production, by
the conventions the segregation checks use, with their default parameters:

- an environment tag or label (``Environment``, ``env``, ``Stage``, ...) whose value is a
  production value (``prod``, ``production``, ``prd``) on the scope itself, or, on AWS and Azure,
  on one of its networks (a VPC or VNet tagged production puts its account in production);
- else the organisation's names: the innermost AWS OU or GCP folder whose name is a production
  or non-production word, else a word of the account, subscription or project name
  (``acme-prod``, ``contoso-dev``);
- else every network of the scope tagged non-production makes it non-production;
- else unknown (never assumed to be non-production).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from posture.gcp import PROJECT, lineage
from posture.iam.scp import organization
from posture.identity.model import Production
from posture.model import Asset, Inventory

TAG_KEYS = ("Environment", "environment", "env", "Env", "Stage", "stage")
PRODUCTION_VALUES = frozenset({"prod", "production", "prd"})
NONPRODUCTION_VALUES = frozenset({
    "dev", "development", "test", "testing", "qa", "staging", "stage", "sandbox", "sandboxes",
    "nonprod", "non-prod", "non-production", "uat",
})
AWS_VPC = "AWS::EC2::VPC"
AZURE_SUBSCRIPTION = "Microsoft.Resources/subscriptions"
AZURE_VNET = "Microsoft.Network/virtualNetworks"


@dataclass(frozen=True, slots=True)
class Env:
    production: Production
    basis: str


UNKNOWN_ENV = Env(Production.UNKNOWN, "no environment tag, label or name says it")


def word_kind(text: str) -> Production | None:
    """YES / NO for a name that says production or non-production (the whole name first, then
    its words), None when it says neither."""
    whole = text.strip().lower()
    if whole in PRODUCTION_VALUES:
        return Production.YES
    if whole in NONPRODUCTION_VALUES:
        return Production.NO
    words = [w for w in re.split(r"[\s_.\-/]+", whole) if w]
    if any(w in NONPRODUCTION_VALUES for w in words) or "non" in words:
        return Production.NO
    if any(w in PRODUCTION_VALUES for w in words):
        return Production.YES
    return None


def tag_env(tags: Mapping[str, str], what: str, verb: str = "tagged") -> Env | None:
    """The environment an environment tag (or label) says: any value but a production value is
    non-production, as in the segregation checks."""
    for key in TAG_KEYS:
        value = tags.get(key)
        if value is not None and value.strip():
            kind = Production.YES if value.strip().lower() in PRODUCTION_VALUES else Production.NO
            return Env(kind, f"{what} {verb} {key}={value}")
    return None


def _networks(networks: Iterable[Asset], what: str) -> tuple[Env | None, Env | None]:
    """(production found on a network, non-production when every network says so)."""
    envs = [(n, tag_env(n.tags, f"{what} {n.name}")) for n in networks]
    prod = next((e for _, e in envs if e is not None and e.production is Production.YES), None)
    tagged = [e for _, e in envs if e is not None]
    if envs and len(tagged) == len(envs):
        return prod, Env(Production.NO, "; ".join(e.basis for e in tagged))
    return prod, None


def aws_account_env(inventory: Inventory, account: str) -> Env:
    vpcs = [v for v in inventory.of(AWS_VPC) if v.account == account]
    prod, nonprod = _networks(vpcs, "VPC")
    if prod is not None:
        return prod
    org = organization(inventory)
    entry = org.accounts.get(account) if org is not None else None
    if entry is not None:
        for ou in reversed([str(x) for x in entry.get("ou_path") or ()]):
            if (kind := word_kind(ou)) is not None:
                return Env(kind, f"account in OU {ou}")
        name = str(entry.get("name") or "")
        if (kind := word_kind(name)) is not None:
            return Env(kind, f"account name {name}")
    return nonprod or UNKNOWN_ENV


def azure_subscription_env(inventory: Inventory, subscription: str) -> Env:
    sub = next((s for s in inventory.of(AZURE_SUBSCRIPTION)
                if s.account.lower() == subscription.lower()), None)
    shown = str(sub.attr("display_name") or sub.name) if sub is not None else subscription
    if sub is not None and (found := tag_env(sub.tags, f"subscription {shown}")) is not None:
        return found
    vnets = [v for v in inventory.of(AZURE_VNET) if v.account.lower() == subscription.lower()]
    prod, nonprod = _networks(vnets, "VNet")
    if prod is not None:
        return prod
    if sub is not None and (kind := word_kind(shown)) is not None:
        return Env(kind, f"subscription name {shown}")
    return nonprod or UNKNOWN_ENV


def gcp_project_env(inventory: Inventory, project_id: str) -> Env:
    project = next((p for p in inventory.of(PROJECT)
                    if str(p.attr("project_id") or p.account) == project_id), None)
    if project is None:
        return UNKNOWN_ENV
    labels: Mapping[str, str] = project.attr("labels") or project.tags or {}
    if (found := tag_env(labels, f"project {project_id}", "labelled")) is not None:
        return found
    for node in lineage(inventory, project).nodes:
        shown = str(node.attr("display_name") or "")
        if shown and (kind := word_kind(shown)) is not None:
            return Env(kind, f"project under {node.attr('resource_name') or node.uid} ({shown})")
    for name in (project_id, str(project.attr("display_name") or "")):
        if name and (kind := word_kind(name)) is not None:
            return Env(kind, f"project name {name}")
    return UNKNOWN_ENV


def any_production(envs: Sequence[tuple[str, Env]]) -> Env:
    """The environment of something that reaches every scope listed (a tenant-wide role): YES
    if one is production, NO if all are known non-production, else UNKNOWN."""
    prod = [f"{name}: {e.basis}" for name, e in envs if e.production is Production.YES]
    if prod:
        return Env(Production.YES, "; ".join(prod))
    if envs and all(e.production is Production.NO for _, e in envs):
        return Env(Production.NO, "; ".join(f"{name}: {e.basis}" for name, e in envs))
    return Env(Production.UNKNOWN, "the environment of " + (
        ", ".join(name for name, e in envs if e.production is Production.UNKNOWN)
        or "the scopes it covers") + " is unknown")
