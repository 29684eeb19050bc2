"""IAM Identity Center permission sets as principals of the IAM evaluator.

A permission set becomes, in each account it is provisioned to, a role whose identity policies
are the set's AWS-managed policies, its customer-managed policy references (resolved to the
policy of that name and path in the account) and its inline policy, limited by the set's
permissions boundary. :func:`permission_set_principal` builds that role as the evaluator's
:class:`~posture.iam.principals.Principal`, so :meth:`Evaluator.admin` judges admin-equivalence
exactly as for IAM roles (a policy whose document was not collected, or an unread boundary,
makes the verdict conditional, never a silent pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.iam.conditions import RequestContext, Value
from posture.iam.evaluate import Evaluator, Verdict
from posture.iam.policy import Policy
from posture.iam.principals import PolicyStore, Principal
from posture.model import Asset

PERMISSION_SET = "AWS::SSO::PermissionSet"


def customer_policy_arn(account: str, ref: Mapping[str, Any], partition: str = "aws") -> str:
    path = str(ref.get("path") or "/")
    return f"arn:{partition}:iam::{account}:policy{path}{ref.get('name')}"


def _managed(store: PolicyStore, arn: str, unknown: list[str]) -> Policy | None:
    policy = store.managed(arn)
    if policy is None:
        unknown.append(f"document of {arn} unknown")
    return policy


def _policies(store: PolicyStore, ps: Asset, account: str, unknown: list[str]) -> list[Policy]:
    out: list[Policy] = []
    aws, customer = ps.attr("aws_managed_policy_arns"), ps.attr("customer_managed_policies")
    if aws is None or customer is None:
        unknown.append(f"{ps.name}: managed policies unknown")
    refs = [str(a) for a in aws or ()]
    refs += [customer_policy_arn(account, c) for c in customer or ()]
    out += [p for p in (_managed(store, arn, unknown) for arn in refs) if p is not None]
    present = ps.attr("inline_policy_present")
    if present is None:
        unknown.append(f"{ps.name}: inline policy unknown")
    elif present:
        out.append(store.inline(ps.uid, "inline", ps.attr("inline_policy")))
    return out


def _boundary(store: PolicyStore, ps: Asset, account: str,
              unknown: list[str]) -> tuple[Policy | None, bool]:
    present = ps.attr("permissions_boundary_present")
    if present is None:
        unknown.append(f"{ps.name}: permissions boundary unknown")
        return None, True
    if not present:
        return None, False
    spec = ps.attr("permissions_boundary") or {}
    if spec.get("customer_managed_policy"):
        arn = customer_policy_arn(account, spec["customer_managed_policy"])
    else:
        arn = str(spec.get("managed_policy_arn"))
    policy = _managed(store, arn, unknown)
    return policy, policy is None


def permission_set_principal(store: PolicyStore, ps: Asset, account: str) -> Principal:
    """The role a permission set provisions in ``account``, as the evaluator sees it."""
    unknown: list[str] = []
    policies = _policies(store, ps, account, unknown)
    boundary, boundary_unknown = _boundary(store, ps, account, unknown)
    arn = f"{ps.uid}@{account}"
    values: dict[str, Value] = {
        "aws:principalaccount": (account,),
        "aws:principaltype": ("AssumedRole",),
        "aws:securetransport": ("true",),
        "aws:principalisawsservice": ("false",),
    }
    return Principal(
        arn=arn, kind="role", name=ps.name, account=account, asset=ps,
        policies=tuple(policies), boundary=boundary, boundary_unknown=boundary_unknown,
        unknown=tuple(unknown), context=RequestContext(values),
        variables={"aws:principalaccount": account},
    )


def permission_set_admin(
    evaluator: Evaluator, ps: Asset, account: str | None = None
) -> tuple[Verdict, tuple[str, ...]]:
    """Whether the permission set is admin-equivalent in ``account`` (the set's own account by
    default: where its customer-managed references are resolved), and what about its policies
    is unknown (a verdict short of admin with unknowns is undecided, not a pass)."""
    where = account or ps.account
    principal = permission_set_principal(evaluator.store, ps, where)
    return evaluator.admin(principal), principal.unknown
