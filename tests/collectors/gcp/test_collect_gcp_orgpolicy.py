"""Organization Policy: the effective storage.publicAccessPrevention policy of each project read
with the real discovery client from the loopback fake, a denied read recorded against the policy
alone, and the normalization of conditional and empty policies."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import by_uid, run_one
from support.gcp_collect import collect_denied, collect_fake

from posture.collectors.gcp import orgpolicy
from posture.collectors.gcp.base import ProjectScope
from posture.collectors.gcp.collector import all_permissions
from posture.demo.gcp_fake import FakeGoogle
from posture.gcp import ORG_POLICY
from posture.model import Status

PAP = "storage.publicAccessPrevention"
CHECK = "gcp.storage.bucket_public_access_prevention_enforced"


def _uid(project: str) -> str:
    return f"//orgpolicy.googleapis.com/projects/{project}/policies/{PAP}"


def test_effective_policy_per_project(gcp_fake: FakeGoogle) -> None:
    inv = collect_fake(gcp_fake.base)
    policies = {p.uid: p for p in inv.of(ORG_POLICY) if p.attr("constraint") == PAP}
    assert {uid: (p.account, p.region, p.name, p.attr("enforced"), p.attr("conditional"))
            for uid, p in policies.items()} == {
        _uid("acme-prod"): ("acme-prod", "global", PAP, False, False),
        _uid("acme-dev"): ("acme-dev", "global", PAP, True, False),
    }
    assert policies[_uid("acme-dev")].attr("rules") == [{"enforce": True, "condition": None}]
    assert f"/v2/projects/acme-prod/policies/{PAP}:getEffectivePolicy" in gcp_fake.paths("/v2/")
    assert "orgpolicy.policy.get" in all_permissions()


def test_denied_policy_is_an_error_on_the_policy_alone() -> None:
    inv = collect_denied(f"GET /v2/projects/acme-prod/policies/{PAP}:getEffectivePolicy")
    assert [(e.service, e.operation, e.code, e.asset_types, e.resource_uid) for e in inv.errors
            ] == [("orgpolicy", "policies.getEffectivePolicy", "PERMISSION_DENIED",
                   (ORG_POLICY,), _uid("acme-prod"))]
    policy = inv.get(_uid("acme-prod"))
    assert policy is not None
    assert (policy.attr("enforced"), policy.attr("conditional"), policy.attr("rules")) == (
        None, None, None)
    # only what depends on the policy is undecided: the bucket enforcing on its own still passes
    found = by_uid(run_one(CHECK, inv))
    assert {f.resource_name: f.status for f in found.values()} == {
        "acme-prod-data": Status.PASS,
        "acme-prod-public-assets": Status.INCONCLUSIVE,
        "acme-prod-legacy-logs": Status.INCONCLUSIVE,
        PAP: Status.INCONCLUSIVE,  # the engine reports the unread policy itself
    }


TAGGED = {"expression": "resource.matchTag('123/env', 'prod')"}


@pytest.mark.parametrize(("spec", "enforced", "conditional"), [
    ({}, False, False),  # no policy anywhere: a boolean constraint is off
    ({"rules": [{"enforce": False}]}, False, False),
    ({"rules": [{"enforce": True}]}, True, False),
    # enforced for tagged resources only
    ({"rules": [{"enforce": True, "condition": TAGGED}, {"enforce": False}]}, None, True),
    # enforced except for tagged resources
    ({"rules": [{"enforce": False, "condition": TAGGED}, {"enforce": True}]}, None, True),
    ({"rules": [{"enforce": True, "condition": TAGGED}, {"enforce": True}]}, True, True),
    ({"rules": [{"enforce": True, "condition": TAGGED}]}, None, True),  # untagged: default off
])
def test_conditional_and_empty_policies(spec: Any, enforced: bool | None,
                                        conditional: bool) -> None:
    scope = ProjectScope("p", None)  # type: ignore[arg-type]  # normalize needs no client
    policy = orgpolicy.normalize_policy(scope, PAP, {"name": f"projects/1/policies/{PAP}",
                                                     "spec": spec})
    assert (policy.attr("enforced"), policy.attr("conditional")) == (enforced, conditional)
