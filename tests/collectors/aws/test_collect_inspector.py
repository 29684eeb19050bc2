"""Inspector collector: account status and ListFindings from the moto server (its findings queue
holds the recorded findings), ListCoverage from the loopback stub (moto 5.2.6 answers it 404);
summaries per resource, a disabled account, an account missing from the answer, a refusal."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from support.aws import ACCOUNT, client
from support.aws_patching import aws_stub, covered, finding
from support.collect import error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import inspector

COVERAGE = "POST /coverage/list"
DAY = 86400.0
T0 = 1767225600.0  # 2026-01-01T00:00:00Z


def _queue_findings(endpoint: str, findings: list[dict[str, Any]]) -> None:
    """moto answers the next ListFindings with ``findings`` (its documented test hook)."""
    body = json.dumps({"results": [findings], "account_id": ACCOUNT, "region": "us-east-1"})
    req = urllib.request.Request(f"{endpoint}/moto-api/static/inspector2/findings-results",
                                 data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30):
        pass


def test_status_coverage_and_finding_summaries(moto_endpoint: str) -> None:
    client("inspector2", moto_endpoint).enable(accountIds=[ACCOUNT], resourceTypes=["EC2", "ECR"])
    _queue_findings(moto_endpoint, [
        finding("i-web", "AWS_EC2_INSTANCE", "CRITICAL", T0 - 40 * DAY),
        finding("i-web", "AWS_EC2_INSTANCE", "CRITICAL", T0 - 3 * DAY),
        finding("i-web", "AWS_EC2_INSTANCE", "HIGH", T0 - 10 * DAY),
        finding("arn:aws:lambda:us-east-1:123456789012:function:f", "AWS_LAMBDA_FUNCTION",
                "HIGH", T0 - 1 * DAY),
    ])
    resources = [covered("i-web", "AWS_EC2_INSTANCE"),
                 covered("i-dark", "AWS_EC2_INSTANCE", "INACTIVE", "UNMANAGED_EC2_INSTANCE"),
                 covered("i-old", "AWS_EC2_INSTANCE", "INACTIVE", "UNSUPPORTED_OS"),
                 covered(f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app", "AWS_ECR_REPOSITORY")]
    with aws_stub(moto_endpoint) as stub:
        stub.pages(COVERAGE, "coveredResources", resources, size=3)
        sc = scope(stub.base, region="us-east-1")
        [status] = inspector.collect(sc)

    assert sc.errors == []
    assert (status.uid, status.type) == (
        f"arn:aws:inspector2:us-east-1:{ACCOUNT}:account-status", inspector.STATUS)
    assert status.attrs["status"] == "ENABLED"
    assert status.attrs["scans"] == {"ec2": "ENABLED", "ecr": "ENABLED", "lambda": "DISABLED",
                                     "lambda_code": "DISABLED"}
    assert status.attrs["coverage"] == {"AWS_EC2_INSTANCE": {"ACTIVE": 1, "INACTIVE": 2},
                                        "AWS_ECR_REPOSITORY": {"ACTIVE": 1}}
    assert status.attrs["uncovered"] == [
        {"resource_id": "i-dark", "resource_type": "AWS_EC2_INSTANCE",
         "reason": "UNMANAGED_EC2_INSTANCE"},
        {"resource_id": "i-old", "resource_type": "AWS_EC2_INSTANCE", "reason": "UNSUPPORTED_OS"}]
    assert status.attrs["findings"] == [
        {"resource_type": "AWS_EC2_INSTANCE", "resource_id": "i-web", "critical": 2, "high": 1,
         "oldest_critical": "2025-11-22T00:00:00+00:00",
         "oldest_high": "2025-12-22T00:00:00+00:00"},
        {"resource_type": "AWS_LAMBDA_FUNCTION",
         "resource_id": "arn:aws:lambda:us-east-1:123456789012:function:f", "critical": 0,
         "high": 1, "oldest_critical": None, "oldest_high": "2025-12-31T00:00:00+00:00"}]
    sent = [body for key, body in stub.requests if key == COVERAGE]
    assert len(sent) == 2  # two pages
    assert [c["value"] for c in sent[0]["filterCriteria"]["resourceType"]] == list(
        inspector.COVERAGE_TYPES)


def test_a_disabled_account_has_nothing_to_cover(moto_endpoint: str) -> None:
    api = client("inspector2", moto_endpoint)
    api.enable(accountIds=[ACCOUNT], resourceTypes=["EC2"])
    api.disable(accountIds=[ACCOUNT], resourceTypes=["EC2"])
    with aws_stub(moto_endpoint) as stub:
        sc = scope(stub.base, region="us-east-1")
        [status] = inspector.collect(sc)
    assert sc.errors == []
    assert {k: status.attrs[k] for k in ("status", "coverage", "uncovered", "findings")} == {
        "status": "DISABLED", "coverage": {}, "uncovered": [], "findings": []}
    assert stub.requests == []  # neither coverage nor findings asked


def test_an_account_missing_from_the_answer_is_unknown(moto_endpoint: str) -> None:
    sc = scope(moto_endpoint, region="us-east-1")  # moto answers no account before enable
    assert inspector.collect(sc) == []
    assert error_keys(sc.errors) == {("us-east-1", "inspector2", "BatchGetAccountStatus",
                                      "AccountStatusMissing", (inspector.STATUS,), None)}


def test_refused_findings_leave_them_unknown(moto_endpoint: str) -> None:
    client("inspector2", moto_endpoint).enable(accountIds=[ACCOUNT], resourceTypes=["ECR"])
    with aws_stub(moto_endpoint) as stub:
        stub.answer(COVERAGE, {"coveredResources": []})
        sc = refused_scope(stub.base, "inspector2", "ListFindings")
        [status] = inspector.collect(sc)
    assert (status.attrs["findings"], status.attrs["coverage"]) == (None, {})
    assert error_keys(sc.errors) == refusals("inspector2", "ListFindings",
                                             (f"{inspector.STATUS}#findings",))
