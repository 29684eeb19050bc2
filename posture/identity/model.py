"""The provider-neutral identity model: who (:class:`Identity`), reaches what, how
(:class:`Access`), gathered into one sorted :class:`IdentityView` per snapshot.

Every judgement carries its *basis* in words (the attribute, policy or convention that decided
it), and an undecided one is ``UNKNOWN`` with the reason: a credential report that was not
collected makes MFA unknown, never "not registered"; an account no convention classifies is of
unknown environment, never "not production".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    HUMAN = "human"
    GROUP = "group"  # a group, a domain, the users of an identity provider: people not listed
    WORKLOAD = "workload"  # a service role, service principal, managed identity, service account


class SignIn(StrEnum):
    SSO = "SSO"  # the organisation's identity provider (IAM Identity Center, Entra ID, ...)
    FEDERATED = "federated"  # another directory's identities (guests, SAML/OIDC federation)
    LOCAL = "local"  # credentials local to the cloud (IAM user password or keys, root)
    UNKNOWN = "unknown"


class Mfa(StrEnum):
    ENFORCED = "enforced"  # every sign-in must present a second factor
    REGISTERED = "registered"  # a factor is registered, but some sign-ins go without it
    NOT_REGISTERED = "not registered"
    UNKNOWN = "unknown"


class Privilege(StrEnum):
    ADMIN = "admin"
    WRITE = "write"
    READ = "read"
    UNKNOWN = "unknown"  # e.g. an admin verdict that depends on undecidable conditions


class Duration(StrEnum):
    STANDING = "standing"  # held now, with no end
    TIME_BOUND = "time-bound"  # held now, ends at a fixed time (a PIM activation, an expiry)
    ELIGIBLE = "eligible"  # not held: one request or activation away (PIM, PAM)


class Production(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Identity:
    """A human, group or workload identity, as its cloud or identity provider knows it."""

    provider: str
    account: str  # the account, tenant or project it lives in
    id: str  # unique within the view (an ARN, a Graph object uid, a GCP member)
    name: str  # display name (attacker-controlled: escape when shown)
    kind: Kind
    sign_in: SignIn
    sign_in_basis: str
    mfa: Mfa
    mfa_basis: str
    note: str = ""  # e.g. "documented break-glass account"


@dataclass(frozen=True, slots=True)
class Access:
    """One identity holding (or eligible for) a role on a scope."""

    identity: str  # Identity.id
    scope: str  # where, in words: ``account 123456789012``, ``subscription contoso-prod``
    role: str  # the role, permission set, directory role or IAM policy path
    privilege: Privilege
    privilege_basis: str
    privileged: bool  # privileged in the cloud's own sense (admin-equivalent, Owner, owner...)
    duration: Duration
    duration_basis: str
    production: Production
    production_basis: str
    via: str  # the group, assignment, role chain or inherited grant it comes through
    note: str = ""  # e.g. "a PAM entitlement offers the same role just in time"

    @property
    def standing_admin(self) -> bool:
        return self.privilege is Privilege.ADMIN and self.duration is Duration.STANDING


_PRIVILEGE_RANK = {Privilege.ADMIN: 0, Privilege.UNKNOWN: 1, Privilege.WRITE: 2,
                   Privilege.READ: 3}
_DURATION_RANK = {Duration.STANDING: 0, Duration.TIME_BOUND: 1, Duration.ELIGIBLE: 2}
_PRODUCTION_RANK = {Production.YES: 0, Production.UNKNOWN: 1, Production.NO: 2}
_MFA_RANK = {Mfa.NOT_REGISTERED: 0, Mfa.UNKNOWN: 1, Mfa.REGISTERED: 2, Mfa.ENFORCED: 3}
_KIND_RANK = {Kind.HUMAN: 0, Kind.GROUP: 1, Kind.WORKLOAD: 2}


def access_rank(a: Access) -> tuple[int, ...]:
    """Most dangerous first: standing admin on production before eligible read elsewhere."""
    return (_PRIVILEGE_RANK[a.privilege], _DURATION_RANK[a.duration],
            _PRODUCTION_RANK[a.production])


@dataclass(frozen=True, slots=True)
class Row:
    """One identity with its accesses (most dangerous first), as the report shows it."""

    identity: Identity
    accesses: tuple[Access, ...]

    @property
    def standing_admin(self) -> bool:
        return any(a.standing_admin for a in self.accesses)

    @property
    def privileged(self) -> bool:
        return any(a.privileged for a in self.accesses)

    @property
    def production(self) -> Production:
        """YES if any access reaches production, UNKNOWN if one might, else NO."""
        found = {a.production for a in self.accesses}
        for value in (Production.YES, Production.UNKNOWN):
            if value in found:
                return value
        return Production.NO

    def risk(self) -> tuple[object, ...]:
        """The sort key: standing admins first (humans, then groups, then workloads; without
        enforced MFA first); then by the most dangerous access (privilege, standing before just
        in time, production), MFA, kind, name."""
        top = min((access_rank(a) for a in self.accesses), default=(9, 9, 9))
        mfa, kind = _MFA_RANK[self.identity.mfa], _KIND_RANK[self.identity.kind]
        first = (kind, mfa) if self.standing_admin else (0, 0)
        return (not self.standing_admin, *first, top, mfa, kind, self.identity.name.lower(),
                self.identity.id)


@dataclass(frozen=True, slots=True)
class Summary:
    humans: int  # humans with any access
    production: int  # humans whose access reaches production
    production_unknown: int  # humans whose access might reach production (environment unknown)
    without_mfa: int  # of ``production``: MFA not enforced (unknown included)
    mfa_unknown: int  # of ``without_mfa``: MFA unknown
    standing_admin: int  # humans holding standing admin anywhere
    groups_unexpanded: int  # privileged groups whose members are not known

    def sentence(self) -> str:
        """``N humans can reach production; M without enforced MFA; K hold standing admin``."""
        n, m, k = self.production, self.without_mfa, self.standing_admin
        text = f"{n} human{'s' if n != 1 else ''} can reach production"
        if self.production_unknown:
            text += f" ({self.production_unknown} more where the environment is unknown)"
        text += f"; {m} without enforced MFA"
        if self.mfa_unknown:
            text += f" ({self.mfa_unknown} of them unknown)"
        text += f"; {k} hold{'s' if k == 1 else ''} standing admin"
        if self.groups_unexpanded:
            text += (f"; {self.groups_unexpanded} privileged group"
                     f"{'s' if self.groups_unexpanded != 1 else ''} whose members are not known")
        return text + "."


@dataclass(frozen=True, slots=True)
class IdentityView:
    """Every identity of a snapshot and what it reaches, sorted and deterministic."""

    provider: str
    identities: tuple[Identity, ...]  # sorted by id
    accesses: tuple[Access, ...]  # sorted by identity, then rank, scope, role
    gaps: tuple[str, ...] = ()  # what was not read, so what the view cannot show

    def __bool__(self) -> bool:
        return bool(self.identities)

    def rows(self) -> tuple[Row, ...]:
        """Every identity with its accesses, most risky first."""
        by: dict[str, list[Access]] = {}
        for a in self.accesses:
            by.setdefault(a.identity, []).append(a)
        rows = [Row(i, tuple(by.get(i.id, ()))) for i in self.identities]
        return tuple(sorted(rows, key=Row.risk))

    def shown(self) -> tuple[Row, ...]:
        """What the report's table lists: humans, and groups and workloads with privileged
        access."""
        return tuple(r for r in self.rows()
                     if r.identity.kind is Kind.HUMAN or r.privileged)

    def summary(self) -> Summary:
        humans = [r for r in self.rows() if r.identity.kind is Kind.HUMAN and r.accesses]
        prod = [r for r in humans if r.production is Production.YES]
        without = [r for r in prod if r.identity.mfa is not Mfa.ENFORCED]
        unexpanded = [r for r in self.rows() if r.identity.kind is Kind.GROUP and r.privileged
                      and "members not known" in r.identity.note]
        return Summary(
            humans=len(humans),
            production=len(prod),
            production_unknown=sum(r.production is Production.UNKNOWN for r in humans),
            without_mfa=len(without),
            mfa_unknown=sum(r.identity.mfa is Mfa.UNKNOWN for r in without),
            standing_admin=sum(r.standing_admin for r in humans),
            groups_unexpanded=len(unexpanded),
        )


def assemble(provider: str, identities: Iterable[Identity], accesses: Iterable[Access],
             gaps: Iterable[str] = ()) -> IdentityView:
    """The view of what a builder found: identities de-duplicated by id (the first wins),
    accesses de-duplicated, and only accesses of a known identity kept; sorted."""
    ids: dict[str, Identity] = {}
    for i in identities:
        ids.setdefault(i.id, i)
    kept = {a for a in accesses if a.identity in ids}
    ordered = sorted(kept, key=lambda a: (a.identity, access_rank(a), a.scope, a.role, a.via,
                                          a.duration_basis, a.note))
    return IdentityView(provider, tuple(ids[k] for k in sorted(ids)), tuple(ordered),
                        tuple(sorted(set(gaps))))
