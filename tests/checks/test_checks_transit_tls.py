"""aws.transit.*: CloudFront viewer policy and minimum protocol, S3 deny on plain HTTP, RDS TLS
parameters, certificate expiry (relative to the scan's finished_at, 2026-01-01), NLB TLS
listeners. Hand-built inventories: moto's CloudFront does not model the default-certificate
policy pinning and its ACM certificates never reach ISSUED."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, aws_arn, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Status

DIST = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1"
BUCKET = "arn:aws:s3:::data"
DB = aws_arn("rds", "db:orders")
CLUSTER = aws_arn("rds", "cluster:ledger")
CERT = aws_arn("acm", "certificate/c-1")


def dist(**over: Any) -> Any:
    attrs: dict[str, Any] = {
        "cache_behaviors": [{"path_pattern": "*", "viewer_protocol_policy": "redirect-to-https"}],
        "default_certificate": False,
        "minimum_protocol_version": "TLSv1.2_2021",
    }
    attrs.update(over)
    return asset("AWS::CloudFront::Distribution", DIST, region="global", **attrs)


@pytest.mark.parametrize(
    ("behaviors", "expected"),
    [
        ([{"path_pattern": "*", "viewer_protocol_policy": "https-only"}], Status.PASS),
        (
            [
                {"path_pattern": "*", "viewer_protocol_policy": "redirect-to-https"},
                {"path_pattern": "/legacy/*", "viewer_protocol_policy": "allow-all"},
            ],
            Status.FAIL,
        ),
        ([{"path_pattern": "*", "viewer_protocol_policy": None}], Status.INCONCLUSIVE),
    ],
)
def test_cloudfront_viewer_https(behaviors: Any, expected: Status) -> None:
    found = run_one(
        "aws.transit.cloudfront_viewer_https", inventory(dist(cache_behaviors=behaviors))
    )
    assert only(found).status == expected


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({}, Status.PASS),
        ({"minimum_protocol_version": "TLSv1.3_2025"}, Status.PASS),
        ({"minimum_protocol_version": "TLSv1.1_2016"}, Status.FAIL),
        ({"minimum_protocol_version": "TLSv1"}, Status.FAIL),
        ({"minimum_protocol_version": "SSLv3"}, Status.FAIL),
        ({"default_certificate": True, "minimum_protocol_version": "TLSv1"}, Status.FAIL),
        ({"minimum_protocol_version": None}, Status.INCONCLUSIVE),
    ],
)
def test_cloudfront_tls12_minimum(over: dict[str, Any], expected: Status) -> None:
    found = run_one("aws.transit.cloudfront_tls12_minimum", inventory(dist(**over)))
    assert only(found).status == expected


def origin(oid: str, kind: str = "custom", policy: str | None = "https-only",
           ssl: tuple[str, ...] = ("TLSv1.2",)) -> dict[str, Any]:
    return {"id": oid, "domain_name": f"{oid}.example.com", "kind": kind,
            "protocol_policy": policy if kind == "custom" else None,
            "ssl_protocols": list(ssl) if kind == "custom" else []}


def behavior(pattern: str, viewer: str, target: str | None) -> dict[str, Any]:
    return {"path_pattern": pattern, "viewer_protocol_policy": viewer, "target_origin_id": target}


@pytest.mark.parametrize(
    ("origins", "behaviors", "expected", "words"),
    [
        ([origin("api")], [behavior("*", "https-only", "api")], Status.PASS, "every origin"),
        ([origin("api", policy="http-only")], [behavior("*", "https-only", "api")], Status.FAIL,
         "plain HTTP"),
        ([origin("api", ssl=("TLSv1", "TLSv1.2"))], [behavior("*", "https-only", "api")],
         Status.FAIL, "accepts TLSv1"),
        # match-viewer is safe while every behavior routed to the origin is HTTPS-only ...
        ([origin("api", policy="match-viewer"), origin("assets", kind="s3")],
         [behavior("*", "redirect-to-https", "api"), behavior("/img/*", "allow-all", "assets")],
         Status.FAIL, "origin assets is fetched over HTTP when viewers use HTTP"),
        ([origin("api", policy="match-viewer"), origin("assets", kind="s3")],
         [behavior("*", "redirect-to-https", "api"), behavior("/img/*", "https-only", "assets")],
         Status.PASS, "every origin"),
        # ... and an HTTP-viewer behavior routed elsewhere does not taint it
        ([origin("api", policy="match-viewer"), origin("legacy", policy="https-only")],
         [behavior("*", "https-only", "api"), behavior("/old/*", "allow-all", "legacy")],
         Status.PASS, "every origin"),
        ([origin("api", policy=None)], [behavior("*", "https-only", "api")],
         Status.INCONCLUSIVE, "protocol policy of origin api unknown"),
    ],
)
def test_cloudfront_origin_https(
    origins: Any, behaviors: Any, expected: Status, words: str
) -> None:
    found = only(run_one("aws.transit.cloudfront_origin_https",
                         inventory(dist(origins=origins, cache_behaviors=behaviors))))
    assert found.status == expected and words in found.message, found.message


DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
ALLOW_TLS = {
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::data/*",
    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
}


@pytest.mark.parametrize(
    ("present", "statements", "expected"),
    [
        (True, [DENY], Status.PASS),
        (
            True,
            [
                {
                    **DENY,
                    "Principal": {"AWS": "*"},
                    "Action": ["s3:*"],
                    "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
                }
            ],
            Status.PASS,
        ),
        (True, [ALLOW_TLS], Status.FAIL),  # an allow on TLS is not a deny on HTTP
        (True, [{**DENY, "Action": "s3:GetObject"}], Status.FAIL),
        (False, None, Status.FAIL),
        (None, None, Status.INCONCLUSIVE),
    ],
    ids=["deny", "deny-list-forms", "allow-only", "partial-actions", "no-policy", "unknown"],
)
def test_s3_bucket_denies_http(present: bool | None, statements: Any, expected: Status) -> None:
    policy = {"Statement": statements} if statements else None
    bucket = asset(
        "AWS::S3::Bucket", BUCKET, bucket_name="data", policy=policy, policy_present=present
    )
    assert only(run_one("aws.transit.s3_bucket_denies_http", inventory(bucket))).status == (
        expected
    )


def _group(name: str, tls: Any, cluster: bool = False) -> Any:
    kind = "cluster-pg" if cluster else "pg"
    type_ = "AWS::RDS::DBClusterParameterGroup" if cluster else "AWS::RDS::DBParameterGroup"
    return asset(
        type_, aws_arn("rds", f"{kind}:{name}"), group_name=name, tls_parameters=tls
    )


@pytest.mark.parametrize(
    ("engine", "tls", "expected"),
    [
        ("postgres", {"rds.force_ssl": "1"}, Status.PASS),
        ("postgres", {"rds.force_ssl": "0"}, Status.FAIL),
        ("postgres", {}, Status.FAIL),  # not defined in the group: engine default
        ("mysql", {"require_secure_transport": "ON"}, Status.PASS),
        ("mariadb", {"require_secure_transport": None}, Status.FAIL),
        ("postgres", None, Status.INCONCLUSIVE),
        ("oracle-ee", {}, Status.INCONCLUSIVE),
    ],
    ids=["pg-forced", "pg-off", "pg-unset", "mysql-on", "mariadb-default", "unknown", "oracle"],
)
def test_rds_requires_tls(engine: str, tls: Any, expected: Status) -> None:
    db = asset("AWS::RDS::DBInstance", DB, engine=engine, parameter_groups=["app"])
    found = run_one("aws.transit.rds_requires_tls", inventory(db, _group("app", tls)))
    assert only(found).status == expected


def test_rds_aurora_is_judged_through_its_cluster_group() -> None:
    member = asset(
        "AWS::RDS::DBInstance",
        DB,
        engine="aurora-postgresql",
        parameter_groups=["default.aurora-postgresql16"],
    )
    cluster = asset(
        "AWS::RDS::DBCluster", CLUSTER, engine="aurora-postgresql", parameter_group="ledger"
    )
    inv = inventory(member, cluster, _group("ledger", {"rds.force_ssl": "1"}, cluster=True))
    assert only(run_one("aws.transit.rds_requires_tls", inv)).resource_uid == CLUSTER
    gap = collection_error(
        "rds",
        "DescribeDBClusterParameters",
        ("AWS::RDS::DBClusterParameterGroup#parameters",),
        resource_uid=aws_arn("rds", "cluster-pg:ledger"),
    )
    found = by_uid(
        run_one(
            "aws.transit.rds_requires_tls",
            inventory(member, cluster, _group("ledger", None, cluster=True), errors=(gap,)),
        )
    )
    assert found[CLUSTER].status == Status.INCONCLUSIVE


@pytest.mark.parametrize(
    ("not_after", "status", "expected"),
    [
        ("2026-06-01T00:00:00+00:00", "ISSUED", Status.PASS),
        ("2026-01-20T00:00:00+00:00", "ISSUED", Status.FAIL),  # 19 days after the scan
        ("2025-12-01T00:00:00+00:00", "EXPIRED", Status.FAIL),
        (None, "ISSUED", Status.INCONCLUSIVE),
        ("2025-12-01T00:00:00+00:00", "PENDING_VALIDATION", None),
    ],
)
def test_certificate_not_expiring(
    not_after: str | None, status: str, expected: Status | None
) -> None:
    cert = asset("AWS::CertificateManager::Certificate", CERT, not_after=not_after, status=status)
    found = run_one("aws.transit.certificate_not_expiring", inventory(cert))
    assert (only(found).status if found else None) == expected


def test_certificate_window_is_a_parameter_and_iam_certificates_count() -> None:
    cert = asset(
        "AWS::IAM::ServerCertificate",
        f"arn:aws:iam::{ACCOUNT}:server-certificate/x",
        region="global",
        not_after="2026-02-15T00:00:00+00:00",
    )
    inv = inventory(cert)
    assert only(run_one("aws.transit.certificate_not_expiring", inv)).status == Status.PASS
    wide = run_one("aws.transit.certificate_not_expiring", inv, warn_days=60)
    assert only(wide).status == Status.FAIL


def test_nlb_tls_listener_is_judged_by_its_policy_protocols() -> None:
    listener = asset(
        "AWS::ElasticLoadBalancingV2::Listener",
        aws_arn("elasticloadbalancing", "listener/net/nlb/1/2"),
        protocol="TLS",
        port=443,
        ssl_policy="ELBSecurityPolicy-TLS-1-0-2015-04",
    )
    policy = asset(
        "AWS::ElasticLoadBalancingV2::SSLPolicy",
        aws_arn("elasticloadbalancing", "ssl-policy/p"),
        policy_name="ELBSecurityPolicy-TLS-1-0-2015-04",
        protocols=["TLSv1", "TLSv1.1", "TLSv1.2"],
    )
    found = run_one("aws.transit.lb_listener_tls12_minimum", inventory(listener, policy))
    assert only(found).status == Status.FAIL
