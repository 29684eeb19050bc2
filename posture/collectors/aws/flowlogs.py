"""VPC flow logs of one region (attrs as in ``docs/aws-assets.md``)."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, listed, name_from_tags, tag_map
from posture.model import Asset

FLOW_LOG = "AWS::EC2::FlowLog"

PERMISSIONS: tuple[str, ...] = ("ec2:DescribeFlowLogs",)


def collect(scope: RegionScope) -> list[Asset]:
    return listed(scope, "ec2", "DescribeFlowLogs", "FlowLogs", FLOW_LOG, normalize_flow_log)


def normalize_flow_log(scope: RegionScope, flow: Payload) -> Asset:
    flow_id = flow["FlowLogId"]
    destination = flow.get("LogDestination")
    if not destination and flow.get("LogGroupName"):
        destination = scope.arn("logs", f"log-group:{flow['LogGroupName']}")
    attrs = {
        "flow_log_id": flow_id,
        "resource_id": flow.get("ResourceId"),
        "traffic_type": flow.get("TrafficType"),
        "status": flow.get("FlowLogStatus"),
        "deliver_status": flow.get("DeliverLogsStatus"),
        "destination_type": flow.get("LogDestinationType"),
        "destination": destination,
    }
    tags = tag_map(flow.get("Tags"))
    return scope.asset(
        scope.arn("ec2", f"vpc-flow-log/{flow_id}"),
        FLOW_LOG,
        name_from_tags(tags, flow_id),
        attrs,
        raw=flow,
        tags=tags,
    )
