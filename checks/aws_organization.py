"""Organisation context: each member account judged as part of its AWS Organization — resource
policies that reach outside the organisation, administrators the organisation's SCPs fence, and
the SCP guardrail that keeps the audit trail running.

Every check here needs the organisation context the organisation scan puts into a member's
snapshot (``AWS::Organizations::*``); on a standalone account they report nothing (role trust,
public policies and admin-equivalence are judged by the ``aws.iam`` checks in both cases).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import identity, no_policy_document

from posture.engine import CheckContext, Result
from posture.iam.aws import IDENTITY_READS, principal_kind
from posture.iam.principals import ROLE, USER
from posture.iam.scp import (
    ORG_ACCOUNT,
    ORG_POLICY,
    ORGANIZATION,
    account_grants,
    organization,
)
from posture.model import Principle, Severity
from posture.registry import check

BUCKET = "AWS::S3::Bucket"
KEY = "AWS::KMS::Key"
SECRET = "AWS::SecretsManager::Secret"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
_RESOURCES = ((BUCKET, "policy"), (KEY, "policy"), (SECRET, "resource_policy"),
              (QUEUE, "policy"), (TOPIC, "policy"))
_ORG_READS = {ORGANIZATION, ORG_ACCOUNT}


@check(
    "aws.organization.resource_policies_within_organization",
    Severity.HIGH,
    (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION),
    reads=_ORG_READS | {f"{BUCKET}#policy", f"{KEY}#policy", f"{SECRET}#resource_policy",
                        QUEUE, TOPIC},
)
def resource_policies_within_organization(ctx: CheckContext) -> Iterator[Result]:
    """Resource policies grant other accounts only inside the organisation

    A bucket, key, secret, queue or topic policy naming an account outside the organisation hands
    the data to principals no SCP, no guardrail and no audit of the organisation covers. Accounts
    of the organisation, and principals pinned to it by aws:PrincipalOrgID or
    aws:PrincipalOrgPaths, are inside; Principal '*' without such a condition is judged by
    aws.iam.resource_policies_not_public.

    Remediation: Remove the external account from the policy, or add a condition on
    aws:PrincipalOrgID (this organisation's id) so that only the organisation's principals are let
    in; share data with third parties through a dedicated account or an access point with its own
    review.
    """
    org = organization(ctx.inventory)
    if org is None:
        return
    ev = identity(ctx).evaluator
    for type_, attr in _RESOURCES:
        for asset in ctx.inventory.of(type_):
            document = asset.attr(attr)
            if document is None:
                yield no_policy_document(ctx, asset, attr)
                continue
            policy = ev.store.resource_policy(f"{asset.uid}#{attr}", document)
            grants = account_grants(policy, asset.account, org)
            outside = sorted({a for g in grants for a in g.outside})
            evidence = {"grants": [g.evidence(org) for g in grants], "organization": org.id}
            if outside:
                yield ctx.fail(asset, f"resource policy grants {', '.join(outside)}, outside "
                               f"organization {org.id}", **evidence)
            elif grants:
                inside = sorted({a for g in grants for a in g.inside})
                yield ctx.passed(asset, "cross-account grants stay inside organization "
                                 f"{org.id}: {', '.join(org.describe(a) for a in inside)}",
                                 **evidence)
            else:
                yield ctx.passed(asset, "resource policy grants no other account")


@check("aws.organization.no_admin_policies_behind_scp_fence", Severity.LOW,
       (Principle.LEAST_PRIVILEGE,), reads=IDENTITY_READS | _ORG_READS | {ORG_POLICY})
def no_admin_policies_behind_scp_fence(ctx: CheckContext) -> Iterator[Result]:
    """Principals fenced by SCPs do not hold administrator policies

    An 'administrator' in a sandbox OU whose SCPs deny IAM permission writing, or allow only a few
    services, is not admin-equivalent, and the admin checks pass it saying why. Its policies still
    grant everything the fence leaves: broad, standing power that becomes administration the moment
    the SCP is detached or the account changes OU. A fence that could not be read (SCPs unknown) is
    inconclusive.

    Remediation: Give the principal the permissions its work needs rather than administrator
    policies that only the organisation's SCPs keep in check; the fence is one SCP change (a
    detached policy, an account moved to another OU) away from falling.
    """
    if organization(ctx.inventory) is None:
        return
    graph = identity(ctx)
    ev = graph.evaluator
    for asset in ctx.inventory.of(USER, ROLE):
        p = graph.principal(asset.uid)
        if p is None or asset.attr("service_linked"):
            continue
        fence = ev.fence(p)
        reasons = ev.fenced(p)
        kind = principal_kind(p.kind)
        if reasons:
            yield ctx.fail(
                asset,
                f"administrator by its own policies, fenced by the organisation's SCPs: "
                f"{'; '.join(reasons)}",
                service_control_policies=list(reasons),
                principal_kind=kind,
            )
        elif fence is not None and not fence.known and ev.admin(p).decision.possible:
            yield ctx.unknown(asset, "administrator by its own policies; the SCPs that could "
                              "fence it could not be read", principal_kind=kind)
        else:
            yield ctx.passed(asset, "holds no administrator policies behind an SCP fence")


_TRAIL_ACTIONS = ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail")


@check("aws.organization.audit_trail_protected_by_scp", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads=_ORG_READS | {ORG_POLICY})
def audit_trail_protected_by_scp(ctx: CheckContext) -> Iterator[Result]:
    """An SCP on the account's path denies stopping or deleting CloudTrail trails

    An intruder with administrator power in a member account stops the trail first. A deny SCP is
    the one control an administrator of the account cannot remove. A deny with a condition (a
    break-glass exception) counts; the management account is outside every SCP and is not judged;
    SCPs that could not be read are inconclusive.

    Remediation: Attach an SCP to the root or the account's OU that denies cloudtrail:StopLogging
    and cloudtrail:DeleteTrail (with an exception for the security team's role, by
    aws:PrincipalArn) so that no principal of a member account can blind the audit trail.
    """
    org = organization(ctx.inventory)
    if org is None:
        return
    ev = identity(ctx).evaluator
    for acct in ctx.inventory.of(ORG_ACCOUNT):
        account = str(acct.attr("id") or acct.account)
        if acct.attr("management") or account == org.management_account:
            continue
        fence = ev.fences.get(account)
        if not org.scps_known or (fence is not None and not fence.known):
            yield ctx.unknown(acct, "the SCPs on the account's path could not be read")
            continue
        missing, by = [], []
        for action in _TRAIL_ACTIONS:
            bit = ev.catalogue.bit(action)
            trail = f"arn:aws:cloudtrail:us-east-1:{account}:trail/posture-probe"
            stmts = [] if fence is None else [
                s for level in fence.levels for p in level.policies for s in p.denies()
                if s.matches_action(action, bit) and s.matches_resource(trail)
            ]
            for s in stmts:
                entry = {"policy": fence.names.get(s.policy, s.policy) if fence else s.policy,
                         "statement": dict(s.raw)}
                if entry not in by:
                    by.append(entry)
            if not stmts:
                missing.append(action)
        if missing:
            yield ctx.fail(acct, f"no SCP on the account's path denies {', '.join(missing)}",
                           scp_denies=by)
        else:
            yield ctx.passed(acct, "an SCP denies stopping and deleting trails", scp_denies=by)
