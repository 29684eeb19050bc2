"""``-f asff``: every finding valid against the AwsSecurityFinding shape of botocore's own
Security Hub model (what BatchImportFindings accepts, no network), the mapping of status,
severity, resource, check and time, the OCSF ids reused, AWS findings only, determinism, and
the file written by the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from support import DEMO
from support.reports import ACCOUNT, META, SHA, finding, hostile_report, report
from typer.testing import CliRunner

from posture.cli.main import app
from posture.errors import ReportError
from posture.model import Provider, Severity, Status
from posture.reporters import FILENAMES, OutputFormat, reporter_for, write_reports
from posture.reporters.asff_reporter import documents, home_region, product_arn
from posture.reporters.ocsf_reporter import events

Doc = dict[str, Any]


@cache
def import_shape() -> Any:
    model = botocore.session.get_session().get_service_model("securityhub")
    return model.operation_model("BatchImportFindings").input_shape


def assert_importable(docs: list[Doc]) -> None:
    """What botocore would refuse to send (types, required members, enums) is an error."""
    for start in range(0, len(docs), 100):
        checked = ParamValidator().validate({"Findings": docs[start:start + 100]}, import_shape())
        assert not checked.has_errors(), checked.generate_report()


def render(*findings: Any, **kwargs: Any) -> list[Doc]:
    data = reporter_for("asff").render(report(*findings, **kwargs))
    assert data.endswith(b"\n")
    docs: list[Doc] = json.loads(data)
    assert_importable(docs)
    return docs


def test_a_fail_maps_to_a_failed_active_new_finding() -> None:
    [doc] = render(finding(1))
    assert doc["SchemaVersion"] == "2018-10-08"
    assert doc["ProductArn"] == (f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/"
                                 f"{ACCOUNT}/default")
    assert doc["GeneratorId"] == "aws.network.admin_ports_not_internet_reachable"
    assert doc["AwsAccountId"] == ACCOUNT
    assert doc["Compliance"] == {"Status": "FAILED",
                                 "RelatedRequirements": ["SOC2:CC6.1", "SOC2:CC6.6"]}
    assert doc["Types"] == [
        "Software and Configuration Checks/Industry and Regulatory Standards/SOC2"]
    assert doc["Severity"] == {"Label": "HIGH", "Original": "high"}
    assert doc["FindingProviderFields"] == {"Severity": doc["Severity"], "Types": doc["Types"]}
    assert doc["Workflow"] == {"Status": "NEW"} and doc["RecordState"] == "ACTIVE"
    assert doc["Title"] == "Administrative ports are not reachable from the internet"
    assert doc["Description"] == "port 22 reachable from 0.0.0.0/0"
    assert doc["Remediation"] == {"Recommendation": {
        "Text": "Remove internet ingress on admin ports; use a bastion."}}
    # META finished at 2026-01-01T00:02:30+00:00: the collection time, never the clock
    assert doc["CreatedAt"] == doc["UpdatedAt"] == "2026-01-01T00:02:30.000Z"
    assert doc["Resources"] == [{
        "Type": "AwsEc2SecurityGroup", "Id": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/"
        "sg-0001", "Partition": "aws", "Region": "us-east-1",
        "Details": {"Other": {"posture/resource_type": "AWS::EC2::SecurityGroup",
                              "posture/resource_name": "sg-0001"}}}]
    assert doc["ProductFields"] == {
        "ProviderName": "posture", "ProviderVersion": "0.1.0",
        "posture/check_id": "aws.network.admin_ports_not_internet_reachable",
        "posture/status": "FAIL", "posture/severity": "high", "posture/region": "us-east-1",
        "posture/scan_id": "scan-2026-01-01", "posture/snapshot_sha256": SHA}


@pytest.mark.parametrize(("status", "compliance", "workflow", "label"), [
    (Status.PASS, "PASSED", "RESOLVED", "INFORMATIONAL"),  # as Security Hub's own controls
    (Status.FAIL, "FAILED", "NEW", "CRITICAL"),
    (Status.EXCEPTED, "FAILED", "SUPPRESSED", "CRITICAL"),  # an accepted risk
    (Status.INCONCLUSIVE, "WARNING", "NEW", "CRITICAL"),
    (Status.ERROR, "NOT_AVAILABLE", "NEW", "CRITICAL"),
])
def test_status_maps_to_compliance_workflow_and_severity(
    status: Status, compliance: str, workflow: str, label: str
) -> None:
    [doc] = render(finding(1, status=status, severity=Severity.CRITICAL))
    assert doc["Compliance"]["Status"] == compliance
    assert doc["Workflow"]["Status"] == workflow
    assert doc["Severity"] == {"Label": label, "Original": "critical"}
    assert doc["ProductFields"]["posture/status"] == status.value


@pytest.mark.parametrize(("severity", "label"), [
    (Severity.INFO, "INFORMATIONAL"), (Severity.LOW, "LOW"), (Severity.MEDIUM, "MEDIUM"),
    (Severity.HIGH, "HIGH"), (Severity.CRITICAL, "CRITICAL"),
])
def test_severity_labels(severity: Severity, label: str) -> None:
    assert render(finding(1, severity=severity))[0]["Severity"]["Label"] == label


def test_a_check_without_framework_is_a_best_practice_and_has_no_requirements() -> None:
    [doc] = render(finding(1, controls={}, remediation=""))
    assert doc["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]
    assert doc["Compliance"] == {"Status": "FAILED"}
    assert "Remediation" not in doc


def test_ids_are_the_ocsf_uids_and_stable_across_scans() -> None:
    rep = report(finding(1), finding(2, status=Status.PASS), finding(1, message="again"))
    ids = [d["Id"] for d in documents(rep)]
    assert ids == [e["finding_info"]["uid"] for e in events(rep)]
    assert len(set(ids)) == 3  # the repeat on sg-0001 has an id of its own
    later = replace(rep, inventory_meta=replace(META, scan_id="next",
                                                finished_at="2026-02-01T00:00:00+00:00"))
    assert [d["Id"] for d in documents(later)] == ids
    assert reporter_for("asff").render(rep) == reporter_for("asff").render(rep)


def test_global_resources_and_account_settings() -> None:
    root = replace(finding(1, region="global"), resource_type="AWS::IAM::RootUser",
                   resource_uid=f"arn:aws:iam::{ACCOUNT}:root")
    other = replace(finding(2), resource_type="AWS::EC2::Image")
    docs = render(root, other)
    assert docs[0]["Resources"][0]["Type"] == "AwsAccount"
    assert "Region" not in docs[0]["Resources"][0]  # a global resource has no region
    assert docs[0]["ProductFields"]["posture/region"] == "global"
    assert docs[1]["Resources"][0]["Type"] == "Other"  # no ASFF type: Other, type kept
    assert docs[1]["Resources"][0]["Details"]["Other"]["posture/resource_type"] == \
        "AWS::EC2::Image"


def test_only_aws_findings_of_aws_accounts_are_written() -> None:
    azure = replace(finding(1), provider=Provider.AZURE, account="sub-0000",
                    resource_type="Microsoft.Network/networkSecurityGroups")
    github = replace(finding(2), provider=Provider.GITHUB, account="octo-org")
    docs = render(azure, github, finding(3))
    assert [d["Resources"][0]["Details"]["Other"]["posture/resource_name"] for d in docs] == \
        ["sg-0003"]
    assert render(azure) == []


@pytest.mark.parametrize(("regions", "home"), [
    (("eu-west-1", "us-east-1"), "us-east-1"),
    (("eu-west-1", "ap-south-1"), "ap-south-1"),
    (("global",), "us-east-1"),
    ((), "us-east-1"),
])
def test_home_region(regions: tuple[str, ...], home: str) -> None:
    assert home_region(replace(META, regions=regions)) == home


def test_product_arn_of_other_partitions() -> None:
    assert product_arn("cn-north-1", "1" * 12).startswith("arn:aws-cn:securityhub:cn-north-1:")
    assert product_arn("us-gov-west-1", "1" * 12).startswith("arn:aws-us-gov:")


def test_long_and_hostile_text_is_clipped_to_the_asff_limits() -> None:
    docs = render(finding(1, title="t" * 400, message="m" * 2000, remediation="r" * 900))
    assert len(docs[0]["Title"]) == 256 and docs[0]["Title"].endswith("…")
    assert len(docs[0]["Description"]) == 1024
    assert len(docs[0]["Remediation"]["Recommendation"]["Text"]) == 512
    assert render(finding(1, message="  "))[0]["Description"] == "-"  # required, non-empty
    hostile = json.loads(reporter_for("asff").render(hostile_report()))
    assert_importable(hostile)
    assert len(hostile) == 5


def test_a_snapshot_without_collection_time_is_a_report_error() -> None:
    assert render() == []
    with pytest.raises(ReportError, match=r"ASFF.*no valid collection time"):
        render(finding(1), meta=replace(META, started_at="", finished_at="soon"))


def test_write_reports_writes_findings_asff_json(tmp_path: Path) -> None:
    written = write_reports(report(finding(1)), tmp_path, [OutputFormat.ASFF])
    assert FILENAMES[OutputFormat.ASFF] == "findings.asff.json"
    assert_importable(json.loads(written[OutputFormat.ASFF].read_bytes()))


def test_audit_of_the_demo_snapshot_writes_one_importable_finding_each(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", str(DEMO / "snapshot.json"), "-o",
                                      str(tmp_path), "-f", "json,asff", "-q"])
    assert result.exit_code == 0, result.output
    docs = json.loads((tmp_path / "findings.asff.json").read_bytes())
    findings = json.loads((tmp_path / "findings.json").read_bytes())["findings"]
    assert [(d["GeneratorId"], d["Resources"][0]["Id"], d["ProductFields"]["posture/status"])
            for d in docs] == [(f["check_id"], f["resource_uid"], f["status"])
                               for f in findings]
    assert_importable(docs)
    assert len({d["Id"] for d in docs}) == len(docs)
    assert {d["Compliance"]["Status"] for d in docs} >= {"PASSED", "FAILED", "WARNING"}
