"""GCP identities: the members of each project's *effective* IAM policy (its own grants and those
inherited from folders and the organisation, :func:`posture.gcp.effective_grants`) and the
principals eligible for a role through a Privileged Access Manager entitlement.

Judgements reuse :mod:`posture.iam`: privileged roles and PAM eligibilities are
:mod:`posture.iam.gcp_access`'s; a grant is time-bound only when its IAM condition ends it at a
fixed time (:func:`posture.iam.gcp.condition_expiry`), any other condition leaves it standing.
A ``user:`` or ``group:`` of the organisation's own domain signs in through the organisation's
Cloud Identity / Workspace (SSO); of another domain, or when the organisation was not read,
its sign-in path is unknown. Whether Google enforces 2-Step Verification is an admin-console
setting posture does not read: MFA of Google accounts is unknown (OS Login 2-step covers SSH
to VMs only). Group members are not read.
"""

from __future__ import annotations

from posture.gcp import ORGANIZATION, PAM_ENTITLEMENT, PROJECT, SERVICE_ACCOUNT, effective_grants
from posture.gcp import lineage as project_lineage
from posture.iam.gcp import condition_expiry, condition_title
from posture.iam.gcp_access import PRIVILEGED_ROLES, eligibilities
from posture.identity.environment import Env, gcp_project_env
from posture.identity.model import (
    Access,
    Duration,
    Identity,
    IdentityView,
    Kind,
    Mfa,
    Privilege,
    Production,
    SignIn,
    assemble,
)
from posture.model import Inventory
from posture.values import parse_time

GOOGLE_MFA = ("2-Step Verification enforcement is a Cloud Identity / Workspace setting, not "
              "read")
WORKLOAD_MFA = "workload identity: no second factor"
UNEXPANDED = "members not known"
_WRITE_WORDS = ("admin", "editor", "developer", "writer", "creator", "user", "invoker", "deployer")
_READ_WORDS = ("viewer", "browser", "reader", "accessor", "lister", "getter")


def role_privilege(role: str) -> tuple[Privilege, str]:
    if role == "roles/owner":
        return Privilege.ADMIN, "basic role owner: every permission, IAM included"
    if role in PRIVILEGED_ROLES and role != "roles/editor":
        return Privilege.ADMIN, ("a privileged role: administers IAM, or acts as or holds keys of "
                                 "service accounts")
    if role == "roles/editor":
        return Privilege.WRITE, "basic role editor: changes most resources"
    if not role.startswith("roles/"):
        return Privilege.UNKNOWN, "custom role (its permissions are not expanded)"
    last = role.rsplit(".", 1)[-1].lower()
    if any(w in last for w in _READ_WORDS):
        return Privilege.READ, "a viewer role"
    if any(w in last for w in _WRITE_WORDS):
        return Privilege.WRITE, "a predefined role that changes resources"
    return Privilege.UNKNOWN, "a predefined role posture does not grade"


class _Builder:
    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory
        self.domains = sorted({str(o.attr("display_name") or "").lower()
                               for o in inventory.of(ORGANIZATION) if o.attr("display_name")})
        self.sas = {str(a.attr("email") or a.name): a for a in inventory.of(SERVICE_ACCOUNT)}
        self.identities: dict[str, Identity] = {}
        self.accesses: list[Access] = []
        self.gaps: list[str] = []

    def _google(self, member: str) -> tuple[SignIn, str]:
        domain = member.rsplit("@", 1)[-1].lower() if "@" in member else ""
        if domain and domain in self.domains:
            return SignIn.SSO, f"managed account of the organisation's domain {domain}"
        if not self.domains:
            return SignIn.UNKNOWN, "Google account; the organisation (its domain) was not read"
        return SignIn.UNKNOWN, (f"Google account outside the organisation's domain "
                                f"{', '.join(self.domains)}: signs in elsewhere")

    def identity(self, member: str, project: str) -> str | None:
        """The identity id of an IAM member (None: a deleted principal)."""
        if member in self.identities:
            return member
        kind, rest = member.split(":", 1) if ":" in member else ("", member)
        if kind == "deleted":
            return None
        found: Identity
        if kind == "user":
            found = Identity("gcp", project, member, rest, Kind.HUMAN, *self._google(member),
                             Mfa.UNKNOWN, GOOGLE_MFA)
        elif kind == "group":
            found = Identity("gcp", project, member, rest, Kind.GROUP, *self._google(member),
                             Mfa.UNKNOWN, "per member", UNEXPANDED)
        elif kind == "domain":
            found = Identity("gcp", project, member, f"everyone in {rest}", Kind.GROUP,
                             *self._google(f"@{rest}"), Mfa.UNKNOWN, GOOGLE_MFA, UNEXPANDED)
        elif kind == "serviceAccount":
            sa = self.sas.get(rest)
            keys = (sa.attr("user_managed_key_ids") or []) if sa is not None else None
            basis = ("service account" + (f" with {len(keys)} user-managed key(s)" if keys
                     else "" if keys is not None else " (not collected)"))
            found = Identity("gcp", project, member, rest, Kind.WORKLOAD, SignIn.LOCAL, basis,
                             Mfa.NOT_REGISTERED, WORKLOAD_MFA)
        elif "workforcePools/" in member:
            person = member.startswith("principal://")
            found = Identity("gcp", project, member, member.rsplit("/", 2)[-1],
                             Kind.HUMAN if person else Kind.GROUP, SignIn.FEDERATED,
                             "workforce identity federation", Mfa.UNKNOWN,
                             "enforced (or not) by the workforce identity provider, not read",
                             "" if person else UNEXPANDED)
        elif "workloadIdentityPools/" in member:
            found = Identity("gcp", project, member, member.rsplit("/", 2)[-1], Kind.WORKLOAD,
                             SignIn.FEDERATED, "workload identity federation",
                             Mfa.NOT_REGISTERED, WORKLOAD_MFA)
        else:
            found = Identity("gcp", project, member, member, Kind.GROUP, SignIn.UNKNOWN,
                             "a special member (anyone, a role's holders)", Mfa.UNKNOWN,
                             "not applicable", UNEXPANDED)
        self.identities[member] = found
        return member


def _duration(condition: object, now: str) -> tuple[Duration, str]:
    if not condition:
        return Duration.STANDING, "IAM binding without condition"
    expiry = condition_expiry(condition)
    if expiry is None:
        return Duration.STANDING, (f"its condition '{condition_title(condition)}' does not bound "
                                   "it in time")
    at = parse_time(now) if now else None
    past = " (already expired)" if at is not None and expiry < at else ""
    return Duration.TIME_BOUND, f"IAM condition ends it at {expiry.isoformat()}{past}"


def projects(b: _Builder) -> None:
    now = b.inv.meta.finished_at
    for project in b.inv.of(PROJECT):
        pid = str(project.attr("project_id") or project.account)
        found = effective_grants(b.inv, project)
        if found is None:
            b.gaps.append(f"the IAM policy of project {pid} was not read")
            continue
        if gap := project_lineage(b.inv, project).gap:
            b.gaps.append(f"project {pid}: inherited grants unknown ({gap})")
        env = gcp_project_env(b.inv, pid)
        for g in found:
            who = b.identity(g.member, pid)
            if who is None:
                continue
            offered = sorted({str(e.entitlement.attr("entitlement_name"))
                              for e in eligibilities(b.inv, pid, [g.role])})
            note = (f"PAM entitlement {', '.join(offered)} offers {g.role} just in time"
                    if offered else "")
            via = f"inherited from {g.source}" if g.inherited else "project IAM policy"
            b.accesses.append(Access(who, f"project {pid}", g.role, *role_privilege(g.role),
                                     g.role in PRIVILEGED_ROLES, *_duration(g.condition, now),
                                     env.production, env.basis, via, note))


def entitlements(b: _Builder) -> None:
    for e in b.inv.of(PAM_ENTITLEMENT):
        name = str(e.attr("entitlement_name") or e.name)
        resource = str(e.attr("resource") or "")
        if "/projects/" in resource or not resource:
            pid = resource.rsplit("/projects/", 1)[-1] if resource else e.account
            scope, env = f"project {pid}", gcp_project_env(b.inv, pid)
        else:
            scope = resource.split("googleapis.com/", 1)[-1]
            env = Env(Production.UNKNOWN, f"entitlement on {scope}: covers the projects below it")
        seconds = e.attr("max_request_duration_seconds")
        hours = f"up to {int(seconds) / 3600:g} h" if seconds else "duration unknown"
        approval = {True: "approval required", False: "no approval",
                    None: "approval unknown"}[e.attr("approval_required")]
        basis = f"PAM entitlement {name}: {hours}, {approval}"
        for member in e.attr("eligible_principals") or ():
            who = b.identity(str(member), e.account)
            if who is None:
                continue
            for rb in e.attr("role_bindings") or ():
                role = str(rb.get("role"))
                b.accesses.append(Access(who, scope, role, *role_privilege(role),
                                         role in PRIVILEGED_ROLES, Duration.ELIGIBLE, basis,
                                         env.production, env.basis, f"PAM entitlement {name}"))


def gcp_identities(inventory: Inventory) -> IdentityView:
    """Every GCP identity of the snapshot and what it reaches (see the module docstring)."""
    b = _Builder(inventory)
    projects(b)
    entitlements(b)
    return assemble("gcp", b.identities.values(), b.accesses, b.gaps)
