"""``-f ocsf``: every event valid against the JSON Schema of the pinned OCSF version (built from the
schema export that the ocsf-json-schema package ships, so no network), the mapping of status,
severity, resource, check and time, stable ids, determinism, and the file written by the CLI."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
from support import DEMO
from support.reports import (
    ACCOUNT,
    META,
    SHA,
    XSS_SCRIPT,
    depth_report,
    finding,
    hostile_report,
    report,
)
from typer.testing import CliRunner

from posture.cli.main import app
from posture.errors import ReportError
from posture.model import Provider, Severity, Status
from posture.reporters import FILENAMES, OutputFormat, Report, reporter_for, write_reports
from posture.reporters.base import AccountView, OrgView
from posture.reporters.ocsf_reporter import (
    CLASS_UID,
    OCSF_VERSION,
    PROFILES,
    finding_uid,
)

Event = dict[str, Any]


@cache
def ocsf_export() -> dict[str, Any]:
    """The OCSF schema export of the pinned version, as ocsf-json-schema packages it."""
    return get_ocsf_schema(version=OCSF_VERSION)


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(ocsf_export()).get_class_schema(
        "compliance_finding", profiles=list(PROFILES))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(event: Event) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator().iter_errors(event)]


def render(rep: Report) -> bytes:
    return reporter_for(OutputFormat.OCSF).render(rep)


def events(rep: Report) -> list[Event]:
    doc = json.loads(render(rep))
    assert isinstance(doc, list)
    return doc


def assert_valid(items: list[Event]) -> None:
    for item in items:
        assert schema_errors(item) == [], item["finding_info"]["uid"]


def caption(enum_owner: dict[str, Any], attribute: str, value: int) -> str:
    return str(enum_owner["attributes"][attribute]["enum"][str(value)]["caption"])


ALL_STATUSES = report(*(finding(n, status=s, severity=sev) for n, (s, sev) in enumerate(
    zip(Status, Severity, strict=True), start=1)))


# ---------------------------------------------------------------------------------- validity


@pytest.mark.parametrize("make", [hostile_report, depth_report, lambda: ALL_STATUSES],
                         ids=["hostile", "depth", "statuses"])
def test_every_event_is_a_valid_compliance_finding(make: Callable[[], Report]) -> None:
    items = events(make())
    assert len(items) == len(make().findings)
    assert_valid(items)
    for item in items:
        assert item["class_uid"] == CLASS_UID == 2003
        assert item["category_uid"] == 2
        assert item["type_uid"] == item["class_uid"] * 100 + item["activity_id"]
        assert item["metadata"]["version"] == OCSF_VERSION
        assert item["metadata"]["profiles"] == list(PROFILES)


def _drop(path: str) -> Callable[[Event], None]:
    *parents, leaf = path.split(".")

    def mutate(event: Event) -> None:
        node = event
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[leaf]

    return mutate


def _set(path: str, value: Any) -> Callable[[Event], None]:
    *parents, leaf = path.split(".")

    def mutate(event: Event) -> None:
        node = event
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[leaf] = value

    return mutate


MUTATIONS: dict[str, Callable[[Event], None]] = {
    "another class": _set("class_uid", 2004),
    "a severity OCSF does not define": _set("severity_id", 7),
    "a compliance status OCSF does not define": _set("compliance.status_id", 4),
    "a workflow status OCSF does not define": _set("status_id", 42),
    "time as text": _set("time", "2026-01-01T00:02:30Z"),
    "no finding uid": _drop("finding_info.uid"),
    "no cloud (required by the cloud profile)": _drop("cloud"),
    "no cloud provider": _drop("cloud.provider"),
    "no compliance": _drop("compliance"),
    "no metadata version": _drop("metadata.version"),
    "an attribute OCSF does not define": _set("severity_label", "high"),
    "a misspelt resource attribute": _set("resources.0.regoin", "us-east-1"),
    "a resource with neither uid nor name": lambda e: e["resources"].__setitem__(
        0, {"type": "AWS::EC2::SecurityGroup"}),
    "standards not a list": _set("compliance.standards", "SOC2"),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_schema_rejects_a_mutated_event(mutation: str) -> None:
    event = events(report(finding(1)))[0]
    assert schema_errors(event) == []
    broken = copy.deepcopy(event)
    MUTATIONS[mutation](broken)
    assert schema_errors(broken), mutation


# ----------------------------------------------------------------------------------- mapping

STATUS_MAP = {
    #                    compliance.status_id, status_id (workflow)
    Status.PASS: (1, 4),  # Pass, Resolved
    Status.FAIL: (3, 1),  # Fail, New
    Status.EXCEPTED: (3, 3),  # Fail, Suppressed (an accepted risk)
    Status.INCONCLUSIVE: (2, 1),  # Warning (no result: missing information), New
    Status.ERROR: (0, 1),  # Unknown, New
}
SEVERITY_MAP = {Severity.INFO: 1, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4,
                Severity.CRITICAL: 5}


def test_status_and_severity_map_to_the_ocsf_enums() -> None:
    schema = ocsf_export()
    cls, compliance = schema["classes"]["compliance_finding"], schema["objects"]["compliance"]
    for f, item in zip(ALL_STATUSES.findings, events(ALL_STATUSES), strict=True):
        assert (item["compliance"]["status_id"], item["status_id"]) == STATUS_MAP[f.status]
        assert item["status_code"] == item["compliance"]["status_code"] == f.status.value
        assert item["severity_id"] == SEVERITY_MAP[f.severity]
        # every caption is the schema's own caption of the id beside it
        assert item["severity"] == caption(cls, "severity_id", item["severity_id"])
        assert item["status"] == caption(cls, "status_id", item["status_id"])
        assert item["activity_name"] == caption(cls, "activity_id", item["activity_id"])
        assert item["type_name"] == caption(cls, "type_uid", item["type_uid"])
        assert item["class_name"] == cls["caption"] == "Compliance Finding"
        assert item["category_name"] == caption(cls, "category_uid", item["category_uid"])
        assert item["compliance"]["status"] == caption(
            compliance, "status_id", item["compliance"]["status_id"])


def test_resource_check_and_evidence_mapping() -> None:
    f = finding(1, controls={"SOC2": ("CC6.1", "CC6.6"), "CIS-AWS-3.0": ("5.2",)})
    item = events(report(f))[0]
    assert item["resources"] == [{
        "uid": f.resource_uid, "name": f.resource_name, "type": "AWS::EC2::SecurityGroup",
        "region": "us-east-1", "role_id": 3, "role": "Affected",
    }]
    assert item["cloud"] == {"provider": "AWS", "region": "us-east-1",
                             "account": {"uid": ACCOUNT, "type_id": 10, "type": "AWS Account"}}
    assert item["finding_info"]["title"] == f.title
    assert item["finding_info"]["types"] == ["defense-in-depth"]
    assert item["finding_info"]["analytic"] == {"uid": f.check_id, "name": f.check_id,
                                                "type_id": 1, "type": "Rule"}
    assert item["compliance"]["control"] == item["metadata"]["event_code"] == f.check_id
    assert item["compliance"]["standards"] == ["CIS-AWS-3.0", "SOC2"]
    assert item["compliance"]["requirements"] == ["CIS-AWS-3.0:5.2", "SOC2:CC6.1",
                                                  "SOC2:CC6.6"]
    assert item["remediation"] == {"desc": f.remediation}
    assert item["message"] == item["status_detail"] == f.message
    assert item["metadata"]["product"] == {"name": "posture", "vendor_name": "posture",
                                           "uid": "posture", "version": META.tool_version}
    assert item["metadata"]["correlation_uid"] == META.scan_id
    # the evidence as the finding holds it (already scrubbed); no raw payload is added
    assert item["unmapped"] == {"evidence": f.evidence, "principles": ["defense-in-depth"],
                                "snapshot_sha256": SHA}
    assert "raw_data" not in item


def test_a_finding_without_controls_name_or_remediation_stays_valid() -> None:
    bare = finding(1, controls={}, name="", remediation="", principles=())
    item = events(report(bare))[0]
    assert_valid([item])
    assert "standards" not in item["compliance"] and "remediation" not in item
    assert item["resources"][0]["uid"] == bare.resource_uid and "name" not in item["resources"][0]


@pytest.mark.parametrize(
    ("provider", "account", "expected"),
    [
        (Provider.AZURE, "11111111-1111-1111-1111-111111111111",
         {"provider": "Azure", "account": {"type_id": 13, "type": "Azure Subscription"}}),
        (Provider.GCP, "prod-project",
         {"provider": "GCP", "project_uid": "prod-project",
          "account": {"type_id": 11, "type": "GCP Project"}}),
        (Provider.GITHUB, "acme",
         {"provider": "GitHub", "account": {"type_id": 99, "type": "GitHub Organization"}}),
    ],
)
def test_each_provider_names_its_cloud_and_account(provider: Provider, account: str,
                                                   expected: dict[str, Any]) -> None:
    f = replace(finding(1), provider=provider, account=account, region="global")
    item = events(report(f))[0]
    assert_valid([item])
    cloud = item["cloud"]
    assert cloud["account"] == {"uid": account, **expected["account"]}
    assert {k: v for k, v in cloud.items() if k not in ("account", "region")} == {
        k: v for k, v in expected.items() if k != "account"}
    account_types = ocsf_export()["objects"]["account"]
    assert caption(account_types, "type_id", cloud["account"]["type_id"]) in (
        cloud["account"]["type"], "Other")


def test_an_organisation_run_names_the_account_and_its_ou() -> None:
    org = OrgView(id="o-abc123", management_account_id="999999999999", accounts=(
        AccountView(id=ACCOUNT, name="prod-web", ou="Root/Prod/Web", status="scanned"),))
    other = replace(finding(2), account="222222222222")
    items = events(replace(report(finding(1), other), organization=org))
    assert_valid(items)
    assert items[0]["cloud"]["account"]["name"] == "prod-web"
    assert items[0]["cloud"]["org"] == {"uid": "o-abc123", "ou_name": "Root/Prod/Web"}
    assert items[1]["cloud"]["org"] == {"uid": "o-abc123"}  # an account the org does not list
    assert "name" not in items[1]["cloud"]["account"]


# ------------------------------------------------------------------------- time and identity


def test_time_is_the_collection_time_not_the_wall_clock() -> None:
    item = events(report(finding(1)))[0]
    assert META.finished_at == "2026-01-01T00:02:30+00:00"
    assert item["time"] == 1_767_225_750_000 and item["timezone_offset"] == 0
    later = replace(META, finished_at="2026-01-01T02:02:30.250+02:00")
    shifted = events(report(finding(1), meta=later))[0]
    assert shifted["time"] == 1_767_225_750_250 and shifted["timezone_offset"] == 120
    unfinished = replace(META, finished_at="")
    assert events(report(finding(1), meta=unfinished))[0]["time"] == 1_767_225_600_000


def test_a_snapshot_without_a_collection_time_is_a_report_error() -> None:
    broken = replace(META, started_at="yesterday", finished_at="")
    with pytest.raises(ReportError, match="no valid collection time"):
        render(report(finding(1), meta=broken))
    assert render(report(meta=broken)) == b"[]\n"  # nothing to stamp


def test_the_finding_uid_is_stable_across_scans_and_unique_in_a_report() -> None:
    first = events(report(finding(1)))[0]["finding_info"]["uid"]
    rescanned = replace(META, scan_id="scan-2026-02-01", finished_at="2026-02-01T00:00:00Z")
    resolved = finding(1, status=Status.PASS, message="no longer reachable")
    assert events(report(resolved, meta=rescanned))[0]["finding_info"]["uid"] == first
    f = finding(1)
    assert first == finding_uid(f.check_id, f.resource_uid, f.account)
    assert first.startswith("posture-") and len(first) == len("posture-") + 64
    other_account = replace(f, account="222222222222")
    other_check = replace(f, check_id="aws.encryption.volume_encrypted")
    twice = finding(1, message="port 3389 reachable from 0.0.0.0/0")
    uids = [e["finding_info"]["uid"]
            for e in events(report(f, other_account, other_check, twice))]
    assert uids[0] == first and len(set(uids)) == 4


def test_the_same_report_gives_the_same_bytes() -> None:
    data = render(hostile_report())
    assert data == render(hostile_report())
    assert data.endswith(b"]\n")
    assert json.dumps(json.loads(data), sort_keys=True, indent=2,
                      ensure_ascii=False).encode() + b"\n" == data
    assert render(report()) == b"[]\n"


def test_attacker_controlled_strings_survive_as_data() -> None:
    items = events(hostile_report())
    assert items[0]["resources"][0]["name"] == XSS_SCRIPT
    lone = events(report(finding(1, name="bad\ud800name", evidence={"k": "\udcff"})))[0]
    assert lone["resources"][0]["name"] == "bad\ud800name"
    assert lone["unmapped"]["evidence"] == {"k": "\udcff"}


# ------------------------------------------------------------------------------ files, CLI


def test_write_reports_writes_findings_ocsf_json(tmp_path: Path) -> None:
    written = write_reports(report(finding(1)), tmp_path, [OutputFormat.OCSF])
    assert FILENAMES[OutputFormat.OCSF] == "findings.ocsf.json"
    assert written == {OutputFormat.OCSF: tmp_path / "findings.ocsf.json"}
    assert_valid(json.loads(written[OutputFormat.OCSF].read_bytes()))


def test_audit_of_the_demo_snapshot_writes_valid_identical_events(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = runner.invoke(app, ["audit", str(DEMO / "snapshot.json"), "-o", str(out),
                                     "-f", "json,ocsf", "-q"])
        assert result.exit_code == 0, result.output
        outputs.append((out / "findings.ocsf.json").read_bytes())
    assert outputs[0] == outputs[1]
    items = json.loads(outputs[0])
    findings = json.loads((tmp_path / "a" / "findings.json").read_bytes())["findings"]
    assert [(e["compliance"]["control"], e["resources"][0]["uid"], e["status_code"])
            for e in items] == [(f["check_id"], f["resource_uid"], f["status"])
                                for f in findings]
    assert_valid(items)
    assert len({e["finding_info"]["uid"] for e in items}) == len(items)
    assert {e["status_code"] for e in items} >= {"PASS", "FAIL", "INCONCLUSIVE"}
