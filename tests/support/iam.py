"""Builders for small IAM estates (users, roles, groups, managed policies) as the AWS collector
normalizes them (docs/aws-assets.md), for the identity-graph and IAM check tests."""

from __future__ import annotations

from typing import Any

from posture.model import Asset

from .aws import ACCOUNT, asset

ARN = f"arn:aws:iam::{ACCOUNT}"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(principal: dict[str, Any] | str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def service(name: str) -> dict[str, Any]:
    return trust({"Service": name})


def _inline(statements: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    return {"inline": doc(*statements)} if statements else {}


def user(
    name: str,
    *statements: dict[str, Any],
    policies: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    boundary: str | None = None,
) -> Asset:
    uid = f"{ARN}:user/{name}"
    return asset("AWS::IAM::User", uid, region="global", arn=uid, user_name=name,
                 user_id=f"AIDA{name.upper()}", mfa_devices=[], access_keys=[],
                 has_console_password=False, group_names=list(groups),
                 inline_policies=_inline(statements), attached_policy_arns=list(policies),
                 permissions_boundary_arn=boundary)


def role(
    name: str,
    trust_policy: dict[str, Any],
    *statements: dict[str, Any],
    policies: tuple[str, ...] = (),
    boundary: str | None = None,
) -> Asset:
    uid = f"{ARN}:role/{name}"
    return asset("AWS::IAM::Role", uid, region="global", arn=uid, role_name=name, path="/",
                 trust_policy=trust_policy, inline_policies=_inline(statements),
                 attached_policy_arns=list(policies), service_linked=False,
                 permissions_boundary_arn=boundary)


def group(name: str, *statements: dict[str, Any], policies: tuple[str, ...] = ()) -> Asset:
    uid = f"{ARN}:group/{name}"
    return asset("AWS::IAM::Group", uid, region="global", arn=uid, group_name=name,
                 inline_policies=_inline(statements), attached_policy_arns=list(policies))


def managed(name: str, *statements: dict[str, Any], attachments: int = 1) -> Asset:
    uid = f"{ARN}:policy/{name}"
    return asset("AWS::IAM::Policy", uid, region="global", arn=uid, policy_name=name,
                 aws_managed=False, default_version_id="v1", document=doc(*statements),
                 attachment_count=attachments)


def instance_profile(name: str, *roles: str) -> Asset:
    """An instance profile holding ``roles`` (role names)."""
    uid = f"{ARN}:instance-profile/{name}"
    return asset("AWS::IAM::InstanceProfile", uid, region="global", arn=uid,
                 instance_profile_name=name, instance_profile_id=f"AIPA{name.upper()}", path="/",
                 role_arns=[f"{ARN}:role/{r}" for r in roles], role_names=list(roles))
