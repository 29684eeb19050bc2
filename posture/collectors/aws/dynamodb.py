"""DynamoDB tables and their server-side encryption (attrs as in ``docs/aws-assets.md``).

ListTables returns names only; DescribeTable runs per table, concurrently. A table whose
DescribeTable failed is not emitted: the error names the table's ARN and the type.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map
from posture.model import Asset

TABLE = "AWS::DynamoDB::Table"

PERMISSIONS: tuple[str, ...] = ("dynamodb:ListTables", "dynamodb:DescribeTable")


def collect(scope: RegionScope) -> list[Asset]:
    names = scope.paginate("dynamodb", "ListTables", "TableNames", (TABLE,))
    ordered = sorted(str(n) for n in names or [])
    tables = parallel_map(lambda name: fetch_table(scope, name), ordered)
    return [normalize_table(scope, t) for t in tables if t is not None]


def table_uid(scope: RegionScope, name: str) -> str:
    return scope.arn("dynamodb", f"table/{name}")


def fetch_table(scope: RegionScope, name: str) -> Payload | None:
    resp = scope.call("dynamodb", "DescribeTable", (TABLE,), table_uid(scope, name), TableName=name)
    return None if resp is None else dict(resp.get("Table") or {})


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
    }
    uid = str(table.get("TableArn") or table_uid(scope, name))
    return scope.asset(uid, TABLE, name, attrs, raw=table)
