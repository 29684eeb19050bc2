"""DynamoDB tables, their server-side encryption and point-in-time recovery (attrs as in
``docs/aws-assets.md``).

ListTables returns names only; DescribeTable and DescribeContinuousBackups run per table,
concurrently. A table whose DescribeTable failed is not emitted: the error names the table's ARN
and the type; a failed DescribeContinuousBackups leaves ``pitr_enabled`` null (``#backups``).
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map
from posture.model import Asset

TABLE = "AWS::DynamoDB::Table"

PERMISSIONS: tuple[str, ...] = (
    "dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
)


def collect(scope: RegionScope) -> list[Asset]:
    names = scope.paginate("dynamodb", "ListTables", "TableNames", (TABLE,))
    ordered = sorted(str(n) for n in names or [])
    tables = parallel_map(lambda name: fetch_table(scope, name), ordered)
    return [normalize_table(scope, t) for t in tables if t is not None]


def table_uid(scope: RegionScope, name: str) -> str:
    return scope.arn("dynamodb", f"table/{name}")


def fetch_table(scope: RegionScope, name: str) -> Payload | None:
    uid = table_uid(scope, name)
    resp = scope.call("dynamodb", "DescribeTable", (TABLE,), uid, TableName=name)
    if resp is None:
        return None
    backups = scope.call("dynamodb", "DescribeContinuousBackups", (f"{TABLE}#backups",),
                         str((resp.get("Table") or {}).get("TableArn") or uid), TableName=name)
    return {**(resp.get("Table") or {}), "ContinuousBackupsDescription": (
        None if backups is None else backups.get("ContinuousBackupsDescription") or {})}


def normalize_table(scope: RegionScope, table: Payload) -> Asset:
    """No ``SSEDescription`` means the default: encrypted with an AWS-owned key."""
    sse = table.get("SSEDescription") or {}
    name = str(table["TableName"])
    attrs = {
        "table_name": name,
        "status": table.get("TableStatus"),
        "sse_status": sse.get("Status"),
        # AWS_OWNED (default, no SSEDescription) or KMS (aws/dynamodb or a customer key)
        "sse_type": sse.get("SSEType") or ("AWS_OWNED" if not sse else None),
        "kms_key_arn": sse.get("KMSMasterKeyArn"),
        "pitr_enabled": pitr_enabled(table.get("ContinuousBackupsDescription")),
    }
    uid = str(table.get("TableArn") or table_uid(scope, name))
    return scope.asset(uid, TABLE, name, attrs, raw=table)


def pitr_enabled(backups: Payload | None) -> bool | None:
    """Point-in-time recovery on (null: DescribeContinuousBackups failed or was not asked)."""
    if backups is None:
        return None
    status = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    return status == "ENABLED"
