"""User-assigned managed identities and their federated identity credentials (GitHub Actions,
AKS), collected through the real ARM pipeline against the loopback HTTPS fake (a second page
followed through ``nextLink``), and a failed credential listing recorded against its identity."""

from __future__ import annotations

from support.azure import SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.collector import all_permissions
from posture.demo.azure_fake import FakeArm
from posture.model import Status

IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities"
IDS = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.managedidentity/" \
      "userassignedidentities"


def test_identities_and_federated_credentials(fake: FakeArm) -> None:
    inv = collect_fake(fake)
    assert inv.errors == ()
    found = {a.name: a for a in inv.of(IDENTITY)}
    assert set(found) == {"id-deploy-prod", "id-ci-pr"}
    prod = found["id-deploy-prod"]
    assert (prod.uid, prod.account, prod.region) == (f"{IDS}/id-deploy-prod", SUB, "westeurope")
    assert prod.attr("principal_id") == "c1d00000-0000-0000-0000-000000000001"
    assert prod.attr("federated_credentials") == [{
        "name": "github-production", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:contoso/shop:environment:production",
        "audiences": ["api://AzureADTokenExchange"]}]
    assert [c["name"] for c in found["id-ci-pr"].attr("federated_credentials")] == [
        "aks-workload", "github-pr"]


def test_a_failed_credential_listing_is_recorded_and_inconclusive(fake: FakeArm) -> None:
    fake.fail(f"{IDS}/id-ci-pr/federatedidentitycredentials", 403, "AuthorizationFailed", "no")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert err.resource_uid == f"{IDS}/id-ci-pr"
    assert err.asset_types == (f"{IDENTITY}#federated_credentials",)
    assert inv.get(f"{IDS}/id-ci-pr").attr("federated_credentials") is None  # type: ignore[union-attr]
    found = {f.resource_uid: f.status
             for f in run_one("azure.cicd.github_federated_credential_restricted", inv)}
    assert found[f"{IDS}/id-ci-pr"] == Status.INCONCLUSIVE
    assert found[f"{IDS}/id-deploy-prod"] == Status.PASS  # its own credentials were read


def test_permissions_grow_by_the_identity_reads() -> None:
    assert {"Microsoft.ManagedIdentity/userAssignedIdentities/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read"
            } <= set(all_permissions())
