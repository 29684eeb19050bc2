"""``--security-hub``: the AWS findings imported into moto's Security Hub (server mode) with
BatchImportFindings, 100 to a call, updated by their stable Id, the ones a later scan no longer
produces archived (and only within the checks and regions it covered), refused findings named,
and a clear error when Security Hub is not enabled.

moto (5.2) implements DescribeHub, BatchImportFindings and GetFindings (paginated) but ignores
GetFindings' Filters: posture checks each returned finding against the filters again, and the
filters sent are asserted here. Answers moto cannot give (a partly refused batch, a throttled
call) are served in AWS's JSON shape by a botocore ``before-call`` handler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.handlers
import pytest
from support import DEMO
from support.aws import ACCOUNT, client
from support.faults import FakeHttp
from support.model import inventory_of, scan_meta
from typer.testing import CliRunner, Result

from posture import snapshot
from posture.cli.main import app
from posture.destinations.security_hub import finding_filters, publish
from posture.model import Provider
from posture.reporters.asff_reporter import product_arn

runner = CliRunner()
ARN = product_arn("us-east-1", ACCOUNT)
USER = "AWS::IAM::User"


@pytest.fixture
def hub(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's Security Hub, enabled, and posture's AWS clients sent to it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    securityhub = client("securityhub", moto_endpoint)
    securityhub.enable_security_hub()
    return securityhub


def audit(snapshot_file: Path, out: Path, *extra: str) -> Result:
    return runner.invoke(app, ["audit", str(snapshot_file), "-o", str(out), "-f", "json,asff",
                               "-q", "--security-hub", *extra])


def stored(securityhub: Any) -> dict[str, dict[str, Any]]:
    pages = securityhub.get_paginator("get_findings").paginate()
    return {f["Id"]: f for page in pages for f in page["Findings"]}


def without(tmp_path: Path, asset_type: str) -> Path:
    """The demo snapshot without its assets of ``asset_type``."""
    doc = json.loads((DEMO / "snapshot.json").read_text(encoding="utf-8"))
    doc["assets"] = [a for a in doc["assets"] if a["type"] != asset_type]
    path = tmp_path / f"without-{asset_type.replace(':', '')}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def asff(out: Path) -> dict[str, dict[str, Any]]:
    return {d["Id"]: d for d in json.loads((out / "findings.asff.json").read_bytes())}


def test_imported_then_updated_then_archived(hub: Any, tmp_path: Path) -> None:
    first = audit(DEMO / "snapshot.json", tmp_path / "a")
    assert first.exit_code == 0, first.output
    written = asff(tmp_path / "a")
    assert f"security hub: {len(written)} imported, 0 archived in us-east-1 (account " \
        f"{ACCOUNT})" in first.stdout
    assert {i: {k: f[k] for k in written[i]} for i, f in stored(hub).items()} == written

    again = audit(DEMO / "snapshot.json", tmp_path / "b")  # the same ids: updated, not added
    assert f"{len(written)} imported, 0 archived" in again.stdout
    assert len(stored(hub)) == len(written)

    fewer = audit(without(tmp_path, USER), tmp_path / "c")
    assert fewer.exit_code == 0, fewer.output
    kept = asff(tmp_path / "c")
    gone = set(written) - set(kept)
    assert gone and {written[i]["Resources"][0]["Details"]["Other"]["posture/resource_type"]
                     for i in gone} == {USER}
    assert f"{len(kept)} imported, {len(gone)} archived" in fewer.stdout
    now = stored(hub)
    assert {i for i, f in now.items() if f["RecordState"] == "ARCHIVED"} == gone
    assert all(now[i]["RecordState"] == "ACTIVE" for i in kept)

    quiet = audit(without(tmp_path, USER), tmp_path / "d")  # archived once, not again
    assert f"{len(kept)} imported, 0 archived" in quiet.stdout


def test_a_run_of_some_checks_archives_only_their_findings(hub: Any, tmp_path: Path) -> None:
    assert audit(DEMO / "snapshot.json", tmp_path / "a").exit_code == 0
    written = asff(tmp_path / "a")
    user_checks = sorted({d["GeneratorId"] for d in written.values()
                          if d["Resources"][0]["Type"] == "AwsIamUser"})
    other = next(d["GeneratorId"] for d in written.values()
                 if d["GeneratorId"] not in user_checks)
    fewer = without(tmp_path, USER)
    scoped = audit(fewer, tmp_path / "b", "-c", other)
    assert scoped.exit_code == 0, scoped.output
    assert ", 0 archived" in scoped.stdout  # the user findings belong to checks not run
    one = audit(fewer, tmp_path / "c", "-c", user_checks[0])
    archived = [d for d in written.values() if d["GeneratorId"] == user_checks[0]
                and d["Resources"][0]["Type"] == "AwsIamUser"]
    assert f", {len(archived)} archived" in one.stdout
    assert sum(f["RecordState"] == "ARCHIVED" for f in stored(hub).values()) == len(archived)


def test_security_hub_not_enabled_is_a_clear_error_after_the_reports(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    result = audit(DEMO / "snapshot.json", tmp_path)
    assert result.exit_code == 3
    assert "Security Hub is not enabled in account 123456789012, region us-east-1" in \
        result.stderr
    assert "aws securityhub enable-security-hub --region us-east-1" in result.stderr
    assert (tmp_path / "findings.json").is_file() and (tmp_path / "findings.asff.json").is_file()


def test_findings_of_another_account_are_skipped(hub: Any, tmp_path: Path) -> None:
    text = (DEMO / "snapshot.json").read_text(encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(text.replace(ACCOUNT, "111111111111"), encoding="utf-8")
    result = audit(other, tmp_path / "out")
    assert result.exit_code == 0, result.output
    count = len(asff(tmp_path / "out"))
    assert f"0 imported, 0 archived in us-east-1 (account {ACCOUNT}); {count} skipped" in \
        result.stdout
    assert stored(hub) == {}


def test_a_snapshot_of_another_cloud_is_a_usage_error(tmp_path: Path) -> None:
    azure = tmp_path / "azure.json"
    snapshot.save(inventory_of(scan_meta(Provider.AZURE, ("sub-1",), ("westeurope",)), ()),
                  azure)
    result = audit(azure, tmp_path / "out")
    assert result.exit_code == 2
    assert "--security-hub imports AWS findings; this is a azure snapshot" in result.stderr


# --- batches, refusals and the GetFindings filters, on a client of the moto server ---

def body_of(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a request, as botocore has serialized it by ``before-call``."""
    body = params.get("body") or b"{}"
    return json.loads(body) if isinstance(body, bytes | str) else dict(body)


def docs(n: int) -> list[dict[str, Any]]:
    """``n`` ASFF findings of the demo's shape, with distinct ids."""
    base = json.loads((DEMO / "findings.json").read_bytes())["findings"]
    return [{
        "SchemaVersion": "2018-10-08", "Id": f"posture-{i:064x}", "ProductArn": ARN,
        "GeneratorId": base[i % len(base)]["check_id"], "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2026-01-01T00:00:00.000Z", "UpdatedAt": "2026-01-01T00:00:00.000Z",
        "Severity": {"Label": "HIGH"}, "Title": "t", "Description": "d",
        "Resources": [{"Type": "Other", "Id": f"r-{i}"}], "RecordState": "ACTIVE",
        "ProductFields": {"ProviderName": "posture", "posture/region": "us-east-1"},
    } for i in range(n)]


@pytest.fixture
def calls(hub: Any) -> Iterator[tuple[Any, list[tuple[str, dict[str, Any]]]]]:
    """The hub's client and the (operation, request body) of each call it makes."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        seen.append((model.name, body_of(params)))

    hub.meta.events.register("before-call.securityhub.*", record)
    yield hub, seen
    hub.meta.events.unregister("before-call.securityhub.*", record)


def run(client_: Any, items: list[dict[str, Any]], checks: set[str] | None = None) -> Any:
    return publish(client_, items, account=ACCOUNT, region="us-east-1",
                   checks=checks or {d["GeneratorId"] for d in items},
                   regions=["us-east-1"], when="2026-02-01T00:00:00.000Z")


def test_batches_of_100_and_the_filters_sent(calls: Any) -> None:
    client_, seen = calls
    result = run(client_, docs(250))
    assert (result.imported, result.archived, result.failed) == (250, 0, ())
    sizes = [len(body["Findings"]) for name, body in seen if name == "BatchImportFindings"]
    assert sizes == [100, 100, 50]
    [filters] = [body["Filters"] for name, body in seen if name == "GetFindings"][:1]
    assert filters == finding_filters(ARN, ACCOUNT)
    assert filters["RecordState"] == [{"Value": "ACTIVE", "Comparison": "EQUALS"}]


def test_a_refused_finding_and_a_failed_batch_are_named_the_rest_imported(calls: Any) -> None:
    client_, _ = calls
    items = docs(250)
    batch = {"n": 0}

    def answer(params: dict[str, Any], **_: Any) -> Any:
        batch["n"] += 1
        sent = body_of(params)["Findings"]
        if batch["n"] == 1:  # AWS's answer to a batch with one finding refused
            return FakeHttp(200), {
                "FailedCount": 1, "SuccessCount": len(sent) - 1,
                "FailedFindings": [{"Id": sent[0]["Id"], "ErrorCode": "InvalidInput",
                                    "ErrorMessage": "Finding does not adhere to ASFF"}],
                "ResponseMetadata": {"HTTPStatusCode": 200}}
        if batch["n"] == 2:  # throttled past the retries
            error = {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}
            return FakeHttp(429), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 429}}
        return None  # the third batch goes to moto

    client_.meta.events.register("before-call.securityhub.BatchImportFindings", answer)
    try:
        result = run(client_, items)
    finally:
        client_.meta.events.unregister("before-call.securityhub.BatchImportFindings", answer)
    assert result.imported == 99 + 50
    assert result.failed[0].id == items[0]["Id"]
    assert result.failed[0].code == "InvalidInput"
    assert [f.id for f in result.failed[1:]] == [d["Id"] for d in items[100:200]]
    assert {f.code for f in result.failed[1:]} == {"TooManyRequestsException"}
    assert set(stored(client_)) == {d["Id"] for d in items[200:]}


def test_archives_only_stale_findings_of_covered_checks_and_regions(calls: Any) -> None:
    client_, seen = calls
    items = docs(6)
    items[4]["ProductFields"]["posture/region"] = "eu-west-1"  # a region not scanned now
    foreign = {**items[5], "Id": "someone-else-1",
               "ProductFields": {"ProviderName": "another tool"}}
    run(client_, [*items, foreign])
    seen.clear()
    checks = {d["GeneratorId"] for d in items[:4]}
    result = run(client_, items[:2], checks=checks | {items[4]["GeneratorId"]})
    archived = {d["Id"] for d in items[2:4]} - {d["Id"] for d in items[:2]}
    stale_checks = {d["Id"] for d in items[2:4] if d["GeneratorId"] in checks}
    assert result.archived == len(archived & stale_checks)
    now = stored(client_)
    assert {i for i, f in now.items() if f["RecordState"] == "ARCHIVED"} == \
        archived & stale_checks
    assert now["someone-else-1"]["RecordState"] == "ACTIVE"  # not posture's
    assert now[items[4]["Id"]]["RecordState"] == "ACTIVE"  # its region was not scanned
    sent = [f for name, body in seen if name == "BatchImportFindings"
            for f in body["Findings"] if f["RecordState"] == "ARCHIVED"]
    assert {f["UpdatedAt"] for f in sent} == {"2026-02-01T00:00:00.000Z"}


def test_refused_findings_through_the_cli_are_warned_and_exit_3(
    hub: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_first(params: dict[str, Any], **_: Any) -> Any:
        sent = body_of(params)["Findings"]
        return FakeHttp(200), {
            "FailedCount": 1, "SuccessCount": len(sent) - 1,
            "FailedFindings": [{"Id": sent[0]["Id"], "ErrorCode": "InvalidInput",
                                "ErrorMessage": "Invalid UpdatedAt"}],
            "ResponseMetadata": {"HTTPStatusCode": 200}}

    # every new botocore session registers the built-in handlers: the CLI's client gets it too
    handlers = [*botocore.handlers.BUILTIN_HANDLERS,
                ("before-call.securityhub.BatchImportFindings", refuse_first)]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", handlers)
    result = audit(DEMO / "snapshot.json", tmp_path)
    assert result.exit_code == 3
    first = next(iter(asff(tmp_path)))
    assert f"warning: security hub refused {first}: InvalidInput: Invalid UpdatedAt" in \
        result.stderr
    assert "Security Hub refused 4 finding(s)" in result.stderr  # one per batch of 100
