"""ECR collector against the moto server: tag mutability, the registry's scanning rules applied
per repository, the latest image's scan summary (a recorded result served through moto's own
hook), an image never scanned, an empty repository, repository and lifecycle policies (none is a
known answer: moto answers RepositoryPolicyNotFoundException / LifecyclePolicyNotFoundException
as AWS does), and refusals."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from support.aws import ACCOUNT, client
from support.collect import by_uid, error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import ecr
from posture.collectors.aws.collector import all_permissions

REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{{}}"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "OrgPull", "Effect": "Allow", "Principal": "*",
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]}
LIFECYCLE = {"rules": [
    {"rulePriority": 1, "description": "untagged",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                   "countNumber": 14}, "action": {"type": "expire"}},
    {"rulePriority": 2, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                      "countNumber": 50}, "action": {"type": "expire"}}]}


def _manifest(layer: str) -> str:
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 32654, "digest": "sha256:" + layer * 64}],
    })


def _scan_result(endpoint: str, repo: str, digest: str, counts: dict[str, int]) -> None:
    """moto answers DescribeImageScanFindings of this image with a recorded result."""
    result = {
        "registryId": ACCOUNT, "repositoryName": repo, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE",
                            "description": "The scan was completed successfully."},
        "imageScanFindings": {"imageScanCompletedAt": 1767139200,
                              "vulnerabilitySourceUpdatedAt": 1767052800,
                              "findings": [], "findingSeverityCounts": counts},
    }
    body = json.dumps({"results": [result], "region": "us-east-1"}).encode()
    req = urllib.request.Request(f"{endpoint}/moto-api/static/ecr/scan-finding-results",
                                 data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass


def _seed(endpoint: str, distinct: bool = False) -> dict[str, Any]:
    api = client("ecr", endpoint)
    api.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE",
                          imageScanningConfiguration={"scanOnPush": True})
    api.create_repository(repositoryName="legacy")
    api.create_repository(repositoryName="empty")
    api.put_registry_scanning_configuration(scanType="ENHANCED", rules=[{
        "scanFrequency": "CONTINUOUS_SCAN",
        "repositoryFilters": [{"filter": "app", "filterType": "WILDCARD"}]}])
    api.put_image(repositoryName="app", imageManifest=_manifest("a"), imageTag="v1")
    if distinct:
        time.sleep(1.1)  # moto stamps imagePushedAt to the second
    newest = api.put_image(repositoryName="app", imageManifest=_manifest("b"),
                           imageTag="v2")["image"]["imageId"]["imageDigest"]
    api.put_image(repositoryName="legacy", imageManifest=_manifest("d"), imageTag="latest")
    api.start_image_scan(repositoryName="app", imageId={"imageDigest": newest})
    _scan_result(endpoint, "app", newest, {"CRITICAL": 2, "HIGH": 5})
    api.set_repository_policy(repositoryName="app", policyText=json.dumps(POLICY))
    api.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=json.dumps(LIFECYCLE))
    return {"newest": newest}


def test_repositories_scanning_and_latest_image(moto_endpoint: str) -> None:
    seeded = _seed(moto_endpoint, distinct=True)
    sc = scope(moto_endpoint, region="us-east-1")
    assets = by_uid(ecr.collect(sc))

    assert sc.errors == []
    registry = assets[f"arn:aws:ecr:us-east-1:{ACCOUNT}:registry-scanning-configuration"]
    assert registry.attrs == {"scan_type": "ENHANCED", "rules": [
        {"scan_frequency": "CONTINUOUS_SCAN", "filters": ["app"]}]}
    app = assets[REPO.format("app")]
    assert (app.type, app.name) == (ecr.REPOSITORY, "app")
    assert {k: app.attrs[k] for k in ("image_tag_mutability", "scan_on_push", "scan_frequency",
                                      "encryption_type", "image_count")} == {
        "image_tag_mutability": "IMMUTABLE", "scan_on_push": True,
        "scan_frequency": "CONTINUOUS_SCAN", "encryption_type": "AES256", "image_count": 2}
    latest = app.attrs["latest_image"]
    assert {k: latest[k] for k in ("digest", "tags", "scan_status", "scan_completed_at",
                                   "finding_counts")} == {
        "digest": seeded["newest"], "tags": ["v2"], "scan_status": "COMPLETE",
        "scan_completed_at": "2025-12-31T00:00:00+00:00",
        "finding_counts": {"CRITICAL": 2, "HIGH": 5}}
    legacy = assets[REPO.format("legacy")].attrs
    assert (legacy["image_tag_mutability"], legacy["scan_frequency"]) == ("MUTABLE", "MANUAL")
    assert legacy["latest_image"]["scan_status"] == "NOT_SCANNED"
    assert legacy["latest_image"]["finding_counts"] is None
    empty = assets[REPO.format("empty")].attrs
    assert (empty["image_count"], empty["latest_image"]) == (0, None)
    policies = ("policy_present", "policy", "lifecycle_policy_present", "lifecycle_rule_count")
    assert {k: app.attrs[k] for k in policies} == {
        "policy_present": True, "policy": POLICY, "lifecycle_policy_present": True,
        "lifecycle_rule_count": 2}
    assert {k: legacy[k] for k in policies} == {
        "policy_present": False, "policy": None, "lifecycle_policy_present": False,
        "lifecycle_rule_count": None}


def test_refused_policies_are_unknown_not_absent(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "ecr", "GetRepositoryPolicy", "GetLifecyclePolicy")
    assets = by_uid(ecr.collect(sc))
    repos = [REPO.format(n) for n in ("app", "empty", "legacy")]
    assert {(assets[u].attrs["policy_present"], assets[u].attrs["policy"],
             assets[u].attrs["lifecycle_policy_present"]) for u in repos} == {(None, None, None)}
    assert assets[REPO.format("app")].attrs["scan_frequency"] == "CONTINUOUS_SCAN"
    assert error_keys(sc.errors) == (
        refusals("ecr", "GetRepositoryPolicy", (f"{ecr.REPOSITORY}#policy",), repos)
        | refusals("ecr", "GetLifecyclePolicy", (f"{ecr.REPOSITORY}#lifecycle",), repos))
    assert {"ecr:GetRepositoryPolicy", "ecr:GetLifecyclePolicy"} <= set(all_permissions())


def test_refused_images_leave_the_repositories(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "ecr", "DescribeImages")
    assets = by_uid(ecr.collect(sc))
    app = assets[REPO.format("app")].attrs
    assert (app["image_count"], app["latest_image"], app["scan_frequency"]) == (
        None, None, "CONTINUOUS_SCAN")
    assert error_keys(sc.errors) == refusals(
        "ecr", "DescribeImages", (f"{ecr.REPOSITORY}#images",),
        [REPO.format(n) for n in ("app", "empty", "legacy")])


def test_refused_scanning_configuration_is_unknown(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "ecr", "BatchGetRepositoryScanningConfiguration",
                       "GetRegistryScanningConfiguration")
    assets = by_uid(ecr.collect(sc))
    assert {a.attrs["scan_frequency"] for a in assets.values()} == {None}
    assert ecr.REGISTRY_SCANNING not in {a.type for a in assets.values()}
    assert error_keys(sc.errors) == (
        refusals("ecr", "BatchGetRepositoryScanningConfiguration", (f"{ecr.REPOSITORY}#scanning",))
        | refusals("ecr", "GetRegistryScanningConfiguration", (ecr.REGISTRY_SCANNING,)))


def test_refused_listing_is_recorded_against_the_type(moto_endpoint: str) -> None:
    sc = refused_scope(moto_endpoint, "ecr", "DescribeRepositories")
    assets = ecr.collect(sc)
    assert [a.type for a in assets] == [ecr.REGISTRY_SCANNING]
    assert error_keys(sc.errors) == refusals("ecr", "DescribeRepositories", (ecr.REPOSITORY,))
