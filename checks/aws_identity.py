"""Identity: people reach AWS through single sign-on with MFA, root stays locked away, and
permissions come through groups and roles (IAM Identity Center, identity providers, the
credential report, IAM users and roles)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks._shared import identity

from posture.engine import CheckContext, Result
from posture.iam.aws import IDENTITY_READS
from posture.iam.graph import IdentityGraph
from posture.iam.human_access import Path, role_human_access
from posture.iam.permission_sets import permission_set_admin
from posture.model import ALL, Asset, Inventory, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

USER = "AWS::IAM::User"
ROLE = "AWS::IAM::Role"
SUMMARY = "AWS::IAM::AccountSummary"
SAML = "AWS::IAM::SAMLProvider"
OIDC = "AWS::IAM::OIDCProvider"
INSTANCE = "AWS::SSO::Instance"
PERMISSION_SET = "AWS::SSO::PermissionSet"
ROOT = "AWS::IAM::RootUser"

BREAK_GLASS = {"break_glass_tag": "posture:break-glass"}
WORKLOAD_ISSUERS = (
    "token.actions.githubusercontent.com", "oidc.eks.", "gitlab.com", "app.terraform.io",
    "oidc.circleci.com", "api.bitbucket.org", "vstoken.dev.azure.com", "sts.windows.net",
)


def break_glass(ctx: CheckContext, asset: Asset) -> bool:
    """The user is documented as a break-glass account: tag ``<break_glass_tag>=true``."""
    tag = str(ctx.param("break_glass_tag")).lower()
    return any(k.lower() == tag and v.strip().lower() == "true" for k, v in asset.tags.items())


SSO_TYPES = (INSTANCE, SAML, OIDC)


def sso_providers(inventory: Inventory, account: str) -> list[str]:
    """The single sign-on paths into ``account``: Identity Center instances, SAML providers and
    OIDC providers that are not a known workload issuer (CI, Kubernetes)."""
    found = [f"IAM Identity Center {a.name}" for a in inventory.of(INSTANCE)
             if a.account == account]
    found += [f"SAML provider {a.name}" for a in inventory.of(SAML) if a.account == account]
    found += [f"OIDC provider {a.name}" for a in inventory.of(OIDC) if a.account == account
              and not any(w in str(a.attr("url") or "") for w in WORKLOAD_ISSUERS)]
    return found


@check("aws.identity.humans_sign_in_through_sso", Severity.HIGH,
       (Principle.MFA, Principle.LEAST_PRIVILEGE),
       reads={f"{USER}#login_profile", f"{USER}#tags", INSTANCE, SAML, OIDC},
       params={**BREAK_GLASS, "no_sso_severity": "medium"})
def humans_sign_in_through_sso(ctx: CheckContext) -> Iterator[Result]:
    """People sign in through single sign-on, not with IAM user passwords

    An IAM user with a console password is a second, local identity for a person: it escapes the
    identity provider's joiner-mover-leaver process, its MFA and its session policies. Where IAM
    Identity Center, a SAML provider or a workforce OIDC provider exists, every console password
    on an IAM user is a person bypassing it; where none exists the account has no SSO at all (a
    lower severity, `no_sso_severity`). A break-glass user documented by the tag
    `posture:break-glass=true` (parameter `break_glass_tag`) passes with a note: keep it, lock
    its credentials away and alarm on its use. OIDC providers of CI and Kubernetes workloads do
    not count as SSO.

    Remediation: Give the person a user in IAM Identity Center (or the corporate identity
    provider) with a permission set, then delete the IAM user's login profile (`aws iam
    delete-login-profile`); tag a deliberate break-glass user `posture:break-glass=true`.
    """
    for user in ctx.inventory.of(USER):
        console = user.attr("has_console_password")
        if console is None:
            yield ctx.unknown(user, "console password unknown")
            continue
        if not console:
            yield ctx.passed(user, "user has no console password")
            continue
        providers = sso_providers(ctx.inventory, user.account)
        facts = {"sso_providers": providers, "mfa_devices": user.attr("mfa_devices"),
                 "password_last_used": user.attr("password_last_used")}
        if break_glass(ctx, user):
            yield ctx.passed(user, "break-glass user documented by tag "
                             f"{ctx.param('break_glass_tag')}: keep its password locked away "
                             "and alarm on its use", **facts)
        elif providers:
            yield ctx.fail(user, f"IAM user {user.name} signs in with a password although SSO "
                           f"exists ({', '.join(providers)})", **facts)
        elif unread := [e.describe() for e in ctx.inventory.errors_affecting(SSO_TYPES)
                        if e.account in (ALL, user.account)]:
            # the user does sign in with a password; whether SSO exists was not seen
            yield ctx.fail(user, f"IAM user {user.name} signs in with a password; whether the "
                           f"account has SSO is unknown ({unread[0]})", **facts)
        else:
            yield ctx.fail_at(Severity.parse(str(ctx.param("no_sso_severity"))), user,
                              f"IAM user {user.name} signs in with a password; the account has "
                              "no SSO provider (IAM Identity Center, SAML or workforce OIDC)",
                              **facts)


def _root_fields(root: Asset) -> tuple[list[str], bool]:
    """(last uses as ISO strings, whether root holds an active access key)."""
    stamps = [root.attr("password_last_used")]
    keys = root.attr("access_keys") or []
    stamps += [k.get("last_used_date") for k in keys]
    return [s for s in stamps if s], any(k.get("active") for k in keys)


@check("aws.identity.root_user_unused", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={f"{ROOT}#report"},
       params={"unused_days": 90})
def root_user_unused(ctx: CheckContext) -> Iterator[Result]:
    """The root user has not signed in or used an access key recently

    Root cannot be limited by IAM policies or permission boundaries; everyday administration
    belongs to roles reached through SSO. Read from the IAM credential report: the root
    password's and root access keys' last use within `unused_days` fails. Root access keys that
    exist at all are judged by `aws.iam.root_has_no_access_keys`.

    Remediation: Stop using root for daily tasks: sign in through IAM Identity Center with a
    permission set, keep root's credentials in a safe with hardware MFA and alarm on root
    sign-in (CloudTrail / EventBridge).
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("unused_days"))
    for root in ctx.inventory.of(ROOT):
        if not root.attr("in_report"):
            yield ctx.unknown(root, "root user not in the credential report (not collected)")
            continue
        uses, _ = _root_fields(root)
        recent = [s for s in uses if (t := parse_time(s)) and age_days(t, now) <= limit]
        facts = {"password_last_used": root.attr("password_last_used"),
                 "access_keys": root.attr("access_keys"), "unused_days": limit}
        if recent:
            yield ctx.fail(root, f"root user used within the last {limit} days "
                           f"(last: {max(recent)})", **facts)
        else:
            yield ctx.passed(root, f"root user not used within the last {limit} days", **facts)


def _root_mfa(ctx: CheckContext, root: Asset) -> Any:
    """Root MFA from the credential report, else from the account summary."""
    if root.attr("mfa_active") is not None:
        return root.attr("mfa_active")
    for summary in ctx.inventory.of(SUMMARY):
        values = summary.attr("summary")
        if summary.account == root.account and isinstance(values, Mapping):
            flag = values.get("AccountMFAEnabled")
            return None if flag is None else int(flag) >= 1
    return None


@check("aws.identity.root_hardware_mfa", Severity.HIGH, (Principle.MFA,),
       reads={f"{ROOT}#report", f"{ROOT}#mfa_type", SUMMARY})
def root_hardware_mfa(ctx: CheckContext) -> Iterator[Result]:
    """The root user is protected by a hardware MFA device

    A virtual MFA app lives on a phone that is backed up, cloned, lost or replaced with its
    owner; root deserves a hardware key (FIDO security key or hardware TOTP token) kept in a
    safe. A virtual MFA device assigned to the root ARN (ListVirtualMFADevices) fails; MFA
    active without a virtual device on root is hardware. Root without any MFA fails here and in
    `aws.iam.root_mfa_enabled`.

    Remediation: Register a FIDO security key or hardware TOTP token for the root user and remove
    the virtual MFA device.
    """
    for root in ctx.inventory.of(ROOT):
        mfa = _root_mfa(ctx, root)
        virtual = root.attr("virtual_mfa_serials")
        if mfa is None:
            yield ctx.unknown(root, "root MFA status unknown (credential report and account "
                              "summary not collected)")
        elif not mfa:
            yield ctx.fail(root, "root user has no MFA at all")
        elif virtual is None:
            yield ctx.unknown(root, "root has MFA; its type is unknown (virtual MFA devices "
                              "not listed)")
        elif virtual:
            yield ctx.fail(root, "root user is protected by a virtual MFA device, not hardware",
                           virtual_mfa_serials=virtual)
        else:
            yield ctx.passed(root, "root user has hardware MFA (no virtual device on root)")


def admin_state(graph: IdentityGraph, asset: Asset) -> tuple[str, dict[str, Any]]:
    """``"admin"``, ``"maybe"`` or ``"no"`` for an IAM role or a permission set, with evidence."""
    if asset.type == PERMISSION_SET:
        verdict, unknown = permission_set_admin(graph.evaluator, asset)
        state = {"allowed": "admin", "conditional": "maybe"}.get(verdict.decision.value, "no")
        if state == "no" and unknown:
            state = "maybe"
        evidence: dict[str, Any] = {"admin_verdict": verdict.evidence()}
        return state, {**evidence, "unknown": list(unknown)} if unknown else evidence
    path = graph.admin_path(asset.uid)
    if path is None:
        return "no", {}
    evidence = {"admin_path": path.describe(graph.names())}
    return ("maybe" if path.conditional else "admin"), evidence


@check("aws.identity.admin_access_requires_mfa", Severity.HIGH,
       (Principle.MFA, Principle.LEAST_PRIVILEGE),
       reads=IDENTITY_READS | {f"{PERMISSION_SET}#policies", f"{PERMISSION_SET}#boundary"})
def admin_access_requires_mfa(ctx: CheckContext) -> Iterator[Result]:
    """People reach administrator power only with MFA or through SSO

    An admin-equivalent role that a person with IAM credentials may assume (a trust in the
    account, an IAM user or anyone) must demand MFA: `Bool aws:MultiFactorAuthPresent true` (or
    `aws:MultiFactorAuthAge`) on every such trust statement, or a deny of everything without MFA
    in the role's own policies (the `IfExists` forms in a trust do not count: long-term keys carry
    no MFA key and pass them). A role trusted only through a SAML provider or IAM Identity Center,
    and every admin-equivalent permission set, is reached through SSO, where the identity
    provider enforces MFA. Roles only services or workloads assume are not judged here.

    Remediation: Add `"Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}` to the trust
    statements that admit people, or move the access to an IAM Identity Center permission set.
    """
    graph = identity(ctx)
    for ps in ctx.inventory.of(PERMISSION_SET):
        state, evidence = admin_state(graph, ps)
        if state != "no":
            yield ctx.passed(ps, "admin permission set reached only through IAM Identity Center "
                             "sign-in (SSO)", **evidence)
    for role in ctx.inventory.of(ROLE):
        trust = role.attr("trust_policy")
        if role.attr("service_linked"):
            continue
        state, evidence = admin_state(graph, role)
        if state == "no":
            continue
        if trust is None:
            yield ctx.unknown(role, "trust policy unknown", **evidence)
            continue
        access = role_human_access(trust, graph.principal(role.uid))
        evidence = {**evidence, **access.evidence()}
        what = "admin-equivalent role" if state == "admin" else "possibly admin-equivalent role"
        if access.path == Path.DIRECT and state == "admin":
            yield ctx.fail(role, f"{what} can be assumed without MFA by "
                           f"{', '.join(access.via)}", **evidence)
        elif access.path == Path.DIRECT:
            yield ctx.unknown(role, f"{what} can be assumed without MFA by "
                              f"{', '.join(access.via)}", **evidence)
        elif access.path == Path.MFA:
            yield ctx.passed(role, f"{what} requires MFA of the people who assume it", **evidence)
        elif access.path == Path.SSO:
            yield ctx.passed(role, f"{what} is reached only through SSO", **evidence)
        else:
            yield ctx.passed(role, f"{what} is not assumable by people (services or workloads)",
                             **evidence)


@check("aws.identity.permissions_through_groups_or_roles", Severity.LOW,
       (Principle.LEAST_PRIVILEGE,), reads={f"{USER}#policies"})
def permissions_through_groups_or_roles(ctx: CheckContext) -> Iterator[Result]:
    """IAM users receive permissions only through groups or roles

    Permissions attached to individual users make access impossible to review by role: two
    people with the same job drift apart, and a leaver's access is not removed with their team.
    A user with an attached managed policy or an inline policy fails.

    Remediation: Move the user's policies to a group for the role they perform (or to a role they
    assume, or a permission set in IAM Identity Center) and detach them from the user.
    """
    for user in ctx.inventory.of(USER):
        attached, inline = user.attr("attached_policy_arns"), user.attr("inline_policies")
        if attached is None or inline is None:
            yield ctx.unknown(user, "user policies unknown")
        elif attached or inline:
            names = [*attached, *(f"{n} (inline)" for n in sorted(inline))]
            yield ctx.fail(user, f"IAM user {user.name} holds policies directly: "
                           f"{', '.join(names)}", attached_policy_arns=attached,
                           inline_policy_names=sorted(inline))
        else:
            yield ctx.passed(user, "user holds no policy directly",
                             group_names=user.attr("group_names"))
