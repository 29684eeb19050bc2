"""Entra ID semantics: who a conditional-access policy requires MFA of, who holds which directory
role (active, through a role-assignable group, or PIM-eligible), privileged roles, break-glass
accounts, and each principal's display name. Reads the Graph assets of docs/azure-assets.md
("Entra ID"); pure, no SDK.

**Conditional access** (Microsoft's documented evaluation): a policy applies to a user when the
user is included (``All``, the user, a group the user is a transitive member of, a directory role
the user holds, guests and external users) and not excluded by any of the same; exclusions win.
A policy *requires MFA* when it is ``enabled`` (report-only enforces nothing) and its grant
demands MFA: ``mfa`` among the built-in controls or an authentication strength, with operator
``AND``, or ``OR`` with nothing else to choose instead. A policy *covers all access* when nothing
narrows it to some sign-ins: every cloud app (``All`` and no excluded app), every client app
type, no platform, location, device-filter or risk condition. A user is covered when at least
one such policy applies to them: coverage is judged per user across every enabled policy, so a
guest excluded from one policy on purpose but included in another is covered. An unknown group
membership or role makes a user's coverage unknown, never assumed.

**Directory roles**: an active assignment (``unifiedRoleAssignment``) is standing unless a PIM
schedule instance says it is an activation (``Activated``) or it ends (``end`` set); an
eligibility is one activation away. A role held by a group is held by each transitive member.
Privileged roles: Graph's ``isPrivileged`` on the role definition, or one of the built-in
templates in :data:`PRIVILEGED_ROLES`.

**Break-glass accounts** (posture's documented convention): a user whose ``employeeType`` is
``break-glass`` (any case; ``BreakGlass``, ``emergency-access`` and ``emergency_access`` too) or
whose user principal name a check's ``break_glass_accounts`` parameter lists. Such an account may
hold standing Global Administrator and be excluded from MFA policies; the findings name it.

**Principals by name** (:class:`PrincipalNames`): an object id an Azure RBAC grant names is
shown as the Entra ID user, group or service principal of that id when the directory was read
(``Alice Smith (alice@contoso.com, user 1111abcd…)``), else as ARM's principal type and the id.
Display names are text anyone who can rename an object chose: they are cleaned of control
characters and bounded here, and reach reports only through the reporters' escaping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from posture import azure as entra
from posture.iam.conditions import Truth
from posture.model import Asset, Inventory

PRINCIPAL_TYPES = (entra.USER, entra.GROUP, entra.SERVICE_PRINCIPAL)

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
PRIVILEGED_ROLES = {
    GLOBAL_ADMIN: "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}
"""Built-in directory roles that can take over the tenant or its identities (template id →
name); Graph's ``isPrivileged`` flag on a role definition adds to these."""

BREAK_GLASS_TYPES = frozenset({"breakglass", "emergencyaccess"})
ALL_CLIENT_TYPES = frozenset({"browser", "mobileappsanddesktopclients", "exchangeactivesync",
                              "other"})
GUEST_TYPES = frozenset({"b2bcollaborationguest", "internalguest", "b2bcollaborationmember",
                         "b2bdirectconnectuser", "otherexternaluser", "serviceprovider"})


def _ids(values: Any) -> set[str]:
    return {str(v).lower() for v in values or ()}


def privileged(asset: Asset) -> bool:
    """Whether a directory role assignment or eligibility is of a privileged role."""
    return bool(asset.attr("role_privileged")) or str(
        asset.attr("role_template_id") or "").lower() in PRIVILEGED_ROLES


def role_label(asset: Asset) -> str:
    return str(asset.attr("role_name") or PRIVILEGED_ROLES.get(
        str(asset.attr("role_template_id") or "").lower()) or asset.attr("role_template_id"))


def is_break_glass(user: Asset, accounts: Iterable[str] = ()) -> bool:
    """posture's break-glass convention (module docstring)."""
    kind = "".join(ch for ch in str(user.attr("employee_type") or "").lower() if ch.isalnum())
    upn = str(user.attr("user_principal_name") or "").lower()
    return kind in BREAK_GLASS_TYPES or upn in {a.lower() for a in accounts}


@dataclass(frozen=True, slots=True)
class MfaPolicy:
    """What one conditional-access policy demands, read from its asset."""

    asset: Asset
    requires_mfa: bool
    narrowed_by: tuple[str, ...]  # why it does not cover every sign-in ("" none)

    @property
    def name(self) -> str:
        return str(self.asset.attr("display_name") or self.asset.name)

    @property
    def enforces(self) -> bool:
        return self.requires_mfa and not self.narrowed_by

    @classmethod
    def of(cls, policy: Asset) -> MfaPolicy:
        a = policy.attr
        controls = {str(c).lower() for c in a("grant_controls") or ()}
        strength = bool(a("authentication_strength"))
        mfa = "mfa" in controls or strength
        if str(a("grant_operator") or "OR").upper() == "OR":
            mfa = mfa and not (controls - {"mfa"})
        enabled = str(a("state") or "").lower() == "enabled"
        return cls(policy, enabled and mfa, tuple(narrowing(policy)))


def narrowing(policy: Asset) -> list[str]:
    """The conditions that limit a policy to some sign-ins (empty: every sign-in)."""
    a = policy.attr
    out = []
    if "all" not in _ids(a("include_applications")):
        out.append("only some cloud apps")
    if a("exclude_applications"):
        out.append(f"excludes {len(a('exclude_applications'))} cloud app(s)")
    if a("include_user_actions"):
        out.append("user actions only")
    types = _ids(a("client_app_types"))
    if types and "all" not in types and not types >= ALL_CLIENT_TYPES:
        out.append(f"client apps {', '.join(sorted(types))} only")
    for key, label in (("platforms", "platforms"), ("locations", "locations"),
                       ("devices", "a device filter"), ("sign_in_risk_levels", "sign-in risk"),
                       ("user_risk_levels", "user risk")):
        if a(key):
            out.append(f"limited by {label}")
    return out


@dataclass(frozen=True, slots=True)
class Coverage:
    """A user's MFA coverage across every enabled policy requiring MFA."""

    state: Truth
    by: tuple[str, ...] = ()  # the policies that surely apply
    excluded_from: tuple[str, ...] = ()  # MFA policies that would apply but exclude the user
    unknown: tuple[str, ...] = ()  # why undecided
    narrowed: tuple[str, ...] = ()  # MFA policies that apply only to some sign-ins

    def evidence(self) -> dict[str, Any]:
        return {"covered": self.state.name.lower(), "by": list(self.by),
                "excluded_from": list(self.excluded_from), "undecided": list(self.unknown),
                "narrowed_policies": list(self.narrowed)}


@dataclass
class Directory:
    """The tenant's directory as the checks see it (one per inventory; several tenants merge)."""

    tenants: list[Asset]
    users: dict[str, Asset]
    groups: dict[str, Asset]
    policies: list[MfaPolicy]
    security_defaults: dict[str, bool | None]  # tenant account -> enabled (None: unknown)
    assignments: list[Asset]
    eligibilities: list[Asset]
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, inventory: Inventory) -> Directory:
        by_id = {str(a.attr("object_id") or "").lower(): a
                 for t in PRINCIPAL_TYPES for a in inventory.of(t)}
        return cls(
            tenants=list(inventory.of(entra.TENANT)),
            users={str(u.attr("object_id")).lower(): u for u in inventory.of(entra.USER)},
            groups={str(g.attr("object_id")).lower(): g for g in inventory.of(entra.GROUP)},
            policies=[MfaPolicy.of(p) for p in inventory.of(entra.CA_POLICY)],
            security_defaults={d.account: d.attr("enabled")
                               for d in inventory.of(entra.SECURITY_DEFAULTS)},
            assignments=list(inventory.of(entra.DIRECTORY_ROLE)),
            eligibilities=list(inventory.of(entra.DIRECTORY_ELIGIBILITY)),
            names={k: str(a.attr("display_name") or a.name) for k, a in by_id.items() if k},
        )

    def name(self, principal_id: Any) -> str:
        return self.names.get(str(principal_id or "").lower(), f"unknown principal "
                              f"{principal_id}")

    def member(self, group_id: str, user_id: str) -> Truth:
        group = self.groups.get(group_id.lower())
        members = group.attr("member_user_ids") if group is not None else None
        if members is None:
            return Truth.UNKNOWN
        return Truth.TRUE if user_id.lower() in _ids(members) else Truth.FALSE

    def holders(self, grant: Asset) -> list[tuple[str, str | None]]:
        """(user id, via group name) of each user a role grant gives the role to; a group
        whose members were not read gives ``("?", group name)``."""
        pid = str(grant.attr("principal_id") or "").lower()
        if pid in self.users:
            return [(pid, None)]
        group = self.groups.get(pid)
        if group is None:
            return []
        members = group.attr("member_user_ids")
        if members is None:
            return [("?", self.name(pid))]
        return [(m, self.name(pid)) for m in sorted(_ids(members)) if m in self.users]

    def roles_of(self, user_id: str, eligible: bool = False) -> list[tuple[Asset, str | None]]:
        """The role grants (assignment, or eligibility) a user holds, with the group they come
        through; unresolved groups are returned with holder ``?`` by :meth:`holders` and left
        out here."""
        grants = self.eligibilities if eligible else self.assignments
        uid = user_id.lower()
        return [(g, via) for g in grants for who, via in self.holders(g) if who == uid]

    def privileged_roles(self, user_id: str) -> list[str]:
        """Names of the privileged roles a user holds, active or eligible."""
        held = self.roles_of(user_id) + self.roles_of(user_id, eligible=True)
        return sorted({role_label(g) for g, _ in held if privileged(g)})

    def _role_match(self, roles: set[str], user_id: str, extra: set[str]) -> Truth:
        if not roles:
            return Truth.FALSE
        held = {str(g.attr("role_template_id") or "").lower()
                for g, _ in self.roles_of(user_id)} | extra
        if roles & held:
            return Truth.TRUE
        unresolved = any(who == "?" for g in self.assignments for who, _ in self.holders(g)
                         if str(g.attr("role_template_id") or "").lower() in roles)
        return Truth.UNKNOWN if unresolved else Truth.FALSE

    def _side(self, policy: Asset, side: str, user: Asset, extra: set[str]) -> Truth:
        a = policy.attr
        uid = str(user.attr("object_id")).lower()
        users = _ids(a(f"{side}_users"))
        guest = str(user.attr("user_type") or "").lower() == "guest"
        hits = [Truth.TRUE if ("all" in users and side == "include") or uid in users else
                Truth.FALSE]
        guests = _ids(a(f"{side}_guests"))
        if guest and ("guestsorexternalusers" in users or guests & GUEST_TYPES):
            hits.append(Truth.TRUE)
        hits += [self.member(g, uid) for g in _ids(a(f"{side}_groups"))]
        hits.append(self._role_match(_ids(a(f"{side}_roles")), uid, extra))
        return max(hits)

    def applies(self, policy: Asset, user: Asset, extra_roles: Iterable[str] = ()) -> Truth:
        """Whether a policy applies to a user (``extra_roles``: role templates to count as held,
        e.g. an eligible role once activated)."""
        extra = _ids(extra_roles)
        return min(self._side(policy, "include", user, extra),
                   Truth(2 - self._side(policy, "exclude", user, extra)))

    def coverage(self, user: Asset, extra_roles: Iterable[str] = ()) -> Coverage:
        if self.security_defaults.get(user.account):
            return Coverage(Truth.TRUE, by=("security defaults",))
        by, excluded, unknown, narrowed = [], [], [], []
        for p in self.policies:
            if not p.requires_mfa:
                continue
            verdict = self.applies(p.asset, user, extra_roles)
            if p.narrowed_by:
                if verdict is not Truth.FALSE:
                    narrowed.append(f"{p.name} ({'; '.join(p.narrowed_by)})")
                continue
            if verdict is Truth.TRUE:
                by.append(p.name)
            elif verdict is Truth.UNKNOWN:
                unknown.append(f"{p.name}: group membership or role unknown")
            else:
                include = self._side(p.asset, "include", user, _ids(extra_roles))
                if include is not Truth.FALSE:
                    excluded.append(p.name)
        state = Truth.TRUE if by else Truth.UNKNOWN if unknown else Truth.FALSE
        return Coverage(state, tuple(by), tuple(excluded), tuple(unknown), tuple(narrowed))


NAME_LIMIT = 120
"""Characters of a display name kept in a message (Graph allows 256)."""


def clean(text: Any) -> str:
    """A directory-supplied name fit for a one-line message: control characters (newlines,
    escape sequences) become spaces, runs of spaces one, at most :data:`NAME_LIMIT`
    characters."""
    shown = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return shown if len(shown) <= NAME_LIMIT else shown[: NAME_LIMIT - 1] + "…"


def short_id(object_id: str) -> str:
    """The first block of an object id (``1111abcd…``): enough beside a name; the evidence
    keeps the whole id."""
    head = object_id.split("-", 1)[0]
    return f"{head}…" if head != object_id else object_id


@dataclass(frozen=True, slots=True)
class PrincipalNames:
    """The tenant's users, groups and service principals by lower-case object id: how the
    Azure RBAC checks name the principal of a grant (module docstring)."""

    by_id: Mapping[str, Asset]

    @classmethod
    def of(cls, inventory: Inventory) -> PrincipalNames:
        return cls({str(a.attr("object_id") or "").lower(): a
                    for t in PRINCIPAL_TYPES for a in inventory.of(t)
                    if a.attr("object_id")})

    def find(self, principal_id: Any) -> Asset | None:
        return self.by_id.get(str(principal_id or "").lower())

    def label(self, principal_id: Any, principal_type: Any = "Unknown") -> str:
        """``Alice Smith (alice@contoso.com, user 1111abcd…)``, ``Helpdesk Admins (group
        6000…)``, ``deploy-pipeline (service principal 5b00…)``; ``User 1111abcd-…`` (ARM's type
        and the whole id) when the directory does not hold the principal."""
        found = self.find(principal_id)
        if found is None:
            return f"{principal_type} {principal_id}"
        name, upn = clean(found.attr("display_name") or found.name), found.attr(
            "user_principal_name")
        who = f"{kind_of(found)} {short_id(str(found.attr('object_id')))}"
        if upn and clean(upn) != name:
            return f"{name} ({clean(upn)}, {who})"
        return f"{name} ({who})"

    def evidence(self, principal_id: Any) -> dict[str, Any]:
        """What the directory says of the principal (``principal_name`` None: not in it)."""
        found = self.find(principal_id)
        if found is None:
            return {"principal_name": None}
        out = {"principal_name": found.attr("display_name"), "principal_kind": kind_of(found)}
        if found.attr("user_principal_name"):
            out["user_principal_name"] = found.attr("user_principal_name")
        if found.attr("app_id"):
            out["app_id"] = found.attr("app_id")
        return out


def kind_of(principal: Asset) -> str:
    """``user``, ``guest``, ``group``, ``managed identity`` or ``service principal``."""
    if principal.type == entra.USER:
        return "guest" if str(principal.attr("user_type")).lower() == "guest" else "user"
    if principal.type == entra.GROUP:
        return "group"
    if str(principal.attr("service_principal_type")).lower() == "managedidentity":
        return "managed identity"
    return "service principal"


def enabled_users(directory: Directory, tenant_account: str) -> list[Asset]:
    return sorted((u for u in directory.users.values()
                   if u.account == tenant_account and u.attr("account_enabled") is not False),
                  key=lambda u: (str(u.attr("display_name") or ""), u.uid))


def describe_user(user: Asset) -> str:
    """``Display Name (upn)``: how findings name a user."""
    upn = user.attr("user_principal_name")
    shown = str(user.attr("display_name") or upn or user.name)
    return f"{shown} ({upn})" if upn and upn != shown else shown


def names(users: Sequence[Asset], limit: int = 10) -> str:
    shown = ", ".join(describe_user(u) for u in users[:limit])
    return shown + (f" and {len(users) - limit} more" if len(users) > limit else "")


def credential_lifetimes(
    asset: Asset, now: str
) -> list[dict[str, Any]]:
    """Each credential of an application or service principal with its lifetime and days left
    (ISO dates; ``None`` when a date is missing)."""
    import datetime as dt

    def parse(value: Any) -> dt.datetime | None:
        if not value:
            return None
        text = str(value).replace("Z", "+00:00")
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    at = parse(now) or dt.datetime.now(dt.UTC)
    out = []
    for cred in asset.attr("credentials") or ():
        start, end = parse(cred.get("start")), parse(cred.get("end"))
        out.append({
            **{k: cred.get(k) for k in ("kind", "display_name", "key_id", "start", "end")},
            "lifetime_days": (end - start).days if start and end else None,
            "days_left": (end - at).days if end else None,
        })
    return out


def by_account(assets: Iterable[Asset]) -> Mapping[str, list[Asset]]:
    out: dict[str, list[Asset]] = {}
    for a in assets:
        out.setdefault(a.account, []).append(a)
    return out
