"""IAM account-wide data, collected by ``iam.py``: managed policies (customer-managed ones and
the AWS-managed ones attached to something), the password policy and the account summary.
"""

from __future__ import annotations

from typing import Any

from botocore import xform_name

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy
from posture.model import GLOBAL, Asset

POLICY = "AWS::IAM::Policy"
PASSWORD_POLICY = "AWS::IAM::PasswordPolicy"
ACCOUNT_SUMMARY = "AWS::IAM::AccountSummary"

ACCOUNT_PERMISSIONS: tuple[str, ...] = (
    "iam:ListPolicies", "iam:GetPolicyVersion", "iam:GetAccountPasswordPolicy",
    "iam:GetAccountSummary",
)

PASSWORD_POLICY_FIELDS = (
    "MinimumPasswordLength", "RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
    "RequireLowercaseCharacters", "AllowUsersToChangePassword", "ExpirePasswords", "MaxPasswordAge",
    "PasswordReusePrevention", "HardExpiry",
)


# --- managed policies --------------------------------------------------------------------------


def collect_policies(scope: RegionScope) -> list[Asset]:
    local = scope.paginate("iam", "ListPolicies", "Policies", (POLICY,), Scope="Local")
    aws = scope.paginate("iam", "ListPolicies", "Policies", (POLICY,), Scope="AWS",
                         OnlyAttached=True)
    by_arn = {str(p["Arn"]): p for p in (local or []) + (aws or [])}
    ordered = [by_arn[arn] for arn in sorted(by_arn)]
    payloads = parallel_map(lambda policy: fetch_policy(scope, policy), ordered)
    return [normalize_policy(scope, p) for p in payloads]


def fetch_policy(scope: RegionScope, policy: Payload) -> Payload:
    arn = str(policy["Arn"])
    version = scope.call("iam", "GetPolicyVersion", (f"{POLICY}#document",), arn,
                         PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    return {"policy": policy, "version": version}


def normalize_policy(scope: RegionScope, payload: Payload) -> Asset:
    policy = payload["policy"]
    arn = str(policy["Arn"])
    version = (payload["version"] or {}).get("PolicyVersion") or {}
    attrs = {
        "arn": arn,
        "policy_name": policy["PolicyName"],
        "aws_managed": arn.split(":")[4] == "aws",  # arn:<partition>:iam::aws:policy/...
        "default_version_id": policy.get("DefaultVersionId"),
        "document": parse_policy(version.get("Document")),
        "attachment_count": policy.get("AttachmentCount"),
    }
    return scope.asset(arn, POLICY, str(policy["PolicyName"]), attrs, raw=payload, region=GLOBAL)


# --- account settings --------------------------------------------------------------------------


def collect_password_policy(scope: RegionScope) -> Asset:
    uid = scope.arn("iam", "account-password-policy", region=GLOBAL)
    answer = scope.call("iam", "GetAccountPasswordPolicy", (PASSWORD_POLICY,), uid,
                        ok_codes=("NoSuchEntity",))
    return normalize_password_policy(scope, uid, answer)


def normalize_password_policy(scope: RegionScope, uid: str, answer: Payload | None) -> Asset:
    """``present`` is False when the account has no password policy, ``None`` if unknown."""
    policy = (answer or {}).get("PasswordPolicy")
    attrs: dict[str, Any] = {"present": None if answer is None else policy is not None}
    for field in PASSWORD_POLICY_FIELDS:
        attrs[xform_name(field)] = None if policy is None else policy.get(field)
    return scope.asset(uid, PASSWORD_POLICY, "account password policy", attrs, raw=policy or {},
                       region=GLOBAL)


def collect_account_summary(scope: RegionScope) -> Asset:
    uid = scope.arn("iam", "account-summary", region=GLOBAL)
    answer = scope.call("iam", "GetAccountSummary", (ACCOUNT_SUMMARY,), uid)
    summary = None if answer is None else dict(sorted(answer.get("SummaryMap", {}).items()))
    return scope.asset(uid, ACCOUNT_SUMMARY, "account summary", {"summary": summary},
                       raw=answer or {}, region=GLOBAL)
