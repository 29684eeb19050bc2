"""Azure identities: Entra ID users, guests, groups and service principals, with their directory
roles and their Azure RBAC roles on subscriptions, resource groups and management groups.

Judgements reuse :mod:`posture.iam`: a user's MFA is Entra's conditional-access coverage of that
user (:meth:`~posture.iam.entra.Directory.coverage`, judged with the privileged roles the user
holds or may activate), then the registration report; directory role holders through groups,
privileged directory roles and PIM activations are :mod:`posture.iam.entra`'s; RBAC grants,
eligibilities and role power are :mod:`posture.iam.azure_roles`' (Owner-power and role-assigning
roles are admin, ``*`` without access management is write). A member user signs in through
Entra ID, the tenant's identity provider (SSO); a guest through its home organisation
(federated). Disabled users are left out: they cannot sign in.

A privileged directory role reaches production when it can reach every subscription: Global
Administrator elevates itself to User Access Administrator at the root, and Privileged Role
Administrator can make itself Global Administrator; other directory roles grant no Azure
resource access by themselves (unknown).
"""

from __future__ import annotations

from collections.abc import Iterable

from posture import azure as entra
from posture.iam.azure_roles import (
    BUILTIN,
    ELIGIBILITY,
    MANAGEMENT_GROUP,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    Grant,
    Power,
    Role,
)
from posture.iam.conditions import Truth
from posture.iam.entra import (
    GLOBAL_ADMIN,
    Directory,
    describe_user,
    is_break_glass,
    privileged,
    role_label,
)
from posture.identity.environment import (
    AZURE_SUBSCRIPTION,
    Env,
    any_production,
    azure_subscription_env,
)
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
from posture.model import Asset, Inventory

PRIVILEGED_ROLE_ADMIN = "e8611ab8-c189-46e8-94e1-60213ab1f814"
TENANT_WIDE = frozenset({GLOBAL_ADMIN, PRIVILEGED_ROLE_ADMIN})
WORKLOAD_MFA = "workload identity: no second factor"
UNEXPANDED = "members not known"


class _Builder:
    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory
        self.dir = Directory.of(inventory)
        self.roles = {**BUILTIN, **{r.guid: r for r in map(Role.of, inventory.of(ROLE_DEFINITION))}}
        self.sps = {str(a.attr("object_id") or "").lower(): a
                    for a in inventory.of(entra.SERVICE_PRINCIPAL)}
        self.subs = {s.account.lower(): s for s in inventory.of(AZURE_SUBSCRIPTION)}
        self.identities: dict[str, Identity] = {}
        self.accesses: list[Access] = []
        self.gaps: list[str] = []

    def sub_name(self, sub_id: str) -> str:
        sub = self.subs.get(sub_id.lower())
        return str(sub.attr("display_name") or sub.name) if sub is not None else sub_id

    def env(self, sub_id: str) -> Env:
        return azure_subscription_env(self.inv, sub_id)

    def all_subscriptions(self) -> list[str]:
        return sorted({*self.subs, *(a.lower() for a in self.inv.meta.accounts)})


# -- identities ---------------------------------------------------------------------------------


def _unread(inv: Inventory, account: str) -> str:
    errors = [e for e in inv.errors_affecting((entra.CA_POLICY, entra.SECURITY_DEFAULTS))
              if e.covers(account, "global")]
    return "; ".join(e.describe() for e in errors)


def user_mfa(b: _Builder, user: Asset) -> tuple[Mfa, str]:
    """Enforced when conditional access (or security defaults) requires MFA of every sign-in
    of the user, judged with the privileged roles the user holds or may activate."""
    uid = str(user.attr("object_id"))
    held = b.dir.roles_of(uid) + b.dir.roles_of(uid, eligible=True)
    templates = {str(g.attr("role_template_id")) for g, _ in held if privileged(g)}
    cover = b.dir.coverage(user, extra_roles=templates)
    if cover.state is Truth.TRUE:
        return Mfa.ENFORCED, "required by " + ", ".join(cover.by)
    if cover.state is Truth.UNKNOWN:
        return Mfa.UNKNOWN, "; ".join(cover.unknown)
    if unread := _unread(b.inv, user.account):
        return Mfa.UNKNOWN, f"the MFA policies were not all read: {unread}"
    why = (f"excluded from {', '.join(map(repr, cover.excluded_from))}" if cover.excluded_from
           else "no enabled conditional-access policy requiring MFA for every sign-in applies")
    registered = user.attr("mfa_registered")
    if registered:
        methods = ", ".join(user.attr("mfa_methods") or ())
        return Mfa.REGISTERED, f"registered ({methods}) but not enforced: {why}"
    if registered is False:
        return Mfa.NOT_REGISTERED, f"no MFA method registered; not enforced: {why}"
    return Mfa.UNKNOWN, f"not enforced ({why}); registration not in the report"


def _user(b: _Builder, user: Asset) -> str | None:
    """The identity id of an enabled user (None: disabled)."""
    if user.attr("account_enabled") is False:
        return None
    if user.uid not in b.identities:
        guest = str(user.attr("user_type") or "").lower() == "guest"
        sign_in = (SignIn.FEDERATED, "guest: signs in through its home organisation") if guest \
            else (SignIn.SSO, "Entra ID member account (the tenant is the identity provider)"
                  + ("; synced from on-premises AD" if user.attr("on_premises_sync") else ""))
        note = "documented break-glass account (employeeType)" if is_break_glass(user) else ""
        b.identities[user.uid] = Identity("azure", user.account, user.uid, describe_user(user),
                                          Kind.HUMAN, *sign_in, *user_mfa(b, user), note)
    return user.uid


def _group(b: _Builder, group: Asset | None, pid: str, account: str) -> str:
    uid = group.uid if group is not None else f"group:{pid}"
    if uid not in b.identities:
        name = str(group.attr("display_name") or group.name) if group is not None \
            else f"group {pid}"
        note = UNEXPANDED if group is None or group.attr("member_user_ids") is None else ""
        b.identities[uid] = Identity("azure", account, uid, name, Kind.GROUP, SignIn.SSO,
                                     "Entra ID group", Mfa.UNKNOWN, "per member", note)
    return uid


def _workload(b: _Builder, pid: str, kind: str, account: str) -> str:
    sp = b.sps.get(pid)
    uid = sp.uid if sp is not None else f"serviceprincipal:{pid}"
    if uid not in b.identities:
        name = str(sp.attr("display_name") or sp.name) if sp is not None else f"{kind} {pid}"
        creds = sp.attr("credentials") if sp is not None else None
        basis = ("service principal with secrets or certificates" if creds else
                 "service principal without stored credentials (managed identity or federated)"
                 if sp is not None else f"{kind} not in Entra ID as read (a managed identity?)")
        b.identities[uid] = Identity("azure", account, uid, name, Kind.WORKLOAD, SignIn.LOCAL,
                                     basis, Mfa.NOT_REGISTERED, WORKLOAD_MFA)
    return uid


def _unknown_user(b: _Builder, pid: str, account: str) -> str:
    uid = f"user:{pid}"
    if uid not in b.identities:
        b.identities[uid] = Identity("azure", account, uid, f"user {pid}", Kind.HUMAN,
                                     SignIn.UNKNOWN, "not in Entra ID as read", Mfa.UNKNOWN,
                                     "not in Entra ID as read")
    return uid


def holders(b: _Builder, pid: str, ptype: str, account: str) -> list[tuple[str, str]]:
    """(identity id, via) of everyone a grant to principal ``pid`` gives the role to: the
    principal itself, and each enabled member of a group."""
    pid = pid.lower()
    user = b.dir.users.get(pid)
    if user is not None:
        found = _user(b, user)
        return [(found, "direct assignment")] if found else []
    group = b.dir.groups.get(pid)
    if group is not None or ptype.lower() == "group":
        name = str(group.attr("display_name") or group.name) if group else f"group {pid}"
        out = [(_group(b, group, pid, account), "assignment")]
        for member in (group.attr("member_user_ids") if group else None) or ():
            person = b.dir.users.get(str(member).lower())
            if person is not None and (found := _user(b, person)):
                out.append((found, f"group {name}"))
        return out
    if pid in b.sps or ptype.lower() in ("serviceprincipal", "msi", "foreigngroup"):
        return [(_workload(b, pid, ptype, account), "assignment")]
    if ptype.lower() == "user":
        return [(_unknown_user(b, pid, account), "direct assignment")]
    return [(_workload(b, pid, ptype or "principal", account), "assignment")]


# -- directory roles ----------------------------------------------------------------------------


def _tenant_env(b: _Builder, template: str) -> Env:
    if template not in TENANT_WIDE:
        return Env(Production.UNKNOWN, "a directory role grants no Azure resource access by itself")
    reach = any_production([(f"subscription {b.sub_name(s)}", b.env(s))
                            for s in b.all_subscriptions()])
    how = "Global Administrator can elevate itself to User Access Administrator on every " \
        "subscription" if template == GLOBAL_ADMIN else \
        "Privileged Role Administrator can make itself Global Administrator"
    return Env(reach.production, f"{how}: {reach.basis}")


def _directory_duration(grant: Asset) -> tuple[Duration, str]:
    if grant.type == entra.DIRECTORY_ELIGIBILITY:
        end = grant.attr("end")
        return Duration.ELIGIBLE, f"PIM-eligible (eligibility ends {end or 'never'})"
    pim = grant.attr("pim") or {}
    if pim.get("assignment_type") == "Activated":
        return Duration.TIME_BOUND, f"PIM activation ending {pim.get('end')}"
    if pim.get("end"):
        return Duration.TIME_BOUND, f"assignment ending {pim.get('end')}"
    unread = "" if grant.attr("pim_known") else " (PIM schedules not read)"
    return Duration.STANDING, f"active assignment without end{unread}"


def directory_roles(b: _Builder) -> None:
    tenants = {t.account: str(t.attr("display_name") or t.name) for t in b.inv.of(entra.TENANT)}
    for grant in [*b.dir.assignments, *b.dir.eligibilities]:
        label, template = role_label(grant), str(grant.attr("role_template_id") or "").lower()
        if privileged(grant):
            privilege = (Privilege.ADMIN, "privileged directory role")
        else:
            read = "reader" in label.lower()
            privilege = (Privilege.READ if read else Privilege.WRITE,
                         "unprivileged directory role")
        env = _tenant_env(b, template)
        duration = _directory_duration(grant)
        scope = f"tenant {tenants.get(grant.account, grant.account)}"
        pid = str(grant.attr("principal_id") or "")
        for who, via in holders(b, pid, "", grant.account):
            b.accesses.append(Access(who, scope, f"directory role {label}", *privilege,
                                     privilege[0] is Privilege.ADMIN, *duration, env.production,
                                     env.basis, via))


# -- Azure RBAC ---------------------------------------------------------------------------------


def rbac_privilege(role: Role | None) -> tuple[Privilege, str, bool]:
    """(privilege, basis, privileged) of an RBAC role."""
    if role is None:
        return Privilege.UNKNOWN, "role definition not collected", True
    if role.power is Power.OWNER:
        return Privilege.ADMIN, "every action (Owner power)", True
    if role.power is Power.ASSIGN:
        return Privilege.ADMIN, "writes role assignments: Owner one assignment away", True
    if role.power is Power.CONTRIBUTOR:
        return Privilege.WRITE, "every action but access management ('*')", True
    actions = [a for b in role.blocks for a in b.actions]
    if actions and all(a.lower().endswith("/read") for a in actions):
        return Privilege.READ, "read actions only", False
    return Privilege.WRITE, "some write actions", False


def _scope(b: _Builder, grant: Grant, asset: Asset) -> tuple[str, Env]:
    parts = grant.scope.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "subscriptions":
        sub = parts[1]
        where = f"subscription {b.sub_name(sub)}"
        if len(parts) >= 4 and parts[2] == "resourcegroups":
            where = f"resource group {parts[3]} in {where}"
        elif len(parts) > 4:
            where = f"resource {parts[-1]} in {where}"
        return where, b.env(sub)
    if "managementgroups" in parts:
        group = b.inv.get(grant.scope)
        subs = [str(s) for s in group.attr("subscriptions") or ()] \
            if group is not None and group.type == MANAGEMENT_GROUP else [asset.account]
        return f"management group {parts[-1]}", any_production(
            [(f"subscription {b.sub_name(s)}", b.env(s)) for s in subs])
    return "the tenant root", any_production(
        [(f"subscription {b.sub_name(s)}", b.env(s)) for s in b.all_subscriptions()])


def _rbac_duration(grant: Grant) -> tuple[Duration, str]:
    a = grant.asset
    if grant.eligible:
        return Duration.ELIGIBLE, f"PIM-eligible (eligibility ends {a.attr('end') or 'never'})"
    if grant.activated:
        return Duration.TIME_BOUND, f"PIM activation ending {(a.attr('pim') or {}).get('end')}"
    return Duration.STANDING, "active role assignment without end"


def rbac(b: _Builder) -> None:
    for asset in b.inv.of(ROLE_ASSIGNMENT, ELIGIBILITY):
        grant = Grant.of(asset)
        role = b.roles.get(grant.role_guid)
        privilege, basis, flag = rbac_privilege(role)
        name = str(asset.attr("role_name") or (role.name if role else grant.role_guid))
        where, env = _scope(b, grant, asset)
        note = "ABAC condition on the assignment" if grant.condition else ""
        for who, via in holders(b, grant.principal_id, grant.principal_type, asset.account):
            b.accesses.append(Access(who, where, name, privilege, basis, flag,
                                     *_rbac_duration(grant), env.production, env.basis, via,
                                     note))


def _gaps(b: _Builder) -> Iterable[str]:
    if not b.inv.of(entra.TENANT):
        yield "Entra ID was not read: users, MFA and directory roles are unknown"


def azure_identities(inventory: Inventory) -> IdentityView:
    """Every Azure identity of the snapshot and what it reaches (see the module docstring)."""
    b = _Builder(inventory)
    for user in sorted(b.dir.users.values(), key=lambda u: u.uid):
        _user(b, user)
    directory_roles(b)
    rbac(b)
    return assemble("azure", b.identities.values(), b.accesses, [*b.gaps, *_gaps(b)])
