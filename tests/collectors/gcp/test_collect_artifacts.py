"""Artifact Registry and Container Analysis with the real discovery clients from the loopback
fake: repositories in every location, the latest digest of each image name (images over two
pages) joined with the project's vulnerability summary; a disabled Container Analysis API is an
answer; refused image and summary reads are recorded on their facets and the image check is
INCONCLUSIVE there."""

from __future__ import annotations

from support.checks import run_one
from support.gcp import ginventory
from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import artifacts
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import AR_REPOSITORY
from posture.model import Status

REPO = "/v1/projects/acme-prod/locations/us/repositories/containers"


def test_repositories_and_latest_images(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, artifacts)
    assert set(found) == {"containers", "legacy-images", "maven-releases"}
    containers = found["containers"]
    assert (containers.uid, containers.region, containers.attr("scanning_state")) == (
        "//artifactregistry.googleapis.com/projects/acme-prod/locations/us/repositories/"
        "containers", "us", "SCANNING_ACTIVE")
    assert containers.attr("image_count") == 3
    web, api = containers.attr("latest_images")  # the worst first
    assert (web["image"], web["tags"], web["critical"], web["fixable_critical"], web["high"]) == (
        "us-docker.pkg.dev/acme-prod/containers/web", ["latest", "v2.3.1"], 3, 2, 5)
    assert web["digest"] == "sha256:" + "2" * 64  # the newer of the two web digests
    assert (api["image"].rsplit("/", 1)[-1], api["critical"], api["high"]) == ("api", 0, 0)
    assert found["legacy-images"].attr("scanning_state") == "SCANNING_DISABLED"
    maven = found["maven-releases"]
    assert (maven.attr("format"), maven.attr("latest_images")) == ("MAVEN", None)
    assert f"{REPO}/dockerImages" in gcp_fake.paths(REPO)


def test_disabled_container_analysis_is_no_error(gcp_fake: FakeGoogle) -> None:
    scope = project_scope(gcp_fake, "acme-dev")
    [repo] = artifacts.collect(scope)
    assert scope.errors == []
    assert (repo.attr("scanning_state"), repo.attr("vulnerability_counts_read")) == (None, True)


def test_refused_images_and_summary_are_recorded_on_their_facets() -> None:
    with scope_on_fake(f"GET {REPO}/dockerImages",
                       "GET /v1/projects/acme-prod/occurrences:vulnerabilitySummary") as scope:
        found = {a.name: a for a in artifacts.collect(scope)}
    assert sorted((e.operation, e.asset_types, e.resource_uid) for e in scope.errors) == [
        ("dockerImages.list", (f"{AR_REPOSITORY}#images",), found["containers"].uid),
        ("occurrences.getVulnerabilitySummary", (f"{AR_REPOSITORY}#vulnerabilities",), None)]
    assert found["containers"].attr("latest_images") is None
    legacy = found["legacy-images"]
    assert legacy.attr("vulnerability_counts_read") is False
    assert legacy.attr("latest_images")[0]["critical"] is None
    inv = ginventory(*found.values(), errors=tuple(scope.errors))
    by = {f.resource_name: f.status
          for f in run_one("gcp.patching.image_vulnerabilities_within_sla", inv)}
    assert by["containers"] == Status.INCONCLUSIVE


def test_permissions_grow_by_the_listings() -> None:
    assert {"artifactregistry.repositories.list", "artifactregistry.dockerimages.list",
            "containeranalysis.occurrences.list"} <= set(all_permissions())
