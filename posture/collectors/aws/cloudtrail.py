"""CloudTrail trails, each collected once, in its home region (attrs as in
``docs/aws-assets.md``).

DescribeTrails in a region also lists the *shadows* of multi-region trails and of organization
trails whose home is elsewhere; only trails whose ``HomeRegion`` is the scanned region are kept,
so a multi-region trail appears exactly once when several regions are scanned. Shadow trails are
asked for (and then filtered by home region) so that an organization trail, which a member
account only sees as a shadow, is still collected in its home region.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map
from posture.model import Asset

TRAIL = "AWS::CloudTrail::Trail"

PERMISSIONS: tuple[str, ...] = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
)

_READ_WRITE = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}


def collect(scope: RegionScope) -> list[Asset]:
    trails = scope.paginate("cloudtrail", "DescribeTrails", "trailList", (TRAIL,),
                            includeShadowTrails=True)
    home = [t for t in trails or [] if t.get("HomeRegion") == scope.region]
    ordered = sorted(home, key=lambda t: str(t["TrailARN"]))
    payloads = parallel_map(lambda trail: fetch_trail(scope, trail), ordered)
    return [normalize_trail(scope, p) for p in payloads]


def fetch_trail(scope: RegionScope, trail: Payload) -> Payload:
    """The trail plus its status and selectors (``None`` = that call failed)."""
    arn = str(trail["TrailARN"])
    status = scope.call("cloudtrail", "GetTrailStatus", (f"{TRAIL}#status",), arn, Name=arn)
    selectors = scope.call("cloudtrail", "GetEventSelectors", (f"{TRAIL}#selectors",), arn,
                           TrailName=arn)
    return {"trail": trail, "status": status, "selectors": selectors}


def normalize_trail(scope: RegionScope, payload: Payload) -> Asset:
    trail = payload["trail"]
    status = payload["status"]
    selectors = payload["selectors"]
    attrs = {
        "arn": trail["TrailARN"],
        "trail_name": trail.get("Name"),
        "home_region": trail.get("HomeRegion"),
        "is_multi_region": trail.get("IsMultiRegionTrail"),
        "is_organization_trail": trail.get("IsOrganizationTrail"),
        "log_file_validation": trail.get("LogFileValidationEnabled"),
        "kms_key_id": trail.get("KmsKeyId"),
        "s3_bucket_name": trail.get("S3BucketName"),
        "include_global_service_events": trail.get("IncludeGlobalServiceEvents"),
        "is_logging": None if status is None else status.get("IsLogging"),
        "latest_delivery_error": (status or {}).get("LatestDeliveryError") or None,
        "event_selectors": None if selectors is None else selectors.get("EventSelectors", []),
        "advanced_event_selectors": (
            None if selectors is None else selectors.get("AdvancedEventSelectors", [])
        ),
        "management_events": (
            None if selectors is None
            else management_events(selectors, bool(trail.get("HasCustomEventSelectors")))
        ),
    }
    raw = {"trail": trail, "status": status, "selectors": selectors}
    return scope.asset(str(trail["TrailARN"]), TRAIL, str(trail.get("Name")), attrs, raw=raw)


def management_events(selectors: Payload, custom: bool = True) -> str:
    """``All``/``ReadOnly``/``WriteOnly``/``None``: which management events the trail records,
    from its advanced selectors if it has any, else from its classic ones. A trail without any
    selector and without custom selectors (``HasCustomEventSelectors`` false) logs the AWS
    default, all management events."""
    advanced = selectors.get("AdvancedEventSelectors") or []
    classic = selectors.get("EventSelectors") or []
    if not advanced and not classic and not custom:
        return "All"
    if advanced:
        kinds = set().union(*(_advanced_kinds(s) for s in advanced))
    else:
        kinds = set().union(*(_classic_kinds(s) for s in classic))
    if kinds == {"read", "write"}:
        return "All"
    if kinds == {"read"}:
        return "ReadOnly"
    if kinds == {"write"}:
        return "WriteOnly"
    return "None"


def _classic_kinds(selector: Payload) -> set[str]:
    if not selector.get("IncludeManagementEvents", True):
        return set()
    return _READ_WRITE.get(str(selector.get("ReadWriteType", "All")), set())


def _advanced_kinds(selector: Payload) -> set[str]:
    """Management events an advanced selector matches: ``eventCategory`` must equal
    ``Management``; a ``readOnly`` field equal to true/false narrows to reads/writes."""
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}
    category = fields.get("eventCategory") or {}
    if "Management" not in (category.get("Equals") or []):
        return set()
    read_only = fields.get("readOnly")
    if read_only is None:
        return {"read", "write"}
    values = {str(v).lower() for v in read_only.get("Equals") or []}
    if not values:  # readOnly with NotEquals etc.: treat "NotEquals true" as writes, and so on
        values = {"true", "false"} - {str(v).lower() for v in read_only.get("NotEquals") or []}
    return {"read" for v in values if v == "true"} | {"write" for v in values if v == "false"}
