"""The organisation-wide phase: checks that judge relations between accounts, on the merged
assets of the accounts those relations join.

Most checks judge one account and run on its worker. A check declared ``organization=True``
(:func:`posture.registry.check`) judges paths that cross accounts: a VPC peering whose other
side is another account's VPC, a transit gateway shared between accounts. One account alone
cannot decide it (the other side's routes, network ACLs and security groups are not in its
snapshot), so its per-account verdict on such a resource is provisional.

Each account therefore also returns a *projection*: the assets of the types those checks read,
but only when the account has a cross-account link (a peering or a transit-gateway attachment
whose other end is another account). The coordinator merges the projections, runs the
organisation checks once on them, and each organisation verdict replaces the per-account
verdict on the same (check, resource). Accounts without a cross-account link keep their
per-account verdicts and cost the coordinator nothing: its memory grows with the part of the
network that crosses accounts, not with the organisation.

The same functions run online (from the tasks' projections) and offline (``posture audit DIR``,
from the saved snapshots), so both give the same findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from posture.model import Asset, CollectionError, Finding, Inventory, ScanMeta
from posture.pipeline import audit, prepare
from posture.registry import Catalogue, Check

PEERING = "AWS::EC2::VPCPeeringConnection"
TGW_ATTACHMENT = "AWS::EC2::TransitGatewayAttachment"
ORGANIZATION_TYPES = frozenset({
    "AWS::Organizations::Organization", "AWS::Organizations::Account",
    "AWS::Organizations::Policy",
})
_GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


def organization_checks(catalogue: Catalogue, chosen: Iterable[str]) -> tuple[Check, ...]:
    """The chosen checks that judge relations between accounts."""
    ids = set(chosen)
    return tuple(c for c in catalogue.checks if c.spec.id in ids and c.spec.organization)


def projected_types(checks: Sequence[Check]) -> frozenset[str]:
    """The asset types the organisation checks read (facets dropped: a facet is part of its
    type's assets)."""
    return frozenset(r.split("#", 1)[0] for c in checks for r in c.spec.reads)


def cross_account_links(inventory: Inventory) -> tuple[str, ...]:
    """The accounts this snapshot's account is linked to through a live VPC peering or a
    transit-gateway attachment (owner of the gateway or of the attachment), sorted."""
    own = set(inventory.meta.accounts)
    others: set[str] = set()
    for pcx in inventory.of(PEERING):
        if pcx.attr("status") in _GONE:
            continue
        for side in ("requester_account", "accepter_account"):
            others.add(str(pcx.attr(side) or ""))
    for att in inventory.of(TGW_ATTACHMENT):
        if att.attr("state") in _GONE:
            continue
        for side in ("transit_gateway_owner", "resource_owner"):
            others.add(str(att.attr(side) or ""))
    return tuple(sorted(others - own - {""}))


def projection(inventory: Inventory, types: frozenset[str]) -> tuple[Asset, ...]:
    """The assets the organisation phase needs from this account: those of ``types`` and the
    organisation context, when the account has a cross-account link; nothing otherwise."""
    if not types or not cross_account_links(inventory):
        return ()
    keep = types | ORGANIZATION_TYPES
    return tuple(a for a in inventory.assets if a.type in keep)


def organization_findings(
    catalogue: Catalogue,
    checks: Sequence[Check],
    meta: ScanMeta,
    projections: Iterable[tuple[Asset, ...]],
    errors: Iterable[CollectionError],
) -> tuple[Finding, ...]:
    """Run the organisation checks once on the merged projections (assets deduplicated by
    uid: every account carries the organisation's context). ``errors`` are the linked
    accounts' collection errors, so a gap on either side keeps a verdict undecided."""
    merged: dict[str, Asset] = {}
    for assets in projections:
        for asset in assets:
            merged.setdefault(asset.uid, asset)
    if not merged or not checks:
        return ()
    accounts = tuple(sorted({a.account for a in merged.values()} - {"", "global"}))
    inventory = Inventory(
        meta=replace(meta, accounts=accounts),
        assets=tuple(sorted(merged.values(), key=lambda a: a.uid)),
        errors=tuple(dict.fromkeys(e for e in errors if e.account in accounts)),
    )
    return audit(prepare(inventory), catalogue, tuple(c.spec.id for c in checks))


def overlay(findings: Iterable[Finding], organization: Sequence[Finding]) -> list[Finding]:
    """The per-account findings with each (check, resource) the organisation phase judged
    replaced by its organisation verdict."""
    judged = {(f.check_id, f.resource_uid) for f in organization}
    kept = [f for f in findings if (f.check_id, f.resource_uid) not in judged]
    return [*kept, *organization]
