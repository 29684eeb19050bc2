"""ECR private repositories of one region and the registry's scanning configuration; attrs as
in ``docs/aws-assets.md``.

Per repository: tag mutability, the effective scan frequency
(BatchGetRepositoryScanningConfiguration, which applies the registry's rules, basic or enhanced)
and the latest pushed image with its scan summary (DescribeImageScanFindings: severity counts
only, never the findings). An image that was never scanned is a known answer (``scan_status``
``NOT_SCANNED``), not a gap. The repository policy (GetRepositoryPolicy) and the lifecycle policy
(GetLifecyclePolicy) are read per repository: ``RepositoryPolicyNotFoundException`` /
``LifecyclePolicyNotFoundException`` mean "none", a known answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from posture.collectors.aws.base import (
    Payload,
    RegionScope,
    chunks,
    parallel_map,
    parse_policy,
    pick,
)
from posture.model import Asset
from posture.values import parse_time

REPOSITORY = "AWS::ECR::Repository"
REGISTRY_SCANNING = "AWS::ECR::RegistryScanningConfiguration"
NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
SCANNING_BATCH = 25  # BatchGetRepositoryScanningConfiguration takes at most 25 names

PERMISSIONS: tuple[str, ...] = (
    "ecr:DescribeRepositories", "ecr:GetRegistryScanningConfiguration",
    "ecr:BatchGetRepositoryScanningConfiguration", "ecr:DescribeImages",
    "ecr:DescribeImageScanFindings", "ecr:GetRepositoryPolicy", "ecr:GetLifecyclePolicy",
)
NO_POLICY = "RepositoryPolicyNotFoundException"
NO_LIFECYCLE = "LifecyclePolicyNotFoundException"


def collect(scope: RegionScope) -> list[Asset]:
    assets: list[Asset] = []
    registry = scope.call("ecr", "GetRegistryScanningConfiguration", (REGISTRY_SCANNING,))
    if registry is not None:
        assets.append(normalize_registry(scope, registry))
    repos = scope.paginate("ecr", "DescribeRepositories", "repositories", (REPOSITORY,))
    if not repos:
        return assets
    ordered = sorted(repos, key=lambda r: str(r["repositoryArn"]))
    scanning = fetch_scanning(scope, [str(r["repositoryName"]) for r in ordered])
    latest = parallel_map(lambda r: fetch_latest_image(scope, r), ordered)
    policies = parallel_map(lambda r: fetch_policies(scope, r), ordered)
    assets += [normalize_repository(scope, r, scanning.get(str(r["repositoryName"])), image,
                                    policy)
               for r, image, policy in zip(ordered, latest, policies, strict=True)]
    return assets


# --- fetch -------------------------------------------------------------------------------------


def fetch_scanning(scope: RegionScope, names: list[str]) -> dict[str, Payload]:
    """The effective scanning configuration by repository name (missing: unknown, recorded)."""
    out: dict[str, Payload] = {}
    for batch in chunks(names, SCANNING_BATCH):
        answer = scope.call("ecr", "BatchGetRepositoryScanningConfiguration",
                            (f"{REPOSITORY}#scanning",), repositoryNames=batch)
        if answer is None:
            continue
        for config in answer.get("scanningConfigurations") or []:
            out[str(config.get("repositoryName"))] = config
        for failure in answer.get("failures") or []:
            uid = scope.arn("ecr", f"repository/{failure.get('repositoryName')}")
            scope.record("ecr", "BatchGetRepositoryScanningConfiguration",
                         str(failure.get("failureCode")), str(failure.get("failureReason")),
                         (f"{REPOSITORY}#scanning",), resource_uid=uid)
    return out


def fetch_latest_image(scope: RegionScope, repo: Payload) -> Payload | None:
    """``{"count", "image", "scan"}`` for the most recently pushed image (``image`` None: the
    repository is empty), or None when the images could not be listed."""
    uid, name = str(repo["repositoryArn"]), str(repo["repositoryName"])
    images = scope.paginate("ecr", "DescribeImages", "imageDetails", (f"{REPOSITORY}#images",),
                            uid, repositoryName=name)
    if images is None:
        return None
    if not images:
        return {"count": 0, "image": None, "scan": None}
    newest = max(images, key=lambda i: parse_time(i.get("imagePushedAt")) or NEVER)
    scan = scope.call("ecr", "DescribeImageScanFindings", (f"{REPOSITORY}#images",), uid,
                      ok_codes=("ScanNotFoundException",), repositoryName=name,
                      imageId={"imageDigest": newest["imageDigest"]}, maxResults=1)
    return {"count": len(images), "image": newest, "scan": scan}


def fetch_policies(scope: RegionScope, repo: Payload) -> Payload:
    """``{"policy", "lifecycle"}``: each answer, ``{"__error_code__": …NotFound…}`` when the
    repository has none, or None when the call failed (recorded)."""
    uid, name = str(repo["repositoryArn"]), str(repo["repositoryName"])
    return {
        "policy": scope.call("ecr", "GetRepositoryPolicy", (f"{REPOSITORY}#policy",), uid,
                             ok_codes=(NO_POLICY,), repositoryName=name),
        "lifecycle": scope.call("ecr", "GetLifecyclePolicy", (f"{REPOSITORY}#lifecycle",), uid,
                                ok_codes=(NO_LIFECYCLE,), repositoryName=name),
    }


# --- normalize ---------------------------------------------------------------------------------


def registry_uid(scope: RegionScope) -> str:
    return scope.arn("ecr", "registry-scanning-configuration")


def normalize_registry(scope: RegionScope, answer: Payload) -> Asset:
    config = answer.get("scanningConfiguration") or {}
    rules = [
        {"scan_frequency": rule.get("scanFrequency"),
         "filters": sorted(str(f.get("filter")) for f in rule.get("repositoryFilters") or [])}
        for rule in config.get("rules") or []
    ]
    attrs = {"scan_type": config.get("scanType"), "rules": rules}
    return scope.asset(registry_uid(scope), REGISTRY_SCANNING, f"ecr-scanning {scope.region}",
                       attrs, raw=answer)


def normalize_repository(
    scope: RegionScope, repo: Payload, scanning: Payload | None, latest: Payload | None,
    policies: Payload,
) -> Asset:
    encryption = repo.get("encryptionConfiguration") or {}
    attrs: dict[str, Any] = {
        **pick(repo, arn="repositoryArn", repository_name="repositoryName",
               uri="repositoryUri", created_at="createdAt",
               image_tag_mutability="imageTagMutability"),
        "scan_on_push": (repo.get("imageScanningConfiguration") or {}).get("scanOnPush"),
        "scan_frequency": None if scanning is None else scanning.get("scanFrequency"),
        "encryption_type": encryption.get("encryptionType"),
        "kms_key": encryption.get("kmsKey"),
        "image_count": None if latest is None else latest["count"],
        "latest_image": None if latest is None else latest_image(latest),
        **repository_policies(policies),
    }
    raw = {"repository": repo, "scanning": scanning}
    return scope.asset(str(repo["repositoryArn"]), REPOSITORY, str(repo["repositoryName"]),
                       attrs, raw=raw)


def latest_image(latest: Payload) -> dict[str, Any] | None:
    """The newest image and its scan summary (``scan_status`` null: the scan call failed)."""
    image = latest["image"]
    if image is None:
        return None
    scan = latest["scan"]
    out = {"digest": image.get("imageDigest"), "tags": sorted(image.get("imageTags") or []),
           "pushed_at": image.get("imagePushedAt"), "scan_status": None,
           "scan_status_description": None, "scan_completed_at": None, "finding_counts": None}
    if scan is None:
        return out
    if scan.get("__error_code__") == "ScanNotFoundException":
        return {**out, "scan_status": "NOT_SCANNED"}
    status = scan.get("imageScanStatus") or {}
    findings = scan.get("imageScanFindings") or {}
    counts = findings.get("findingSeverityCounts") or {}
    return {**out, "scan_status": status.get("status"),
            "scan_status_description": status.get("description"),
            "scan_completed_at": findings.get("imageScanCompletedAt"),
            "finding_counts": {str(k): int(v) for k, v in sorted(counts.items())}}


def repository_policies(policies: Payload) -> dict[str, Any]:
    """The repository policy and the lifecycle policy's rule count (``…_present`` null: the call
    failed; false: there is none)."""
    policy, lifecycle = policies["policy"], policies["lifecycle"]
    has_policy, has_lifecycle = _present(policy), _present(lifecycle)
    rules = None
    if lifecycle is not None and has_lifecycle:
        rules = len((parse_policy(lifecycle.get("lifecyclePolicyText")) or {}).get("rules") or [])
    return {
        "policy_present": has_policy,
        "policy": parse_policy(policy.get("policyText")) if policy and has_policy else None,
        "lifecycle_policy_present": has_lifecycle,
        "lifecycle_rule_count": rules,
    }


def _present(answer: Payload | None) -> bool | None:
    return None if answer is None else "__error_code__" not in answer
