"""A planted secret is reported — type, location, fingerprint — and its value appears in no
output, on every cloud: not in the CSV, JSON, HTML or controls reports, not in the saved
snapshot, not on stdout/stderr, not in any log record (message or structured ``extra`` fields,
every logger at DEBUG).

The real command line runs against each cloud's loopback fake: ``posture scan aws`` against the
moto server (secrets planted here in EC2 user data and a Lambda environment), ``posture scan
gcp`` against the fake of the Google APIs and ``posture scan azure`` against the HTTPS fake of
ARM (secrets planted in the recorded demo estates: a GCP startup script, Azure user data and a
CustomScript extension's SAS URL). ``posture scan github`` runs against the fake of the GitHub
REST API, whose recorded secret scanning alert carries the leaked secret itself and whose
repository payload carries a temporary clone token: neither may be written anywhere, PyGithub's
own request and response log included.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.aws import client
from support.azure import SERVICE_PRINCIPAL, SUB
from typer.testing import CliRunner

from posture.cli.main import app
from posture.demo import azure_fake, gcp_fake, github_fake

USER_DATA_SECRET = "Zq7vT3xK9mW2pL8r"
LAMBDA_SECRET = "hN4bV8cX2zQ6wE1t"
AMI = "ami-12c6146b"
GCP_STARTUP_SECRET = "Hq3nW7sK1vB5xZ8c"  # fixtures/gcp/acme-prod/compute.json, app-1
AZURE_USER_DATA_SECRET = "Kp4wR8tN2vX6zQ9m"  # fixtures/azure/arm/.../virtualmachines/vm-web.json
AZURE_SAS_SIGNATURE = "Vb7Qm2Xc9Lr4Tz8Wk1Np5Hs3Jd6Fg0Ae"  # .../vm-app/extensions.json
GITHUB_ALERT_SECRET = "xoxb-000000000000-posture-fake-Wq8Zr3Km6Tj1Vn4Yp7Hd"  # .../alerts.json
GITHUB_CLONE_TOKEN = "AAFAKETEMPCLONETOKEN7Qm2Xc9Lr4"  # fixtures/github/acme/repos.json, infra
FORMATS = "csv,json,html,controls"
# the fakes' own server side (moto in this process) is not posture's output
SERVER_LOGGERS = ("moto", "werkzeug", "responses")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], None]]:
    """``start()`` captures every logger at DEBUG: the SDKs' HTTP layers, detect-secrets,
    posture itself, and the loggers that do not propagate to the root (google-api-core stops
    ``google`` at its own level; what it logs is what GOOGLE_SDK_PYTHON_LOGGING_SCOPE prints)."""
    attached: list[logging.Logger] = []

    def start() -> None:
        caplog.set_level(logging.DEBUG)
        loggers = [logging.getLogger("google")]  # made non-propagating at client creation
        loggers += [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger) and not logger.propagate
        ]
        for logger in dict.fromkeys(loggers):
            logger.addHandler(caplog.handler)
            attached.append(logger)

    yield start
    for logger in attached:
        logger.removeHandler(caplog.handler)


def _scan(args: list[str], snap: Path, out: Path) -> str:
    result = CliRunner().invoke(
        app, [*args, "--snapshot-out", str(snap), "-o", str(out), "-f", FORMATS, "-q"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _written(
    snap: Path, out: Path, output: str, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> dict[str, str]:
    """Everything the scan wrote, by where it went."""
    outputs = {p.name: p.read_text(encoding="utf-8-sig") for p in out.iterdir()}
    assert {"findings.csv", "findings.json", "report.html", "controls.csv"} <= set(outputs)
    outputs["snapshot"] = snap.read_text(encoding="utf-8")
    outputs["stdout+stderr"] = output + "".join(capfd.readouterr())
    records = [r for r in caplog.records if not r.name.startswith(SERVER_LOGGERS)]
    assert records, "no log record captured at DEBUG"
    outputs["logs"] = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in records)
    return outputs


def _assert_never_written(outputs: dict[str, str], *secrets: str) -> None:
    for secret in secrets:
        leaked = [name for name, text in outputs.items() if secret in text]
        assert leaked == [], f"secret leaked into {leaked}"


def _fails(out: Path) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"]
    return {(f["check_id"], f["resource_name"]): f for f in findings if f["status"] == "FAIL"}


def _plant(endpoint: str) -> None:
    ec2 = client("ec2", endpoint)
    ec2.run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        UserData=f"#!/bin/bash\nyum -y install httpd\nexport DB_PASSWORD={USER_DATA_SECRET}\n",
    )
    iam = client("iam", endpoint)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handle(event, context):\n    return 1\n")
    client("lambda", endpoint).create_function(
        FunctionName="billing",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handle",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"STRIPE_PASSWORD": LAMBDA_SECRET, "LOG_LEVEL": "info"}},
    )


def test_aws_planted_secrets_are_reported_but_never_written(
    moto_endpoint: str, tmp_path: Path, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture, logs: Callable[[], None],
) -> None:
    _plant(moto_endpoint)
    snap, out = tmp_path / "inventory.json", tmp_path / "reports"
    logs()  # after planting: the test's own requests carry the values
    output = _scan(
        [
            "scan", "aws", "--endpoint-url", moto_endpoint, "--region", "us-east-1",
            "-c", "aws.secrets.instance_user_data_no_plaintext_secrets",
            "-c", "aws.secrets.lambda_env_no_plaintext_secrets",
        ],
        snap,
        out,
    )
    fails = {check: f for (check, _), f in _fails(out).items()}
    user_data = fails["aws.secrets.instance_user_data_no_plaintext_secrets"]
    assert "Secret Keyword (line 3, fingerprint " in user_data["message"]
    [hit] = user_data["evidence"]["secrets"]
    assert (hit["type"], hit["line"], len(hit["fingerprint"])) == ("Secret Keyword", 3, 8)
    lam = fails["aws.secrets.lambda_env_no_plaintext_secrets"]
    assert "variable STRIPE_PASSWORD" in lam["message"]

    outputs = _written(snap, out, output, caplog, capfd)
    _assert_never_written(outputs, USER_DATA_SECRET, LAMBDA_SECRET)
    # the snapshot keeps the variable names, not the values
    assert "STRIPE_PASSWORD" in outputs["snapshot"]
    assert "<redacted by posture>" in outputs["snapshot"]


def test_gcp_planted_startup_script_secret_is_reported_but_never_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, logs: Callable[[], None],
    capfd: pytest.CaptureFixture[str],
) -> None:
    logs()
    recorded = (gcp_fake.fixtures_root() / "acme-prod" / "compute.json").read_text("utf-8")
    assert f"DB_PASSWORD={GCP_STARTUP_SECRET}" in recorded  # the fixture still plants it
    snap, out = tmp_path / "inventory.json", tmp_path / "reports"
    with gcp_fake.serving() as fake:
        output = _scan(
            [
                "scan", "gcp", "--anonymous", "--api-endpoint", fake.base,
                "-p", "acme-prod", "-p", "acme-dev",
            ],
            snap,
            out,
        )
    finding = _fails(out)[("gcp.secrets.instance_metadata_no_plaintext_secrets", "app-1")]
    assert "Secret Keyword (key startup-script, line 3, fingerprint " in finding["message"]
    assert [(h["key"], h["type"], h["line"]) for h in finding["evidence"]["secrets"]] == [
        ("startup-script", "Secret Keyword", 3)
    ]
    assert any(r.name.startswith("google.cloud.compute_v1") for r in caplog.records)
    outputs = _written(snap, out, output, caplog, capfd)
    _assert_never_written(outputs, GCP_STARTUP_SECRET)
    assert "startup-script" in outputs["snapshot"]  # the key is kept, its value is not


def test_azure_planted_secrets_are_reported_but_never_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, logs: Callable[[], None],
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs()
    rg = azure_fake.fixtures_root() / "subscriptions" / SUB / "resourcegroups" / "rg-prod"
    vms = rg / "providers" / "microsoft.compute" / "virtualmachines"
    encoded = json.loads((vms / "vm-web.json").read_text("utf-8"))["properties"]["userData"]
    assert AZURE_USER_DATA_SECRET in base64.b64decode(encoded).decode()  # still planted
    assert AZURE_SAS_SIGNATURE in (vms / "vm-app" / "extensions.json").read_text("utf-8")
    for key, value in SERVICE_PRINCIPAL.items():
        monkeypatch.setenv(key, value)
    snap, out = tmp_path / "inventory.json", tmp_path / "reports"
    with azure_fake.FakeArm(tmp_path / "tls") as fake:
        output = _scan(
            [
                "scan", "azure", "--arm-endpoint", fake.base, "--authority-host", fake.base,
                "--ca-bundle", str(fake.ca),
            ],
            snap,
            out,
        )
    fails = _fails(out)
    user_data = fails[("azure.secrets.vm_user_data_no_plaintext_secrets", "vm-web")]
    assert "Secret Keyword (line 3, fingerprint " in user_data["message"]
    extension = fails[("azure.secrets.vm_extension_settings_no_plaintext_secrets", "vm-app")]
    assert (
        "Azure Storage SAS Token (extension CustomScript, setting fileUris[0], fingerprint "
        in extension["message"]
    )
    outputs = _written(snap, out, output, caplog, capfd)
    _assert_never_written(outputs, AZURE_USER_DATA_SECRET, AZURE_SAS_SIGNATURE, encoded)
    assert "CustomScript" in outputs["snapshot"]  # which extensions exist is kept


def test_github_secret_scanning_alert_value_is_never_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, logs: Callable[[], None],
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import github  # noqa: F401 - its import sets the "github" logger's level; set ours after

    logs()
    pygithub = logging.getLogger("github")  # PyGithub logs each request and answer at DEBUG
    level = pygithub.level
    pygithub.setLevel(logging.DEBUG)
    recorded = github_fake.fixtures_root() / "acme"
    assert GITHUB_ALERT_SECRET in (recorded / "alerts.json").read_text("utf-8")  # still planted
    assert GITHUB_CLONE_TOKEN in (recorded / "repos.json").read_text("utf-8")
    monkeypatch.setenv("GITHUB_TOKEN", github_fake.TOKEN)
    snap, out = tmp_path / "inventory.json", tmp_path / "reports"
    try:
        with github_fake.serving() as fake:
            output = _scan(["scan", "github", "--org", "acme", "--api-url", fake.api_url],
                           snap, out)
    finally:
        pygithub.setLevel(level)
    outputs = _written(snap, out, output, caplog, capfd)
    assert any(r.name.startswith("github.") for r in caplog.records)
    _assert_never_written(outputs, GITHUB_ALERT_SECRET, GITHUB_CLONE_TOKEN, github_fake.TOKEN)
    assert "Slack API Token" in outputs["snapshot"]  # the alert's type is kept, not its secret
