"""Managed data services on AWS: Redshift (encryption, internet reachability, TLS, audit logs,
snapshots), ElastiCache (encryption at rest and in transit, authentication, snapshots) and
DynamoDB point-in-time recovery. OpenSearch domains are in aws_data_search.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.checks._shared import flag_result

from posture.engine import CheckContext, Result
from posture.graph.aws.exposure import judge, reach_of
from posture.graph.aws.reach import (
    NETWORK_ACL,
    PREFIX_LIST,
    ROUTE_TABLE,
    SECURITY_GROUP,
    SUBNET,
    AwsReach,
    Iface,
)
from posture.kms import key_index, resolve
from posture.model import Asset, Principle, Severity
from posture.registry import check

REDSHIFT = "AWS::Redshift::Cluster"
REPLICATION_GROUP = "AWS::ElastiCache::ReplicationGroup"
CACHE_CLUSTER = "AWS::ElastiCache::CacheCluster"
TABLE = "AWS::DynamoDB::Table"
# what the path of a cluster's own interfaces depends on (no hosts, no load balancers)
_PATH_READS = frozenset({SUBNET, ROUTE_TABLE, NETWORK_ACL, SECURITY_GROUP, PREFIX_LIST})


def whose_key(ctx: CheckContext, asset: Asset, reference: str | None) -> str:
    """``customer-managed key <ref>``, ``AWS-managed key <ref>`` or ``a key AWS owns``."""
    if not reference:
        return "a key AWS owns or manages"
    key = resolve(ctx.derived("aws.kms.index", key_index), asset.account, asset.region,
                  reference)
    manager = None if key is None else key.attr("key_manager")
    kind = {"CUSTOMER": "customer-managed", "AWS": "AWS-managed"}.get(str(manager), "KMS")
    return f"{kind} key {reference}"


# --- Redshift ----------------------------------------------------------------------------------


@check("aws.data.redshift_cluster_encrypted", Severity.HIGH, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{REDSHIFT}#listing"})
def redshift_cluster_encrypted(ctx: CheckContext) -> Iterator[Result]:
    """Redshift clusters are encrypted at rest

    An unencrypted warehouse keeps its tables, snapshots and backups in clear on AWS storage;
    the finding names whose key encrypts the others (customer-managed, AWS-managed or AWS-owned).

    Remediation: Turn on encryption (`aws redshift modify-cluster --cluster-identifier <c>
    --encrypted --kms-key-id <key>`; Redshift migrates the data), preferably with a
    customer-managed KMS key.
    """
    for cluster in ctx.inventory.of(REDSHIFT):
        key = cluster.attr("kms_key_id")
        yield flag_result(ctx, cluster, cluster.attr("encrypted"), "encryption state unknown",
                          f"encrypted with {whose_key(ctx, cluster, key)}",
                          "cluster storage and snapshots are not encrypted",
                          passed_evidence={"kms_key_id": key})


def _redshift_ifaces(reach: AwsReach, cluster: Asset, subnets: list[str]) -> list[Iface]:
    """One candidate interface per subnet of the cluster's subnet group (AWS picks one)."""
    public = (cluster.attr("public_ips") or [None])[0] or cluster.attr("endpoint_address") \
        or "publicly accessible"
    out = []
    for subnet in subnets:
        key = reach.attachment(subnet, cluster.attr("vpc_id") or reach.subnet_vpc(subnet),
                               cluster.attr("security_group_ids") or (), public, None,
                               f"{cluster.attr('cluster_id')}@{subnet}")
        out.append(Iface(None, key, {}, {4: public}))
    return out


@check("aws.data.redshift_cluster_not_public", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads=_PATH_READS | {f"{REDSHIFT}#network"})
def redshift_cluster_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Redshift clusters are not reachable from the internet

    A publicly accessible cluster has a public address; it is exposed when a route to an internet
    gateway, the network ACL and a security group let a wide range of the internet reach its port
    (the path is evaluated as for RDS). Publicly accessible without such a path today is one
    change from exposure: a LOW finding naming what blocks it.

    Remediation: Turn off public accessibility (`aws redshift modify-cluster
    --cluster-identifier <c> --no-publicly-accessible`), place the cluster in private subnets and
    allow its port only from the application tier's security group.
    """
    reach: AwsReach = ctx.derived("aws.reach", reach_of)
    for cluster in ctx.inventory.of(REDSHIFT):
        public, port = cluster.attr("publicly_accessible"), cluster.attr("port")
        subnets = sorted(cluster.attr("subnet_ids") or [])
        evidence: dict[str, Any] = {"publicly_accessible": public, "port": port,
                                    "subnet_ids": subnets}
        if public is False:
            yield ctx.passed(cluster, "not publicly accessible: no public address", **evidence)
            continue
        if public is None or port is None or not subnets:
            yield ctx.unknown(cluster, "cannot decide whether the cluster is reachable from the "
                              "internet: publicly_accessible, port or subnets unknown", **evidence)
            continue
        exp = judge(reach, cluster, (int(port),), (), _redshift_ifaces(reach, cluster, subnets))
        if exp.exposed:
            yield ctx.fail(cluster, f"Redshift (tcp/{port}) reachable from the internet; path: "
                           f"{exp.summary}", paths=exp.exposed, **evidence)
        elif exp.unknown:
            yield ctx.unknown(cluster, f"publicly accessible; cannot decide the path: "
                              f"{exp.unknown[0]}", **evidence)
        elif exp.narrow:
            yield ctx.passed(cluster, f"publicly accessible, but reachable only from allow-listed "
                             f"ranges ({exp.narrow[0]['clients']})", allow_listed=exp.narrow,
                             **evidence)
        else:
            why = "; ".join(exp.reasons[:2]) or "no internet path"
            yield ctx.fail_at(Severity.LOW, cluster, f"publicly accessible but not reachable "
                              f"from the internet today: {why}", latent=exp.latent, **evidence)


@check("aws.data.redshift_require_ssl", Severity.MEDIUM, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={f"{REDSHIFT}#parameters"})
def redshift_require_ssl(ctx: CheckContext) -> Iterator[Result]:
    """Redshift clusters refuse connections without TLS

    Unless the cluster's parameter group sets require_ssl, clients may connect in clear and send
    credentials and query results unencrypted.

    Remediation: Set require_ssl to true in the cluster's (non-default) parameter group (`aws
    redshift modify-cluster-parameter-group --parameter-group-name <g> --parameters
    ParameterName=require_ssl,ParameterValue=true`) and reboot the cluster.
    """
    for cluster in ctx.inventory.of(REDSHIFT):
        group = cluster.attr("parameter_group")
        yield flag_result(ctx, cluster, cluster.attr("require_ssl"),
                          "require_ssl of the parameter group unknown",
                          f"require_ssl is on in parameter group {group}",
                          f"require_ssl is off in parameter group {group}: clients may connect "
                          "without TLS", failed_evidence={"parameter_group": group})


@check("aws.data.redshift_audit_logging", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{REDSHIFT}#logging", f"{REDSHIFT}#parameters"})
def redshift_audit_logging(ctx: CheckContext) -> Iterator[Result]:
    """Redshift clusters keep audit logs

    Audit logging records connections and user changes (and, with enable_user_activity_logging,
    every query): without it nobody can tell who read the warehouse.

    Remediation: Turn on audit logging to CloudWatch or S3 (`aws redshift enable-logging
    --cluster-identifier <c> --log-destination-type cloudwatch --log-exports
    connectionlog useractivitylog userlog`).
    """
    for cluster in ctx.inventory.of(REDSHIFT):
        dest = cluster.attr("audit_log_destination")
        yield flag_result(ctx, cluster, cluster.attr("audit_logging_enabled"),
                          "audit logging state unknown",
                          f"audit logging is on ({dest or 'destination not reported'})",
                          "audit logging is off",
                          passed_evidence={"user_activity_logging":
                                           cluster.attr("user_activity_logging")})


_BACKUP_PARAMS = {"minimum_retention_days": 1}


def _retention(ctx: CheckContext, asset: Asset, days: Any, what: str) -> Result:
    need = int(ctx.param("minimum_retention_days"))
    if days is None:
        return ctx.unknown(asset, f"{what} retention unknown")
    if int(days) < need:
        state = "off" if int(days) == 0 else f"kept {days} day(s)"
        return ctx.fail(asset, f"{what} {state} (required: {need} day(s) or more)",
                        retention_days=days)
    return ctx.passed(asset, f"{what} kept {days} day(s)", retention_days=days)


@check("aws.data.redshift_automated_snapshots", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
       reads={f"{REDSHIFT}#listing"}, params=_BACKUP_PARAMS)
def redshift_automated_snapshots(ctx: CheckContext) -> Iterator[Result]:
    """Redshift clusters keep automated snapshots

    With automated snapshots off, a dropped table, a bad load or ransomware in the warehouse
    cannot be undone; the minimum retention is a parameter.

    Remediation: Set the automated snapshot retention period (`aws redshift modify-cluster
    --cluster-identifier <c> --automated-snapshot-retention-period 7`).
    """
    for cluster in ctx.inventory.of(REDSHIFT):
        yield _retention(ctx, cluster, cluster.attr("automated_snapshot_retention_days"),
                         "automated snapshots")


# --- ElastiCache -------------------------------------------------------------------------------


def _caches(ctx: CheckContext, memcached: bool) -> Iterator[Asset]:
    """Replication groups, and stand-alone cache clusters (Memcached ones only if asked)."""
    yield from ctx.inventory.of(REPLICATION_GROUP)
    for cluster in ctx.inventory.of(CACHE_CLUSTER):
        if memcached or cluster.attr("engine") != "memcached":
            yield cluster


@check("aws.data.elasticache_encrypted_at_rest", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST,), reads={REPLICATION_GROUP, CACHE_CLUSTER})
def elasticache_encrypted_at_rest(ctx: CheckContext) -> Iterator[Result]:
    """ElastiCache (Valkey / Redis OSS) caches are encrypted at rest

    Without it, swap files and the snapshots of the cache (often sessions, tokens and personal
    data) are stored in clear. Memcached keeps no data on disk and cannot encrypt it: skipped.

    Remediation: At-rest encryption is set at creation: create an encrypted replication group
    (optionally with a customer-managed KMS key) from a snapshot and switch clients over.
    """
    for cache in _caches(ctx, memcached=False):
        yield flag_result(ctx, cache, cache.attr("at_rest_encryption"),
                          "at-rest encryption unknown", "encrypted at rest",
                          "not encrypted at rest: snapshots and swap are in clear")


@check("aws.data.elasticache_encrypted_in_transit", Severity.MEDIUM,
       (Principle.ENCRYPTION_IN_TRANSIT,), reads={REPLICATION_GROUP, CACHE_CLUSTER})
def elasticache_encrypted_in_transit(ctx: CheckContext) -> Iterator[Result]:
    """ElastiCache caches accept TLS connections only

    Without in-transit encryption every command, key and value crosses the network in clear; in
    the migration mode 'preferred' the cache still accepts clear connections (LOW).

    Remediation: Enable in-transit encryption with mode 'required' (`aws elasticache
    modify-replication-group --transit-encryption-enabled --transit-encryption-mode required`
    after moving clients to TLS).
    """
    for cache in _caches(ctx, memcached=True):
        on, mode = cache.attr("transit_encryption"), cache.attr("transit_encryption_mode")
        if on and mode == "preferred":
            yield ctx.fail_at(Severity.LOW, cache, "TLS is offered but clear connections are "
                              "still accepted (transit encryption mode preferred)", mode=mode)
            continue
        yield flag_result(ctx, cache, on, "in-transit encryption unknown",
                          "accepts TLS connections only", "accepts clear connections: no "
                          "in-transit encryption", passed_evidence={"mode": mode})


@check("aws.data.elasticache_auth_required", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={REPLICATION_GROUP, CACHE_CLUSTER})
def elasticache_auth_required(ctx: CheckContext) -> Iterator[Result]:
    """ElastiCache (Valkey / Redis OSS) caches require authentication

    Without an AUTH token or RBAC user groups, any client that reaches the port (any host in the
    VPC, a peered network, a compromised pod) reads and writes every key and can run
    administrative commands. Memcached has no authentication: skipped.

    Remediation: Turn on RBAC with a user group (`aws elasticache modify-replication-group
    --user-group-ids-to-add <g>`) or an AUTH token (requires in-transit encryption).
    """
    for cache in _caches(ctx, memcached=False):
        token, groups = cache.attr("auth_token_enabled"), cache.attr("user_group_ids") or []
        if groups:
            yield ctx.passed(cache, f"RBAC user groups {', '.join(groups)} authenticate clients")
            continue
        yield flag_result(ctx, cache, token, "authentication settings unknown",
                          "an AUTH token authenticates clients",
                          "no AUTH token and no RBAC user group: any client that reaches the "
                          "port can read and write every key")


@check("aws.data.elasticache_backups_enabled", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
       reads={REPLICATION_GROUP, CACHE_CLUSTER}, params=_BACKUP_PARAMS)
def elasticache_backups_enabled(ctx: CheckContext) -> Iterator[Result]:
    """ElastiCache (Valkey / Redis OSS) caches keep automatic snapshots

    A cache used as a data store (queues, sessions, leaderboards) loses everything on a failure
    or a FLUSHALL without snapshots; the minimum retention is a parameter. Memcached cannot
    snapshot: skipped.

    Remediation: Set the snapshot retention limit (`aws elasticache modify-replication-group
    --snapshot-retention-limit 7`).
    """
    for cache in _caches(ctx, memcached=False):
        yield _retention(ctx, cache, cache.attr("snapshot_retention_days"), "automatic snapshots")


# --- DynamoDB ----------------------------------------------------------------------------------


@check("aws.data.dynamodb_pitr_enabled", Severity.LOW, (Principle.DEFENSE_IN_DEPTH,),
       reads={f"{TABLE}#backups"})
def dynamodb_pitr_enabled(ctx: CheckContext) -> Iterator[Result]:
    """DynamoDB tables have point-in-time recovery on

    Point-in-time recovery restores a table to any second of the last 35 days after an accidental
    or malicious write or delete; without it only manual backups remain.

    Remediation: Turn it on (`aws dynamodb update-continuous-backups --table-name <t>
    --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true`).
    """
    for table in ctx.inventory.of(TABLE):
        yield flag_result(ctx, table, table.attr("pitr_enabled"),
                          "point-in-time recovery state unknown", "point-in-time recovery is on",
                          "point-in-time recovery is off")
