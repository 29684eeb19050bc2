"""azure.cicd.github_federated_credential_restricted: user-assigned identities federated with
GitHub Actions (exact subjects: pull requests fail, one repository's environment:production is
the trap that passes), graded by the identity's role assignments."""

from __future__ import annotations

from typing import Any

import pytest
from support.azure import OWNER, READER, RG, az, error, inventory, role_assignment
from support.checks import only, run_one

from posture.model import Asset, Status

CHECK = "azure.cicd.github_federated_credential_restricted"
IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
PRINCIPAL = "c1d00000-0000-0000-0000-000000000001"
GITHUB = "https://token.actions.githubusercontent.com"


def identity(*subjects: str, issuer: str = GITHUB, creds: Any = ...) -> Asset:
    found = [{"name": f"fic-{i}", "issuer": issuer, "subject": s,
              "audiences": ["api://AzureADTokenExchange"]} for i, s in enumerate(subjects)]
    return az(IDENTITY, f"{RG}/providers/microsoft.managedidentity/userassignedidentities/id-ci",
              identity_name="id-ci", principal_id=PRINCIPAL, client_id="c", tenant_id="t",
              federated_credentials=found if creds is ... else creds)


@pytest.mark.parametrize(("subjects", "role", "status", "severity", "words"), [
    (("repo:contoso/shop:environment:production",), READER, Status.PASS, "critical",
     "only repository contoso/shop, environment production"),
    (("repo:contoso/shop:ref:refs/heads/main",), OWNER, Status.PASS, "critical",
     "branch main; the identity has Owner power"),
    (("repo:contoso/shop:pull_request",), READER, Status.FAIL, "high",
     "contoso/shop: pull requests (forks' included)"),
    (("repo:contoso/shop:environment:production", "repo:contoso/shop:pull_request"), OWNER,
     Status.FAIL, "critical", "pull requests"),
    (("job_workflow_ref:contoso/wf/.github/workflows/deploy.yml@refs/heads/main",), READER,
     Status.FAIL, "high", "calls the reusable workflow"),
    (("repo:contoso/*",), READER, Status.PASS, "critical", "no subject"),  # exact: no glob
], ids=["environment-production-trap", "main-owner", "pull-request", "pr-owner", "workflow",
        "literal-star"])
def test_github_federation(subjects: tuple[str, ...], role: str, status: Status, severity: str,
                           words: str) -> None:
    inv = inventory(identity(*subjects), role_assignment("ra", role, principal=PRINCIPAL))
    f = only(run_one(CHECK, inv))
    assert (f.status, f.severity.label) == (status, severity), f.message
    assert words in f.message


def test_other_issuers_are_not_judged_and_unread_credentials_are_inconclusive() -> None:
    aks = identity("system:serviceaccount:shop:ci", issuer="https://oidc.example/aks")
    assert run_one(CHECK, inventory(aks)) == []
    f = only(run_one(CHECK, inventory(identity(creds=None))))
    assert f.status == Status.INCONCLUSIVE


def test_not_collected_is_inconclusive() -> None:
    inv = inventory(identity("repo:contoso/shop:environment:production"), errors=(
        error("managedidentity", "FederatedIdentityCredentials_List",
              (f"{IDENTITY}#federated_credentials",)),))
    statuses = {f.status for f in run_one(CHECK, inv)}
    assert Status.PASS not in statuses and Status.INCONCLUSIVE in statuses
