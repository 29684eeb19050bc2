"""The pure parts of an organisation run: account status from collection gaps, where the tasks
run, the manifest's round trip and its guard on file names."""

from __future__ import annotations

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory

from posture.model import ALL
from posture.org.executor import Cluster, Mode
from posture.org.manifest import AccountEntry, EvidenceDirError, Manifest
from posture.org.plan import Access, AccountTask, OuStep
from posture.org.task import AccountStatus, failed_outcome, status_of


def test_a_disabled_region_makes_the_account_partial_with_the_reason() -> None:
    disabled = collection_error("ec2", "DescribeRegions", (ALL,), region="af-south-1",
                                code="RegionDisabled")
    status, reason = status_of(inventory(errors=(disabled,)))
    assert status is AccountStatus.PARTIAL
    assert "af-south-1" in reason and "RegionDisabled" in reason


def test_a_denied_listing_is_a_gap_not_a_partial_account() -> None:
    denied = collection_error("ec2", "DescribeVolumes", ("AWS::EC2::Volume",))
    assert status_of(inventory(errors=(denied,))) == (AccountStatus.SCANNED, "")


def test_a_failed_account_is_inconclusive_everywhere() -> None:
    task = AccountTask(ACCOUNT, "sandbox", (OuStep("r-1", "Root"),), False, Access(),
                       context_assets=(asset("AWS::S3::Bucket", "arn:aws:s3:::b"),))
    outcome = failed_outcome(task, "role PostureAudit cannot be assumed")
    assert outcome.status is AccountStatus.FAILED
    assert outcome.findings and {f.status.value for f in outcome.findings} == {"INCONCLUSIVE"}
    assert [e.operation for e in outcome.errors] == ["AssumeRole"]


@pytest.mark.parametrize(
    ("workers", "scheduler", "accounts", "expected"),
    [
        (None, None, 1, Cluster(Mode.IN_PROCESS)),
        (0, None, 40, Cluster(Mode.IN_PROCESS)),
        (3, None, 2, Cluster(Mode.LOCAL, workers=2)),
        (None, "tcp://10.0.0.5:8786", 1, Cluster(Mode.SCHEDULER, address="tcp://10.0.0.5:8786")),
    ],
)
def test_where_the_tasks_run(workers: int | None, scheduler: str | None, accounts: int,
                             expected: Cluster) -> None:
    assert Cluster.choose(workers, scheduler, accounts) == expected


def test_the_manifest_reads_back_and_refuses_paths_outside_its_directory() -> None:
    entry = AccountEntry(ACCOUNT, "a", (OuStep("r-1", "Root"),), False, AccountStatus.SCANNED,
                         "", ("us-east-1",), f"{ACCOUNT}.json", "0" * 64)
    manifest = Manifest("id", "1", "t0", "t1", None, "o-1", "arn", "999999999999", (entry,))
    assert Manifest.loads(manifest.dumps(), "m") == manifest
    bad = manifest.dumps().replace(f"{ACCOUNT}.json".encode(), b"../../etc/passwd")
    with pytest.raises(EvidenceDirError, match="not a plain file name"):
        Manifest.loads(bad, "m")


def test_the_tenant_checks_are_the_entra_only_ones() -> None:
    from support.azure import inventory as azure_inventory

    from posture.org.tenant import local_checks, tenant_checks
    from posture.registry import load_catalogue

    catalogue = load_catalogue()
    every = tuple(c.spec.id for c in catalogue.checks)
    assert set(tenant_checks(catalogue, every)) == {
        "azure.identity.mfa_required_for_all_users", "azure.identity.mfa_required_for_admin_roles",
        "azure.identity.users_mfa_registered", "azure.identity.no_privileged_roles_for_guests",
        "azure.identity.no_standing_privileged_directory_roles",
        "azure.identity.app_credentials_short_lived"}
    # a subscription without a tenant read judges them itself (INCONCLUSIVE: not read)
    assert local_checks(azure_inventory(), catalogue, every) == every
