"""The permissions an organisation scan needs, as IAM policy documents and as a CloudFormation
template for the member role (deployable to every member account with a StackSet).

What this module guarantees: pure functions, no AWS call; every document is plain JSON data, in
a stable order; the management account's policy names exactly the actions the discovery
(:mod:`posture.collectors.aws.organizations`) calls plus ``sts:AssumeRole`` on the member role;
the member role's read policy is the single-account scanner's own policy
(:func:`posture.collectors.aws.collector.policy_document`), so the two cannot drift.
"""

from __future__ import annotations

import json
from typing import Any

from posture.collectors.aws.collector import policy_document
from posture.collectors.aws.organizations import PERMISSIONS as DISCOVERY_PERMISSIONS

VERSION = "2012-10-17"
MANAGED_POLICY_LIMIT = 6144
"""IAM's quota on a managed policy document, in characters, whitespace not counted."""
MANAGED_POLICIES_PER_ROLE = 10
"""IAM's default quota of managed policies attached to one role."""
PLACEHOLDER_PRINCIPAL = "arn:aws:iam::<MANAGEMENT_ACCOUNT_ID>:root"


def _split_role_name(role_name: str) -> tuple[str, str]:
    """``("/audit/", "PostureAudit")`` for ``audit/PostureAudit``; ``("/", name)`` without path."""
    parts = [p for p in role_name.strip("/").split("/") if p]
    if not parts:
        raise ValueError("the role name is empty")
    path = "/" + "".join(p + "/" for p in parts[:-1])
    return path, parts[-1]


def management_policy(role_name: str = "PostureAudit", partition: str = "aws") -> dict[str, Any]:
    """The policy of the identity that runs an organisation scan from the management account
    (or a delegated administrator): read the organisation, its SCPs and trails, and assume the
    audit role in any account."""
    path, name = _split_role_name(role_name)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "PostureReadOrganization",
                "Effect": "Allow",
                "Action": sorted(set(DISCOVERY_PERMISSIONS)),
                "Resource": "*",
            },
            {
                "Sid": "PostureAssumeMemberRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:{partition}:iam::*:role{path}{name}",
            },
        ],
    }


def member_trust_policy(
    trusted_principal: str = PLACEHOLDER_PRINCIPAL, external_id: str | None = None
) -> dict[str, Any]:
    """The member role's trust: ``trusted_principal`` may assume it, with ``sts:ExternalId``
    equal to ``external_id`` when one is given."""
    statement: dict[str, Any] = {
        "Sid": "PostureAuditTrust",
        "Effect": "Allow",
        "Principal": {"AWS": trusted_principal},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": VERSION, "Statement": [statement]}


def member_read_policy() -> dict[str, Any]:
    """The member role's read-only policy: the single-account scanner's own."""
    return policy_document()


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def read_policies(limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """:func:`member_read_policy` cut into documents of at most ``limit`` characters each
    (whitespace not counted, as IAM counts), the actions in their sorted order."""
    actions = list(member_read_policy()["Statement"][0]["Action"])
    docs: list[list[str]] = [[]]
    for action in actions:
        trial = docs[-1] + [action]
        if docs[-1] and _size(_read_doc(trial, len(docs))) > limit:
            docs.append([action])
        else:
            docs[-1] = trial
    out = [_read_doc(chunk, i + 1) for i, chunk in enumerate(docs)]
    if len(out) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(f"the read policy needs {len(out)} managed policies, more than IAM's "
                         f"default {MANAGED_POLICIES_PER_ROLE} per role")
    return out


def _read_doc(actions: list[str], part: int) -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [{"Sid": f"PostureReadOnly{part}", "Effect": "Allow", "Action": actions,
                       "Resource": "*"}],
    }


def member_template(
    role_name: str = "PostureAudit",
    trusted_principal: str | None = None,
    external_id: str | None = None,
    max_session_seconds: int = 3600,
) -> dict[str, Any]:
    """A CloudFormation template (as a dict) creating the member audit role.

    Deploy it to every member with a service-managed StackSet; a StackSet does not deploy to the
    management account, so if that account is to be scanned too, create the same template there
    as a plain stack. Parameters ``TrustedPrincipal`` (default: ``trusted_principal``; no
    default when unknown, so CloudFormation asks for it rather than deploying a placeholder)
    and ``ExternalId`` (default: ``external_id``; empty = no external-id condition; ``NoEcho``).

    The read permissions are posture's own action list, in customer managed policies of at most
    6,144 characters each (split when the list outgrows one), rather than AWS's
    ``SecurityAudit``/``ViewOnlyAccess``: those grant far more than posture reads and change
    when AWS changes them, while this role grants exactly what ``posture permissions aws``
    prints for a single account, versioned with posture. The split keeps it deployable however
    the list grows (up to IAM's default of 10 managed policies per role).
    """
    path, name = _split_role_name(role_name)
    principal: dict[str, Any] = {
        "Type": "String",
        "Description": "The principal allowed to assume the role (the scanner's identity in "
                       "the management account, or that account's root)",
    }
    if trusted_principal:
        principal["Default"] = trusted_principal
    trust = {
        "Sid": "PostureAuditTrust",
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "TrustedPrincipal"}},
        "Action": "sts:AssumeRole",
        "Condition": {"Fn::If": [
            "HasExternalId",
            {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            {"Ref": "AWS::NoValue"},
        ]},
    }
    resources: dict[str, Any] = {
        "PostureAuditRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Path": path,
                "Description": "posture: read-only cloud posture audit",
                "MaxSessionDuration": max_session_seconds,
                "AssumeRolePolicyDocument": {"Version": VERSION, "Statement": [trust]},
            },
        },
    }
    policies = read_policies()
    for i, doc in enumerate(policies, start=1):
        resources[f"PostureReadPolicy{i}"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": f"posture read-only audit permissions ({i}/{len(policies)})",
                "Path": path,
                "PolicyDocument": doc,
                "Roles": [{"Ref": "PostureAuditRole"}],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"posture audit role {role_name.strip('/')} for the member accounts of an "
                       "organisation (deploy with a StackSet)",
        "Parameters": {
            "TrustedPrincipal": principal,
            "ExternalId": {
                "Type": "String",
                "Default": external_id or "",
                "NoEcho": True,
                "Description": "sts:ExternalId the scanner must present (empty: none)",
            },
        },
        "Conditions": {
            "HasExternalId": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]},
        },
        "Resources": resources,
        "Outputs": {
            "RoleArn": {"Description": "The audit role",
                        "Value": {"Fn::GetAtt": ["PostureAuditRole", "Arn"]}},
        },
    }


def organization_permissions(
    role_name: str = "PostureAudit",
    trusted_principal: str | None = None,
    external_id: str | None = None,
    partition: str = "aws",
) -> dict[str, Any]:
    """What ``posture permissions aws --organization`` prints: the management account's policy,
    the member role's trust policy and its read policy."""
    return {
        "role_name": role_name.strip("/"),
        "management_policy": management_policy(role_name, partition),
        "member_trust_policy": member_trust_policy(trusted_principal or PLACEHOLDER_PRINCIPAL,
                                                   external_id),
        "member_read_policy": member_read_policy(),
    }
