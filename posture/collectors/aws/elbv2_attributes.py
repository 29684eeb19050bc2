"""Load balancer attributes (access logs) added to the ``elbv2.py`` load balancer assets."""

from __future__ import annotations

import dataclasses

from posture.collectors.aws.base import RegionScope, parallel_map
from posture.model import Asset

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
ATTRIBUTES_FACET = f"{LOAD_BALANCER}#attributes"

PERMISSIONS: tuple[str, ...] = ("elasticloadbalancing:DescribeLoadBalancerAttributes",)


def fetch_attributes(scope: RegionScope, lb_arn: str) -> dict[str, str] | None:
    resp = scope.call(
        "elbv2",
        "DescribeLoadBalancerAttributes",
        (ATTRIBUTES_FACET,),
        lb_arn,
        LoadBalancerArn=lb_arn,
    )
    if resp is None:
        return None
    return {
        str(a["Key"]): str(a.get("Value", "")) for a in resp.get("Attributes") or [] if a.get("Key")
    }


def with_attributes(lb: Asset, attributes: dict[str, str] | None) -> Asset:
    """``access_logs_enabled`` (bool; null if unknown or not reported) and
    ``access_logs_bucket``."""
    attrs = dict(lb.attrs)
    flag = None if attributes is None else attributes.get("access_logs.s3.enabled")
    attrs["access_logs_enabled"] = None if flag is None else flag.lower() == "true"
    attrs["access_logs_bucket"] = (attributes or {}).get("access_logs.s3.bucket") or None
    return dataclasses.replace(lb, attrs=attrs)


def add_attributes(scope: RegionScope, lbs: list[Asset]) -> list[Asset]:
    found = parallel_map(lambda lb: fetch_attributes(scope, lb.uid), lbs)
    return [with_attributes(lb, a) for lb, a in zip(lbs, found, strict=True)]
