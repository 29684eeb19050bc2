"""Systems Manager in one region: the managed nodes (DescribeInstanceInformation) and the patch
state each reports to Patch Manager (DescribeInstancePatchStates); attrs as in
``docs/aws-assets.md``.

Every successful listing also yields the region's ``AWS::SSM::ManagedNodeSummary`` (even with no
node): it is what tells "listed, and this instance is not a managed node" from "never listed"
(a snapshot taken before this module existed). A node that has never reported a patch scan has
``patch_state_present`` false (a known answer); ``patch_state`` is null with a ``#patch_state``
error when the states could not be read. Counts only: no patch list is kept.

The region's Default Host Management Configuration (GetServiceSetting
``/ssm/managed-instance/default-ec2-instance-management-role``) becomes an
``AWS::SSM::ServiceSetting``: on, Systems Manager hands every instance of the region the named role,
so an instance needs no instance profile to become a managed node. AWS answers ``Status``
``Default`` and ``SettingValue`` ``$None`` while it was never turned on.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, chunks
from posture.model import Asset

MANAGED = "AWS::SSM::ManagedInstance"
SUMMARY = "AWS::SSM::ManagedNodeSummary"
SETTING = "AWS::SSM::ServiceSetting"
DHMC = "/ssm/managed-instance/default-ec2-instance-management-role"
_UNSET = ("", "$None")
PATCH_BATCH = 50  # DescribeInstancePatchStates takes at most 50 instance ids

PERMISSIONS: tuple[str, ...] = (
    "ssm:DescribeInstanceInformation", "ssm:DescribeInstancePatchStates", "ssm:GetServiceSetting",
)

_COUNTS = {
    "critical_missing": "CriticalNonCompliantCount",
    "security_missing": "SecurityNonCompliantCount",
    "other_missing": "OtherNonCompliantCount",
    "missing": "MissingCount",
    "failed": "FailedCount",
    "installed_pending_reboot": "InstalledPendingRebootCount",
    "installed_rejected": "InstalledRejectedCount",
}


def collect(scope: RegionScope) -> list[Asset]:
    setting = scope.call("ssm", "GetServiceSetting", (SETTING,), SettingId=DHMC)
    assets = [] if setting is None else [normalize_setting(scope, setting)]
    nodes = scope.paginate("ssm", "DescribeInstanceInformation", "InstanceInformationList",
                           (MANAGED,))
    if nodes is None:
        return assets
    ordered = sorted(nodes, key=lambda n: str(n["InstanceId"]))
    states, unknown = fetch_patch_states(scope, [str(n["InstanceId"]) for n in ordered])
    return [*assets, normalize_summary(scope, ordered),
            *(normalize_node(scope, n, states, unknown) for n in ordered)]


# --- fetch -------------------------------------------------------------------------------------


def fetch_patch_states(scope: RegionScope, ids: list[str]) -> tuple[dict[str, Payload], set[str]]:
    """Patch states by instance id, and the ids whose state could not be read."""
    states: dict[str, Payload] = {}
    unknown: set[str] = set()
    for batch in chunks(ids, PATCH_BATCH):
        found = scope.paginate("ssm", "DescribeInstancePatchStates", "InstancePatchStates",
                               (f"{MANAGED}#patch_state",), InstanceIds=batch)
        if found is None:
            unknown.update(batch)
            continue
        states.update({str(s["InstanceId"]): s for s in found})
    return states, unknown


# --- normalize ---------------------------------------------------------------------------------


def normalize_setting(scope: RegionScope, answer: Payload) -> Asset:
    """Default Host Management Configuration in this region: on when a role is named."""
    setting = answer.get("ServiceSetting") or {}
    value, status = setting.get("SettingValue"), setting.get("Status")
    enabled = status != "Default" and str(value or "") not in _UNSET
    attrs = {"setting_id": setting.get("SettingId") or DHMC, "value": value, "status": status,
             "enabled": enabled, "role": value if enabled else None,
             "last_modified": setting.get("LastModifiedDate"),
             "last_modified_user": setting.get("LastModifiedUser")}
    uid = setting.get("ARN") or scope.arn("ssm", f"servicesetting{DHMC}")
    return scope.asset(str(uid), SETTING, f"default host management {scope.region}", attrs,
                       raw=answer)


def normalize_summary(scope: RegionScope, nodes: list[Payload]) -> Asset:
    """The region's listing itself: how many nodes, by ping status."""
    pings: dict[str, int] = {}
    for node in nodes:
        ping = str(node.get("PingStatus"))
        pings[ping] = pings.get(ping, 0) + 1
    attrs = {"nodes": len(nodes), "ping_status": dict(sorted(pings.items()))}
    return scope.asset(scope.arn("ssm", "managed-node-summary"), SUMMARY,
                       f"managed nodes {scope.region}", attrs)


def node_uid(scope: RegionScope, instance_id: str) -> str:
    return scope.arn("ssm", f"managed-instance/{instance_id}")


def normalize_node(
    scope: RegionScope, node: Payload, states: dict[str, Payload], unknown: set[str]
) -> Asset:
    instance_id = str(node["InstanceId"])
    state = states.get(instance_id)
    present = None if instance_id in unknown else state is not None
    attrs = {
        "instance_id": instance_id,
        "resource_type": node.get("ResourceType"),
        "ping_status": node.get("PingStatus"),
        "last_ping": node.get("LastPingDateTime"),
        "agent_version": node.get("AgentVersion"),
        "is_latest_agent": node.get("IsLatestVersion"),
        "platform_type": node.get("PlatformType"),
        "platform_name": node.get("PlatformName"),
        "platform_version": node.get("PlatformVersion"),
        "patch_state_present": present,
        "patch_state": None if state is None else normalize_patch_state(state),
    }
    return scope.asset(node_uid(scope, instance_id), MANAGED, instance_id, attrs,
                       raw={"node": node, "patch_state": state})


def normalize_patch_state(state: Payload) -> dict[str, object]:
    """The counts and times of one node's last patch operation."""
    out: dict[str, object] = {k: int(state.get(v) or 0) for k, v in _COUNTS.items()}
    out.update({
        "operation": state.get("Operation"),
        "operation_end_time": state.get("OperationEndTime"),
        "last_no_reboot_install_time": state.get("LastNoRebootInstallOperationTime"),
        "baseline_id": state.get("BaselineId"),
        "patch_group": state.get("PatchGroup") or None,
    })
    return out
