"""Identity on GCP, as an auditor asks it: people reach VMs through OS Login (their Google
identity, with a second factor), no long-lived service-account keys, only the organisation's own
directory can be granted roles, and nobody holds a privileged role standing when Privileged
Access Manager can grant it just in time.

Semantics (which metadata level wins, which condition bounds a grant in time, which roles are
privileged) live in :mod:`posture.iam.gcp_access` and :func:`posture.iam.gcp.time_bound`.
Organisation policies are the *effective* policies on each project (inherited from folders and
the organisation); a policy that could not be read, or that depends on tags, is INCONCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.gcp import (
    COMPUTE_PROJECT,
    FOLDER,
    INSTANCE,
    ORG_POLICY,
    ORGANIZATION,
    PAM_ENTITLEMENT,
    PROJECT,
    SA_KEY,
    SERVICE_ACCOUNT,
    Grant,
    effective_grants,
    lineage,
)
from posture.iam.gcp import condition_expiry, condition_title
from posture.iam.gcp_access import (
    OSLOGIN,
    PRIVILEGED_ROLES,
    Eligibility,
    Setting,
    eligibilities,
    instance_oslogin,
    is_human,
    metadata_flag,
)
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

REQUIRE_OS_LOGIN = "compute.requireOsLogin"
DISABLE_KEY_CREATION = "iam.disableServiceAccountKeyCreation"
ALLOWED_DOMAINS = "iam.allowedPolicyMemberDomains"
POLICY = f"{PROJECT}#iam_policy"
INHERITED = frozenset({f"{FOLDER}#iam_policy", f"{ORGANIZATION}#iam_policy"})


def _policies(ctx: CheckContext, constraint: str) -> dict[str, Asset]:
    """The effective policy of ``constraint`` on each project, by project id."""
    return {p.account: p for p in ctx.inventory.of(ORG_POLICY)
            if p.attr("constraint") == constraint}


def _compute_projects(ctx: CheckContext) -> dict[str, Asset]:
    return {p.account: p for p in ctx.inventory.of(COMPUTE_PROJECT)}


def _project_metadata(projects: Mapping[str, Asset], vm: Asset) -> Mapping[str, Any] | None:
    """The common instance metadata settings of the instance's project (None = not read)."""
    found = projects.get(vm.account)
    return None if found is None else found.attr("metadata")


def _guard(policy: Asset | None) -> dict[str, Any]:
    """The compute.requireOsLogin policy as evidence (it guards, the metadata decides)."""
    return {"org_policy": REQUIRE_OS_LOGIN,
            "org_policy_enforced": None if policy is None else policy.attr("enforced")}


def _off(setting: Setting) -> str:
    """Why a setting is off: ``the instance sets enable-oslogin=FALSE over the project's TRUE``."""
    if setting.source == "instance":
        over = f" over the project's {setting.project_value}" if setting.project_value else ""
        return f"the instance sets {setting.key}={setting.instance_value}{over}"
    if setting.source == "project":
        return f"the project sets {setting.key}={setting.project_value}"
    return f"{setting.key} is set neither on the instance nor on the project"


@check("gcp.identity.os_login_enabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={INSTANCE, COMPUTE_PROJECT})
def os_login_enabled(ctx: CheckContext) -> Iterator[Result]:
    """OS Login is enabled on every VM instance and by default on the project

    With OS Login, SSH access to a VM is granted through IAM roles to Google identities (and
    revoked with them, logged per user); without it, anyone holding a key in the project's or
    the instance's ssh-keys metadata logs in, outside single sign-on. The instance's
    enable-oslogin overrides the project's common instance metadata, so one instance setting
    FALSE opts out of a project that enables it. The organisation policy compute.requireOsLogin
    is reported as evidence: it refuses new metadata that disables OS Login but does not
    rewrite a value set before it was enforced. Each instance is judged on the metadata in
    effect, and each project on its default for new instances.

    Remediation: Set enable-oslogin=TRUE in the project metadata (`gcloud compute
    project-info add-metadata --metadata enable-oslogin=TRUE`), remove enable-oslogin=FALSE from
    instances, and enforce the organisation policy compute.requireOsLogin on the organisation
    or folder so that it cannot be turned off again.
    """
    projects, guards = _compute_projects(ctx), _policies(ctx, REQUIRE_OS_LOGIN)
    for project in projects.values():
        metadata: Mapping[str, Any] | None = project.attr("metadata")
        evidence = _guard(guards.get(project.account))
        if metadata is None:
            yield ctx.unknown(project, "the project's common instance metadata was not read",
                              **evidence)
        elif metadata_flag(metadata.get(OSLOGIN)):
            yield ctx.passed(project, f"the project sets {OSLOGIN}={metadata[OSLOGIN]}: new "
                             "instances use OS Login unless they opt out", **evidence)
        else:
            guarded = " (compute.requireOsLogin is enforced, but the project metadata does not " \
                "enable OS Login)" if evidence["org_policy_enforced"] else ""
            yield ctx.fail(project, f"the project does not enable OS Login by default "
                           f"({OSLOGIN}={metadata.get(OSLOGIN)}){guarded}", **evidence)
    for vm in ctx.inventory.of(INSTANCE):
        if vm.attr("metadata_keys") is None:
            yield ctx.unknown(vm, "the instance's metadata was not read")
            continue
        login = instance_oslogin(vm, _project_metadata(projects, vm)).login
        evidence = _guard(guards.get(vm.account))
        if login is None:
            yield ctx.unknown(vm, f"the instance does not set {OSLOGIN} and the project's "
                              "metadata was not read", **evidence)
        elif login.enabled:
            yield ctx.passed(vm, f"OS Login is enabled (set on the {login.source})",
                             **evidence, **login.evidence())
        else:
            yield ctx.fail(vm, f"OS Login is off: {_off(login)}; SSH keys in metadata grant "
                           "access outside IAM", **evidence, **login.evidence())


@check("gcp.identity.os_login_2fa_enabled", Severity.MEDIUM, (Principle.MFA,),
       reads={INSTANCE, COMPUTE_PROJECT})
def os_login_2fa_enabled(ctx: CheckContext) -> Iterator[Result]:
    """OS Login 2-step verification is required on every VM instance and on the project

    enable-oslogin-2fa makes every SSH login ask for the user's second factor (or
    enable-oslogin-sk for a security key), so a stolen session or SSH key alone does not open a
    shell. It works only with OS Login on: an instance without OS Login gets no second factor
    at all. The instance's value overrides the project's, as for OS Login.

    Remediation: Set enable-oslogin=TRUE and enable-oslogin-2fa=TRUE in the project metadata
    (`gcloud compute project-info add-metadata --metadata
    enable-oslogin=TRUE,enable-oslogin-2fa=TRUE`) and remove instance values that turn either
    off; users enrol in 2-step verification on their Google account.
    """
    projects = _compute_projects(ctx)
    for project in projects.values():
        metadata = project.attr("metadata")
        if metadata is None:
            yield ctx.unknown(project, "the project's common instance metadata was not read")
            continue
        both = {k: metadata.get(k) for k in (OSLOGIN, "enable-oslogin-2fa", "enable-oslogin-sk")}
        second = metadata_flag(both["enable-oslogin-2fa"]) or metadata_flag(
            both["enable-oslogin-sk"])
        if metadata_flag(both[OSLOGIN]) and second:
            yield ctx.passed(project, "the project requires OS Login with a second factor",
                             metadata=both)
        else:
            yield ctx.fail(project, "the project does not require OS Login 2-step verification "
                           "by default", metadata=both)
    for vm in ctx.inventory.of(INSTANCE):
        if vm.attr("metadata_keys") is None:
            yield ctx.unknown(vm, "the instance's metadata was not read")
            continue
        found = instance_oslogin(vm, _project_metadata(projects, vm))
        strong = (found.two_factor, found.security_key)
        on = [s for s in strong if s is not None and s.enabled]
        if found.login is not None and not found.login.enabled:
            yield ctx.fail(vm, f"no second factor: OS Login itself is off ({_off(found.login)})",
                           **found.evidence())
        elif found.login is not None and on:
            yield ctx.passed(vm, f"OS Login asks for a second factor ({on[0].key}, set on the "
                             f"{on[0].source})", **found.evidence())
        elif found.login is None or None in strong:
            yield ctx.unknown(vm, "the instance does not decide and the project's metadata was "
                              "not read", **found.evidence())
        else:
            off = found.two_factor
            assert off is not None
            yield ctx.fail(vm, f"OS Login is on without 2-step verification ({_off(off)})",
                           **found.evidence())


@check("gcp.identity.sa_key_creation_disabled", Severity.MEDIUM,
       (Principle.JUST_IN_TIME, Principle.SECRETS),
       reads={ORG_POLICY, SA_KEY, f"{SERVICE_ACCOUNT}#keys", f"{SERVICE_ACCOUNT}#listing"},
       params={"max_age_days": 90})
def sa_key_creation_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Service-account key creation is disabled by organisation policy and no old key remains

    A user-managed key is a bearer credential that never expires by default and leaves the
    cloud: it defeats single sign-on, MFA and just-in-time access for whatever the account can
    do. The organisation policy iam.disableServiceAccountKeyCreation, in effect on the project,
    stops new keys; keys created before it stay valid, so a project passes only when the policy
    is enforced and every enabled user-managed key is younger than max_age_days (each key's
    own age is judged by gcp.iam.sa_keys_rotated).

    Remediation: Enforce iam.disableServiceAccountKeyCreation on the organisation (`gcloud
    resource-manager org-policies enable-enforce iam.disableServiceAccountKeyCreation
    --organization ORG`), replace keys with workload identity federation, attached service
    accounts or impersonation, and delete the remaining user-managed keys.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_age_days"))
    policies = _policies(ctx, DISABLE_KEY_CREATION)
    old: dict[str, list[dict[str, Any]]] = {}
    for key in ctx.inventory.of(SA_KEY):
        created = parse_time(key.attr("valid_after_time"))
        if key.attr("disabled") or created is None or age_days(created, now) <= limit:
            continue
        old.setdefault(key.account, []).append(
            {"key": key.name, "age_days": age_days(created, now)})
    for project in ctx.inventory.of(PROJECT):
        policy = policies.get(project.account)
        enforced = None if policy is None else policy.attr("enforced")
        stale = sorted(old.get(project.account, []), key=lambda k: -int(k["age_days"]))
        evidence = {"org_policy": DISABLE_KEY_CREATION, "enforced": enforced,
                    "old_keys": stale, "max_age_days": limit}
        problems = []
        if enforced is False:
            problems.append(f"{DISABLE_KEY_CREATION} is not enforced: anyone with "
                            "iam.serviceAccountKeys.create can mint long-lived keys")
        if stale:
            problems.append(f"{len(stale)} user-managed key(s) older than {limit} days "
                            f"(oldest {stale[0]['age_days']} days: {stale[0]['key']})")
        if problems:
            yield ctx.fail(project, "; ".join(problems), **evidence)
        elif enforced is None:
            why = "depends on tags" if policy is not None and policy.attr("conditional") \
                else "was not read"
            yield ctx.unknown(project, f"no old user-managed key, but the organisation policy "
                              f"{DISABLE_KEY_CREATION} {why}", **evidence)
        else:
            yield ctx.passed(project, f"key creation is disabled ({DISABLE_KEY_CREATION} "
                             f"enforced) and no user-managed key is older than {limit} days",
                             **evidence)


@check("gcp.identity.allowed_member_domains_restricted", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE,), reads={ORG_POLICY})
def allowed_member_domains_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Only the organisation's own directory can be granted roles (domain restricted sharing)

    The organisation policy iam.allowedPolicyMemberDomains limits IAM members to the listed
    Google Workspace / Cloud Identity customers, so every person holding a role signs in
    through the company's identity provider (SSO, MFA and offboarding apply). Without it, any
    personal Gmail account or another company's user can be granted access. The organisation's
    own customer id is named when the organisation was read.

    Remediation: Set iam.allowedPolicyMemberDomains on the organisation to the company's
    customer id(s) (`gcloud org-policies set-policy` with allowedValues: [C0xxxxxxx]); allow
    exceptions (e.g. a partner's directory) explicitly, per folder or project.
    """
    policies = _policies(ctx, ALLOWED_DOMAINS)
    for project in ctx.inventory.of(PROJECT):
        policy = policies.get(project.account)
        enforced = None if policy is None else policy.attr("enforced")
        nodes = lineage(ctx.inventory, project).nodes
        own = next((n.attr("directory_customer_id") for n in nodes
                    if n.type == ORGANIZATION and n.attr("directory_customer_id")), None)
        evidence: dict[str, Any] = {"org_policy": ALLOWED_DOMAINS,
                                    "organization_customer_id": own}
        if policy is not None:
            evidence.update(allowed_values=policy.attr("allowed_values"),
                            allow_all=policy.attr("allow_all"))
        if enforced:
            allowed = policy.attr("allowed_values") if policy is not None else []
            shown = ", ".join(allowed or []) or "none (deny all)"
            mine = " (the organisation's own directory)" if own and allowed == [own] else ""
            yield ctx.passed(project, f"only members of {shown}{mine} can be granted roles",
                             **evidence)
        elif enforced is False:
            why = "allows all domains" if evidence.get("allow_all") else "is not set"
            yield ctx.fail(project, f"{ALLOWED_DOMAINS} {why}: any Google account can be "
                           "granted a role", **evidence)
        elif policy is not None and policy.attr("conditional"):
            yield ctx.unknown(project, f"{ALLOWED_DOMAINS} depends on tags", **evidence)
        else:
            yield ctx.unknown(project, f"{ALLOWED_DOMAINS} was not read", **evidence)


def _standing(grant: Grant, now: Any, max_days: int) -> str | None:
    """Why a grant is standing (None = it ends within ``max_days`` of the scan)."""
    if not grant.condition:
        return "no condition"
    expiry = condition_expiry(grant.condition)
    if expiry is None:
        return (f"its condition '{condition_title(grant.condition)}' does not bound it in "
                "time")
    days = age_days(now, expiry)
    return f"it expires in {days} days (> {max_days})" if days > max_days else None


def _offer(e: Eligibility, member: str) -> str:
    name = str(e.entitlement.attr("entitlement_name"))
    eligible = member in (e.entitlement.attr("eligible_principals") or ())
    return f"{name} (to {member} too)" if eligible else name


@check("gcp.identity.no_standing_privileged_access", Severity.HIGH,
       (Principle.JUST_IN_TIME, Principle.LEAST_PRIVILEGE), reads={POLICY, *INHERITED},
       params={"privileged_roles": PRIVILEGED_ROLES, "max_time_bound_days": 90})
def no_standing_privileged_access(ctx: CheckContext) -> Iterator[Result]:
    """No person holds a privileged role on a project standing

    Owner, Editor and the roles that administer IAM or service accounts should be held just in
    time: requested through Privileged Access Manager (or granted with an IAM condition
    `request.time < timestamp(...)` that ends within max_time_bound_days). A grant to a user,
    group, domain or workforce identity counts wherever it is made: on the project, or on a
    folder or the organisation above it (named). A condition that does not end the grant at a
    fixed time (a resource name, a tag, a start time, a time of day), whatever its title says,
    leaves it standing. When a PAM entitlement already offers the same role, the finding names
    it: the standing grant is the only thing left to remove. Service accounts are judged by the
    impersonation checks.

    Remediation: Remove the standing binding and create a Privileged Access Manager entitlement
    for the role (eligible principals, an approval step, a short maximum duration); for a
    one-off need, grant with an IAM condition that expires.
    """
    roles, max_days = tuple(ctx.param("privileged_roles")), int(ctx.param("max_time_bound_days"))
    now = scan_time(ctx.inventory)
    for project in ctx.inventory.of(PROJECT):
        effective = effective_grants(ctx.inventory, project)
        if effective is None:
            yield ctx.unknown(project, "project IAM policy unknown")
            continue
        pid = str(project.attr("project_id") or project.account)
        eligible = eligibilities(ctx.inventory, pid, roles)
        held = [g for g in effective if g.role in roles and is_human(g.member)]
        standing = [(g, why) for g in held if (why := _standing(g, now, max_days))]
        bounded = [{**g.evidence(), "expires": str(condition_expiry(g.condition))}
                   for g in held if not _standing(g, now, max_days)]
        evidence: dict[str, Any] = {"time_bound": bounded,
                                    "pam_entitlements": [e.evidence() for e in eligible]}
        if standing:
            parts = []
            for g, why in standing:
                where = f" on {g.source}, inherited" if g.inherited else ""
                jit = sorted({_offer(e, g.member) for e in eligible if e.role == g.role})
                pam = f"; PAM entitlement {', '.join(jit)} offers it just in time" if jit else ""
                parts.append(f"{g.member} holds {g.role}{where} ({why}{pam})")
            grants = [{**g.evidence(), "standing_because": why} for g, why in standing]
            yield ctx.fail(project, "standing privileged access: " + "; ".join(parts),
                           grants=grants, **evidence)
        elif gap := lineage(ctx.inventory, project).gap:
            yield ctx.unknown(project, "no standing privileged role on what was read, but "
                              f"inherited grants are unknown: {gap}", **evidence)
        else:
            yield ctx.passed(project, "no person holds a privileged role standing", **evidence)


@check("gcp.identity.pam_entitlements_time_limited", Severity.MEDIUM, (Principle.JUST_IN_TIME,),
       reads={PAM_ENTITLEMENT},
       params={"privileged_roles": PRIVILEGED_ROLES, "max_request_hours": 8})
def pam_entitlements_time_limited(ctx: CheckContext) -> Iterator[Result]:
    """Privileged Access Manager entitlements for privileged roles are short and approved

    An entitlement is just-in-time access only if a grant ends soon and someone other than the
    requester agrees to it: an entitlement for a privileged role whose maximum request duration
    exceeds max_request_hours, or without an approval workflow (any eligible principal grants
    itself the role), is standing access with extra steps. Entitlements for other roles pass
    on duration alone.

    Remediation: Lower the entitlement's maximum request duration (`gcloud pam entitlements
    update ... --max-request-duration`) and add a manual approval step with approvers who are
    not the eligible principals.
    """
    roles, hours = set(ctx.param("privileged_roles")), int(ctx.param("max_request_hours"))
    for e in ctx.inventory.of(PAM_ENTITLEMENT):
        granted = sorted({str(rb.get("role")) for rb in e.attr("role_bindings") or ()})
        privileged = [r for r in granted if r in roles]
        seconds = e.attr("max_request_duration_seconds")
        evidence = {"roles": granted, "max_request_duration_seconds": seconds,
                    "approval_required": e.attr("approval_required"),
                    "eligible": e.attr("eligible_principals"), "max_request_hours": hours}
        problems = []
        if seconds is None:
            yield ctx.unknown(e, "maximum request duration unknown", **evidence)
            continue
        if seconds > hours * 3600:
            problems.append(f"grants last up to {seconds / 3600:g} hours (> {hours})")
        if privileged and not e.attr("approval_required"):
            problems.append(f"no approval is needed for {', '.join(privileged)}")
        if problems:
            yield ctx.fail(e, "; ".join(problems), **evidence)
        else:
            approval = ", approved" if e.attr("approval_required") else ""
            yield ctx.passed(e, f"grants of {', '.join(granted)} last at most "
                             f"{seconds / 3600:g} hours{approval}", **evidence)
