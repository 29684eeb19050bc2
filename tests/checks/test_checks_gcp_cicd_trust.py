"""gcp.cicd.github_workload_identity_restricted: GitHub Actions workload identity providers,
their attribute conditions (a CEL subset, three-valued) and the service accounts granting
workloadIdentityUser to the pool; the trap: one repository's environment production passes."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import only, run_one
from support.gcp import binding, gasset, gcp_error, ginventory

from posture.iam.conditions import Truth
from posture.iam.oidc_trust import cel_truth
from posture.model import Asset, Status

CHECK = "gcp.cicd.github_workload_identity_restricted"
PROVIDER = "iam.googleapis.com/WorkloadIdentityPoolProvider"
POOL = "projects/123/locations/global/workloadIdentityPools/github"
SET = f"principalSet://iam.googleapis.com/{POOL}"
MAPPING = {"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"}


def provider(condition: str | None, issuer: str = "https://token.actions.githubusercontent.com",
             **extra: Any) -> Asset:
    return gasset(PROVIDER, f"//iam.googleapis.com/{POOL}/providers/gh", pool_name=POOL,
                  pool_disabled=False, disabled=False, issuer_uri=issuer, allowed_audiences=[],
                  attribute_mapping=MAPPING, attribute_condition=condition, **extra)


def deployer(*members: str) -> Asset:
    return gasset("iam.googleapis.com/ServiceAccount",
                  "//iam.googleapis.com/projects/acme-test/serviceAccounts/deployer@x",
                  name="deployer@x", iam_bindings=[binding("roles/iam.workloadIdentityUser",
                                                           *members)])


@pytest.mark.parametrize(("condition", "members", "status", "severity", "words"), [
    (None, (f"{SET}/*",), Status.FAIL, "critical",
     "no attribute condition: any repository on GitHub"),
    (None, (), Status.FAIL, "high", "no service account grants"),
    ("assertion.repository_owner == 'acme'", (f"{SET}/*",), Status.FAIL, "high",
     "any repository of owner acme"),
    ("assertion.repository == 'acme/shop'", (f"{SET}/*",), Status.FAIL, "high",
     "acme/shop: pull requests (forks' included), any branch or tag, any environment"),
    ("assertion.repository == 'acme/shop' && assertion.environment == 'production'",
     (f"{SET}/*",), Status.PASS, "critical", "only repository acme/shop, environment production"),
    ("assertion.repository == 'acme/shop' && assertion.ref == 'refs/heads/main'",
     (f"{SET}/*",), Status.PASS, "critical", "only repository acme/shop, branch main"),
    ("assertion.repository_owner == 'acme'", (f"{SET}/attribute.repository/acme/shop",),
     Status.FAIL, "high", "acme/shop: pull requests"),  # the grant narrows to one repository
    ("assertion.repository.matches('^acme/')", (f"{SET}/*",), Status.INCONCLUSIVE, "critical",
     "cannot decide"),
], ids=["no-condition", "no-condition-no-grant", "owner", "repository", "environment-trap",
        "main", "grant-narrows", "unknown-cel"])
def test_github_provider(condition: str | None, members: tuple[str, ...], status: Status,
                         severity: str, words: str) -> None:
    assets = [provider(condition)] + ([deployer(*members)] if members else [])
    f = only(run_one(CHECK, ginventory(*assets)))
    assert (f.status, f.severity.label) == (status, severity), f.message
    assert words in f.message


def test_other_issuers_are_skipped_and_gaps_inconclusive() -> None:
    assert run_one(CHECK, ginventory(provider(None, issuer="https://oidc.example"))) == []
    err = gcp_error("iam", "workloadIdentityPools.list", (PROVIDER,))
    statuses = {f.status for f in run_one(CHECK, ginventory(errors=(err,)))}
    assert statuses == {Status.INCONCLUSIVE}


@pytest.mark.parametrize(("text", "truth"), [
    ("a == 'x' && (b == 'y' || !(b != 'z'))", Truth.TRUE),
    ("a in ['w', 'x']", Truth.TRUE),
    ("a.startsWith('x') && b.endsWith('z')", Truth.FALSE),
    ("c == 'x'", Truth.UNKNOWN),
    ("a == ", Truth.UNKNOWN),
    ("", Truth.TRUE),
])
def test_cel_subset(text: str, truth: Truth) -> None:
    assert cel_truth(text, {"a": "x", "b": "y"}) == truth
