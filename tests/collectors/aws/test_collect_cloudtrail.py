"""CloudTrail collector against the moto server: a multi-region trail appears once, selectors give
the management events, and a denied GetEventSelectors leaves them unknown."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import client
from support.collect import by_uid, error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import cloudtrail
from posture.collectors.aws.base import RegionScope

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MAIN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
LOCAL = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/local"
READ_ONLY_MANAGEMENT = [{
    "Name": "management reads",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                       {"Field": "readOnly", "Equals": ["true"]}],
}]


def _seed(endpoint: str) -> None:
    client("s3", endpoint).create_bucket(Bucket="trail-logs")
    east = client("cloudtrail", endpoint)
    east.create_trail(Name="main", S3BucketName="trail-logs", IsMultiRegionTrail=True,
                      EnableLogFileValidation=True, KmsKeyId=KEY_ARN)
    east.start_logging(Name="main")
    east.put_event_selectors(TrailName="main", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True}])
    west = client("cloudtrail", endpoint, region="eu-west-1")
    west.create_trail(Name="local", S3BucketName="trail-logs")
    west.put_event_selectors(TrailName="local", AdvancedEventSelectors=READ_ONLY_MANAGEMENT)


def _collect(endpoint: str, *regions: str) -> tuple[list[Any], list[RegionScope]]:
    scopes = [scope(endpoint, region=r) for r in regions]
    return [a for sc in scopes for a in cloudtrail.collect(sc)], scopes


def test_multi_region_trail_appears_once_in_its_home_region(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    assets, scopes = _collect(moto_endpoint, "us-east-1", "eu-west-1")

    assert [e for sc in scopes for e in sc.errors] == []
    trails = by_uid(assets)  # fails on a duplicate uid
    assert sorted((a.uid, a.region) for a in assets) == [
        (LOCAL, "eu-west-1"), (MAIN, "us-east-1")]
    main = trails[MAIN]
    assert (main.type, main.name) == (cloudtrail.TRAIL, "main")
    assert main.attrs == {
        "arn": MAIN,
        "trail_name": "main",
        "home_region": "us-east-1",
        "is_multi_region": True,
        "is_organization_trail": False,
        "log_file_validation": True,
        "kms_key_id": KEY_ARN,
        "s3_bucket_name": "trail-logs",
        "include_global_service_events": True,
        "is_logging": True,
        "latest_delivery_error": None,
        "event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
        "advanced_event_selectors": [],
        "management_events": "All",
    }
    local = trails[LOCAL].attrs
    assert (local["is_multi_region"], local["is_logging"], local["management_events"]) == (
        False, False, "ReadOnly")
    assert local["advanced_event_selectors"] == READ_ONLY_MANAGEMENT


def test_denied_selectors_leave_management_events_unknown(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "cloudtrail", "GetEventSelectors")
    main = by_uid(cloudtrail.collect(sc))[MAIN].attrs

    assert error_keys(sc.errors) == refusals(
        "cloudtrail", "GetEventSelectors", ("AWS::CloudTrail::Trail#selectors",), [MAIN])
    assert (main["management_events"], main["event_selectors"]) == (None, None)
    assert main["is_logging"] is True


def test_denied_listing_names_the_region(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "cloudtrail", "DescribeTrails", region="eu-west-1")
    assert cloudtrail.collect(sc) == []
    assert error_keys(sc.errors) == refusals(
        "cloudtrail", "DescribeTrails", ("AWS::CloudTrail::Trail",), region="eu-west-1")


def _classic(*selectors: tuple[str, bool]) -> dict[str, Any]:
    return {"EventSelectors": [{"ReadWriteType": rw, "IncludeManagementEvents": mgmt}
                               for rw, mgmt in selectors]}


def _advanced(*read_only: list[str] | None, category: str = "Management") -> dict[str, Any]:
    selectors = []
    for values in read_only:
        fields: list[dict[str, Any]] = [{"Field": "eventCategory", "Equals": [category]}]
        if values is not None:
            fields.append({"Field": "readOnly", "Equals": values})
        selectors.append({"FieldSelectors": fields})
    return {"EventSelectors": [], "AdvancedEventSelectors": selectors}


@pytest.mark.parametrize(("selectors", "expected"), [
    (_classic(("All", True)), "All"),
    (_classic(("ReadOnly", True)), "ReadOnly"),
    (_classic(("WriteOnly", True)), "WriteOnly"),
    (_classic(("ReadOnly", True), ("WriteOnly", True)), "All"),
    (_classic(("All", False)), "None"),
    (_classic(), "None"),
    ({}, "None"),
    (_advanced(None), "All"),
    (_advanced(["true"]), "ReadOnly"),
    (_advanced(["false"]), "WriteOnly"),
    (_advanced(["true"], ["false"]), "All"),
    (_advanced(None, category="Data"), "None"),
    ({"AdvancedEventSelectors": [{"FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]},
        {"Field": "readOnly", "NotEquals": ["true"]}]}]}, "WriteOnly"),
])
def test_management_events(selectors: dict[str, Any], expected: str) -> None:
    assert cloudtrail.management_events(selectors) == expected


def test_a_trail_without_custom_selectors_logs_all_management_events(moto_endpoint: str) -> None:
    """AWS's default for a new trail; moto answers GetEventSelectors with empty lists for it."""
    client("s3", moto_endpoint).create_bucket(Bucket="trail-logs")
    client("cloudtrail", moto_endpoint).create_trail(Name="plain", S3BucketName="trail-logs")
    sc = scope(moto_endpoint, region="us-east-1")
    [trail] = cloudtrail.collect(sc)
    assert trail.attrs["management_events"] == "All"
    assert cloudtrail.management_events({}, custom=False) == "All"
    assert cloudtrail.management_events({"EventSelectors": []}, custom=True) == "None"
