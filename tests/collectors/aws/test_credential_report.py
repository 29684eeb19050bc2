"""Credential report and root user: moto generates the report (it has no ``<root_account>``
row), the parser is also fed a report in AWS's documented CSV shape with the root row, and the
root MFA type comes from ListVirtualMFADevices."""

from __future__ import annotations

from typing import Any

from support.aws import ACCOUNT, client
from support.collect import collected, error_keys, scope
from support.faults import deny

from posture.collectors.aws import iam_report
from posture.collectors.aws.base import ClientFactory
from posture.model import GLOBAL

ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
# rows as AWS documents them (IAM user guide, "Getting credential reports")
REPORT = "\n".join([
    HEADER,
    f"<root_account>,{ROOT_ARN},2019-01-01T00:00:00+00:00,not_supported,"
    "2025-12-20T09:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    f"alice,arn:aws:iam::{ACCOUNT}:user/alice,2024-01-01T00:00:00+00:00,true,no_information,"
    "2024-01-01T00:00:00+00:00,N/A,false,true,2024-01-01T00:00:00+00:00,"
    "2025-12-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
])


def _no_sleep(_: float) -> None:
    return None


def test_parse_report_with_root_row() -> None:
    rows = iam_report.parse_report(REPORT)
    root, alice = rows
    assert root["user"] == "<root_account>" and root["password_enabled"] is None
    assert root["password_last_used"] == "2025-12-20T09:00:00+00:00" and root["mfa_active"]
    assert alice["password_enabled"] is True and alice["password_last_used"] is None
    assert alice["access_keys"][0] == {"active": True, "last_rotated": "2024-01-01T00:00:00+00:00",
                                       "last_used_date": "2025-12-01T00:00:00+00:00",
                                       "last_used_service": "s3"}


def _root(rows: list[dict[str, Any]] | None, devices: list[dict[str, Any]] | None) -> Any:
    return iam_report.normalize_root(scope(), rows, devices).attrs


def test_root_mfa_type_virtual_hardware_unknown() -> None:
    rows = iam_report.parse_report(REPORT)
    virtual = [{"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device",
                "User": {"Arn": ROOT_ARN}, "Base32StringSeed": b"SECRET"}]
    other = [{"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/alice",
              "User": {"Arn": f"arn:aws:iam::{ACCOUNT}:user/alice"}}]
    assert _root(rows, virtual)["mfa_type"] == "virtual"
    assert _root(rows, other)["mfa_type"] == "hardware"
    assert _root(rows, None)["mfa_type"] is None
    assert _root(None, other)["in_report"] is None
    asset = iam_report.normalize_root(scope(), rows, virtual)
    assert "SECRET" not in repr(asset.raw) and "SECRET" not in repr(asset.attrs)


def test_report_from_moto(factory: ClientFactory, moto_endpoint: str) -> None:
    iam = client("iam", moto_endpoint)
    iam.create_user(UserName="bob")
    iam.create_login_profile(UserName="bob", Password="Demo-Only-Passw0rd!")
    found, sc = collected(iam_report, factory, region=GLOBAL)
    assert not sc.errors
    report = found[f"arn:aws:iam::{ACCOUNT}:credential-report"].attrs
    assert [(u["user"], u["password_enabled"], u["mfa_active"]) for u in report["users"]] == [
        ("bob", True, False)]
    root = found[ROOT_ARN].attrs
    assert root["in_report"] is False  # moto's report has no <root_account> row


def test_report_denied_is_recorded(factory: ClientFactory) -> None:
    deny(factory, "iam", "GenerateCredentialReport")
    found, sc = collected(iam_report, factory, region=GLOBAL)
    assert found[f"arn:aws:iam::{ACCOUNT}:credential-report"].attrs["users"] is None
    assert found[ROOT_ARN].attrs["in_report"] is None
    assert ("global", "iam", "GenerateCredentialReport", "AccessDenied",
            ("AWS::IAM::CredentialReport", "AWS::IAM::RootUser#report"), None) \
        in error_keys(sc.errors)


def test_report_never_complete_is_recorded(factory: ClientFactory) -> None:
    from support.faults import respond
    respond(factory, "iam", "GenerateCredentialReport", {"State": "INPROGRESS"})
    sc = scope(region=GLOBAL)
    sc.clients = factory
    assets = iam_report.collect(sc, sleep=_no_sleep)
    assert {a.type for a in assets} == {iam_report.REPORT, iam_report.ROOT}
    assert [e.code for e in sc.errors] == ["ReportNotComplete"]
