"""AWS Organizations discovery: the accounts to scan, their OU paths, the SCPs and the
organisation trails, read once from the management account (or a delegated administrator).

What this module guarantees:

- :func:`discover` either returns an :class:`Organization` or raises
  :class:`~posture.errors.CollectorError` with a one-line reason: not in an organisation, not
  allowed to list it (neither the management account nor a delegated administrator), an unknown
  ``--ou`` or an ``include`` id that is not a member. The organisation's shape (accounts and OU
  tree) is never partial: a failure to read it raises.
- SCPs and organisation trails are best effort: when they cannot be read (or SCPs are not
  enabled in the root), :attr:`Organization.scps` / :attr:`Organization.trails` is ``None`` and
  the reason is a :class:`~posture.model.CollectionError` in :attr:`Organization.errors`; a
  partial listing is never returned as if complete.
- Only ACTIVE accounts are in :attr:`Organization.accounts`; every account, whatever its status,
  is in :attr:`Organization.all_accounts` (for "inside the organisation" judgements). Both are
  sorted by account id, and everything :meth:`Organization.context_assets` returns is sorted, so
  two discoveries of the same organisation give equal values.
- Nothing secret is kept: account names, e-mails, OU names, policy documents and trail names.

Cost. The OU tree is walked top down (``ListOrganizationalUnitsForParent`` and
``ListAccountsForParent`` per root/OU), which costs about ``2 * (OUs + 1) + accounts / 20``
calls, against ``accounts + OU depth`` for ``ListParents`` per account: for 1,000 accounts in 30
OUs, ~110 calls instead of ~1,000+, which matters because the Organizations API is throttled
to a few requests per second per account. Calls are made one after another for the same reason
(parallel calls would only be throttled and retried). ``ListAccounts`` is still read: it is the
authoritative list, and an account it names that the walk missed (moved during the walk) gets
its path from one ``ListParents`` call.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

from posture.collectors.aws.base import ClientFactory, RegionScope, parse_policy
from posture.errors import CollectorError
from posture.model import ALL, GLOBAL, Asset, CollectionError, Provider
from posture.snapshot import jsonable

ORGANIZATION = "AWS::Organizations::Organization"
ACCOUNT = "AWS::Organizations::Account"
POLICY = "AWS::Organizations::Policy"
SCP_TYPE = "SERVICE_CONTROL_POLICY"
ORG_TRAILS = f"{ACCOUNT}#organization_trails"

PERMISSIONS: tuple[str, ...] = (
    "organizations:DescribeOrganization", "organizations:ListRoots", "organizations:ListAccounts",
    "organizations:ListOrganizationalUnitsForParent", "organizations:ListAccountsForParent",
    "organizations:ListParents", "organizations:ListPolicies", "organizations:DescribePolicy",
    "organizations:ListTargetsForPolicy", "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus",
)
"""Every action :func:`discover` calls (the management account's policy is built from it)."""

_DENIED = ("not allowed to read the organization: run from the management account or a delegated "
           "administrator allowed organizations:List*/Describe*")
_EXPLAIN = {
    "AWSOrganizationsNotInUseException": "this account is not a member of an AWS organization",
    "AccessDeniedException": _DENIED,
    "AccessDenied": _DENIED,
}


@dataclass(frozen=True, slots=True)
class OuRef:
    """A root or an organisational unit on an account's path."""

    id: str
    name: str
    type: str  # "ROOT" | "ORGANIZATIONAL_UNIT"


@dataclass(frozen=True, slots=True)
class OrgAccount:
    """A member account; ``parent_path`` runs from the root to the direct parent."""

    id: str
    name: str
    email: str
    status: str
    parent_path: tuple[OuRef, ...]
    management: bool


@dataclass(frozen=True, slots=True)
class Scp:
    """A service control policy; ``targets`` are root ids, OU ids and account ids, sorted."""

    id: str
    arn: str
    name: str
    aws_managed: bool
    document: Mapping[str, Any]
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrgTrail:
    """An organisation trail; ``logging`` is ``None`` when its status could not be read."""

    arn: str
    name: str
    home_region: str
    multi_region: bool
    logging: bool | None


@dataclass(frozen=True, slots=True)
class Organization:
    """One organisation as discovered; see the module docstring for the guarantees."""

    id: str
    arn: str
    management_account_id: str
    feature_set: str
    accounts: tuple[OrgAccount, ...]
    all_accounts: tuple[OrgAccount, ...]
    scps: tuple[Scp, ...] | None
    trails: tuple[OrgTrail, ...] | None
    errors: tuple[CollectionError, ...]

    @property
    def partition(self) -> str:
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"

    def account(self, account_id: str) -> OrgAccount:
        """The account ``account_id`` (any status); ``KeyError`` if it is not a member."""
        for acc in self.all_accounts:
            if acc.id == account_id:
                return acc
        raise KeyError(f"account {account_id} is not in organization {self.id}")

    def scps_on_path(self, account_id: str) -> tuple[Scp, ...]:
        """The SCPs attached to the account, its OUs or the root, each with only the targets on
        that path; ``()`` when SCPs are unknown."""
        acc = self.account(account_id)
        path = {ou.id for ou in acc.parent_path} | {acc.id}
        found = []
        for scp in self.scps or ():
            on_path = tuple(t for t in scp.targets if t in path)
            if on_path:
                found.append(Scp(scp.id, scp.arn, scp.name, scp.aws_managed, scp.document,
                                 on_path))
        return tuple(sorted(found, key=lambda s: s.arn))

    def context_assets(self, account_id: str) -> list[Asset]:
        """The organisation, the account and the SCPs on its path, as assets to add to that
        account's snapshot (region ``global``); sorted by uid. ``KeyError`` for a non-member."""
        acc = self.account(account_id)
        assets = [self._organization_asset(), self._account_asset(acc)]
        assets += [self._policy_asset(scp) for scp in self.scps_on_path(account_id)]
        return sorted(assets, key=lambda a: a.uid)

    def _organization_asset(self) -> Asset:
        attrs = {
            "id": self.id,
            "management_account_id": self.management_account_id,
            "feature_set": self.feature_set,
            "accounts": [
                {"id": a.id, "name": a.name, "status": a.status,
                 "ou_path": [ou.name for ou in a.parent_path]}
                for a in self.all_accounts
            ],
            "scps_known": self.scps is not None,
            "trails_known": self.trails is not None,
        }
        return _asset(self.arn, ORGANIZATION, self.management_account_id, self.id, attrs)

    def _account_asset(self, acc: OrgAccount) -> Asset:
        trails = None if self.trails is None else [
            {"arn": t.arn, "name": t.name, "home_region": t.home_region,
             "multi_region": t.multi_region, "logging": t.logging}
            for t in self.trails
        ]
        attrs = {
            "id": acc.id,
            "name": acc.name,
            "email": acc.email,
            "status": acc.status,
            "management": acc.management,
            "parent_path": [{"id": ou.id, "name": ou.name, "type": ou.type}
                            for ou in acc.parent_path],
            "organization_trails": trails,
        }
        uid = (f"arn:{self.partition}:organizations::{self.management_account_id}:"
               f"account/{self.id}/{acc.id}")
        return _asset(uid, ACCOUNT, acc.id, acc.name, attrs)

    def _policy_asset(self, scp: Scp) -> Asset:
        attrs = {
            "id": scp.id,
            "name": scp.name,
            "type": SCP_TYPE,
            "aws_managed": scp.aws_managed,
            "document": scp.document,
            "targets": list(scp.targets),
        }
        return _asset(scp.arn, POLICY, self.management_account_id, scp.name, attrs)


def _asset(uid: str, type_: str, account: str, name: str, attrs: Mapping[str, Any]) -> Asset:
    return Asset(uid=uid, provider=Provider.AWS, type=type_, account=account, region=GLOBAL,
                 name=name, attrs=jsonable(attrs))


# -- discovery ---------------------------------------------------------------------------------


def discover(
    session: boto3.session.Session,
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    ou: str | None = None,
    include: Collection[str] = (),
    exclude: Collection[str] = (),
) -> Organization:
    """The organisation the session's account manages (or administers as a delegate).

    ``ou`` keeps only the accounts under that OU (or root) and its descendants; ``include``
    keeps only those account ids, ``exclude`` drops them; only ACTIVE accounts are kept. An
    included account that is a member but not ACTIVE is reported in ``errors`` (it cannot be
    scanned); one that is not a member, or outside ``ou``, raises :class:`CollectorError`.
    """
    clients = ClientFactory(session=session, endpoint_url=endpoint_url)
    org = _required(clients, region, "DescribeOrganization")["Organization"]
    org_id, mgmt = str(org["Id"]), str(org["MasterAccountId"])
    listed = _required_pages(clients, region, "ListAccounts", "Accounts")
    roots = _required_pages(clients, region, "ListRoots", "Roots")
    paths, placed = _walk(clients, region, roots)
    scope = RegionScope(account=mgmt, region=GLOBAL, clients=clients, api_region=region)
    all_accounts = _accounts(scope, listed, paths, placed, mgmt)
    selected = _select(org_id, all_accounts, paths, scope, ou, include, exclude)
    scps = _scps(scope, roots, str(org.get("FeatureSet", "")))
    trails = _trails(clients, scope, region)
    return Organization(
        id=org_id,
        arn=str(org["Arn"]),
        management_account_id=mgmt,
        feature_set=str(org.get("FeatureSet", "")),
        accounts=selected,
        all_accounts=all_accounts,
        scps=scps,
        trails=trails,
        errors=tuple(scope.errors),
    )


def _fail(operation: str, exc: Exception) -> CollectorError:
    if isinstance(exc, NoCredentialsError):
        return CollectorError("no AWS credentials found to list the organization")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "ClientError"))
        message = str(error.get("Message", "")).strip().splitlines()
        detail = f"{code}: {message[0]}" if message else code
        reason = _EXPLAIN.get(code, "cannot read the organization")
        return CollectorError(f"{reason} (organizations:{operation} failed, {detail})")
    text = str(exc).strip().splitlines()
    return CollectorError(f"cannot read the organization (organizations:{operation}: "
                          f"{text[0] if text else type(exc).__name__})")


def _required(clients: ClientFactory, region: str, operation: str, **kwargs: Any) -> Any:
    """One call the discovery cannot do without; its failure raises :class:`CollectorError`."""
    method = getattr(clients.client("organizations", region), xform_name(operation))
    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        raise _fail(operation, exc) from None


def _required_pages(
    clients: ClientFactory, region: str, operation: str, key: str, **kwargs: Any
) -> list[dict[str, Any]]:
    """Every item of a paginated listing the discovery cannot do without."""
    paginator = clients.client("organizations", region).get_paginator(xform_name(operation))
    items: list[dict[str, Any]] = []
    try:
        for page in paginator.paginate(**kwargs):
            items.extend(page.get(key, []))
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        raise _fail(operation, exc) from None
    return items


def _walk(
    clients: ClientFactory, region: str, roots: list[dict[str, Any]]
) -> tuple[dict[str, tuple[OuRef, ...]], dict[str, str]]:
    """The OU tree top down: each root/OU id → its path (root first, itself last), and each
    account id found → its parent id."""
    paths: dict[str, tuple[OuRef, ...]] = {}
    placed: dict[str, str] = {}
    todo: list[tuple[OuRef, ...]] = [
        (OuRef(str(r["Id"]), str(r.get("Name", "Root")), "ROOT"),)
        for r in sorted(roots, key=lambda r: str(r["Id"]))
    ]
    while todo:
        path = todo.pop()
        node = path[-1]
        paths[node.id] = path
        for child in _required_pages(clients, region, "ListOrganizationalUnitsForParent",
                                     "OrganizationalUnits", ParentId=node.id):
            todo.append((*path, OuRef(str(child["Id"]), str(child.get("Name", "")),
                                      "ORGANIZATIONAL_UNIT")))
        for acc in _required_pages(clients, region, "ListAccountsForParent", "Accounts",
                                   ParentId=node.id):
            placed[str(acc["Id"])] = node.id
    return paths, placed


def _accounts(
    scope: RegionScope,
    listed: list[dict[str, Any]],
    paths: dict[str, tuple[OuRef, ...]],
    placed: dict[str, str],
    mgmt: str,
) -> tuple[OrgAccount, ...]:
    out = []
    for acc in listed:
        acc_id = str(acc["Id"])
        parent = placed.get(acc_id) or _parent_of(scope, acc_id)
        path = paths.get(parent or "")
        if path is None:
            scope.record("organizations", "ListParents", "ParentNotFound",
                         f"the OU path of account {acc_id} could not be determined",
                         (ACCOUNT, POLICY), resource_uid=acc_id)
            path = ()
        out.append(OrgAccount(
            id=acc_id,
            name=str(acc.get("Name", "")),
            email=str(acc.get("Email", "")),
            status=str(acc.get("Status", acc.get("State", ""))),
            parent_path=path,
            management=acc_id == mgmt,
        ))
    return tuple(sorted(out, key=lambda a: a.id))


def _parent_of(scope: RegionScope, account_id: str) -> str | None:
    """The parent of an account the walk missed (it moved during the walk)."""
    found = scope.paginate("organizations", "ListParents", "Parents", (ACCOUNT, POLICY),
                           resource_uid=account_id, ChildId=account_id)
    return str(found[0]["Id"]) if found else None


def _select(
    org_id: str,
    accounts: tuple[OrgAccount, ...],
    paths: dict[str, tuple[OuRef, ...]],
    scope: RegionScope,
    ou: str | None,
    include: Collection[str],
    exclude: Collection[str],
) -> tuple[OrgAccount, ...]:
    """The ACTIVE accounts the filters keep; raises on a filter that names nothing real."""
    known = {a.id: a for a in accounts}
    missing = sorted(set(include) - set(known))
    if missing:
        raise CollectorError(f"account(s) not in organization {org_id}: {', '.join(missing)}")
    if ou is not None and ou not in paths:
        raise CollectorError(f"organizational unit or root {ou} not found in organization "
                             f"{org_id}")
    chosen = [a for a in accounts if ou is None or ou in {p.id for p in a.parent_path}]
    if include:
        outside = sorted(set(include) - {a.id for a in chosen})
        if outside:
            raise CollectorError(f"account(s) not under {ou}: {', '.join(outside)}")
        chosen = [a for a in chosen if a.id in set(include)]
        scope.errors.extend(
            CollectionError(provider=Provider.AWS, account=acc.id, region=ALL,
                            service="organizations", operation="ListAccounts",
                            code="AccountNotActive",
                            message=f"account {acc.id} is {acc.status}: not scanned",
                            asset_types=(ALL,), resource_uid=acc.id)
            for acc in chosen if acc.status != "ACTIVE"
        )
    return tuple(a for a in chosen if a.status == "ACTIVE" and a.id not in set(exclude))


# -- service control policies ------------------------------------------------------------------


def _scps(
    scope: RegionScope, roots: list[dict[str, Any]], feature_set: str
) -> tuple[Scp, ...] | None:
    """Every SCP with its parsed document and targets, or ``None`` (the reason recorded)."""
    enabled = [
        r for r in roots
        if any(t.get("Type") == SCP_TYPE and t.get("Status") == "ENABLED"
               for t in r.get("PolicyTypes") or [])
    ]
    if not roots:
        return None  # the roots could not be read (recorded): SCPs unknown
    if feature_set != "ALL" or len(enabled) != len(roots):
        # a known fact, not a gap: without the SCP policy type no SCP applies to anyone
        return ()
    listed = scope.paginate("organizations", "ListPolicies", "Policies", (POLICY,),
                            Filter=SCP_TYPE)
    if listed is None:
        return None
    scps = []
    for summary in sorted(listed, key=lambda p: str(p["Id"])):
        scp = _scp(scope, summary)
        if scp is None:
            return None
        scps.append(scp)
    return tuple(sorted(scps, key=lambda s: s.arn))


def _scp(scope: RegionScope, summary: dict[str, Any]) -> Scp | None:
    policy_id = str(summary["Id"])
    arn = str(summary.get("Arn", policy_id))
    described = scope.call("organizations", "DescribePolicy", (POLICY,), arn, PolicyId=policy_id)
    targets = scope.paginate("organizations", "ListTargetsForPolicy", "Targets", (POLICY,), arn,
                             PolicyId=policy_id)
    if described is None or targets is None:
        return None
    policy = described.get("Policy", {})
    document = parse_policy(policy.get("Content")) or {}
    return Scp(
        id=policy_id,
        arn=arn,
        name=str(summary.get("Name", policy_id)),
        aws_managed=bool(summary.get("AwsManaged", False)),
        document=document,
        targets=tuple(sorted({str(t["TargetId"]) for t in targets})),
    )


# -- organisation trails -----------------------------------------------------------------------


def _trails(clients: ClientFactory, scope: RegionScope, region: str) -> tuple[OrgTrail, ...] | None:
    """Organisation trails seen from the caller's account, or ``None`` (the reason recorded).

    Shadow trails are included so that a multi-region organisation trail whose home is another
    region is found from ``region`` (and, from a delegated administrator, the management
    account's organisation trails, which AWS lists there as shadows); trails are kept once, by
    ARN. A single-region organisation trail homed in another region is not seen: it covers only
    that region. Each status is read in the trail's home region.
    """
    listed = scope.paginate("cloudtrail", "DescribeTrails", "trailList", (ORG_TRAILS,),
                            includeShadowTrails=True)
    if listed is None:
        return None
    found: dict[str, dict[str, Any]] = {}
    for trail in listed:
        if trail.get("IsOrganizationTrail"):
            found.setdefault(str(trail["TrailARN"]), trail)
    out = []
    for arn, trail in sorted(found.items()):
        home = str(trail.get("HomeRegion") or region)
        home_scope = RegionScope(account=scope.account, region=home, clients=clients)
        status = home_scope.call("cloudtrail", "GetTrailStatus", (ORG_TRAILS,), arn, Name=arn)
        scope.errors.extend(home_scope.errors)
        out.append(OrgTrail(
            arn=arn,
            name=str(trail.get("Name", "")),
            home_region=home,
            multi_region=bool(trail.get("IsMultiRegionTrail", False)),
            logging=None if status is None else bool(status.get("IsLogging")),
        ))
    return tuple(out)
