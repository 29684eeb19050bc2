"""aws.data.redshift_*, elasticache_*, opensearch_* and dynamodb_pitr_enabled: pass, fail and
not collected, and the traps — a publicly accessible Redshift cluster without an internet path
is not exposed (a LOW hygiene finding), an OpenSearch access policy open to '*' but limited to an
office range admits no arbitrary caller, an open policy behind fine-grained access control is
MEDIUM, Memcached is not asked for what it cannot do."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, aws_arn, collection_error, inventory
from support.aws_net import (
    PRIVATE_ROUTES,
    PUBLIC_ROUTES,
    default_acl,
    nacl,
    route_table,
    sg,
    sg_rule,
    subnet,
)
from support.aws_platforms import DOMAIN_UID, REDSHIFT_UID, cache, domain, es_policy, redshift
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

PUBLIC = "aws.data.redshift_cluster_not_public"
OPEN_DOMAIN = "aws.data.opensearch_domain_not_public"
TRISTATE = [(True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE)]


REDSHIFT_WORLD = (sg_rule(5439, 5439),)


def network(routes: Any = PUBLIC_ROUTES, ingress: Any = REDSHIFT_WORLD) -> tuple[Any, ...]:
    return (subnet(), route_table("rtb-1", routes), nacl(default_acl()), sg(ingress, "sg-db"))


@pytest.mark.parametrize(("over", "net", "status", "severity"), named([
    ("private", {}, network(), Status.PASS, None),
    ("exposed", {"publicly_accessible": True, "public_ips": ["54.1.2.3"]}, network(),
     Status.FAIL, Severity.CRITICAL),
    ("public-but-private-subnet", {"publicly_accessible": True}, network(PRIVATE_ROUTES),
     Status.FAIL, Severity.LOW),
    ("public-office-only", {"publicly_accessible": True},
     network(ingress=(sg_rule(5439, 5439, "203.0.113.0/24"),)), Status.PASS, None),
    ("subnets-unknown", {"publicly_accessible": True, "subnet_ids": None}, network(),
     Status.INCONCLUSIVE, None),
]))
def test_redshift_not_public(over: dict[str, Any], net: tuple[Any, ...], status: Status,
                             severity: Severity | None) -> None:
    found = only(run_one(PUBLIC, inventory(redshift(**over), *net)))
    assert found.status == status, found.message
    if severity is not None:
        assert found.severity == severity
    if severity == Severity.CRITICAL:
        assert "reachable from the internet" in found.message and found.evidence["paths"]
    if severity == Severity.LOW:
        assert "not reachable from the internet today" in found.message


def test_redshift_security_group_listing_failure_is_not_a_pass() -> None:
    gap = collection_error("ec2", "DescribeSecurityGroups", ("AWS::EC2::SecurityGroup",))
    found = run_one(PUBLIC, inventory(redshift(publicly_accessible=True), *network()[:3],
                                      errors=(gap,)))
    assert by_uid(found)[REDSHIFT_UID].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("check_id", "attr"), [
    ("aws.data.redshift_cluster_encrypted", "encrypted"),
    ("aws.data.redshift_require_ssl", "require_ssl"),
    ("aws.data.redshift_audit_logging", "audit_logging_enabled"),
])
@pytest.mark.parametrize(("value", "status"), TRISTATE)
def test_redshift_flags(check_id: str, attr: str, value: bool | None, status: Status) -> None:
    assert only(run_one(check_id, inventory(redshift(**{attr: value})))).status == status


def test_redshift_encryption_names_whose_key() -> None:
    key = asset("AWS::KMS::Key", aws_arn("kms", "key/k-1"), arn=aws_arn("kms", "key/k-1"),
                key_id="k-1", key_manager="CUSTOMER", aliases=[])
    found = only(run_one("aws.data.redshift_cluster_encrypted", inventory(redshift(), key)))
    assert "customer-managed key" in found.message
    owned = only(run_one("aws.data.redshift_cluster_encrypted",
                         inventory(redshift(kms_key_id=None))))
    assert "a key AWS owns or manages" in owned.message


def test_parameter_group_failure_leaves_require_ssl_unknown() -> None:
    gap = collection_error("redshift", "DescribeClusterParameters",
                           ("AWS::Redshift::Cluster#parameters",), resource_uid=REDSHIFT_UID)
    inv = inventory(redshift(require_ssl=None), errors=(gap,))
    assert only(run_one("aws.data.redshift_require_ssl", inv)).status == Status.INCONCLUSIVE
    # a detail failure does not touch what the listing said
    assert only(run_one("aws.data.redshift_cluster_encrypted", inv)).status == Status.PASS


@pytest.mark.parametrize(("days", "status"), [(7, Status.PASS), (0, Status.FAIL),
                                              (None, Status.INCONCLUSIVE)])
def test_snapshot_retention(days: int | None, status: Status) -> None:
    cluster = redshift(automated_snapshot_retention_days=days)
    assert only(run_one("aws.data.redshift_automated_snapshots",
                        inventory(cluster))).status == status
    assert only(run_one("aws.data.elasticache_backups_enabled",
                        inventory(cache(snapshot_retention_days=days)))).status == status
    stricter = run_one("aws.data.redshift_automated_snapshots",
                       inventory(redshift(automated_snapshot_retention_days=3)),
                       minimum_retention_days=7)
    assert only(stricter).status == Status.FAIL


MEMCACHED = "AWS::ElastiCache::CacheCluster"


@pytest.mark.parametrize(("check_id", "attr"), [
    ("aws.data.elasticache_encrypted_at_rest", "at_rest_encryption"),
    ("aws.data.elasticache_encrypted_in_transit", "transit_encryption"),
])
@pytest.mark.parametrize(("value", "status"), TRISTATE)
def test_elasticache_encryption(check_id: str, attr: str, value: bool | None,
                                status: Status) -> None:
    over: dict[str, Any] = {attr: value}
    assert only(run_one(check_id, inventory(cache(**over)))).status == status


def test_elasticache_transit_preferred_mode_and_memcached() -> None:
    preferred = only(run_one("aws.data.elasticache_encrypted_in_transit",
                             inventory(cache(transit_encryption_mode="preferred"))))
    assert (preferred.status, preferred.severity) == (Status.FAIL, Severity.LOW)
    memcached = cache(MEMCACHED, "tokens", engine="memcached", at_rest_encryption=None,
                      transit_encryption=False, auth_token_enabled=False, user_group_ids=[],
                      snapshot_retention_days=0)
    inv = inventory(memcached)
    # Memcached can encrypt in transit, but cannot encrypt at rest, authenticate or snapshot
    assert only(run_one("aws.data.elasticache_encrypted_in_transit", inv)).status == Status.FAIL
    for check_id in ("aws.data.elasticache_encrypted_at_rest", "aws.data.elasticache_auth_required",
                     "aws.data.elasticache_backups_enabled"):
        assert run_one(check_id, inv) == []


@pytest.mark.parametrize(("over", "status"), named([
    ("rbac", {}, Status.PASS),
    ("auth-token", {"user_group_ids": [], "auth_token_enabled": True}, Status.PASS),
    ("open", {"user_group_ids": [], "auth_token_enabled": False}, Status.FAIL),
    ("unknown", {"user_group_ids": [], "auth_token_enabled": None}, Status.INCONCLUSIVE),
]))
def test_elasticache_auth_required(over: dict[str, Any], status: Status) -> None:
    found = only(run_one("aws.data.elasticache_auth_required", inventory(cache(**over))))
    assert found.status == status
    gap = collection_error("elasticache", "DescribeReplicationGroups",
                           ("AWS::ElastiCache::ReplicationGroup",))
    after = run_one("aws.data.elasticache_auth_required", inventory(cache(**over), errors=(gap,)))
    assert Status.PASS not in {f.status for f in after}


OFFICE = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}


@pytest.mark.parametrize(("over", "status", "severity"), named([
    ("vpc-domain-open-policy", {"access_policy": es_policy(), "access_policy_present": True},
     Status.PASS, None),
    ("public-no-policy", {"in_vpc": False}, Status.PASS, None),
    ("public-open", {"in_vpc": False, "access_policy": es_policy(),
                     "access_policy_present": True}, Status.FAIL, Severity.CRITICAL),
    ("public-open-behind-fgac", {"in_vpc": False, "access_policy": es_policy(),
                                 "access_policy_present": True,
                                 "fine_grained_access_control": True}, Status.FAIL,
     Severity.MEDIUM),
    ("public-open-anonymous-auth", {"in_vpc": False, "access_policy": es_policy(),
                                    "access_policy_present": True,
                                    "fine_grained_access_control": True, "anonymous_auth": True},
     Status.FAIL, Severity.CRITICAL),
    ("public-office-range", {"in_vpc": False, "access_policy": es_policy(condition=OFFICE),
                             "access_policy_present": True}, Status.PASS, None),
    ("public-named-role", {"in_vpc": False, "access_policy": es_policy(
        {"AWS": aws_arn("iam", "role/search").replace(":us-east-1:", "::")}),
        "access_policy_present": True}, Status.PASS, None),
]))
def test_opensearch_domain_not_public(over: dict[str, Any], status: Status,
                                      severity: Severity | None) -> None:
    found = only(run_one(OPEN_DOMAIN, inventory(domain(**over))))
    assert found.status == status, found.message
    if severity is not None:
        assert found.severity == severity


def test_opensearch_listing_failure_is_inconclusive() -> None:
    gap = collection_error("opensearch", "DescribeDomain", ("AWS::OpenSearchService::Domain",),
                           resource_uid=DOMAIN_UID)
    found = by_uid(run_one(OPEN_DOMAIN, inventory(errors=(gap,))))
    assert found[DOMAIN_UID].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(("check_id", "attr"), [
    ("aws.data.opensearch_encrypted_at_rest", "encryption_at_rest"),
    ("aws.data.opensearch_node_to_node_encrypted", "node_to_node_encryption"),
    ("aws.data.opensearch_https_enforced", "enforce_https"),
    ("aws.data.opensearch_audit_logs_enabled", "audit_logs_enabled"),
])
@pytest.mark.parametrize(("value", "status"), TRISTATE)
def test_opensearch_flags(check_id: str, attr: str, value: bool | None, status: Status) -> None:
    assert only(run_one(check_id, inventory(domain(**{attr: value})))).status == status


@pytest.mark.parametrize(("policy", "status"), [
    ("Policy-Min-TLS-1-2-2019-07", Status.PASS), ("Policy-Min-TLS-1-0-2019-07", Status.FAIL),
    ("Policy-Custom", Status.INCONCLUSIVE),
])
def test_opensearch_tls_policy(policy: str, status: Status) -> None:
    found = only(run_one("aws.data.opensearch_https_enforced",
                         inventory(domain(tls_security_policy=policy))))
    assert found.status == status


@pytest.mark.parametrize(("pitr", "status"), TRISTATE)
def test_dynamodb_pitr(pitr: bool | None, status: Status) -> None:
    table = asset("AWS::DynamoDB::Table", aws_arn("dynamodb", "table/orders"),
                  table_name="orders", pitr_enabled=pitr)
    assert only(run_one("aws.data.dynamodb_pitr_enabled", inventory(table))).status == status
