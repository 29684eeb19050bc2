"""AWS identities: IAM Identity Center users and groups with the permission sets assigned to them,
IAM users (people with a console password, else workloads with access keys), the root user,
workload roles that are admin-equivalent, and the users of a workforce SAML provider.

Judgements reuse :mod:`posture.iam`: admin-equivalence of a permission set is the evaluator's
verdict on it in the assigned account (:func:`~posture.iam.permission_sets.permission_set_admin`),
of an IAM user or role its shortest path to ADMIN in the identity graph (escalations and role
assumptions included); who can assume a role is :func:`~posture.iam.human_access.role_human_access`.
Below admin, a principal whose allow statements name write, tagging or permissions-management
actions is ``write``, else ``read`` (as far as its policies say: conditions and denies are not
subtracted). Identity Center's own MFA settings are not collected, so its users' MFA is unknown;
an IAM user's MFA comes from the credential report, else from ListMFADevices, else is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.iam.actions import AccessLevel
from posture.iam.evaluate import Decision, Evaluator
from posture.iam.graph import IdentityGraph, build_identity_graph
from posture.iam.human_access import SSO_ROLE_MARKERS, Path, role_human_access
from posture.iam.permission_sets import permission_set_admin, permission_set_principal
from posture.iam.principals import Principal
from posture.identity.environment import Env, aws_account_env
from posture.identity.model import (
    Access,
    Duration,
    Identity,
    IdentityView,
    Kind,
    Mfa,
    Privilege,
    SignIn,
    assemble,
)
from posture.model import Asset, Inventory
from posture.values import as_list, statements

IS_USER = "AWS::IdentityStore::User"
IS_GROUP = "AWS::IdentityStore::Group"
PERMISSION_SET = "AWS::SSO::PermissionSet"
IAM_USER = "AWS::IAM::User"
IAM_ROLE = "AWS::IAM::Role"
ROOT = "AWS::IAM::RootUser"
REPORT = "AWS::IAM::CredentialReport"
SAML = "AWS::IAM::SAMLProvider"
READS = frozenset({IS_USER, IS_GROUP, PERMISSION_SET, IAM_USER, IAM_ROLE, ROOT})
BREAK_GLASS_TAG = "posture:break-glass"  # aws.identity.humans_sign_in_through_sso's default
CENTER_MFA = "IAM Identity Center's MFA settings are not collected"
UNEXPANDED = "members not known"


class _Builder:
    def __init__(self, inventory: Inventory) -> None:
        self.inv = inventory
        self.graph: IdentityGraph = build_identity_graph(inventory)
        self.ev: Evaluator = self.graph.evaluator
        self.identities: list[Identity] = []
        self.accesses: list[Access] = []
        self.gaps: list[str] = []
        self._envs: dict[str, Env] = {}

    def env(self, account: str) -> Env:
        if account not in self._envs:
            self._envs[account] = aws_account_env(self.inv, account)
        return self._envs[account]

    def access(self, identity: str, account: str, role: str, privilege: tuple[Privilege, str],
               duration: tuple[Duration, str], via: str, note: str = "") -> None:
        env = self.env(account)
        priv, basis = privilege
        self.accesses.append(Access(
            identity, f"account {account}", role, priv, basis,
            priv in (Privilege.ADMIN, Privilege.UNKNOWN), duration[0], duration[1],
            env.production, env.basis, via, note))


def _level(ev: Evaluator, p: Principal) -> tuple[Privilege, str] | None:
    """write / read from the actions the principal's allow statements name (None: none)."""
    write = (ev.catalogue.level_mask(AccessLevel.WRITE)
             | ev.catalogue.level_mask(AccessLevel.PERMISSIONS_MANAGEMENT)
             | ev.catalogue.level_mask(AccessLevel.TAGGING))
    if p.allow_mask & write:
        sample = ", ".join(ev.catalogue.names(p.allow_mask & write, limit=3))
        return Privilege.WRITE, f"its policies allow write actions ({sample}, ...)"
    if p.allow_mask:
        return Privilege.READ, "its policies allow only read and list actions"
    return None


def _ps_privilege(b: _Builder, ps: Asset, account: str) -> tuple[Privilege, str] | None:
    verdict, unknown = permission_set_admin(b.ev, ps, account)
    if verdict.decision is Decision.ALLOWED:
        return Privilege.ADMIN, "admin-equivalent (IAM evaluator on the permission set's policies)"
    if verdict.decision is Decision.CONDITIONAL or unknown:
        why = "; ".join(unknown) or "conditions the snapshot cannot decide"
        return Privilege.UNKNOWN, f"admin-equivalence undecided: {why}"
    return _level(b.ev, permission_set_principal(b.ev.store, ps, account))


def _center_identity(asset: Asset | None, uid: str, name: str, kind: Kind) -> Identity:
    store = asset.attr("identity_store_id") if asset is not None else None
    what = "user" if kind is Kind.HUMAN else "group"
    basis = f"IAM Identity Center {what}" + (f" (identity store {store})" if store else
                                             " (not in the collected identity store)")
    note = ""
    if kind is Kind.GROUP and (asset is None or asset.attr("member_user_ids") is None):
        note = UNEXPANDED
    account = asset.account if asset is not None else ""
    return Identity("aws", account, uid, name, kind, SignIn.SSO, basis, Mfa.UNKNOWN, CENTER_MFA,
                    note)


def identity_center(b: _Builder) -> None:
    users = {str(a.attr("user_id")): a for a in b.inv.of(IS_USER)}
    groups = {str(a.attr("group_id")): a for a in b.inv.of(IS_GROUP)}
    for a in users.values():
        b.identities.append(_center_identity(a, a.uid, a.name, Kind.HUMAN))
    for a in groups.values():
        b.identities.append(_center_identity(a, a.uid, a.name, Kind.GROUP))
    for ps in b.inv.of(PERMISSION_SET):
        rows = ps.attr("assignments")
        if rows is None:
            b.gaps.append(f"the assignments of permission set {ps.name} were not read")
            continue
        partition = ps.uid.split(":")[1] if ps.uid.count(":") > 1 else "aws"
        seconds = ps.attr("session_seconds")
        session = f"; sessions up to {seconds / 3600:g} h" if seconds else ""
        duration = (Duration.STANDING, f"Identity Center account assignment, no end{session}")
        for row in rows:
            account, pid = str(row.get("account_id")), str(row.get("principal_id"))
            privilege = _ps_privilege(b, ps, account)
            if privilege is None:
                continue
            role = f"permission set {ps.name}"
            shown = str(row.get("principal_name") or pid)
            if str(row.get("principal_type")).upper() == "GROUP":
                group = groups.get(pid)
                shown = group.name if group is not None else shown
                uid = group.uid if group else f"arn:{partition}:identitystore:::group/{pid}"
                if group is None:
                    b.identities.append(_center_identity(None, uid, shown, Kind.GROUP))
                b.access(uid, account, role, privilege, duration, "account assignment")
                for member in (group.attr("member_user_ids") if group else None) or ():
                    person = users.get(str(member))
                    muid = person.uid if person else \
                        f"arn:{partition}:identitystore:::user/{member}"
                    if person is None:
                        b.identities.append(_center_identity(None, muid, str(member),
                                                             Kind.HUMAN))
                    b.access(muid, account, role, privilege, duration, f"group {shown}")
            else:
                person = users.get(pid)
                uid = person.uid if person else f"arn:{partition}:identitystore:::user/{pid}"
                if person is None:
                    b.identities.append(_center_identity(None, uid, shown, Kind.HUMAN))
                b.access(uid, account, role, privilege, duration, "direct account assignment")


def _report_rows(inv: Inventory) -> dict[str, Mapping[str, Any] | None]:
    """Account -> {user ARN: credential report row} (None: the report was not collected)."""
    out: dict[str, Any] = {}
    for report in inv.of(REPORT):
        users = report.attr("users")
        out[report.account] = None if users is None else {str(r.get("arn")): r for r in users}
    return out


def _keys_active(keys: Any) -> bool | None:
    if keys is None:
        return None
    return any(str(k.get("status", "")).lower() == "active" or k.get("active") is True
               for k in keys)


def _mfa(active: bool | None, source: str, keys: bool | None) -> tuple[Mfa, str]:
    if active is None:
        return Mfa.UNKNOWN, source
    if not active:
        return Mfa.NOT_REGISTERED, f"no MFA device ({source})"
    if keys is None:
        return Mfa.REGISTERED, f"MFA device active ({source}); access keys unknown"
    if keys:
        return Mfa.REGISTERED, (f"MFA device active ({source}), but an active access key signs "
                                "API calls without it")
    return Mfa.ENFORCED, (f"MFA device active ({source}): asked at every console sign-in; no "
                          "active access key")


def user_mfa(user: Asset, rows: Mapping[str, Any] | None) -> tuple[Mfa, str]:
    """From the credential report, else the user's listed MFA devices, else unknown."""
    keys = _keys_active(user.attr("access_keys"))
    row = rows.get(user.uid) if rows is not None else None
    if row is not None and row.get("mfa_active") is not None:
        return _mfa(bool(row["mfa_active"]), "credential report", keys)
    devices = user.attr("mfa_devices")
    if devices is not None:
        return _mfa(bool(devices), "ListMFADevices", keys)
    why = "not in the credential report" if rows is not None else "credential report not collected"
    return Mfa.UNKNOWN, f"{why}; MFA devices not listed"


def _break_glass(asset: Asset) -> bool:
    return any(k.lower() == BREAK_GLASS_TAG and v.strip().lower() == "true"
               for k, v in asset.tags.items())


def _admin(b: _Builder, arn: str) -> tuple[tuple[Privilege, str], str] | None:
    path = b.graph.admin_path(arn)
    if path is None:
        return None
    if path.conditional:
        return (Privilege.UNKNOWN, "a path to admin that depends on undecidable conditions"), \
            path.describe(b.graph.names())
    how = "its own policies" if path.direct else "an escalation or role path"
    return (Privilege.ADMIN, f"admin-equivalent through {how} (identity graph)"), \
        path.describe(b.graph.names())


def iam_users(b: _Builder) -> None:
    reports = _report_rows(b.inv)
    standing = (Duration.STANDING, "IAM user credentials and policies have no end")
    for user in b.inv.of(IAM_USER):
        console = user.attr("has_console_password")
        kind = Kind.WORKLOAD if console is False else Kind.HUMAN
        basis = {True: "IAM user with a console password", False: "IAM user without a console "
                 "password (access keys only)", None: "IAM user (console password unknown)"}
        mfa, mfa_basis = user_mfa(user, reports.get(user.account))
        note = "documented break-glass account (tag posture:break-glass)" \
            if _break_glass(user) else ""
        b.identities.append(Identity("aws", user.account, user.uid, user.name, kind,
                                     SignIn.LOCAL, basis[console], mfa, mfa_basis, note))
        admin = _admin(b, user.uid)
        principal = b.graph.principal(user.uid)
        if admin is not None:
            b.access(user.uid, user.account, "administrator", admin[0], standing, admin[1])
        elif principal is not None and (level := _level(b.ev, principal)) is not None:
            b.access(user.uid, user.account, "IAM policies", level, standing,
                     "own and group policies")


def root_user(b: _Builder) -> None:
    for root in b.inv.of(ROOT):
        keys = root.attr("access_keys")
        if root.attr("in_report"):
            mfa = _mfa(root.attr("mfa_active"), "credential report", _keys_active(keys))
            if mfa[0] is not Mfa.NOT_REGISTERED and root.attr("mfa_type"):
                mfa = (mfa[0], f"{mfa[1]}; {root.attr('mfa_type')} device")
        else:
            mfa = (Mfa.UNKNOWN, "root is not in the credential report (not collected)")
        b.identities.append(Identity("aws", root.account, root.uid, f"root ({root.account})",
                                     Kind.HUMAN, SignIn.LOCAL, "the account's root user "
                                     "(e-mail and password)", *mfa))
        b.access(root.uid, root.account, "root user",
                 (Privilege.ADMIN, "root is not limited by IAM policies"),
                 (Duration.STANDING, "root's password exists as long as the account"),
                 "the account itself")


def _trusted(trust: Any) -> tuple[list[str], list[str]]:
    """(services, web-identity providers) a trust policy admits."""
    services: list[str] = []
    federated: list[str] = []
    for stmt in statements(trust):
        principal = stmt.get("Principal")
        if stmt.get("Effect") != "Allow" or not isinstance(principal, Mapping):
            continue
        services += [str(s) for s in as_list(principal.get("Service"))]
        federated += [str(f) for f in as_list(principal.get("Federated"))
                      if ":saml-provider/" not in str(f)]
    return sorted(set(services)), sorted(set(federated))


def iam_roles(b: _Builder) -> None:
    saml = {a.uid: a for a in b.inv.of(SAML)}
    for role in b.inv.of(IAM_ROLE):
        if role.attr("service_linked") or any(m in role.uid for m in SSO_ROLE_MARKERS):
            continue  # permission sets are judged as such
        trust = role.attr("trust_policy")
        if trust is None:
            b.gaps.append(f"the trust policy of role {role.name} was not read")
            continue
        human = role_human_access(trust, b.graph.principal(role.uid))
        admin = _admin(b, role.uid)
        seconds = role.attr("max_session_duration")
        session = f"; sessions up to {int(seconds) / 3600:g} h" if seconds else ""
        standing = (Duration.STANDING, f"role trust has no end{session}")
        if human.path is Path.NONE and admin is not None:
            services, federated = _trusted(trust)
            sign_in = (SignIn.FEDERATED, f"web identity from {', '.join(federated)}") \
                if federated else (SignIn.LOCAL, f"assumed by {', '.join(services) or 'services'}")
            b.identities.append(Identity("aws", role.account, role.uid, role.name,
                                         Kind.WORKLOAD, *sign_in, Mfa.NOT_REGISTERED,
                                         "workload identity: no second factor"))
            b.access(role.uid, role.account, f"role {role.name}", admin[0], standing, admin[1])
        elif human.path is Path.SSO:
            _saml_users(b, role, human.via, saml, admin, standing)


def _saml_users(b: _Builder, role: Asset, via: tuple[str, ...], saml: Mapping[str, Asset],
                admin: tuple[tuple[Privilege, str], str] | None,
                standing: tuple[Duration, str]) -> None:
    principal = b.graph.principal(role.uid)
    if admin is not None:
        privilege = admin[0]
    elif principal is None or (level := _level(b.ev, principal)) is None:
        return
    else:
        privilege = level
    for entry in via:
        if ":saml-provider/" not in entry or entry.rsplit("/", 1)[-1].startswith("AWSSSO_"):
            continue
        name = entry.rsplit("/", 1)[-1]
        basis = f"SAML provider {name}" + ("" if entry in saml else " (not collected)")
        b.identities.append(Identity("aws", role.account, entry, f"users of SAML provider {name}",
                                     Kind.GROUP, SignIn.SSO, basis, Mfa.UNKNOWN,
                                     "enforced (or not) by the identity provider, not read",
                                     UNEXPANDED))
        b.access(entry, role.account, f"role {role.name}", privilege, standing,
                 f"SAML federation into role {role.name}")


def aws_identities(inventory: Inventory) -> IdentityView:
    """Every AWS identity of the snapshot and what it reaches (see the module docstring)."""
    b = _Builder(inventory)
    identity_center(b)
    iam_users(b)
    root_user(b)
    iam_roles(b)
    return assemble("aws", b.identities, b.accesses, b.gaps)
