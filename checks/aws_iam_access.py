"""Identity: who outside the account can get in — cross-account role trust and resource
policies (S3 buckets, KMS keys, Secrets Manager secrets) open to the world. In a member account
of an AWS Organization, trust in the organisation's accounts (or pinned to it by
aws:PrincipalOrgID) is inside; outside accounts are named."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks._shared import identity, no_policy_document

from posture.engine import CheckContext, Result
from posture.iam.evaluate import Decision, world_verdict
from posture.iam.policy import Effect, Policy, Statement
from posture.iam.principals import ROLE
from posture.iam.scp import Organization, account_grants, organization
from posture.model import Asset, Principle, Severity
from posture.registry import check

BUCKET = "AWS::S3::Bucket"
ACCOUNT_PAB = "AWS::S3::AccountPublicAccessBlock"
KEY = "AWS::KMS::Key"
SECRET = "AWS::SecretsManager::Secret"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"

_PINNING_KEYS = {"sts:externalid", "aws:principalorgid", "aws:principalorgpaths"}
_POSITIVE = {"stringequals", "stringlike", "stringequalsignorecase"}


def _pinned(stmt: Statement) -> list[str]:
    """ExternalId / organization conditions that pin who may use a trust statement."""
    return [
        f"{c.operator}:{c.key}"
        for c in stmt.conditions
        if c.key in _PINNING_KEYS
        and c.base in _POSITIVE
        and not c.if_exists
        and c.values
        and all(v.strip("*?") for v in c.values)
    ]


@check("aws.iam.cross_account_trust_restricted", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION), reads={f"{ROLE}#listing"},
       params={"trusted_accounts": ()})
def cross_account_trust_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Roles trusting another account require an ExternalId or an organization condition

    A role that trusts a whole foreign account can be assumed by any principal that account lets
    through, including a vendor's other customers (the confused deputy). Wildcard trust is judged
    by aws.iam.role_trust_not_public.

    Remediation: Add `sts:ExternalId` (third parties) or `aws:PrincipalOrgID` (your organization)
    to the trust statement, or list the account in this check's trusted_accounts.
    """
    ev = identity(ctx).evaluator
    trusted = {str(a) for a in ctx.param("trusted_accounts")}
    org = organization(ctx.inventory)
    for role in ctx.inventory.of(ROLE):
        trust = role.attr("trust_policy")
        if trust is None:
            yield ctx.unknown(role, "trust policy unknown")
            continue
        policy = ev.store.resource_policy(f"{role.uid}#trust", trust)
        if org is not None:
            yield _org_trust(ctx, role, policy, org, trusted, ev.catalogue.expand("sts:*"))
            continue
        open_: list[dict[str, Any]] = []
        pinned: list[dict[str, Any]] = []
        for s in policy.statements:
            if s.effect != Effect.ALLOW or s.principal is None or s.not_principal:
                continue
            if not s.matches_action("sts:AssumeRole", ev.catalogue.bit("sts:AssumeRole")):
                continue
            foreign = [a for a in s.principal.accounts() if a != role.account and a not in trusted]
            if not foreign:
                continue
            entry = {"accounts": foreign, "statement": dict(s.raw)}
            (pinned if _pinned(s) else open_).append({**entry, "conditions": _pinned(s)})
        if open_:
            accounts = sorted({a for e in open_ for a in e["accounts"]})
            yield ctx.fail(
                role,
                f"trusts account(s) {', '.join(accounts)} without an "
                "ExternalId or organization condition",
                statements=open_,
            )
        elif pinned:
            yield ctx.passed(
                role,
                "cross-account trust is pinned by ExternalId or organization",
                statements=pinned,
            )
        else:
            yield ctx.passed(role, "no cross-account trust (beyond trusted accounts)")


def _org_trust(ctx: CheckContext, role: Asset, policy: Policy, org: Organization,
               trusted: set[str], sts: int) -> Result:
    """A member account's role: trusted accounts of the organisation, and principals pinned to
    it by aws:PrincipalOrgID, are inside; others need an ExternalId (third parties) or FAIL."""
    grants = account_grants(policy, role.account, org, sts)
    outside: list[tuple[Any, list[str]]] = []
    vendors: list[tuple[Any, list[str]]] = []
    for g in grants:
        foreign = [a for a in g.outside if a not in trusted]
        if foreign:
            (vendors if _pinned(g.statement) and not g.pin else outside).append((g, foreign))
    evidence = {"grants": [g.evidence(org) for g in grants], "organization": org.id}
    if outside:
        accounts = sorted({a for _, f in outside for a in f})
        return ctx.fail(role, f"trusts {', '.join(accounts)}, outside organization {org.id}, "
                        "without an ExternalId", **evidence)
    if vendors:
        accounts = sorted({a for _, f in vendors for a in f})
        return ctx.passed(role, f"trusts {', '.join(accounts)}, outside organization "
                          f"{org.id}, pinned by ExternalId", **evidence)
    inside = sorted({a for g in grants for a in g.inside})
    if inside:
        return ctx.passed(role, f"cross-account trust stays inside organization {org.id}: "
                          f"{', '.join(org.describe(a) for a in inside)}", **evidence)
    return ctx.passed(role, "no cross-account trust (beyond trusted accounts)")


def _probe(pattern: str, fallback: str) -> str:
    if pattern == "*":
        return fallback
    return pattern.replace("*", "posture-probe").replace("?", "x")


def public_grants(
    policy: Policy,
    arn: str,
    service: str,
    ev_catalogue: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(definite, conditional) grants of the policy to an arbitrary outside principal."""
    definite: list[dict[str, Any]] = []
    conditional: list[dict[str, Any]] = []
    service_mask = ev_catalogue.expand(f"{service}:*")
    for s in policy.statements:
        if s.effect != Effect.ALLOW or s.principal is None:
            continue
        if not (s.principal.wildcard or s.not_principal):
            continue
        actions = ev_catalogue.names(s.action_mask & service_mask)
        resources = [_probe(r, arn) for r in s.resources] if not s.not_resource else [arn]
        yes, maybe = set(), set()
        for action in actions:
            for resource in resources:
                v = world_verdict(policy, action, resource, ev_catalogue)
                if v.decision == Decision.ALLOWED:
                    yes.add(action)
                elif v.decision == Decision.CONDITIONAL:
                    maybe.add(action)
        mask = 0
        for a in yes:
            mask |= 1 << (ev_catalogue.bit(a) or 0)
        if yes:
            definite.append(
                {
                    "statement": dict(s.raw),
                    "actions": sorted(yes)[:20],
                    "action_count": len(yes),
                    "access_levels": [lv.value for lv in ev_catalogue.levels(mask)],
                }
            )
        elif maybe:
            conditional.append(
                {
                    "statement": dict(s.raw),
                    "actions": sorted(maybe)[:20],
                    "action_count": len(maybe),
                }
            )
    return definite, conditional


def _restrict_public_buckets(bucket: Asset, account_pab: Mapping[str, Asset]) -> bool:
    own = bucket.attr("public_access_block") or {}
    acct = account_pab.get(bucket.account)
    acct_flags = (acct.attr("public_access_block") or {}) if acct else {}
    return bool(own.get("RestrictPublicBuckets") or acct_flags.get("RestrictPublicBuckets"))


@check(
    "aws.iam.resource_policies_not_public",
    Severity.CRITICAL,
    (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
    reads={
        f"{BUCKET}#policy",
        f"{BUCKET}#public_access_block",
        ACCOUNT_PAB,
        f"{KEY}#policy",
        f"{SECRET}#resource_policy",
        QUEUE,
        TOPIC,
    },
)
def resource_policies_not_public(ctx: CheckContext) -> Iterator[Result]:
    """No S3 bucket, KMS key, secret, SQS queue or SNS topic has a policy open to the world

    A statement with Principal '*' and no condition that pins the caller lets anyone on the
    internet use the resource. Each action is evaluated for an arbitrary outside principal;
    conditions that cannot be decided make the verdict inconclusive.

    Remediation: Name the principals in the policy, or add a condition on aws:PrincipalOrgID,
    aws:SourceVpce or aws:SourceArn; for S3, turn on Block Public Access (RestrictPublicBuckets)
    for the bucket and the account.
    """
    ev = identity(ctx).evaluator
    pab = {a.account: a for a in ctx.inventory.of(ACCOUNT_PAB)}
    targets = [(b, "policy", "s3") for b in ctx.inventory.of(BUCKET)]
    targets += [(k, "policy", "kms") for k in ctx.inventory.of(KEY)]
    targets += [(s, "resource_policy", "secretsmanager") for s in ctx.inventory.of(SECRET)]
    targets += [(q, "policy", "sqs") for q in ctx.inventory.of(QUEUE)]
    targets += [(t, "policy", "sns") for t in ctx.inventory.of(TOPIC)]
    for asset, attr, service in targets:
        document = asset.attr(attr)
        if document is None:
            yield no_policy_document(ctx, asset, attr)
            continue
        policy = ev.store.resource_policy(f"{asset.uid}#{attr}", document)
        definite, conditional = public_grants(policy, asset.uid, service, ev.catalogue)
        if definite and service == "s3" and _restrict_public_buckets(asset, pab):
            yield ctx.passed(
                asset,
                "policy is public but Block Public Access (RestrictPublicBuckets) neutralises it",
                public_grants=definite,
            )
        elif definite:
            levels = sorted({lv for g in definite for lv in g["access_levels"]})
            yield ctx.fail(
                asset,
                f"resource policy grants anyone {', '.join(levels)} access",
                public_grants=definite,
            )
        elif conditional:
            yield ctx.unknown(
                asset,
                "resource policy may grant anyone access, under conditions that cannot be decided",
                conditional_grants=conditional,
            )
        else:
            yield ctx.passed(asset, "resource policy is not open to the world")
