"""Custom images read with the real google-cloud-compute client from the loopback fake: the
project's images over two pages, each one's IAM policy asked at version 3; customer-supplied
key material never kept; a refused policy read recorded against the image (INCONCLUSIVE there,
the others judged), a refused listing against the type."""

from __future__ import annotations

from support.checks import run_one
from support.gcp import ginventory
from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import compute_images
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle, load_routes
from posture.gcp import IMAGE
from posture.model import Status

LIST = "GET /compute/v1/projects/acme-prod/global/images"
POLICY = f"{LIST}/partner-appliance-v3/getIamPolicy"
CHECK = "gcp.compute.image_not_public"


def test_images_and_their_policies(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, compute_images)
    assert set(found) == {"web-golden-2025-06", "legacy-base-2021", "partner-appliance-v3"}
    partner, legacy = found["partner-appliance-v3"], found["legacy-base-2021"]
    assert partner.uid == ("//compute.googleapis.com/projects/acme-prod/global/images/"
                           "partner-appliance-v3")
    assert (partner.type, partner.region, partner.attr("family")) == (IMAGE, "global",
                                                                      "partner-appliance")
    assert {"role": "roles/compute.imageUser", "members": ["allAuthenticatedUsers"],
            "condition": None} in partner.attr("iam_bindings")
    assert (legacy.attr("deprecation_state"), legacy.attr("iam_bindings"),
            legacy.attr("source")) == (
        "DEPRECATED", [], "projects/debian-cloud/global/images/debian-10-buster-v20210512")
    assert legacy.attr("kms_key", "").startswith("projects/acme-prod/locations/us/keyRings/")
    assert found["web-golden-2025-06"].tags == {"tier": "web", "pipeline": "packer"}
    asked = {r.query.get("optionsRequestedPolicyVersion") for r in gcp_fake.requests
             if r.path.endswith("/getIamPolicy") and "/global/images/" in r.path}
    assert asked == {"3"}  # conditions visible
    assert compute_images.collect(project_scope(gcp_fake, "acme-dev")) == []
    by = {f.resource_name: f.status for f in run_one(CHECK, ginventory(*found.values()))}
    assert by == {"web-golden-2025-06": Status.PASS, "legacy-base-2021": Status.PASS,
                  "partner-appliance-v3": Status.FAIL}


def test_customer_supplied_key_material_is_dropped() -> None:
    pages = load_routes()[LIST]["__pages__"]
    keyed = {**pages[0]["items"][0], "imageEncryptionKey": {
        "rawKey": "SGVsbG8gZnJvbSBHb29nbGUgQ2xvdWQgUGxhdGZvcm0=", "sha256": "abc123"}}
    with scope_on_fake(overrides={LIST: {"items": [keyed]}}) as scope:
        [image] = compute_images.collect(scope)
    assert image.raw["imageEncryptionKey"] == {"sha256": "abc123"}
    assert (image.attr("customer_supplied_key"), image.attr("kms_key")) == (True, None)
    assert "SGVsbG8" not in str(image.raw)


def test_refused_policy_is_recorded_on_the_image_and_inconclusive() -> None:
    with scope_on_fake(POLICY) as scope:
        found = {a.name: a for a in compute_images.collect(scope)}
    [error] = scope.errors
    assert (error.operation, error.asset_types, error.resource_uid) == (
        "images.getIamPolicy", (f"{IMAGE}#iam_policy",), found["partner-appliance-v3"].uid)
    assert found["partner-appliance-v3"].attr("iam_bindings") is None
    inv = ginventory(*found.values(), errors=(error,))
    by = {f.resource_name: f.status for f in run_one(CHECK, inv)}
    assert by == {"web-golden-2025-06": Status.PASS, "legacy-base-2021": Status.PASS,
                  "partner-appliance-v3": Status.INCONCLUSIVE}


def test_refused_listing_is_recorded_against_the_type() -> None:
    with scope_on_fake(LIST) as scope:
        assert compute_images.collect(scope) == []
    assert [(e.service, e.operation, e.asset_types) for e in scope.errors] == [
        ("compute", "images.list", (IMAGE,))]


def test_permissions() -> None:
    assert {"compute.images.list", "compute.images.getIamPolicy"} <= set(all_permissions())
