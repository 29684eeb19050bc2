"""Upkeep of data services, on data already collected: RDS and Aurora engines within AWS's
standard support (dated table in ``checks/lifecycle/aws.toml``), and S3 versioning where losing
an object's history matters (audit-log buckets, production buckets)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from posture.checks.aws_compute import support_verdict

from posture import lifecycle
from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

DB_INSTANCE = "AWS::RDS::DBInstance"
DB_CLUSTER = "AWS::RDS::DBCluster"
BUCKET = "AWS::S3::Bucket"
TRAIL = "AWS::CloudTrail::Trail"
ENGINES = {  # engine -> (lifecycle product, name in messages)
    "mysql": ("rds_mysql", "RDS for MySQL"),
    "postgres": ("rds_postgresql", "RDS for PostgreSQL"),
    "aurora": ("aurora_mysql", "Aurora MySQL"),
    "aurora-mysql": ("aurora_mysql", "Aurora MySQL"),
    "aurora-postgresql": ("aurora_postgresql", "Aurora PostgreSQL"),
}


def major_version(engine: str, version: str) -> str:
    """The community major version a lifecycle table is keyed by: PostgreSQL ``16.3`` -> ``16``
    (``9.6.22`` -> ``9.6``), MySQL ``8.0.35`` / ``5.7.44-rds.20240408`` -> ``8.0`` / ``5.7``,
    Aurora MySQL ``8.0.mysql_aurora.3.05.2`` -> ``8.0`` (Aurora MySQL version 3)."""
    parts = version.split(".")
    if "postgres" in engine and parts[0] != "9":
        return parts[0]
    return ".".join(p.split("-")[0] for p in parts[:2])


def _numbers(version: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return None


def older_than_listed(major: str, table: lifecycle.Product) -> tuple[str, dt.date] | None:
    """The table's oldest version and its end date when ``major`` (not listed) is older still:
    a vendor does not support an older major version longer than a newer one."""
    mine = _numbers(major)
    listed = [(n, v) for v in table.ends if (n := _numbers(v)) is not None]
    if mine is None or not listed:
        return None
    numbers, oldest = min(listed)
    end = table.end_of(oldest)
    return (oldest, end) if mine < numbers and end is not None else None


@check("aws.data.rds_engine_supported", Severity.MEDIUM, (Principle.PATCHING,),
       reads={f"{DB_INSTANCE}#listing", f"{DB_CLUSTER}#listing"})
def rds_engine_supported(ctx: CheckContext) -> Iterator[Result]:
    """RDS and Aurora databases run a major engine version within standard support

    Past the end of standard support a MySQL or PostgreSQL major version is patched only under
    RDS Extended Support (paid, enrolled automatically, for a limited time), and the community no
    longer fixes it. Dates come from checks/lifecycle/aws.toml (products rds_mysql,
    rds_postgresql, aurora_mysql, aurora_postgresql); a major version the table does not list is
    INCONCLUSIVE, unless it is older than the table's oldest version and that one is itself past
    its date (FAIL: an older major version is never supported longer). Aurora and Multi-AZ DB
    clusters are judged once, on the cluster; other engines
    (MariaDB, Oracle, SQL Server, Db2) are not judged here.

    Remediation: Upgrade the major version (test with a blue/green deployment, then switch over),
    and keep a calendar of the engine's end-of-support dates.
    """
    today = scan_time(ctx.inventory).date()
    clusters = ctx.inventory.of(DB_CLUSTER)
    members = {(c.account, c.region, str(m)) for c in clusters
               for m in c.attr("member_instance_ids") or []}
    for db in (*clusters, *ctx.inventory.of(DB_INSTANCE)):
        engine, version = str(db.attr("engine") or ""), db.attr("engine_version")
        if engine not in ENGINES:
            continue
        if db.type == DB_INSTANCE and (engine.startswith("aurora") or (
                db.account, db.region, str(db.attr("db_instance_id"))) in members):
            continue
        if not version:
            yield ctx.unknown(db, "the engine version was not reported")
            continue
        key, name = ENGINES[engine]
        table = lifecycle.product("aws", key)
        major = major_version(engine, str(version))
        what = f"{name} {major} ({version})"
        older = older_than_listed(major, table) if table.end_of(major) is None else None
        if older is not None and older[1] <= today:
            yield ctx.fail(db, f"{what} is older than {name} {older[0]}, itself past its end of "
                           f"support since {older[1].isoformat()}", source=table.source(),
                           end_of_support=older[1])
            continue
        yield support_verdict(ctx, db, what, table.end_of(major), table, today)


@check("aws.data.s3_bucket_versioning_enabled", Severity.MEDIUM,
       (Principle.AUDITABLE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{BUCKET}#versioning", f"{TRAIL}#listing"},
       params={"environment_tag_keys": ("Environment", "env", "Env", "Stage"),
               "production_values": ("prod", "production", "prd")})
def s3_bucket_versioning_enabled(ctx: CheckContext) -> Iterator[Result]:
    """S3 buckets that hold audit logs or production data keep object versions

    Without versioning, an overwrite or delete — a mistake, a compromised writer, ransomware —
    destroys the object for good. Judged only where it matters: a bucket a CloudTrail trail in the
    inventory writes to (the audit evidence itself: MEDIUM) and a bucket tagged as production
    (`environment_tag_keys` / `production_values`: LOW). Other buckets (caches, build artefacts,
    access-log sinks) are not judged: versioning everywhere doubles the storage of churning
    buckets for little. Versioning that was enabled and then suspended fails like never enabled.

    Remediation: Enable versioning (`aws s3api put-bucket-versioning --versioning-configuration
    Status=Enabled`), with a lifecycle rule expiring noncurrent versions; for audit logs, add
    Object Lock or MFA delete.
    """
    trails: dict[str, list[str]] = {}
    for trail in ctx.inventory.of(TRAIL):
        if trail.attr("s3_bucket_name"):
            trails.setdefault(str(trail.attr("s3_bucket_name")), []).append(trail.name)
    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    for bucket in ctx.inventory.of(BUCKET):
        name = str(bucket.attr("bucket_name") or bucket.name)
        writers = sorted(trails.get(name, []))
        production = any(str(bucket.tags.get(k, "")).lower() in prod for k in keys)
        if not writers and not production:
            continue
        why = f"trail {', '.join(writers)} writes its logs here" if writers else \
            "tagged as production"
        yield _versioning(ctx, bucket, why, Severity.MEDIUM if writers else Severity.LOW)


def _versioning(ctx: CheckContext, bucket: Asset, why: str, severity: Severity) -> Result:
    state, mfa = bucket.attr("versioning"), bucket.attr("mfa_delete")
    evidence = {"versioning": state, "mfa_delete": mfa, "why_judged": why}
    if state is None:
        return ctx.unknown(bucket, f"versioning unknown ({why})", **evidence)
    if state == "Enabled":
        return ctx.passed(bucket, f"versioning is enabled ({why})", **evidence)
    what = "suspended: new writes replace objects for good" if state == "Suspended" else \
        "never enabled: an overwrite or delete cannot be undone"
    return ctx.fail_at(severity, bucket, f"versioning is {what} ({why})", **evidence)
