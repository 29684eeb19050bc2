"""Identity on Azure: Entra ID read through Microsoft Graph (MFA enforced and registered,
standing vs just-in-time directory roles, guests, long-lived application credentials).

The semantics (conditional-access coverage per user, role holders through groups, privileged
roles, the break-glass convention) are :mod:`posture.iam.entra`'s. Every finding names
principals by display name. A scan that did not read Entra ID (no Graph endpoint) gets one
INCONCLUSIVE finding per check and subscription, never a PASS.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture import azure as entra
from posture.engine import CheckContext, Result
from posture.iam.conditions import Truth
from posture.iam.entra import (
    GLOBAL_ADMIN,
    Directory,
    credential_lifetimes,
    describe_user,
    enabled_users,
    is_break_glass,
    names,
    privileged,
    role_label,
)
from posture.model import Asset, Principle, Severity
from posture.registry import check

BREAK_GLASS = {"break_glass_accounts": ()}
COVERAGE_READS = {f"{entra.USER}#listing", entra.CA_POLICY, entra.SECURITY_DEFAULTS, entra.GROUP,
                  f"{entra.DIRECTORY_ROLE}#listing", entra.DIRECTORY_ELIGIBILITY}


def _directory(ctx: CheckContext) -> Directory:
    return ctx.derived("azure.identity.directory", Directory.of)


def _not_read(ctx: CheckContext) -> Iterator[Result]:
    for account in ctx.inventory.meta.accounts or ("unknown",):
        yield ctx.unknown(ctx.account(account), "Entra ID was not read: no Microsoft Graph "
                          "endpoint for this cloud (pass --graph-endpoint)")


def _tenants(ctx: CheckContext) -> list[Asset]:
    return sorted(ctx.inventory.of(entra.TENANT), key=lambda t: t.uid)


def _unread(ctx: CheckContext, account: str) -> str:
    """Why the MFA policies of a tenant are not known ("" when they are): a user they do not
    cover is then undecided, never failed."""
    errors = [e for e in ctx.inventory.errors_affecting((entra.CA_POLICY, entra.SECURITY_DEFAULTS))
              if e.covers(account, "global")]
    return "; ".join(e.describe() for e in errors)


def _break_glass(ctx: CheckContext, user: Asset) -> bool:
    return is_break_glass(user, ctx.param("break_glass_accounts"))


@check("azure.identity.mfa_required_for_all_users", Severity.HIGH, (Principle.MFA,),
       reads=COVERAGE_READS, params=BREAK_GLASS)
def mfa_required_for_all_users(ctx: CheckContext) -> Iterator[Result]:
    """Every Entra ID user must sign in with MFA

    Judged per user across every enabled conditional-access policy: a user is covered when at
    least one policy requiring MFA (built-in control or authentication strength) applies to them
    for every cloud app and sign-in, so a guest excluded from one policy on purpose but included
    in another is covered. Security defaults on cover everyone. Report-only policies, policies
    limited to some apps, locations or risk levels, and excluded users are named. Break-glass
    accounts (employeeType break-glass, or listed in break_glass_accounts) may be excluded.

    Remediation: Add the uncovered users to an enabled conditional-access policy that requires
    MFA for all cloud apps (or remove their exclusion), or turn on security defaults.
    """
    directory = _directory(ctx)
    if not _tenants(ctx):
        yield from _not_read(ctx)
    for tenant in _tenants(ctx):
        if directory.security_defaults.get(tenant.account):
            yield ctx.passed(tenant, "security defaults are on: every user must use MFA")
            continue
        gaps, undecided, elsewhere, glass = [], [], [], []
        users = enabled_users(directory, tenant.account)
        for user in users:
            cover = directory.coverage(user)
            row = {"user": describe_user(user), "user_type": user.attr("user_type"),
                   **cover.evidence()}
            if cover.state is Truth.TRUE and cover.excluded_from:
                elsewhere.append(f"{describe_user(user)} is excluded from "
                                 f"{', '.join(map(repr, cover.excluded_from))} but covered by "
                                 f"{', '.join(map(repr, cover.by))}")
            elif cover.state is Truth.FALSE and _break_glass(ctx, user):
                glass.append(describe_user(user))
            elif cover.state is Truth.FALSE:
                gaps.append((user, row))
            elif cover.state is Truth.UNKNOWN:
                undecided.append((user, row))
        evidence = {
            "mfa_policies": [p.name for p in directory.policies if p.enforces
                             and p.asset.account == tenant.account],
            "not_counted": [f"{p.name} ({p.asset.attr('state')}"
                            f"{'; ' + '; '.join(p.narrowed_by) if p.narrowed_by else ''})"
                            for p in directory.policies if p.asset.account == tenant.account
                            and not p.enforces and "mfa" in str(p.asset.attr("grant_controls"))],
            "excluded_but_covered": elsewhere,
            "break_glass_excluded": glass,
        }
        if gaps and _unread(ctx, tenant.account):
            yield ctx.unknown(tenant, f"{names([u for u, _ in gaps])} covered by no MFA policy "
                              f"read, but the policies were not all read: "
                              f"{_unread(ctx, tenant.account)}", **evidence)
        elif gaps:
            detail = "; ".join(
                f"{describe_user(u)}"
                + (f" (excluded from {', '.join(map(repr, r['excluded_from']))})"
                   if r["excluded_from"] else " (no MFA policy applies)") for u, r in gaps[:10])
            also = f"; {'; '.join(elsewhere)}" if elsewhere else ""
            yield ctx.fail(tenant, f"{len(gaps)} of {len(users)} enabled user(s) can sign in "
                           f"without MFA: {detail}{also}", uncovered=[r for _, r in gaps],
                           **evidence)
        elif undecided:
            yield ctx.unknown(tenant, f"cannot decide MFA coverage of "
                              f"{names([u for u, _ in undecided])}",
                              undecided=[r for _, r in undecided], **evidence)
        else:
            note = f"; {'; '.join(elsewhere)}" if elsewhere else ""
            yield ctx.passed(tenant, f"all {len(users)} enabled user(s) must use MFA{note}",
                             **evidence)


def _admins(directory: Directory, account: str) -> list[tuple[Asset, list[str], set[str]]]:
    """(user, privileged role names, their templates) of every user holding a privileged
    directory role, active (directly or through a group) or PIM-eligible."""
    out = []
    for user in enabled_users(directory, account):
        uid = str(user.attr("object_id"))
        held = [g for g, _ in directory.roles_of(uid) + directory.roles_of(uid, eligible=True)
                if privileged(g)]
        if held:
            out.append((user, sorted({role_label(g) for g in held}),
                        {str(g.attr("role_template_id")) for g in held}))
    return out


@check("azure.identity.mfa_required_for_admin_roles", Severity.CRITICAL, (Principle.MFA,),
       reads=COVERAGE_READS, params=BREAK_GLASS)
def mfa_required_for_admin_roles(ctx: CheckContext) -> Iterator[Result]:
    """Every holder of a privileged Entra ID role must sign in with MFA

    One finding per user holding a privileged directory role (Global Administrator, Privileged
    Role Administrator, Security Administrator, ... or any role Graph marks privileged), held
    directly, through a role-assignable group, or PIM-eligible (judged as after activation, when
    policies targeting the role apply). Covered as in azure.identity.mfa_required_for_all_users;
    a break-glass account excluded from MFA passes and is named.

    Remediation: Require MFA (an authentication strength, ideally phishing-resistant) for every
    privileged directory role in an enabled conditional-access policy for all cloud apps.
    """
    directory = _directory(ctx)
    if not _tenants(ctx):
        yield from _not_read(ctx)
    for tenant in _tenants(ctx):
        for user, roles, templates in _admins(directory, tenant.account):
            cover = directory.coverage(user, extra_roles=templates)
            who = f"{describe_user(user)} ({', '.join(roles)})"
            evidence = {"roles": roles, **cover.evidence()}
            if cover.state is Truth.TRUE:
                yield ctx.passed(user, f"{who} must use MFA: {', '.join(cover.by)}", **evidence)
            elif cover.state is Truth.UNKNOWN:
                yield ctx.unknown(user, f"cannot decide whether {who} must use MFA: "
                                  f"{'; '.join(cover.unknown)}", **evidence)
            elif _unread(ctx, tenant.account):
                yield ctx.unknown(user, f"cannot decide whether {who} must use MFA: "
                                  f"{_unread(ctx, tenant.account)}", **evidence)
            elif _break_glass(ctx, user):
                yield ctx.passed(user, f"{who} is a documented break-glass account, excluded "
                                 "from MFA policies by design", break_glass=True, **evidence)
            else:
                why = (f"excluded from {', '.join(map(repr, cover.excluded_from))}"
                       if cover.excluded_from else "no enforced MFA policy applies")
                yield ctx.fail(user, f"{who} can sign in without MFA: {why}", **evidence)


@check("azure.identity.users_mfa_registered", Severity.HIGH, (Principle.MFA,),
       reads={f"{entra.USER}#registration"}, params={"unprivileged_severity": "medium"})
def users_mfa_registered(ctx: CheckContext) -> Iterator[Result]:
    """Every enabled member user has an MFA method registered

    From Entra ID's authentication-method registration report. A user without a registered
    method is asked to register at the next MFA prompt: whoever signs in first with the
    password owns the account. Holders of privileged roles fail at the check's severity, other
    users at unprivileged_severity. Guests register MFA in their home tenant and are not judged.

    Remediation: Have the users register a strong method (Authenticator, FIDO2) now, through a
    registration campaign or a Temporary Access Pass, and require MFA registration in a
    conditional-access policy.
    """
    directory = _directory(ctx)
    if not _tenants(ctx):
        yield from _not_read(ctx)
    lower = Severity.parse(str(ctx.param("unprivileged_severity")))
    for tenant in _tenants(ctx):
        members = [u for u in enabled_users(directory, tenant.account)
                   if str(u.attr("user_type")).lower() != "guest"]
        missing = [u for u in members if u.attr("mfa_registered") is False]
        for user in members:
            roles = directory.privileged_roles(str(user.attr("object_id")))
            evidence = {"methods": user.attr("mfa_methods"), "privileged_roles": roles}
            if user.attr("mfa_registered") is None:
                yield ctx.unknown(user, f"{describe_user(user)} is not in the registration "
                                  "report", **evidence)
            elif user.attr("mfa_registered"):
                yield ctx.passed(user, f"{describe_user(user)} has MFA registered "
                                 f"({', '.join(user.attr('mfa_methods') or ())})", **evidence)
            else:
                held = f"; holds {', '.join(roles)}" if roles else ""
                yield ctx.fail_at(
                    ctx.spec.severity if roles else lower, user,
                    f"{describe_user(user)} has no MFA method registered{held} ({len(missing)} "
                    f"of {len(members)} enabled member users: {names(missing, 5)})", **evidence)


@check("azure.identity.no_privileged_roles_for_guests", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE,), reads={f"{entra.USER}#listing",
       f"{entra.DIRECTORY_ROLE}#listing", entra.DIRECTORY_ELIGIBILITY, entra.GROUP})
def no_privileged_roles_for_guests(ctx: CheckContext) -> Iterator[Result]:
    """No guest holds a privileged Entra ID role

    A guest's account, password and MFA are managed by another organisation: a privileged
    directory role held by a guest (active, through a group, or PIM-eligible) hands the tenant to
    a directory posture does not audit.

    Remediation: Remove privileged directory roles from guests; give the people concerned member
    accounts in this tenant, with PIM-eligible roles.
    """
    directory = _directory(ctx)
    if not _tenants(ctx):
        yield from _not_read(ctx)
    for tenant in _tenants(ctx):
        for user in enabled_users(directory, tenant.account):
            if str(user.attr("user_type")).lower() != "guest":
                continue
            roles = directory.privileged_roles(str(user.attr("object_id")))
            if roles:
                yield ctx.fail(user, f"guest {describe_user(user)} holds {', '.join(roles)}",
                               roles=roles)
            else:
                yield ctx.passed(user, f"guest {describe_user(user)} holds no privileged role")


@check("azure.identity.no_standing_privileged_directory_roles", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.LEAST_PRIVILEGE),
       reads={entra.DIRECTORY_ROLE, entra.DIRECTORY_ELIGIBILITY, f"{entra.USER}#listing",
              entra.GROUP},
       params={**BREAK_GLASS, "global_admin_severity": "critical"})
def no_standing_privileged_directory_roles(ctx: CheckContext) -> Iterator[Result]:
    """No user or group holds a privileged Entra ID role permanently

    An active assignment is standing unless PIM says it is an activation or it has an end date;
    PIM eligibility is just in time and passes. A standing Global Administrator fails at
    global_admin_severity; documented break-glass accounts (employeeType break-glass, or listed in
    break_glass_accounts) pass. Roles of service principals are not judged here.

    Remediation: Convert permanent privileged assignments into PIM-eligible ones with approval,
    MFA on activation and a short maximum duration; keep two break-glass accounts only.
    """
    directory = _directory(ctx)
    if not _tenants(ctx):
        yield from _not_read(ctx)
    top = Severity.parse(str(ctx.param("global_admin_severity")))
    for grant in ctx.inventory.of(entra.DIRECTORY_ROLE):
        pid = str(grant.attr("principal_id"))
        user, group = directory.users.get(pid), directory.groups.get(pid)
        if not privileged(grant) or (user is None and group is None):
            continue
        role, pim = role_label(grant), grant.attr("pim") or {}
        who = describe_user(user) if user is not None else f"group {directory.name(pid)}"
        evidence = {"principal": who, "role": role, "pim": grant.attr("pim")}
        if pim.get("assignment_type") == "Activated" or pim.get("end"):
            kind = "a PIM activation" if pim.get("assignment_type") == "Activated" else \
                "time-bound"
            yield ctx.passed(grant, f"{role} of {who} is {kind} ending {pim.get('end')}",
                             **evidence)
        elif user is not None and is_break_glass(user, ctx.param("break_glass_accounts")):
            yield ctx.passed(grant, f"{role} of {who}: a documented break-glass account",
                             break_glass=True, **evidence)
        else:
            members = ""
            if group is not None:
                held = [directory.name(m) for m, _ in directory.holders(grant) if m != "?"]
                members = f" (members: {', '.join(held) or 'unknown'})"
            unread = "" if grant.attr("pim_known") else " (PIM schedules not read)"
            severity = top if str(grant.attr("role_template_id")) == GLOBAL_ADMIN else \
                ctx.spec.severity
            yield ctx.fail_at(severity, grant, f"standing {role}: {who}{members} holds it "
                              f"permanently{unread}", **evidence)
    for grant in ctx.inventory.of(entra.DIRECTORY_ELIGIBILITY):
        if privileged(grant):
            who = directory.name(grant.attr("principal_id"))
            yield ctx.passed(grant, f"{role_label(grant)} is PIM-eligible for {who} (just in "
                             f"time, eligibility ends {grant.attr('end') or 'never'})")


@check("azure.identity.app_credentials_short_lived", Severity.MEDIUM,
       (Principle.JUST_IN_TIME, Principle.SECRETS),
       reads={entra.APPLICATION, entra.SERVICE_PRINCIPAL}, params={"max_lifetime_days": 365})
def app_credentials_short_lived(ctx: CheckContext) -> Iterator[Result]:
    """App registrations and service principals have no long-lived or expired credentials

    A client secret or certificate valid longer than max_lifetime_days (from its start to its
    end date, or without an end) is a standing credential; an expired one still present is
    clutter that hides which credential is in use. Only dates are read: Graph never returns a
    secret's value. Objects without credentials (managed identities, federated credentials) give
    no finding.

    Remediation: Replace the credential with a managed identity or a federated credential, or
    rotate it to one valid at most max_lifetime_days; delete expired credentials.
    """
    if not _tenants(ctx):
        yield from _not_read(ctx)
    limit = int(ctx.param("max_lifetime_days"))
    now = ctx.inventory.meta.finished_at
    for obj in [*ctx.inventory.of(entra.APPLICATION), *ctx.inventory.of(entra.SERVICE_PRINCIPAL)]:
        creds = credential_lifetimes(obj, now)
        if not creds:
            continue
        what = "app registration" if obj.type == entra.APPLICATION else "service principal"
        bad = []
        for c in creds:
            label = f"{'client secret' if c['kind'] == 'password' else 'certificate'} " \
                f"{c['display_name'] or c['key_id']!r}"
            if c["days_left"] is not None and c["days_left"] < 0:
                bad.append(f"{label} expired {str(c['end'])[:10]} and is still present")
            elif c["lifetime_days"] is None or c["lifetime_days"] > limit:
                valid = f"valid {c['lifetime_days']} days" if c["lifetime_days"] is not None \
                    else "without an end date"
                bad.append(f"{label} {valid} (until {str(c['end'])[:10]}), longer than {limit}")
        if bad:
            yield ctx.fail(obj, f"{obj.name} ({what}): {'; '.join(bad)}", credentials=creds)
        else:
            yield ctx.passed(obj, f"{obj.name} ({what}): {len(creds)} credential(s), each valid "
                             f"at most {limit} days", credentials=creds)
