"""Data exposure: EBS and RDS snapshots are not public."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

EBS_SNAPSHOT = "AWS::EC2::Snapshot"
DB_SNAPSHOT = "AWS::RDS::DBSnapshot"
DB_CLUSTER_SNAPSHOT = "AWS::RDS::DBClusterSnapshot"

_RATIONALE = (
    "A public snapshot can be copied and restored by every AWS account in the world: it is a "
    "full copy of the disk or database, including deleted files, credentials and backups."
)


def _exposure(ctx: CheckContext, snap: Asset, who: str) -> Result:
    public, shared = snap.attr("public"), snap.attr("shared_with_accounts")
    if public is None:
        return ctx.unknown(snap, f"{who} permissions unknown")
    if public:
        return ctx.fail(
            snap,
            f"snapshot is public: any AWS account may {who.split()[0]} it",
            encrypted=snap.attr("encrypted"),
            shared_with_accounts=shared,
        )
    return ctx.passed(snap, "snapshot is not public", shared_with_accounts=shared)


@check(
    id="aws.data.ebs_snapshot_not_public",
    title="EBS snapshots are not public",
    severity=Severity.CRITICAL,
    principles=(Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
    reads={f"{EBS_SNAPSHOT}#permissions"},
    remediation=(
        "Remove the public permission (`aws ec2 modify-snapshot-attribute --snapshot-id <id> "
        "--attribute createVolumePermission --operation-type remove --group-names all`), share "
        "with named accounts only, and enable the account's EBS block public access."
    ),
    rationale=_RATIONALE,
)
def ebs_snapshot_not_public(ctx: CheckContext) -> Iterator[Result]:
    for snap in ctx.inventory.of(EBS_SNAPSHOT):
        yield _exposure(ctx, snap, "create volume permissions")


@check(
    id="aws.data.rds_snapshot_not_public",
    title="RDS DB and cluster snapshots are not public",
    severity=Severity.CRITICAL,
    principles=(Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
    reads={f"{DB_SNAPSHOT}#permissions", f"{DB_CLUSTER_SNAPSHOT}#permissions"},
    remediation=(
        "Remove `all` from the snapshot's restore attribute (`aws rds "
        "modify-db-snapshot-attribute --attribute-name restore --values-to-remove all`) and "
        "share with named accounts only."
    ),
    rationale=_RATIONALE + " Only manual snapshots can be shared; automated ones never are.",
)
def rds_snapshot_not_public(ctx: CheckContext) -> Iterator[Result]:
    for snap in ctx.inventory.of(DB_SNAPSHOT, DB_CLUSTER_SNAPSHOT):
        yield _exposure(ctx, snap, "restore permissions")
