"""A secret planted in EC2 user data and a Lambda environment variable is reported — type,
location, fingerprint — and its value appears in no output: not in the CSV, JSON or HTML
reports, not in the saved snapshot, not on stdout/stderr, not in the log records.

The real command line runs against the moto server (``posture scan aws --endpoint-url``).
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path

import pytest
from support.aws import client
from typer.testing import CliRunner

from posture.cli.main import app

USER_DATA_SECRET = "Zq7vT3xK9mW2pL8r"
LAMBDA_SECRET = "hN4bV8cX2zQ6wE1t"
AMI = "ami-12c6146b"


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


def test_planted_secrets_are_reported_but_never_written(
    moto_endpoint: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _plant(moto_endpoint)
    snap, out = tmp_path / "inventory.json", tmp_path / "reports"
    # everything at INFO; at DEBUG the loggers that see payloads: botocore's response parser
    # (it logs raw bodies, which posture filters), detect-secrets, posture itself
    caplog.set_level(logging.INFO)
    for name in ("botocore.parsers", "detect_secrets", "posture"):
        caplog.set_level(logging.DEBUG, logger=name)
    result = CliRunner().invoke(
        app,
        [
            "scan",
            "aws",
            "--endpoint-url",
            moto_endpoint,
            "--region",
            "us-east-1",
            "--snapshot-out",
            str(snap),
            "-o",
            str(out),
            "-f",
            "csv,json,html",
            "-c",
            "aws.secrets.instance_user_data_no_plaintext_secrets",
            "-c",
            "aws.secrets.lambda_env_no_plaintext_secrets",
        ],
    )
    assert result.exit_code == 0, result.output

    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"]
    fails = {f["check_id"]: f for f in findings if f["status"] == "FAIL"}
    user_data = fails["aws.secrets.instance_user_data_no_plaintext_secrets"]
    assert "Secret Keyword (line 3, fingerprint " in user_data["message"]
    [hit] = user_data["evidence"]["secrets"]
    assert (hit["type"], hit["line"], len(hit["fingerprint"])) == ("Secret Keyword", 3, 8)
    lam = fails["aws.secrets.lambda_env_no_plaintext_secrets"]
    assert "variable STRIPE_PASSWORD" in lam["message"]

    outputs = {p.name: p.read_text(encoding="utf-8-sig") for p in out.iterdir()}
    assert {"findings.csv", "findings.json", "report.html"} <= set(outputs)
    outputs["snapshot"] = snap.read_text(encoding="utf-8")
    outputs["stdout+stderr"] = result.output
    outputs["logs"] = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (USER_DATA_SECRET, LAMBDA_SECRET):
        leaked = [name for name, text in outputs.items() if secret in text]
        assert leaked == [], f"secret leaked into {leaked}"
    # the snapshot keeps the variable names, not the values
    assert "STRIPE_PASSWORD" in outputs["snapshot"]
    assert "<redacted by posture>" in outputs["snapshot"]
