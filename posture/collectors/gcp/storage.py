"""Cloud Storage: buckets (uniform access, public access prevention, CMEK) and their IAM
policies (version 3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, parallel_map
from posture.collectors.gcp.resourcemanager import bindings
from posture.model import GLOBAL, Asset

BUCKET = "storage.googleapis.com/Bucket"
SERVICE = "storage"
PERMISSIONS = ("storage.buckets.getIamPolicy", "storage.buckets.list")


def uid(name: str) -> str:
    return f"//storage.googleapis.com/{name}"


def collect(scope: ProjectScope) -> list[Asset]:
    client, retry = scope.clients.storage(scope.project), scope.clients.retry
    buckets = scope.call(
        SERVICE, "buckets.list", (BUCKET,), lambda: list(client.list_buckets(retry=retry))
    )
    if not buckets:
        return []

    def detail(bucket: Any) -> Asset:
        # google-cloud-storage keeps the bucket's REST resource in _properties
        props: dict[str, Any] = dict(bucket._properties)
        region = str(props.get("location") or GLOBAL).lower()
        policy = scope.call(
            SERVICE,
            "buckets.getIamPolicy",
            (f"{BUCKET}#iam_policy",),
            lambda: bucket.get_iam_policy(requested_policy_version=3, retry=retry).to_api_repr(),
            region=region,
            resource_uid=uid(str(props.get("name"))),
        )
        return normalize_bucket(scope, props, policy)

    return parallel_map(detail, buckets)


def normalize_bucket(
    scope: ProjectScope, b: Mapping[str, Any], policy: Mapping[str, Any] | None
) -> Asset:
    iam_cfg = b.get("iamConfiguration") or {}
    uniform = iam_cfg.get("uniformBucketLevelAccess") or iam_cfg.get("bucketPolicyOnly") or {}
    name = str(b.get("name"))
    attrs = {
        "bucket_name": name,
        "location": b.get("location"),
        "location_type": b.get("locationType"),
        "storage_class": b.get("storageClass"),
        "uniform_access": bool(uniform.get("enabled")),
        "public_access_prevention": iam_cfg.get("publicAccessPrevention") or "inherited",
        "default_kms_key": (b.get("encryption") or {}).get("defaultKmsKeyName"),
        "versioning": bool((b.get("versioning") or {}).get("enabled")),
        "logging_bucket": (b.get("logging") or {}).get("logBucket"),
        "retention_seconds": _int((b.get("retentionPolicy") or {}).get("retentionPeriod")),
        "time_created": b.get("timeCreated"),
        "iam_bindings": bindings(policy) if policy is not None else None,
    }
    region = str(b.get("location") or GLOBAL).lower()
    return scope.asset(
        uid(name),
        BUCKET,
        name,
        attrs,
        {"bucket": b, "iam_policy": policy},
        region=region,
        tags=b.get("labels") or {},
    )


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
