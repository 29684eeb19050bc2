"""Secret Manager read with the real discovery client from the loopback fake: secrets' rotation,
replication and keys, and each IAM policy (names carry the project number); no version or
payload is read; a refused policy read is recorded against the secret and the public-secret
check is INCONCLUSIVE there."""

from __future__ import annotations

from support.checks import run_one
from support.gcp import ginventory
from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import secretmanager
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import SECRET
from posture.model import Status

POLICY = "GET /v1/projects/111111111111/secrets/partner-api-key:getIamPolicy"


def test_secrets_rotation_replication_and_policies(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, secretmanager)
    db, partner = found["db-password"], found["partner-api-key"]
    assert db.uid == "//secretmanager.googleapis.com/projects/111111111111/secrets/db-password"
    assert (db.attr("rotation_period_seconds"), db.attr("replication"), db.attr("topics")) == (
        2592000, "automatic", ["projects/acme-prod/topics/secret-rotation"])
    assert (partner.attr("replication"), partner.attr("replica_locations"),
            partner.attr("rotation_period_seconds")) == (
        "user_managed", ["europe-west1", "europe-west4"], None)
    assert partner.attr("kms_keys") == [
        "projects/acme-prod/locations/europe-west1/keyRings/eu/cryptoKeys/secrets"]
    assert {"role": "roles/secretmanager.secretAccessor", "members": ["allAuthenticatedUsers"],
            "condition": None} in partner.attr("iam_bindings")
    assert not [p for p in gcp_fake.paths("/v1/projects/") if "/versions" in p]
    assert secretmanager.collect(project_scope(gcp_fake, "acme-dev")) == []


def test_refused_policy_is_recorded_and_inconclusive() -> None:
    with scope_on_fake(POLICY) as scope:
        found = {a.name: a for a in secretmanager.collect(scope)}
    [error] = scope.errors
    assert (error.asset_types, error.resource_uid) == ((f"{SECRET}#iam_policy",),
                                                       found["partner-api-key"].uid)
    inv = ginventory(*found.values(), errors=(error,))
    by = {f.resource_name: f.status for f in run_one("gcp.data.secret_not_public", inv)}
    assert by == {"db-password": Status.PASS, "partner-api-key": Status.INCONCLUSIVE}


def test_durations() -> None:
    assert secretmanager.seconds("7776000s") == 7776000
    assert secretmanager.seconds("1.5s") == 1 and secretmanager.seconds(None) is None


def test_permissions() -> None:
    assert {"secretmanager.secrets.list", "secretmanager.secrets.getIamPolicy"} <= set(
        all_permissions())
