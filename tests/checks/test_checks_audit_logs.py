"""aws.audit.*: trail KMS encryption, VPC flow logs, log-bucket access logging, LB access logs
(with the configurable severity)."""

from __future__ import annotations

import pytest
from support.aws import asset, aws_arn, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

TRAIL = aws_arn("cloudtrail", "trail/main")
VPC = aws_arn("ec2", "vpc/vpc-1")
LB = aws_arn("elasticloadbalancing", "loadbalancer/app/web/1")


@pytest.mark.parametrize(("kms", "expected"), [("arn:aws:kms:x", Status.PASS), (None, Status.FAIL)])
def test_trail_kms_encrypted(kms: str | None, expected: Status) -> None:
    trail = asset("AWS::CloudTrail::Trail", TRAIL, kms_key_id=kms, s3_bucket_name="logs")
    assert only(run_one("aws.audit.trail_kms_encrypted", inventory(trail))).status == expected


def test_trail_listing_gap_is_inconclusive() -> None:
    trail = asset("AWS::CloudTrail::Trail", TRAIL, kms_key_id="k")
    gap = collection_error("cloudtrail", "DescribeTrails", ("AWS::CloudTrail::Trail",))
    found = run_one("aws.audit.trail_kms_encrypted", inventory(trail, errors=(gap,)))
    assert {f.status for f in found} == {Status.INCONCLUSIVE}


def _flow(status: str, resource: str = "vpc-1") -> object:
    return asset(
        "AWS::EC2::FlowLog",
        aws_arn("ec2", f"vpc-flow-log/fl-{status}"),
        flow_log_id=f"fl-{status}",
        resource_id=resource,
        status=status,
        traffic_type="ALL",
        destination_type="s3",
        destination="arn:aws:s3:::flows",
    )


def test_vpc_flow_logs() -> None:
    vpc = asset("AWS::EC2::VPC", VPC, vpc_id="vpc-1")
    assert (
        only(run_one("aws.audit.vpc_flow_logs_enabled", inventory(vpc, _flow("ACTIVE")))).status
        == Status.PASS
    )
    assert (
        only(
            run_one("aws.audit.vpc_flow_logs_enabled", inventory(vpc, _flow("ACTIVE", "subnet-1")))
        ).status
        == Status.FAIL
    )
    gap = collection_error("ec2", "DescribeFlowLogs", ("AWS::EC2::FlowLog",))
    found = run_one("aws.audit.vpc_flow_logs_enabled", inventory(vpc, errors=(gap,)))
    assert {f.status for f in found} == {Status.INCONCLUSIVE}


def test_log_bucket_access_logging() -> None:
    trail = asset("AWS::CloudTrail::Trail", TRAIL, s3_bucket_name="trail-logs")
    lb = asset(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LB,
        access_logs_enabled=True,
        access_logs_bucket="lb-logs",
    )
    logged = asset(
        "AWS::S3::Bucket",
        "arn:aws:s3:::trail-logs",
        bucket_name="trail-logs",
        logging_enabled=True,
        logging_target="access-logs",
    )
    unlogged = asset(
        "AWS::S3::Bucket", "arn:aws:s3:::lb-logs", bucket_name="lb-logs", logging_enabled=False
    )
    unknown = asset(
        "AWS::S3::Bucket", "arn:aws:s3:::flows", bucket_name="flows", logging_enabled=None
    )
    other = asset(
        "AWS::S3::Bucket", "arn:aws:s3:::photos", bucket_name="photos", logging_enabled=False
    )
    found = by_uid(
        run_one(
            "aws.audit.log_bucket_access_logging",
            inventory(trail, lb, _flow("ACTIVE"), logged, unlogged, unknown, other),
        )
    )
    assert {uid: f.status for uid, f in found.items()} == {
        "arn:aws:s3:::trail-logs": Status.PASS,
        "arn:aws:s3:::lb-logs": Status.FAIL,
        "arn:aws:s3:::flows": Status.INCONCLUSIVE,
    }
    remote = run_one("aws.audit.log_bucket_access_logging", inventory(trail))
    assert only(remote).status == Status.INCONCLUSIVE  # target bucket in another account


@pytest.mark.parametrize(
    ("enabled", "expected"),
    [(True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE)],
)
def test_lb_access_logs(enabled: bool | None, expected: Status) -> None:
    lb = asset(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LB,
        lb_type="application",
        access_logs_enabled=enabled,
        access_logs_bucket="b" if enabled else None,
    )
    finding = only(run_one("aws.audit.lb_access_logs_enabled", inventory(lb)))
    assert (finding.status, finding.severity) == (expected, Severity.MEDIUM)


def test_lb_access_logs_severity_is_configurable_and_gateways_are_skipped() -> None:
    lb = asset(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LB,
        lb_type="network",
        access_logs_enabled=False,
    )
    gwlb = asset(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LB + "-gw",
        lb_type="gateway",
        access_logs_enabled=False,
    )
    finding = only(run_one("aws.audit.lb_access_logs_enabled", inventory(lb, gwlb), severity="low"))
    assert (finding.resource_uid, finding.severity) == (LB, Severity.LOW)
    with pytest.raises(ValueError, match="unknown severity"):
        run_one("aws.audit.lb_access_logs_enabled", inventory(lb), severity="urgent")
