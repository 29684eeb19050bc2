"""A failed subscription-wide listing of a platform service (AKS, Container Registry, Cosmos DB)
is recorded against its type, the checks that read it are INCONCLUSIVE, never PASS, and the read
action it needs is in the scanner's role."""

from __future__ import annotations

import pytest
from support.azure import SUB
from support.azure_collect import collect_fake
from support.cases import named
from support.checks import run_one

from posture.collectors.azure.collector import all_permissions
from posture.demo.azure_fake import FakeArm
from posture.model import Status

CASES = [
    ("aks", "microsoft.containerservice", "ManagedClusters_List",
     "Microsoft.ContainerService/managedClusters", "azure.kubernetes.aks_api_server_not_public"),
    ("acr", "microsoft.containerregistry", "Registries_List",
     "Microsoft.ContainerRegistry/registries", "azure.kubernetes.registry_admin_user_disabled"),
    ("cosmos", "microsoft.documentdb", "DatabaseAccounts_List",
     "Microsoft.DocumentDB/databaseAccounts", "azure.data.cosmos_not_open_to_internet"),
]


@pytest.mark.parametrize(("namespace", "operation", "type_", "check_id"), named(CASES))
def test_a_failed_listing_names_its_type_and_leaves_checks_inconclusive(
    fake: FakeArm, namespace: str, operation: str, type_: str, check_id: str
) -> None:
    fake.fail(f"/subscriptions/{SUB}/providers/{namespace}", 403, "AuthorizationFailed",
              f"no {type_.rsplit('/', 1)[1]}/read")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert (err.operation, err.asset_types) == (operation, (type_,))
    assert {f.status for f in run_one(check_id, inv)} == {Status.INCONCLUSIVE}
    assert f"{type_}/read" in all_permissions()
