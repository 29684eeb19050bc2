"""Builders for reporter tests: findings, collection errors and reports from plain values."""

from __future__ import annotations

from typing import Any

from posture.model import (
    CollectionError,
    Finding,
    Principle,
    Provider,
    ScanMeta,
    Severity,
    Status,
)
from posture.registry import Framework
from posture.reporters import Report

from .aws import ACCOUNT
from .model import error_of, scan_meta

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_CLOSE = "</script><script>alert(2)</script><!--"

META = scan_meta(
    Provider.AWS,
    (ACCOUNT,),
    ("eu-west-1", "us-east-1"),
    scan_id="scan-2026-01-01",
    tool_version="0.1.0",
    finished_at="2026-01-01T00:02:30+00:00",
)

SOC2 = Framework(
    id="SOC2",
    name="SOC 2 Trust Services Criteria",
    controls={
        "CC6.1": "Logical access security",
        "CC6.6": "Threats from outside system boundaries",
        "CC6.7": "Transmission of information is protected",
        "CC7.2": "Monitoring for anomalies",
    },
    checks_by_control={},
)

SHA = "0" * 63 + "1"

HOSTILE_PATH = [
    {"kind": "internet", "id": "0.0.0.0/0"},
    {"kind": "igw", "id": "igw-1", "rule": "route 0.0.0.0/0"},
    {"kind": "security-group", "id": XSS_IMG, "rule": "tcp/22 from 0.0.0.0/0"},
    {"kind": "instance", "id": XSS_SCRIPT, "rule": XSS_CLOSE},
]


def finding(
    n: int = 1,
    *,
    status: Status = Status.FAIL,
    severity: Severity = Severity.HIGH,
    name: str | None = None,
    message: str = "port 22 reachable from 0.0.0.0/0",
    evidence: dict[str, Any] | None = None,
    principles: tuple[Principle, ...] = (Principle.DEFENSE_IN_DEPTH,),
    controls: dict[str, tuple[str, ...]] | None = None,
    check_id: str = "aws.network.admin_ports_not_internet_reachable",
    title: str = "Administrative ports are not reachable from the internet",
    remediation: str = "Remove internet ingress on admin ports; use a bastion.",
    region: str = "us-east-1",
) -> Finding:
    uid = f"arn:aws:ec2:{region}:{ACCOUNT}:security-group/sg-{n:04d}"
    return Finding(
        check_id=check_id,
        title=title,
        status=status,
        severity=severity,
        provider=Provider.AWS,
        resource_uid=uid,
        resource_type="AWS::EC2::SecurityGroup",
        resource_name=f"sg-{n:04d}" if name is None else name,
        account=ACCOUNT,
        region=region,
        message=message,
        evidence={"rule": {"port": 22, "cidr": "0.0.0.0/0"}} if evidence is None else evidence,
        principles=principles,
        controls={"SOC2": ("CC6.1", "CC6.6")} if controls is None else controls,
        remediation=remediation,
    )


def collection_error(
    operation: str = "DescribeVolumes", code: str = "AccessDenied", message: str = "not allowed"
) -> CollectionError:
    return error_of(Provider.AWS, ACCOUNT, "ec2", operation, ("AWS::EC2::Volume",),
                    code=code, message=message, region="us-east-1")


def report(
    *findings: Finding,
    errors: tuple[CollectionError, ...] = (),
    meta: ScanMeta = META,
    sha: str | None = SHA,
) -> Report:
    return Report(
        findings=tuple(findings),
        inventory_meta=meta,
        collection_errors=errors,
        snapshot_sha256=sha,
        frameworks=(SOC2,),
    )


def hostile_report() -> Report:
    """Attacker-controlled strings in every field a cloud account can set."""
    gap = {"collection_errors": [{"service": "ec2", "operation": "DescribeVolumes",
                                  "region": "us-east-1", "code": "AccessDenied",
                                  "message": "not allowed"}]}
    return report(
        finding(1, name=XSS_SCRIPT, evidence={"tags": {"Name": XSS_SCRIPT, "x": XSS_CLOSE},
                                              "path": HOSTILE_PATH}),
        finding(2, name=XSS_IMG, status=Status.PASS, severity=Severity.LOW,
                message=f"tag owner={XSS_IMG}"),
        finding(3, name=XSS_CLOSE, status=Status.INCONCLUSIVE, severity=Severity.CRITICAL,
                message="not verified", evidence=gap),
        finding(4, name='=HYPERLINK("http://evil","x")', status=Status.FAIL,
                severity=Severity.MEDIUM, principles=(Principle.ENCRYPTION_AT_REST,),
                controls={"SOC2": ("CC6.1",)}, check_id="aws.encryption.volume_encrypted",
                title="Volumes are encrypted at rest"),
        finding(5, name="db, \"prod\"\nprimary", status=Status.ERROR, severity=Severity.INFO,
                message="check crashed: KeyError"),
        errors=(collection_error(message=XSS_IMG),),
    )


DEPTH_CHANGE = {"layer": "network-acl inbound", "resource": "acl-1",
                "rule": "rule 50 deny tcp/22 from 0.0.0.0/0", "detail": "denies",
                "blocking": True, "change": "insert an inbound allow for tcp/22"}


def depth_report() -> Report:
    """Defense-depth findings (depth 0 from an exposure check, 1, 2, >= 3, undecided) on
    assets with attacker-controlled names, and one finding without a depth."""
    depth = "aws.network.sensitive_ports_defense_in_depth"
    return report(
        finding(1, name=XSS_SCRIPT, evidence={"depth": 0, "paths": []}),
        finding(2, name=XSS_IMG, severity=Severity.LOW, check_id=depth,
                evidence={"depth": 1, "port": 22, "via": f"direct (IPv4) {XSS_CLOSE}",
                          "changes": [DEPTH_CHANGE], "single_change": DEPTH_CHANGE}),
        finding(3, status=Status.PASS, severity=Severity.LOW, check_id=depth,
                evidence={"depth": 2, "port": 5432, "changes": [DEPTH_CHANGE, DEPTH_CHANGE]}),
        finding(4, status=Status.PASS, severity=Severity.LOW, check_id=depth,
                evidence={"depth": None, "depth_at_least": 3, "port": 3306}),
        finding(5, status=Status.INCONCLUSIVE, severity=Severity.LOW, check_id=depth,
                evidence={"depth": 2, "port": 22}),
        finding(6, status=Status.PASS, check_id="aws.encryption.volume_encrypted"),
        # the same asset as finding 2, from the exposure check: the lower depth wins
        finding(2, name=XSS_IMG, status=Status.PASS, evidence={"note": "no depth"}),
    )


def status_in(doc: dict[str, Any], check_id: str, name: str) -> str:
    """The status of the one finding of ``check_id`` on ``name`` in a findings.json document."""
    found = [
        f["status"]
        for f in doc["findings"]
        if f["check_id"] == check_id and f["resource_name"] == name
    ]
    assert len(found) == 1, (check_id, name, found)
    return str(found[0])
