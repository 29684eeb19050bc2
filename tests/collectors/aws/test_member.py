"""Member-account sessions against moto: the role is really assumed into the member, credentials
refresh, the external id and the regional STS endpoint are really used.

moto does not enforce ``ExternalId`` (nor the existence of the role: see
/work/shared/notes/moto-multi-account-and-auth.md), so what is asserted about them is what
posture *sends*, read from botocore's own ``before-call``/``before-sign`` events on the base
session; an assumption that AWS denies is injected the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.credentials import RefreshableCredentials
from moto import mock_aws
from support.aws import client

from posture.collectors.aws.member import check_access, member_session, role_arn
from posture.errors import CollectorError

MGMT = "123456789012"


@pytest.fixture
def base() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def _member(base: boto3.session.Session, name: str = "member") -> str:
    orgs = base.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    status = orgs.create_account(AccountName=name, Email=f"{name}@example.com")
    return str(status["CreateAccountStatus"]["AccountId"])


def _assume_calls(base: boto3.session.Session) -> list[dict[str, Any]]:
    """The AssumeRole requests' parameters sent through ``base``, as they are sent."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params["body"]))

    base.events.register("before-call.sts.AssumeRole", record)
    return sent


def test_the_member_session_acts_in_the_member_account(base: boto3.session.Session) -> None:
    member = _member(base)
    session = member_session(base, member)
    ident = session.client("sts").get_caller_identity()
    assert ident["Account"] == member
    assert ident["Arn"] == f"arn:aws:sts::{member}:assumed-role/PostureAudit/posture-audit"
    vpc = session.client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    seen_by_member = {v["VpcId"] for v in session.client("ec2").describe_vpcs()["Vpcs"]}
    seen_by_mgmt = {v["VpcId"] for v in base.client("ec2").describe_vpcs()["Vpcs"]}
    assert vpc in seen_by_member and vpc not in seen_by_mgmt
    assert check_access(session) == member


def test_role_arn_external_id_and_session_name_are_sent(base: boto3.session.Session) -> None:
    member = _member(base)
    sent = _assume_calls(base)
    session = member_session(base, member, role_name="audit/PostureAudit", external_id="x-42",
                             session_name="audit-run", duration_seconds=1800)
    assert sent == []  # nothing is called before first use
    assert session.client("sts").get_caller_identity()["Account"] == member
    [params] = sent
    assert params["RoleArn"] == f"arn:aws:iam::{member}:role/audit/PostureAudit"
    assert (params["ExternalId"], params["RoleSessionName"], params["DurationSeconds"]) == (
        "x-42", "audit-run", 1800)
    member_session(base, member).client("sts").get_caller_identity()
    assert "ExternalId" not in sent[1]


def test_role_arn_in_another_partition() -> None:
    assert role_arn("111122223333", "/audit/PostureAudit/", "aws-cn") == (
        "arn:aws-cn:iam::111122223333:role/audit/PostureAudit")


def test_credentials_refresh_by_assuming_the_role_again(base: boto3.session.Session) -> None:
    member = _member(base)
    sent = _assume_calls(base)
    session = member_session(base, member, duration_seconds=900)
    ec2 = session.client("ec2")
    for _ in range(3):
        ec2.describe_vpcs()
    assert len(sent) == 1  # a fresh 15-minute session is not refreshed on every call
    creds = session.get_credentials()
    assert isinstance(creds, RefreshableCredentials)
    first = creds.get_frozen_credentials().access_key
    creds._expiry_time = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)  # it expired
    assert creds.refresh_needed()
    ec2.describe_vpcs()
    assert len(sent) == 2
    assert creds.get_frozen_credentials().access_key != first
    assert session.client("sts").get_caller_identity()["Account"] == member


def test_sts_is_regional_even_when_the_config_says_legacy(
    base: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    legacy = boto3.session.Session(region_name="eu-west-1")
    assert legacy.client("sts").meta.endpoint_url == "https://sts.amazonaws.com"
    member = _member(legacy)
    urls: list[str] = []
    legacy.events.register("before-sign.sts.AssumeRole",
                           lambda request, **_: urls.append(request.url))
    session = member_session(legacy, member, region="eu-west-1")
    assert check_access(session, "eu-west-1") == member
    assert urls == ["https://sts.eu-west-1.amazonaws.com/"]


def test_a_denied_assumption_is_a_one_line_collector_error(base: boto3.session.Session) -> None:
    member = _member(base)

    def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        message = (f"User: arn:aws:iam::{MGMT}:user/auditor is not authorized to perform: "
                   f"sts:AssumeRole on resource: arn:aws:iam::{member}:role/PostureAudit")
        return AWSResponse("https://denied.invalid/", 403, {}, None), {
            "Error": {"Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403}}

    base.events.register("before-call.sts.AssumeRole", deny)
    session = member_session(base, member)
    with pytest.raises(CollectorError) as raised:
        check_access(session)
    text = str(raised.value)
    assert text.startswith(f"cannot assume PostureAudit in {member} (AccessDenied: User: ")
    assert "\n" not in text and "testing" not in text  # no key material


def test_through_an_emulator_endpoint_every_call_goes_there(moto_endpoint: str) -> None:
    """Server mode (what Dask workers share): STS and the member's calls go to ``endpoint_url``."""
    orgs = client("organizations", moto_endpoint)
    orgs.create_organization(FeatureSet="ALL")
    member = orgs.create_account(AccountName="m", Email="m@example.com")[
        "CreateAccountStatus"]["AccountId"]
    base = boto3.session.Session(region_name="us-east-1")
    session = member_session(base, member, endpoint_url=moto_endpoint)
    assert check_access(session, endpoint_url=moto_endpoint) == member
    ec2 = session.client("ec2", endpoint_url=moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert vpc not in {v["VpcId"] for v in client("ec2", moto_endpoint).describe_vpcs()["Vpcs"]}
