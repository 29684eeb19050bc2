"""IAM Identity Center (attrs as in ``docs/aws-assets.md``): the instance, its permission sets
(session duration, AWS-managed, customer-managed and inline policies, permissions boundary) and
their account assignments to identity-store users and groups, named (``identitystore.py``).

Identity Center lives in one region, the instance's home region, and ``ListInstances`` elsewhere
answers an empty list. This module runs once per account (a global job): it asks the API region
(the scan's default region); if that region has no instance, it reads the home region from the
path of the roles Identity Center provisions in the account
(``/aws-reserved/sso.amazonaws.com/<region>/``) and asks there, once. A failed lookup is recorded
(``AWS::SSO::Instance``); an empty answer everywhere it looked means no instance is visible to
this account (a member account of an organisation instance sees none: its assignments are read
from the management account).

The documents of AWS-managed policies a permission set uses are read (``GetPolicy`` +
``GetPolicyVersion``) and emitted as ``AWS::IAM::Policy`` assets, so the IAM evaluator can judge
the set even where no IAM principal of the account holds them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

from posture.collectors.aws import identitystore
from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy, pick
from posture.collectors.aws.iam_account import POLICY, normalize_policy
from posture.model import GLOBAL, Asset

INSTANCE = "AWS::SSO::Instance"
PERMISSION_SET = "AWS::SSO::PermissionSet"
RESERVED_PATH = "/aws-reserved/sso.amazonaws.com/"
DEFAULT_SESSION = "PT1H"  # what AWS applies when a permission set names no duration

PERMISSIONS: tuple[str, ...] = (
    "sso:ListInstances", "sso:ListPermissionSets", "sso:DescribePermissionSet",
    "sso:ListManagedPoliciesInPermissionSet",
    "sso:ListCustomerManagedPolicyReferencesInPermissionSet", "sso:GetInlinePolicyForPermissionSet",
    "sso:GetPermissionsBoundaryForPermissionSet", "sso:ListAccountsForProvisionedPermissionSet",
    "sso:ListAccountAssignments", "iam:ListRoles", "iam:GetPolicy", "iam:GetPolicyVersion",
    *identitystore.PERMISSIONS,
)

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def collect(scope: RegionScope) -> list[Asset]:
    home, instances = find_instances(scope)
    at = replace(scope, api_region=home)  # shares the scope's error list
    out: list[Asset] = []
    payloads: list[Payload] = []
    for instance in sorted(instances, key=lambda i: str(i["InstanceArn"])):
        arn = str(instance["InstanceArn"])
        people = identitystore.collect_store(at, str(instance["IdentityStoreId"]))
        names = {str(a.attr("user_id") or a.attr("group_id")): a.name for a in people}
        sets = at.paginate("sso-admin", "ListPermissionSets", "PermissionSets",
                           (PERMISSION_SET,), arn, InstanceArn=arn)
        names_of_sets = sorted(str(ps) for ps in sets or [])
        found = parallel_map(functools.partial(fetch_permission_set, at, arn), names_of_sets)
        out.append(normalize_instance(at, instance, home))
        out += people
        out += [normalize_permission_set(at, p, names) for p in found]
        payloads += found
    return out + collect_managed_documents(scope, payloads)


# --- fetch -------------------------------------------------------------------------------------


def find_instances(scope: RegionScope) -> tuple[str, list[Payload]]:
    """(home region, instances): the API region first, then the home region the provisioned
    roles' path names. ``[]`` when none is visible or a lookup failed (recorded)."""
    first = scope.api_region
    found = scope.paginate("sso-admin", "ListInstances", "Instances", (INSTANCE,))
    if found is None or found:
        return first, found or []
    for region in reserved_regions(scope):
        if region == first:
            continue
        there = replace(scope, api_region=region)
        found = there.paginate("sso-admin", "ListInstances", "Instances", (INSTANCE,))
        if found:
            return region, found
    return first, []


def reserved_regions(scope: RegionScope) -> list[str]:
    """The home regions named by the paths of the roles Identity Center provisioned here."""
    roles = scope.paginate("iam", "ListRoles", "Roles", (INSTANCE,), PathPrefix=RESERVED_PATH)
    regions = {str(r.get("Path") or "").removeprefix(RESERVED_PATH).strip("/") for r in roles or []}
    return sorted(r for r in regions if _REGION.match(r))


def fetch_permission_set(scope: RegionScope, instance: str, arn: str) -> Payload:
    """Every detail answer of one permission set (``None`` = that call failed)."""
    key: dict[str, Any] = {"InstanceArn": instance, "PermissionSetArn": arn}
    policies, boundary = (f"{PERMISSION_SET}#policies",), (f"{PERMISSION_SET}#boundary",)
    assigned = (f"{PERMISSION_SET}#assignments",)
    payload: Payload = {
        "instance": instance,
        "arn": arn,
        "described": scope.call("sso-admin", "DescribePermissionSet", (PERMISSION_SET,), arn,
                                **key),
        "managed": scope.paginate("sso-admin", "ListManagedPoliciesInPermissionSet",
                                  "AttachedManagedPolicies", policies, arn, **key),
        "customer": scope.paginate("sso-admin",
                                   "ListCustomerManagedPolicyReferencesInPermissionSet",
                                   "CustomerManagedPolicyReferences", policies, arn, **key),
        "inline": scope.call("sso-admin", "GetInlinePolicyForPermissionSet", policies, arn, **key),
        "boundary": scope.call("sso-admin", "GetPermissionsBoundaryForPermissionSet", boundary,
                               arn, ok_codes=("ResourceNotFoundException",), **key),
    }
    accounts = scope.paginate("sso-admin", "ListAccountsForProvisionedPermissionSet", "AccountIds",
                              assigned, arn, **key)
    assignments: list[Payload] | None = None
    if accounts is not None:
        assignments = []
        for account in sorted({str(a) for a in accounts} | {scope.account}):
            got = scope.paginate("sso-admin", "ListAccountAssignments", "AccountAssignments",
                                 assigned, arn, AccountId=account, **key)
            if got is None:
                assignments = None
                break
            assignments += got
    payload["accounts"], payload["assignments"] = accounts, assignments
    return payload


def collect_managed_documents(scope: RegionScope, payloads: list[Payload]) -> list[Asset]:
    """The AWS-managed policies the permission sets use (attached or as boundary)."""
    arns: set[str] = set()
    for p in payloads:
        arns.update(str(m["Arn"]) for m in p["managed"] or ())
        ref = ((p["boundary"] or {}).get("PermissionsBoundary") or {}).get("ManagedPolicyArn")
        if ref:
            arns.add(str(ref))
    out = []
    for arn in sorted(arns):
        got = scope.call("iam", "GetPolicy", (f"{POLICY}#document",), arn, PolicyArn=arn)
        policy = (got or {}).get("Policy")
        if not policy:
            continue
        version = scope.call("iam", "GetPolicyVersion", (f"{POLICY}#document",), arn,
                             PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        out.append(normalize_policy(scope, {"policy": policy, "version": version}))
    return out


# --- normalize ---------------------------------------------------------------------------------


def session_seconds(duration: str | None) -> int | None:
    """An ISO 8601 duration as Identity Center writes it (``PT12H``, ``PT1H30M``) in seconds."""
    if duration and duration.isdigit():  # moto answers a default of "3600"
        return int(duration)
    match = _DURATION.match(duration or "")
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def customer_policy_arn(scope: RegionScope, account: str, ref: Payload) -> str:
    """The ARN a customer-managed policy reference resolves to in ``account``."""
    path = str(ref.get("Path") or "/")
    return f"arn:{scope.partition}:iam::{account}:policy{path}{ref['Name']}"


def normalize_instance(scope: RegionScope, instance: Payload, home: str) -> Asset:
    arn = str(instance["InstanceArn"])
    attrs = {
        "arn": arn,
        **pick(instance, identity_store_id="IdentityStoreId", owner_account_id="OwnerAccountId",
               status="Status"),
        "home_region": home,
    }
    name = str(instance.get("Name") or arn.rsplit("/", 1)[-1])
    return scope.asset(arn, INSTANCE, name, attrs, raw=instance, region=GLOBAL)


def _boundary(answer: Payload | None) -> tuple[dict[str, Any] | None, bool | None]:
    if answer is None:
        return None, None
    found = answer.get("PermissionsBoundary")
    if not found:
        return None, False
    ref = found.get("CustomerManagedPolicyReference")
    if ref:
        return {"customer_managed_policy": {"name": ref.get("Name"),
                                            "path": ref.get("Path") or "/"}}, True
    return {"managed_policy_arn": found.get("ManagedPolicyArn")}, True


def _assignments(payload: Payload, names: dict[str, str]) -> list[dict[str, Any]] | None:
    if payload["assignments"] is None:
        return None
    rows = {
        (str(a.get("AccountId")), str(a.get("PrincipalType")), str(a.get("PrincipalId"))): a
        for a in payload["assignments"]
    }
    return [
        {"account_id": acct, "principal_type": kind, "principal_id": pid,
         "principal_name": names.get(pid)}
        for acct, kind, pid in sorted(rows)
    ]


def normalize_permission_set(scope: RegionScope, payload: Payload, names: dict[str, str]) -> Asset:
    arn = str(payload["arn"])
    described = None if payload["described"] is None else payload["described"].get(
        "PermissionSet") or {}
    duration = None if described is None else str(described.get("SessionDuration")
                                                    or DEFAULT_SESSION)
    inline = payload["inline"]
    document = None if inline is None else parse_policy(inline.get("InlinePolicy") or None)
    boundary, boundary_present = _boundary(payload["boundary"])
    managed, customer = payload["managed"], payload["customer"]
    attrs = {
        "arn": arn,
        "permission_set_name": None if described is None else described.get("Name"),
        "instance_arn": payload["instance"],
        "session_duration": duration,
        "session_seconds": session_seconds(duration),
        "aws_managed_policy_arns": None if managed is None else sorted(
            str(m["Arn"]) for m in managed),
        "customer_managed_policies": None if customer is None else sorted(
            ({"name": str(c["Name"]), "path": str(c.get("Path") or "/")} for c in customer),
            key=lambda c: (c["path"], c["name"])),
        "inline_policy": document,
        "inline_policy_present": None if inline is None else document is not None,
        "permissions_boundary": boundary,
        "permissions_boundary_present": boundary_present,
        "provisioned_account_ids": None if payload["accounts"] is None else sorted(
            str(a) for a in payload["accounts"]),
        "assignments": _assignments(payload, names),
    }
    name = str((described or {}).get("Name") or arn.rsplit("/", 1)[-1])
    raw = {k: payload[k] for k in ("described", "managed", "customer", "inline", "boundary",
                                   "accounts", "assignments")}
    return scope.asset(arn, PERMISSION_SET, name, attrs, raw=raw, region=GLOBAL)
