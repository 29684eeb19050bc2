"""Secrets Manager secrets of one region with rotation, dates and resource policy (attrs as in
``docs/aws-assets.md``). Secret values are never read.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy, tag_map
from posture.model import Asset

SECRET = "AWS::SecretsManager::Secret"

PERMISSIONS: tuple[str, ...] = (
    "secretsmanager:ListSecrets",
    "secretsmanager:GetResourcePolicy",
)


def collect(scope: RegionScope) -> list[Asset]:
    secrets = scope.paginate("secretsmanager", "ListSecrets", "SecretList", (SECRET,))
    ordered = sorted(secrets or [], key=lambda s: str(s["ARN"]))
    policies = parallel_map(lambda secret: fetch_resource_policy(scope, secret), ordered)
    return [normalize_secret(scope, s, p) for s, p in zip(ordered, policies, strict=True)]


def fetch_resource_policy(scope: RegionScope, secret: Payload) -> Payload | None:
    uid = str(secret["ARN"])
    return scope.call("secretsmanager", "GetResourcePolicy", (f"{SECRET}#resource_policy",), uid,
                      SecretId=uid)


def normalize_secret(scope: RegionScope, secret: Payload, policy: Payload | None) -> Asset:
    """``policy`` is the GetResourcePolicy answer, ``None`` if that call failed."""
    rules = secret.get("RotationRules") or {}
    document = None if policy is None else policy.get("ResourcePolicy")
    attrs = {
        "arn": secret["ARN"],
        "secret_name": secret.get("Name"),
        "kms_key_id": secret.get("KmsKeyId"),
        # ListSecrets leaves RotationEnabled out when rotation was never configured
        "rotation_enabled": bool(secret.get("RotationEnabled", False)),
        "rotation_days": rules.get("AutomaticallyAfterDays"),
        "last_rotated_date": secret.get("LastRotatedDate"),
        "last_changed_date": secret.get("LastChangedDate"),
        "last_accessed_date": secret.get("LastAccessedDate"),
        "created_date": secret.get("CreatedDate"),
        "resource_policy": parse_policy(document),
        "resource_policy_present": None if policy is None else bool(document),
    }
    raw = {"secret": secret, "resource_policy": document}
    return scope.asset(str(secret["ARN"]), SECRET, str(secret.get("Name") or secret["ARN"]),
                       attrs, raw=raw, tags=tag_map(secret.get("Tags")))
