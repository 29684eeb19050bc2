"""IAM (global): users, groups, roles, managed policies, the password policy and the account
summary (attrs as in ``docs/aws-assets.md``).

Listings give the principals; per-principal detail calls run on a small thread pool. A failed
detail call leaves that attribute ``None`` and records a ``CollectionError`` naming the principal
and the facet (``AWS::IAM::User#mfa``, ``AWS::IAM::Role#policies``, ...). Policy documents are
dicts (botocore decodes IAM's URL-encoded JSON). Account-wide settings live in ``iam_account.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy, tag_map
from posture.collectors.aws.iam_account import (
    ACCOUNT_PERMISSIONS,
    collect_account_summary,
    collect_password_policy,
    collect_policies,
)
from posture.model import GLOBAL, Asset

USER = "AWS::IAM::User"
GROUP = "AWS::IAM::Group"
ROLE = "AWS::IAM::Role"

PERMISSIONS: tuple[str, ...] = (
    "iam:ListUsers", "iam:GetUser", "iam:GetLoginProfile", "iam:ListMFADevices",
    "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListGroupsForUser",
    "iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListGroups",
    "iam:GetGroup", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:GetGroupPolicy",
    "iam:ListRoles", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
    "iam:GetRolePolicy", *ACCOUNT_PERMISSIONS,
)


def collect(scope: RegionScope) -> list[Asset]:
    assets = _principals(scope, "ListUsers", "Users", USER, fetch_user, normalize_user)
    assets += _principals(scope, "ListGroups", "Groups", GROUP, fetch_group, normalize_group)
    assets += _principals(scope, "ListRoles", "Roles", ROLE, fetch_role, normalize_role)
    assets += collect_policies(scope)
    assets += [collect_password_policy(scope), collect_account_summary(scope)]
    return assets


def _principals(
    scope: RegionScope,
    operation: str,
    key: str,
    type_: str,
    fetch: Callable[[RegionScope, Payload], Payload],
    normalize: Callable[[RegionScope, Payload], Asset],
) -> list[Asset]:
    """The listed principals in ARN order, their details fetched on the thread pool."""
    items = sorted(scope.paginate("iam", operation, key, (type_,)) or [],
                   key=lambda item: str(item["Arn"]))
    payloads = parallel_map(lambda item: fetch(scope, item), items)
    return [normalize(scope, p) for p in payloads]


# --- users -------------------------------------------------------------------------------------


def fetch_user(scope: RegionScope, user: Payload) -> Payload:
    """ListUsers entry plus every detail answer (``None`` = that call failed)."""
    name, uid = str(user["UserName"]), str(user["Arn"])
    attached, inline = fetch_principal_policies(scope, "User", name, uid)
    groups = scope.paginate("iam", "ListGroupsForUser", "Groups", (f"{USER}#policies",), uid,
                            UserName=name)
    return {
        "user": user,
        # GetUser carries the permissions boundary and the tags, which ListUsers leaves out
        "detail": scope.call("iam", "GetUser", (f"{USER}#policies", f"{USER}#tags"), uid,
                             UserName=name),
        "login_profile": scope.call("iam", "GetLoginProfile", (f"{USER}#login_profile",), uid,
                                    ok_codes=("NoSuchEntity",), UserName=name),
        "mfa_devices": scope.paginate("iam", "ListMFADevices", "MFADevices", (f"{USER}#mfa",),
                                      uid, UserName=name),
        "access_keys": fetch_access_keys(scope, name, uid),
        "groups": groups,
        "attached": attached,
        "inline": inline,
    }


def fetch_access_keys(scope: RegionScope, user_name: str, uid: str) -> list[Payload] | None:
    """Access key metadata, each with ``LastUsed`` (``None`` if GetAccessKeyLastUsed failed)."""
    facet = (f"{USER}#access_keys",)
    keys = scope.paginate("iam", "ListAccessKeys", "AccessKeyMetadata", facet, uid,
                          UserName=user_name)
    if keys is None:
        return None
    out = []
    for key in sorted(keys, key=lambda k: str(k["AccessKeyId"])):
        used = scope.call("iam", "GetAccessKeyLastUsed", facet, uid, AccessKeyId=key["AccessKeyId"])
        out.append({**key, "LastUsed": None if used is None else used.get("AccessKeyLastUsed", {})})
    return out


def normalize_user(scope: RegionScope, payload: Payload) -> Asset:
    user = payload["user"]
    detail = (payload["detail"] or {}).get("User") or {}
    merged = {**user, **detail}
    login = payload["login_profile"]
    attrs = {
        "arn": user["Arn"],
        "user_name": user["UserName"],
        "user_id": user.get("UserId"),
        "create_date": user.get("CreateDate"),
        "password_last_used": merged.get("PasswordLastUsed"),
        "has_console_password": None if login is None else "LoginProfile" in login,
        "mfa_devices": _sorted_values(payload["mfa_devices"], "SerialNumber"),
        "access_keys": _access_keys(payload["access_keys"]),
        "group_names": _sorted_values(payload["groups"], "GroupName"),
        "attached_policy_arns": payload["attached"],
        "inline_policies": payload["inline"],
        "permissions_boundary_arn": _boundary(merged),
    }
    return scope.asset(str(user["Arn"]), USER, str(user["UserName"]), attrs, raw=payload,
                       tags=tag_map(merged.get("Tags")), region=GLOBAL)


def _access_keys(keys: list[Payload] | None) -> list[dict[str, Any]] | None:
    if keys is None:
        return None
    out = []
    for key in keys:
        used = key["LastUsed"] or {}
        service = used.get("ServiceName")
        out.append({
            "access_key_id": key["AccessKeyId"],
            "status": key.get("Status"),
            "create_date": key.get("CreateDate"),
            "last_used_date": used.get("LastUsedDate"),
            "last_used_service": None if service in (None, "N/A") else service,
        })
    return out


# --- groups ------------------------------------------------------------------------------------


def fetch_group(scope: RegionScope, group: Payload) -> Payload:
    name, uid = str(group["GroupName"]), str(group["Arn"])
    attached, inline = fetch_principal_policies(scope, "Group", name, uid)
    members = scope.paginate("iam", "GetGroup", "Users", (f"{GROUP}#members",), uid,
                             GroupName=name)
    return {"group": group, "members": members, "attached": attached, "inline": inline}


def normalize_group(scope: RegionScope, payload: Payload) -> Asset:
    group = payload["group"]
    attrs = {
        "arn": group["Arn"],
        "group_name": group["GroupName"],
        "attached_policy_arns": payload["attached"],
        "inline_policies": payload["inline"],
        "member_user_names": _sorted_values(payload["members"], "UserName"),
    }
    return scope.asset(str(group["Arn"]), GROUP, str(group["GroupName"]), attrs, raw=payload,
                       region=GLOBAL)


# --- roles -------------------------------------------------------------------------------------


def fetch_role(scope: RegionScope, role: Payload) -> Payload:
    name, uid = str(role["RoleName"]), str(role["Arn"])
    attached, inline = fetch_principal_policies(scope, "Role", name, uid)
    # GetRole carries RoleLastUsed, the permissions boundary and the tags
    facets = (f"{ROLE}#policies", f"{ROLE}#last_used", f"{ROLE}#tags")
    detail = scope.call("iam", "GetRole", facets, uid, RoleName=name)
    return {"role": role, "detail": detail, "attached": attached, "inline": inline}


def normalize_role(scope: RegionScope, payload: Payload) -> Asset:
    role = payload["role"]
    detail = (payload["detail"] or {}).get("Role") or {}
    merged = {**role, **detail}
    path = str(role.get("Path") or "/")
    last_used = None if payload["detail"] is None else merged.get("RoleLastUsed") or {}
    attrs = {
        "arn": role["Arn"],
        "role_name": role["RoleName"],
        "path": path,
        "trust_policy": parse_policy(merged.get("AssumeRolePolicyDocument")),
        "attached_policy_arns": payload["attached"],
        "inline_policies": payload["inline"],
        "permissions_boundary_arn": _boundary(merged),
        "last_used_date": None if last_used is None else last_used.get("LastUsedDate"),
        "max_session_duration": merged.get("MaxSessionDuration"),
        "service_linked": path.startswith("/aws-service-role/"),
    }
    return scope.asset(str(role["Arn"]), ROLE, str(role["RoleName"]), attrs, raw=payload,
                       tags=tag_map(merged.get("Tags")), region=GLOBAL)


# --- shared by users, groups and roles ---------------------------------------------------------


def fetch_principal_policies(
    scope: RegionScope, kind: str, name: str, uid: str
) -> tuple[list[str] | None, dict[str, Any] | None]:
    """Attached managed policy ARNs and inline policy documents of a User, Group or Role."""
    facet = (f"AWS::IAM::{kind}#policies",)
    key: dict[str, Any] = {f"{kind}Name": name}
    attached = scope.paginate("iam", f"ListAttached{kind}Policies", "AttachedPolicies", facet,
                              uid, **key)
    arns = None if attached is None else sorted(str(p["PolicyArn"]) for p in attached)
    names = scope.paginate("iam", f"List{kind}Policies", "PolicyNames", facet, uid, **key)
    if names is None:
        return arns, None
    inline: dict[str, Any] = {}
    for policy_name in sorted(str(n) for n in names):
        answer = scope.call("iam", f"Get{kind}Policy", facet, uid, PolicyName=policy_name, **key)
        if answer is None:  # one unreadable document: the inline set is unknown
            return arns, None
        inline[policy_name] = parse_policy(answer.get("PolicyDocument"))
    return arns, inline


def _boundary(merged: Payload) -> str | None:
    boundary = (merged.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return str(boundary) if boundary else None


def _sorted_values(items: list[Payload] | None, key: str) -> list[str] | None:
    return None if items is None else sorted(str(item[key]) for item in items)
