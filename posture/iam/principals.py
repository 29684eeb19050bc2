"""Principals as the evaluator sees them: every identity policy that applies (managed, inline,
inherited from groups), the permissions boundary, the request context the inventory decides.

Built once from the inventory (:func:`load_principals`); each managed policy document is parsed
once and shared by every principal that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.iam.actions import ActionCatalogue
from posture.iam.conditions import ABSENT, RequestContext, Value
from posture.iam.policy import Effect, Policy, Statement, parse_policy
from posture.model import Asset, Inventory

USER = "AWS::IAM::User"
ROLE = "AWS::IAM::Role"
GROUP = "AWS::IAM::Group"
POLICY = "AWS::IAM::Policy"


@dataclass(frozen=True, slots=True)
class Principal:
    """An IAM user, role or group (a group stands for "a member of it", for AddUserToGroup)."""

    arn: str
    kind: str  # "user" | "role" | "group"
    name: str
    account: str
    asset: Asset
    policies: tuple[Policy, ...]
    boundary: Policy | None
    boundary_unknown: bool
    unknown: tuple[str, ...]  # why the policy set is incomplete (empty when fully known)
    context: RequestContext
    variables: Mapping[str, str]
    allows: tuple[Statement, ...] = field(init=False, repr=False)
    denies: tuple[Statement, ...] = field(init=False, repr=False)
    allow_mask: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        identity = [s for p in self.policies for s in p.statements]
        boundary_denies = list(self.boundary.denies()) if self.boundary is not None else []
        allows = tuple(s for s in identity if s.effect == Effect.ALLOW)
        denies = tuple(s for s in identity if s.effect == Effect.DENY) + tuple(boundary_denies)
        mask = 0
        for s in allows:
            mask |= s.action_mask
        object.__setattr__(self, "allows", allows)
        object.__setattr__(self, "denies", denies)
        object.__setattr__(self, "allow_mask", mask)

    @property
    def human(self) -> bool:
        """IAM users are people or long-lived workload identities with standing credentials."""
        return self.kind == "user"

    def holds(self, policy_arn: str) -> bool:
        return any(p.label == policy_arn for p in self.policies)


class PolicyStore:
    """Managed policy documents by ARN, each parsed once."""

    def __init__(self, inventory: Inventory, catalogue: ActionCatalogue) -> None:
        self.catalogue = catalogue
        self.assets = {a.uid: a for a in inventory.of(POLICY)}
        self._parsed: dict[str, Policy | None] = {}
        self._resource: dict[str, Policy] = {}

    def managed(self, arn: str) -> Policy | None:
        """The parsed default version, or None when its document is unknown."""
        if arn not in self._parsed:
            asset = self.assets.get(arn)
            doc = None if asset is None else asset.attr("document")
            self._parsed[arn] = None if doc is None else parse_policy(doc, arn, self.catalogue)
        return self._parsed[arn]

    def resource_policy(self, label: str, document: Any) -> Policy:
        """A resource or trust policy, parsed once per label."""
        cached = self._resource.get(label)
        if cached is None:
            cached = self._resource[label] = parse_policy(document, label, self.catalogue)
        return cached

    def inline(self, owner: str, name: str, document: Any) -> Policy:
        return parse_policy(document, f"{owner}#inline/{name}", self.catalogue)


def _identity_policies(store: PolicyStore, asset: Asset, unknown: list[str]) -> list[Policy]:
    out: list[Policy] = []
    inline = asset.attr("inline_policies")
    if inline is None:
        unknown.append(f"{asset.name}: inline policies unknown")
    else:
        out += [store.inline(asset.uid, n, d) for n, d in sorted(inline.items())]
    attached = asset.attr("attached_policy_arns")
    if attached is None:
        unknown.append(f"{asset.name}: attached policies unknown")
    for arn in attached or ():
        policy = store.managed(arn)
        if policy is None:
            unknown.append(f"document of {arn} unknown")
        else:
            out.append(policy)
    return out


def _boundary(store: PolicyStore, asset: Asset, unknown: list[str]) -> tuple[Policy | None, bool]:
    arn = asset.attr("permissions_boundary_arn")
    if not arn:
        return None, False
    policy = store.managed(str(arn))
    if policy is None:
        unknown.append(f"permissions boundary {arn} unknown")
        return None, True
    return policy, False


def _context(asset: Asset, kind: str) -> tuple[RequestContext, dict[str, str]]:
    arn = asset.uid
    variables = {"aws:principalaccount": asset.account, "aws:principalarn": arn}
    values: dict[str, Value] = {
        "aws:principalaccount": (asset.account,),
        "aws:principalarn": (arn,),
        "aws:principaltype": ("User" if kind == "user" else "AssumedRole",),
        "aws:securetransport": ("true",),  # the caller chooses TLS
        "aws:principalisawsservice": ("false",),
    }
    for key, value in asset.tags.items():
        values[f"aws:principaltag/{key.lower()}"] = (value,)
        variables[f"aws:principaltag/{key.lower()}"] = value
    if kind == "user":
        name = str(asset.attr("user_name") or asset.name)
        values["aws:username"] = (name,)
        variables["aws:username"] = name
        if asset.attr("user_id"):
            values["aws:userid"] = (str(asset.attr("user_id")),)
            variables["aws:userid"] = str(asset.attr("user_id"))
        devices, keys = asset.attr("mfa_devices"), asset.attr("access_keys")
        if devices:
            values["aws:multifactorauthpresent"] = ("true",)
        elif devices is not None:
            # without a device, MFA is never present: absent with access keys, false at console
            active = keys is not None and any(k.get("status") == "Active" for k in keys)
            values["aws:multifactorauthpresent"] = ABSENT if active else ("false",)
    absent = ("aws:principaltag/",) if kind != "group" else ()
    return RequestContext(values, absent_prefixes=absent), variables


def load_principals(inventory: Inventory, store: PolicyStore) -> dict[str, Principal]:
    """Every user, role and group of the inventory, by ARN."""
    groups = {a.attr("group_name") or a.name: a for a in inventory.of(GROUP)}
    out: dict[str, Principal] = {}
    for asset in inventory.of(USER, ROLE, GROUP):
        kind = {USER: "user", ROLE: "role", GROUP: "group"}[asset.type]
        unknown: list[str] = []
        policies = _identity_policies(store, asset, unknown)
        if kind == "user":
            names = asset.attr("group_names")
            if names is None:
                unknown.append(f"{asset.name}: groups unknown")
            for name in names or ():
                group = groups.get(name)
                if group is None:
                    unknown.append(f"group {name} not collected")
                else:
                    policies += _identity_policies(store, group, unknown)
        boundary, boundary_unknown = (
            (None, False) if kind == "group" else _boundary(store, asset, unknown)
        )
        context, variables = _context(asset, kind)
        out[asset.uid] = Principal(
            arn=asset.uid,
            kind=kind,
            name=asset.name,
            account=asset.account,
            asset=asset,
            policies=tuple(policies),
            boundary=boundary,
            boundary_unknown=boundary_unknown,
            unknown=tuple(unknown),
            context=context,
            variables=variables,
        )
    return out
