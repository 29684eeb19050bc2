"""CloudFront distributions: viewer protocol policies, viewer TLS settings and origin protocols
(global; attrs as in ``docs/aws-assets.md``)."""

from __future__ import annotations

from typing import Any

from posture.collectors.aws.base import Payload, RegionScope
from posture.model import GLOBAL, Asset

DISTRIBUTION = "AWS::CloudFront::Distribution"

PERMISSIONS: tuple[str, ...] = ("cloudfront:ListDistributions",)


def collect(scope: RegionScope) -> list[Asset]:
    return [normalize_distribution(scope, d) for d in fetch_distributions(scope) or []]


def fetch_distributions(scope: RegionScope) -> list[Payload] | None:
    """Every distribution, following ``NextMarker`` (the list is nested in ``DistributionList``,
    which the generic paginator cannot flatten); ``None`` if any page failed."""
    items: list[Payload] = []
    marker: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Marker": marker} if marker else {}
        resp = scope.call("cloudfront", "ListDistributions", (DISTRIBUTION,), **kwargs)
        if resp is None:
            return None
        page = resp.get("DistributionList") or {}
        items.extend(page.get("Items") or [])
        marker = page.get("NextMarker")
        if not page.get("IsTruncated") or not marker:
            return items


def _items(container: Payload | None) -> list[Any]:
    return list((container or {}).get("Items") or [])


def normalize_distribution(scope: RegionScope, dist: Payload) -> Asset:
    default = dist.get("DefaultCacheBehavior") or {}
    behaviors = [
        {
            "path_pattern": "*",
            "viewer_protocol_policy": default.get("ViewerProtocolPolicy"),
            "target_origin_id": default.get("TargetOriginId"),
        }
    ]
    behaviors += [
        {
            "path_pattern": b.get("PathPattern"),
            "viewer_protocol_policy": b.get("ViewerProtocolPolicy"),
            "target_origin_id": b.get("TargetOriginId"),
        }
        for b in _items(dist.get("CacheBehaviors"))
    ]
    cert = dist.get("ViewerCertificate") or {}
    origins = []
    for origin in _items(dist.get("Origins")):
        custom = origin.get("CustomOriginConfig")
        origins.append(
            {
                "id": origin.get("Id"),
                "domain_name": origin.get("DomainName"),
                "kind": "custom" if custom else "s3",
                "protocol_policy": (custom or {}).get("OriginProtocolPolicy"),
                "ssl_protocols": sorted(_items((custom or {}).get("OriginSslProtocols"))),
            }
        )
    attrs = {
        "arn": dist["ARN"],
        "distribution_id": dist.get("Id"),
        "domain_name": dist.get("DomainName"),
        "aliases": sorted(_items(dist.get("Aliases"))),
        "enabled": dist.get("Enabled"),
        "status": dist.get("Status"),
        "cache_behaviors": behaviors,
        "default_certificate": cert.get("CloudFrontDefaultCertificate"),
        "certificate_arn": cert.get("ACMCertificateArn") or cert.get("IAMCertificateId"),
        "minimum_protocol_version": cert.get("MinimumProtocolVersion"),
        "ssl_support_method": cert.get("SSLSupportMethod"),
        "origins": origins,
    }
    name = str(dist.get("Id") or dist["ARN"])
    return scope.asset(str(dist["ARN"]), DISTRIBUTION, name, attrs, raw=dist, region=GLOBAL)
