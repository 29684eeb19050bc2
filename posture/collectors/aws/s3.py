"""S3: buckets with their protection settings, and the account-level public access block
(attrs as in ``docs/aws-assets.md``).

ListBuckets is global. Every per-bucket call goes to a client in the bucket's own region, so a
failed detail call is recorded in that region against the bucket ARN and a facet such as
``AWS::S3::Bucket#policy``; the bucket's other attributes are still collected.
"""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy, tag_map
from posture.model import GLOBAL, Asset

BUCKET = "AWS::S3::Bucket"
ACCOUNT_PUBLIC_ACCESS_BLOCK = "AWS::S3::AccountPublicAccessBlock"

PERMISSIONS: tuple[str, ...] = (
    "s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicy", "s3:GetBucketAcl",
    "s3:GetBucketVersioning", "s3:GetBucketLogging", "s3:GetBucketTagging",
    "s3:GetAccountPublicAccessBlock",
)

NOT_FOUND = "__error_code__"
"""Key of the answer :meth:`RegionScope.call` gives for an ``ok_codes`` error ("not configured")."""

# (payload key = facet, API operation, error codes that mean "not configured")
DETAIL_CALLS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("encryption", "GetBucketEncryption", ("ServerSideEncryptionConfigurationNotFoundError",)),
    ("public_access_block", "GetPublicAccessBlock", ("NoSuchPublicAccessBlockConfiguration",)),
    ("policy", "GetBucketPolicy", ("NoSuchBucketPolicy",)),
    ("acl", "GetBucketAcl", ()),
    ("versioning", "GetBucketVersioning", ()),
    ("logging", "GetBucketLogging", ()),
    ("tags", "GetBucketTagging", ("NoSuchTagSet",)),
)
PUBLIC_ACCESS_FLAGS = (
    "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets",
)
# GetBucketLocation answers with legacy names for the two oldest regions.
_LEGACY_LOCATIONS = {"": "us-east-1", "EU": "eu-west-1"}


def collect(scope: RegionScope) -> list[Asset]:
    assets = [collect_account_public_access_block(scope)]
    buckets = scope.paginate("s3", "ListBuckets", "Buckets", (BUCKET,)) or []
    ordered = sorted(buckets, key=lambda b: str(b["Name"]))
    payloads = parallel_map(lambda bucket: fetch_bucket(scope, bucket), ordered)
    assets += [normalize_bucket(scope, p) for p in payloads if p is not None]
    return assets


def bucket_arn(scope: RegionScope, name: str) -> str:
    return f"arn:{scope.partition}:s3:::{name}"


# --- fetch -------------------------------------------------------------------------------------


def fetch_bucket(scope: RegionScope, bucket: Payload) -> Payload | None:
    """Every detail answer of one bucket (``None`` = the call failed), or ``None`` if the bucket
    was deleted after the listing."""
    name = str(bucket["Name"])
    uid = bucket_arn(scope, name)
    location = scope.call("s3", "GetBucketLocation", (f"{BUCKET}#location",), uid,
                          ok_codes=("NoSuchBucket",), Bucket=name)
    if location is not None and NOT_FOUND in location:
        return None
    region = bucket_region(location, bucket)
    regional = scope if region is None else regional_scope(scope, region)
    payload: Payload = {"bucket": bucket, "region": region}
    for key, operation, absent in DETAIL_CALLS:
        payload[key] = regional.call("s3", operation, (f"{BUCKET}#{key}",), uid,
                                     ok_codes=absent, Bucket=name)
    return payload


def regional_scope(scope: RegionScope, region: str) -> RegionScope:
    """A scope for ``region`` sharing the clients and the error list of ``scope``."""
    return RegionScope(account=scope.account, region=region, clients=scope.clients,
                       api_region=region, partition=scope.partition, errors=scope.errors)


def bucket_region(location: Payload | None, bucket: Payload) -> str | None:
    """The bucket's region from GetBucketLocation (``None``/empty = us-east-1, ``EU`` =
    eu-west-1), else from ListBuckets' ``BucketRegion``; ``None`` if unknown."""
    if location is None:
        return bucket.get("BucketRegion") or None
    constraint = str(location.get("LocationConstraint") or "")
    return _LEGACY_LOCATIONS.get(constraint, constraint)


def collect_account_public_access_block(scope: RegionScope) -> Asset:
    uid = f"arn:{scope.partition}:s3:::account/{scope.account}/public-access-block"
    response = scope.call("s3control", "GetPublicAccessBlock", (ACCOUNT_PUBLIC_ACCESS_BLOCK,), uid,
                          ok_codes=("NoSuchPublicAccessBlockConfiguration",),
                          AccountId=scope.account)
    return normalize_account_public_access_block(scope, uid, response)


# --- normalize ---------------------------------------------------------------------------------


def normalize_bucket(scope: RegionScope, payload: Payload) -> Asset:
    bucket = payload["bucket"]
    name = str(bucket["Name"])
    policy = answer(payload["policy"])
    logging = answer(payload["logging"])
    versioning = answer(payload["versioning"])
    attrs = {
        "bucket_name": name,
        "creation_date": bucket.get("CreationDate"),
        "encryption": normalize_encryption(payload["encryption"]),
        "public_access_block": normalize_public_access_block(payload["public_access_block"]),
        "policy": parse_policy(policy.get("Policy")) if policy else None,
        "policy_present": None if policy is None else bool(policy.get("Policy")),
        "acl_grants": normalize_grants(payload["acl"]),
        "versioning": None if versioning is None else versioning.get("Status", "Disabled"),
        "mfa_delete": None if versioning is None else versioning.get("MFADelete", "Disabled"),
        "logging_enabled": None if logging is None else "LoggingEnabled" in logging,
        "logging_target": ((logging or {}).get("LoggingEnabled") or {}).get("TargetBucket"),
    }
    raw = {k: v for k, v in payload.items() if k != "region"}
    tags = tag_map((answer(payload["tags"]) or {}).get("TagSet"))
    return scope.asset(bucket_arn(scope, name), BUCKET, name, attrs, raw=raw, tags=tags,
                       region=payload["region"] or GLOBAL)


def answer(response: Payload | None) -> Payload | None:
    """A detail answer with "not configured" turned into an empty answer; ``None`` = unknown."""
    if response is None:
        return None
    return {} if NOT_FOUND in response else response


def normalize_encryption(response: Payload | None) -> list[dict[str, Any]] | None:
    config = answer(response)
    if config is None:
        return None
    rules = (config.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    out = []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        out.append({
            "sse_algorithm": default.get("SSEAlgorithm"),
            "kms_master_key_id": default.get("KMSMasterKeyID"),
            "bucket_key_enabled": rule.get("BucketKeyEnabled"),
        })
    return out


def normalize_public_access_block(response: Payload | None) -> dict[str, bool] | None:
    """The four flags (a flag AWS omits is off), ``{}`` if none configured, ``None`` if unknown."""
    config = answer(response)
    if config is None:
        return None
    if not config:
        return {}
    flags = config.get("PublicAccessBlockConfiguration") or {}
    return {flag: bool(flags.get(flag, False)) for flag in PUBLIC_ACCESS_FLAGS}


def normalize_grants(response: Payload | None) -> list[dict[str, Any]] | None:
    if response is None:
        return None
    grants = []
    for grant in response.get("Grants") or []:
        grantee = grant.get("Grantee") or {}
        grants.append({
            "grantee_type": grantee.get("Type"),
            "grantee": grantee.get("URI") or grantee.get("ID") or grantee.get("EmailAddress"),
            "permission": grant.get("Permission"),
        })
    return sorted(grants, key=lambda g: tuple(str(g[k]) for k in sorted(g)))


def normalize_account_public_access_block(
    scope: RegionScope, uid: str, response: Payload | None
) -> Asset:
    attrs = {"public_access_block": normalize_public_access_block(response)}
    raw = {} if response is None or NOT_FOUND in response else response
    return scope.asset(uid, ACCOUNT_PUBLIC_ACCESS_BLOCK, "account public access block", attrs,
                       raw=raw, region=GLOBAL)
