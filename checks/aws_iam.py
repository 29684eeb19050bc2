"""Identity: least privilege, MFA and standing credentials (IAM users, roles, policies, root)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks._shared import identity

from posture.engine import CheckContext, Result
from posture.iam.evaluate import Evaluator, broad_grant
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, as_list, parse_time, scan_time, statements

USER = "AWS::IAM::User"
ROLE = "AWS::IAM::Role"
GROUP = "AWS::IAM::Group"
POLICY = "AWS::IAM::Policy"
SUMMARY = "AWS::IAM::AccountSummary"

_ALL_ACTIONS = {"*", "*:*"}
_ASSUME = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
# condition keys that pin a caller to a known account, organization, principal or source
_RESTRICTING_KEYS = {
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:userid",
    "aws:sourceip", "aws:sourcevpc", "aws:sourcevpce",
}
_ANY_ADDRESS = {"0.0.0.0/0", "::/0"}
_POSITIVE_OPERATORS = ("stringequals", "stringlike", "arnequals", "arnlike", "ipaddress",
                       "stringequalsignorecase")


def admin_grant(stmt: Mapping[str, Any]) -> str | None:
    """``"Action"`` or ``"NotAction"`` if this statement grants (near-)full admin, else None."""
    if stmt.get("Effect") != "Allow":
        return None
    if "NotResource" in stmt:
        every_resource = "*" not in as_list(stmt.get("NotResource"))
    else:
        every_resource = "*" in as_list(stmt.get("Resource"))
    if not every_resource:
        return None
    if "NotAction" in stmt:
        return None if "*" in as_list(stmt.get("NotAction")) else "NotAction"
    if any(str(a).strip() in _ALL_ACTIONS for a in as_list(stmt.get("Action"))):
        return "Action"
    return None


@check("aws.iam.no_full_admin_customer_policies", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={POLICY, f"{USER}#policies", f"{ROLE}#policies", f"{GROUP}#policies"},
       params={"min_coverage_percent": 90})
def no_full_admin_customer_policies(ctx: CheckContext) -> Iterator[Result]:
    """No customer-managed or inline policy grants full administrative access

    A policy that allows (nearly) every action on every resource makes its holder an account
    administrator. Coverage is measured against the IAM action catalogue; a grant that every
    holder's explicit deny or permissions boundary neutralises passes, and so does an unattached
    managed policy (it grants nothing until attached).

    Remediation: Replace `Action: *` / `NotAction` on `Resource: *` with the actions and resources
    the principal needs; keep break-glass admin in AWS-managed AdministratorAccess on a dedicated,
    monitored role.
    """
    graph = identity(ctx)
    ev = graph.evaluator
    threshold = int(ctx.param("min_coverage_percent"))
    for policy in ctx.inventory.of(POLICY):
        if policy.attr("aws_managed") is not False:
            continue
        doc = policy.attr("document")
        docs = {policy.uid: ("(default version)", doc)}
        yield _judge(ctx, ev, policy, docs, threshold,
                     attached=(policy.attr("attachment_count") or 0) > 0)
    for principal in ctx.inventory.of(USER, ROLE, GROUP):
        if principal.attr("service_linked"):
            continue
        inline = principal.attr("inline_policies")
        if inline is None:
            yield ctx.unknown(principal, "inline policies unknown")
            continue
        docs = {f"{principal.uid}#inline/{n}": (n, d) for n, d in sorted(inline.items())}
        yield _judge(ctx, ev, principal, docs, threshold, attached=True)


def _judge(ctx: CheckContext, ev: Evaluator, subject: Asset,
           docs: Mapping[str, tuple[str, Any]], threshold: int, attached: bool) -> Result:
    if any(d is None for _, d in docs.values()):
        return ctx.unknown(subject, "policy document unknown")
    full = ev.catalogue.all
    kind = "policy" if subject.type == POLICY else "inline policy"
    found, neutralised = [], []
    for label, (name, doc) in sorted(docs.items()):
        policy = ev.store.resource_policy(label, doc)
        mask, grants = broad_grant(policy, full)
        if mask.bit_count() * 100 < threshold * len(ev.catalogue):
            continue
        hits = [{"policy": name, "grant": admin_grant(s.raw) or "Action", "statement": dict(s.raw)}
                for s in grants if s.action_mask & mask]
        holders = ev.holders(label)
        kept = []
        for p in holders:
            left, by = ev.remaining(p, mask)
            if left.bit_count() * 100 >= threshold * len(ev.catalogue) or p.unknown:
                kept.append(p.name)
            else:
                neutralised.append({"principal": p.arn, "policy": name, "neutralised_by": by})
        if kept or not holders:
            found += [{**h, "holders": kept} for h in hits]
    if not found and neutralised:
        return ctx.passed(subject, f"{kind} grants administrative access, but every holder's "
                          "deny or permissions boundary neutralises it", neutralised=neutralised)
    if not found:
        return ctx.passed(subject, f"no {kind} grants full administrative access")
    if not attached:
        return ctx.passed(subject, "grants full administrative access but is not attached",
                          admin_statements=found)
    names = ", ".join(dict.fromkeys(str(f["policy"]) for f in found))
    how = "NotAction" if all(f["grant"] == "NotAction" for f in found) else "Action '*'"
    target = "" if subject.type == POLICY else f" ({names})"
    return ctx.fail(subject, f"{kind}{target} allows {how} on every resource",
                    admin_statements=found, neutralised=neutralised)


def public_trust(stmt: Mapping[str, Any]) -> bool:
    """Whether an Allow statement lets any AWS principal assume the role."""
    if stmt.get("Effect") != "Allow":
        return False
    actions = [str(a).lower() for a in as_list(stmt.get("Action"))]
    if not any(fnmatch.fnmatchcase(want, a) for a in actions for want in _ASSUME):
        return False
    if "NotPrincipal" in stmt:
        return True
    principal = stmt.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))


def _restricting(condition: Any) -> list[str]:
    """Condition keys that restrict who can use the statement (positive, non-wildcard)."""
    if not isinstance(condition, Mapping):
        return []
    found = []
    for operator, tests in condition.items():
        # negated, *IfExists and ForAllValues operators also match a request without the key
        op = str(operator).lower().removeprefix("foranyvalue:")
        if op not in _POSITIVE_OPERATORS or not isinstance(tests, Mapping):
            continue
        for key, values in tests.items():
            pinned = [str(v) for v in as_list(values)]
            if (str(key).lower() in _RESTRICTING_KEYS and pinned
                    and all(v.strip("*?") and v not in _ANY_ADDRESS for v in pinned)):
                found.append(f"{operator}:{key}")
    return found


@check("aws.iam.role_trust_not_public", Severity.CRITICAL, (Principle.LEAST_PRIVILEGE,),
       reads={f"{ROLE}#listing"})
def role_trust_not_public(ctx: CheckContext) -> Iterator[Result]:
    """No IAM role can be assumed by any AWS principal without a restricting condition

    A trust policy with Principal '*' lets any AWS account in the world assume the role. Conditions
    that only require MFA, an external id or TLS do not restrict who the caller is and make the
    verdict inconclusive.

    Remediation: Name the trusted accounts or roles in the trust policy's Principal, or add a
    condition on aws:PrincipalOrgID / aws:PrincipalAccount / aws:SourceArn.
    """
    for role in ctx.inventory.of(ROLE):
        trust = role.attr("trust_policy")
        if trust is None:
            yield ctx.unknown(role, "trust policy unknown")
            continue
        public = [dict(s) for s in statements(trust) if public_trust(s)]
        bare = [s for s in public if not s.get("Condition")]
        unclear = [s for s in public if s.get("Condition") and not _restricting(s["Condition"])]
        if bare:
            yield ctx.fail(role, "trust policy lets any AWS principal assume the role",
                           statements=bare)
        elif unclear:
            yield ctx.unknown(role, "trust policy allows any AWS principal under conditions "
                              "that do not restrict the caller's identity", statements=unclear)
        elif public:
            yield ctx.passed(role, "wildcard trust is restricted by conditions",
                             conditions=[_restricting(s["Condition"]) for s in public])
        else:
            yield ctx.passed(role, "trust policy names its principals")


@check("aws.iam.console_users_have_mfa", Severity.HIGH, (Principle.MFA,),
       reads={f"{USER}#login_profile", f"{USER}#mfa"})
def console_users_have_mfa(ctx: CheckContext) -> Iterator[Result]:
    """IAM users with a console password have MFA

    A console password alone can be phished, guessed or reused from another breach.

    Remediation: Require an MFA device for every user with console access, or remove the password.
    """
    for user in ctx.inventory.of(USER):
        console, devices = user.attr("has_console_password"), user.attr("mfa_devices")
        if console is False:
            yield ctx.passed(user, "user has no console password")
        elif console is None or devices is None:
            yield ctx.unknown(user, "console password or MFA devices unknown",
                              has_console_password=console, mfa_devices=devices)
        elif devices:
            yield ctx.passed(user, "console user has MFA", mfa_devices=devices)
        else:
            yield ctx.fail(user, "console user has no MFA device",
                           password_last_used=user.attr("password_last_used"))


def _account_flag(ctx: CheckContext, flag: str) -> Iterator[tuple[Asset | None, str, Any]]:
    """The AccountSummary ``flag`` per scanned account: (asset or None, account, value)."""
    summaries = {a.account: a for a in ctx.inventory.of(SUMMARY)}
    for acct in ctx.inventory.meta.accounts:
        summary = summaries.get(acct)
        values = None if summary is None else summary.attr("summary")
        yield summary, acct, None if not isinstance(values, Mapping) else values.get(flag)


@check("aws.iam.root_mfa_enabled", Severity.CRITICAL, (Principle.MFA,), reads={SUMMARY})
def root_mfa_enabled(ctx: CheckContext) -> Iterator[Result]:
    """The root user has MFA

    The root user cannot be restricted by IAM; a password alone must not unlock it.

    Remediation: Enable MFA on the root user (a hardware key for production accounts).
    """
    for summary, acct, value in _account_flag(ctx, "AccountMFAEnabled"):
        subject = summary or ctx.account(acct)
        if value is None:
            yield ctx.unknown(subject, "root MFA status unknown (account summary not collected)")
        elif int(value) >= 1:
            yield ctx.passed(subject, "root user has MFA", AccountMFAEnabled=value)
        else:
            yield ctx.fail(subject, "root user has no MFA", AccountMFAEnabled=value)


@check("aws.iam.root_has_no_access_keys", Severity.CRITICAL, (Principle.JUST_IN_TIME,),
       reads={SUMMARY})
def root_has_no_access_keys(ctx: CheckContext) -> Iterator[Result]:
    """The root user has no access keys

    Root access keys are standing, unrestrictable credentials to the whole account.

    Remediation: Delete the root user's access keys; use IAM roles for programmatic access.
    """
    for summary, acct, value in _account_flag(ctx, "AccountAccessKeysPresent"):
        subject = summary or ctx.account(acct)
        if value is None:
            yield ctx.unknown(subject, "root access key status unknown "
                              "(account summary not collected)")
        elif int(value) >= 1:
            yield ctx.fail(subject, "root user has access keys", AccountAccessKeysPresent=value)
        else:
            yield ctx.passed(subject, "root user has no access keys",
                             AccountAccessKeysPresent=value)


@check("aws.iam.access_keys_rotated", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads={f"{USER}#access_keys"}, params={"max_age_days": 90})
def access_keys_rotated(ctx: CheckContext) -> Iterator[Result]:
    """Active IAM access keys are younger than the rotation period

    Long-lived access keys leak through code, logs and laptops. Ages are measured at the scan's
    finish time, so re-auditing a snapshot gives the same result.

    Remediation: Rotate the key (create a new one, deploy it, deactivate and delete the old one);
    better, replace long-lived keys with roles, IAM Identity Center or OIDC federation.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_age_days"))
    for user in ctx.inventory.of(USER):
        keys = user.attr("access_keys")
        if keys is None:
            yield ctx.unknown(user, "access keys unknown")
            continue
        active = [k for k in keys if k.get("status") == "Active"]
        stale, undated = [], []
        for key in active:
            created = parse_time(key.get("create_date"))
            if created is None:
                undated.append(key.get("access_key_id"))
            elif age_days(created, now) > limit:
                stale.append({"access_key_id": key.get("access_key_id"),
                              "create_date": key.get("create_date"),
                              "age_days": age_days(created, now)})
        if stale:
            yield ctx.fail(user, f"{len(stale)} active access key(s) older than {limit} days",
                           stale_keys=stale, max_age_days=limit)
        elif undated:
            yield ctx.unknown(user, "creation date of an active access key unknown",
                              access_key_ids=undated)
        elif active:
            yield ctx.passed(user, f"active access keys are at most {limit} days old",
                             max_age_days=limit)
        else:
            yield ctx.passed(user, "user has no active access keys")
