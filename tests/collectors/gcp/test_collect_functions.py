"""Cloud Functions read with the real v2 discovery client from the loopback fake: 1st and 2nd gen
in all locations, the Cloud Run service serving a 2nd gen function, HTTPS settings, environment
values scanned and never kept, IAM policies; unreachable locations and refused policy reads are
recorded."""

from __future__ import annotations

from support.gcp_collect import collected_by_name, project_scope
from support.gcp_platforms import scope_on_fake

from posture.collectors.gcp import functions
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import FUNCTION

LIST = "GET /v2/projects/acme-prod/locations/-/functions"


def test_functions_of_both_generations(gcp_fake: FakeGoogle) -> None:
    found = collected_by_name(gcp_fake, functions)
    thumb, hook = found["thumbnailer"], found["legacy-hook"]
    assert {k: thumb.attr(k) for k in ("environment", "runtime", "ingress", "security_level",
                                       "run_service")} == {
        "environment": "GEN_2", "runtime": "python312", "ingress": "ALLOW_ALL",
        "security_level": "SECURE_ALWAYS", "run_service": "us-central1/thumbnailer"}
    assert {k: hook.attr(k) for k in ("environment", "runtime", "ingress", "security_level",
                                      "run_service", "http_trigger")} == {
        "environment": "GEN_1", "runtime": "nodejs16", "ingress": "ALLOW_INTERNAL_ONLY",
        "security_level": "SECURE_OPTIONAL", "run_service": None, "http_trigger": True}
    assert hook.attr("iam_bindings") == [
        {"role": "roles/cloudfunctions.invoker", "members": ["allUsers"], "condition": None}]
    assert [h["key"] for h in hook.attr("env_secrets")] == ["WEBHOOK_PASSWORD"]
    assert hook.raw["serviceConfig"]["environmentVariables"] == {
        "WEBHOOK_PASSWORD": "<redacted by posture>"}
    assert "Rk9vQmFy" not in str(hook.raw)
    assert functions.collect(project_scope(gcp_fake, "acme-dev")) == []


def test_unreachable_location_and_refused_policy_are_recorded() -> None:
    with scope_on_fake(overrides={LIST: {"functions": [], "unreachable": [
            "projects/acme-prod/locations/asia-east1"]}}) as scope:
        assert functions.collect(scope) == []
    assert [(e.region, e.asset_types) for e in scope.errors] == [("asia-east1", (FUNCTION,))]
    policy = "GET /v2/projects/acme-prod/locations/us-central1/functions/legacy-hook:getIamPolicy"
    with scope_on_fake(policy) as scope:
        found = {a.name: a for a in functions.collect(scope)}
    assert [(e.asset_types, e.resource_uid) for e in scope.errors] == [
        ((f"{FUNCTION}#iam_policy",), found["legacy-hook"].uid)]
    assert found["legacy-hook"].attr("iam_bindings") is None


def test_run_service_key() -> None:
    assert functions.run_service_key("projects/123/locations/europe-west1/services/fn") == (
        "europe-west1/fn")
    assert functions.run_service_key(None) is None


def test_permissions_grow_by_the_listings() -> None:
    assert {"cloudfunctions.functions.list", "cloudfunctions.functions.getIamPolicy"} <= set(
        all_permissions())
