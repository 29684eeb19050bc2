"""Who can assume a role, in the terms of the identity policy: a person through SSO (a SAML
provider, IAM Identity Center), a person with IAM credentials (an account, an IAM user, anyone),
or only services and workloads; and whether such a person must have signed in with MFA.

MFA is required when every statement that lets a person assume the role demands it
(``Bool aws:MultiFactorAuthPresent true``, ``NumericLessThan aws:MultiFactorAuthAge``, or ``Null
aws:MultiFactorAuthAge false``; the ``…IfExists`` forms do not count: long-term credentials carry
no MFA key and pass them), or when the role's own policies deny every action without MFA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from posture.iam.principals import Principal
from posture.values import as_list, statements

SSO_ROLE_MARKERS = (":role/aws-reserved/sso.amazonaws.com/", ":role/AWSReservedSSO_")


class Path(StrEnum):
    NONE = "none"  # no person can assume it: services, web-identity workloads, other roles
    SSO = "sso"  # only people signed in through a SAML provider or IAM Identity Center
    MFA = "mfa"  # people with IAM credentials, all of them required to present MFA
    DIRECT = "direct"  # people with IAM credentials, without MFA


@dataclass(frozen=True, slots=True)
class HumanAccess:
    path: Path
    via: tuple[str, ...] = ()  # the trusted principals that let a person in
    without_mfa: tuple[Mapping[str, Any], ...] = ()  # the statements that do not demand MFA

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {"human_path": self.path.value, "trusted": list(self.via)}
        if self.without_mfa:
            out["statements_without_mfa"] = [dict(s) for s in self.without_mfa]
        return out


def _assume(stmt: Mapping[str, Any]) -> bool:
    return any(str(a).lower().startswith("sts:assumerole") or str(a) in ("*", "sts:*")
               for a in as_list(stmt.get("Action")))


def requires_mfa(condition: Any) -> bool:
    """The condition block admits only callers that signed in with MFA."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, Mapping):
            continue
        op = str(operator).lower()
        for key, value in tests.items():
            k, values = str(key).lower(), [str(v).lower() for v in as_list(value)]
            if op == "bool" and k == "aws:multifactorauthpresent" and values == ["true"]:
                return True
            if op.startswith("numericless") and k == "aws:multifactorauthage":
                return True
            if op == "null" and k == "aws:multifactorauthage" and values == ["false"]:
                return True
    return False


def _people(principal: Any) -> tuple[list[str], list[str]]:
    """(trusted entries through which a person with IAM credentials gets in, SSO entries)."""
    if principal == "*":
        return ["*"], []
    if not isinstance(principal, Mapping):
        return [], []
    people, sso = [], []
    for entry in (str(e) for e in as_list(principal.get("AWS"))):
        if any(m in entry for m in SSO_ROLE_MARKERS):
            sso.append(entry)
        elif entry == "*" or entry.isdigit() or entry.endswith(":root") or ":user/" in entry:
            people.append(entry)
    sso += [str(f) for f in as_list(principal.get("Federated")) if ":saml-provider/" in str(f)]
    return people, sso


def role_human_access(trust: Any, role: Principal | None = None) -> HumanAccess:
    """How people reach a role with this trust policy (``role``: its evaluated policies, for a
    deny-without-MFA guard)."""
    people: list[str] = []
    sso: list[str] = []
    bare: list[Mapping[str, Any]] = []
    for stmt in statements(trust):
        if stmt.get("Effect") != "Allow" or not _assume(stmt):
            continue
        humans, single = _people(stmt.get("Principal"))
        sso += single
        if humans:
            people += humans
            if not requires_mfa(stmt.get("Condition")):
                bare.append(stmt)
    via = tuple(dict.fromkeys(people + sso))
    if people:
        if not bare or (role is not None and denies_without_mfa(role)):
            return HumanAccess(Path.MFA, via)
        return HumanAccess(Path.DIRECT, via, tuple(bare))
    return HumanAccess(Path.SSO, via) if sso else HumanAccess(Path.NONE)


def denies_without_mfa(role: Principal) -> bool:
    """The role's own policies deny (nearly) everything to a session without MFA."""
    for s in role.denies:
        if not (s.all_resources or s.not_resource):
            continue
        if not (s.actions == ("*",) or s.not_action):
            continue
        for c in s.conditions:
            present = c.key == "aws:multifactorauthpresent"
            if present and c.base == "bool" and c.values == ("false",):
                return True
            if c.key == "aws:multifactorauthage" and c.base == "null" and c.values == ("true",):
                return True
    return False
