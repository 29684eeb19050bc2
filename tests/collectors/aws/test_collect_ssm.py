"""SSM collector: managed nodes and their patch states, and the region's Default Host
Management Configuration, read through botocore from recorded answers in AWS's JSON 1.1 shape
(moto 5.2.6 implements none of the three calls: the loopback stub of ``support.aws_patching``
serves them), paged, batched by 50, and refused."""

from __future__ import annotations

from support.aws_patching import (
    DHMC,
    DHMC_ROLE,
    aws_stub,
    instance_information,
    patch_state,
    service_setting,
    setting_arn,
)
from support.collect import by_uid, error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import ssm
from posture.collectors.aws.collector import all_permissions

LIST = "AmazonSSM.DescribeInstanceInformation"
STATES = "AmazonSSM.DescribeInstancePatchStates"
SETTING = "AmazonSSM.GetServiceSetting"
PING = 1767225600.0  # 2026-01-01T00:00:00Z
UID = "arn:aws:ssm:us-east-1:123456789012:managed-instance/{}"


def test_nodes_and_patch_states(moto_endpoint: str) -> None:
    nodes = [instance_information(f"i-{n:04d}", last_ping=PING) for n in range(55)]
    nodes[1] = instance_information("i-0001", ping="ConnectionLost", last_ping=PING - 86400 * 9)
    states = [patch_state(f"i-{n:04d}", PING - 3600, critical=n % 3, security=1)
              for n in range(55) if n != 2]  # i-0002 never reported a scan
    with aws_stub(moto_endpoint) as stub:
        stub.answer(SETTING, service_setting())
        stub.pages(LIST, "InstanceInformationList", nodes, size=20)
        stub.routes[STATES] = lambda sent: (200, {"InstancePatchStates": [
            s for s in states if s["InstanceId"] in sent["InstanceIds"]]})
        sc = scope(stub.base, region="us-east-1")
        assets = by_uid(ssm.collect(sc))

    assert sc.errors == []
    setting = assets.pop(setting_arn())
    assert (setting.type, setting.attrs["enabled"], setting.attrs["role"]) == (
        ssm.SETTING, False, None)
    summary = assets.pop("arn:aws:ssm:us-east-1:123456789012:managed-node-summary")
    assert (summary.type, summary.attrs) == (ssm.SUMMARY, {
        "nodes": 55, "ping_status": {"ConnectionLost": 1, "Online": 54}})
    assert len(assets) == 55
    batches = [len(body["InstanceIds"]) for key, body in stub.requests if key == STATES]
    assert batches == [50, 5]
    first = assets[UID.format("i-0000")]
    assert (first.type, first.name, first.region) == (ssm.MANAGED, "i-0000", "us-east-1")
    assert first.attrs == {
        "instance_id": "i-0000", "resource_type": "EC2Instance", "ping_status": "Online",
        "last_ping": "2026-01-01T00:00:00+00:00", "agent_version": "3.3.1142.0",
        "is_latest_agent": False, "platform_type": "Linux", "platform_name": "Amazon Linux",
        "platform_version": "2023", "patch_state_present": True,
        "patch_state": {
            "critical_missing": 0, "security_missing": 1, "other_missing": 0, "missing": 0,
            "failed": 0, "installed_pending_reboot": 0, "installed_rejected": 0,
            "operation": "Scan", "operation_end_time": "2025-12-31T23:00:00+00:00",
            "last_no_reboot_install_time": None, "baseline_id": "pb-0c10e65780EXAMPLE",
            "patch_group": "web"},
    }
    lost = assets[UID.format("i-0001")].attrs
    assert (lost["ping_status"], lost["last_ping"]) == ("ConnectionLost",
                                                        "2025-12-23T00:00:00+00:00")
    assert lost["patch_state"]["critical_missing"] == 1
    never = assets[UID.format("i-0002")].attrs
    assert (never["patch_state_present"], never["patch_state"]) == (False, None)


def test_refused_patch_states_leave_the_nodes_with_unknown_patching(moto_endpoint: str) -> None:
    with aws_stub(moto_endpoint) as stub:
        stub.answer(SETTING, service_setting())
        stub.answer(LIST, {"InstanceInformationList": [instance_information("i-1")]})
        sc = refused_scope(stub.base, "ssm", "DescribeInstancePatchStates")
        assets = by_uid(ssm.collect(sc))

    assert {a.type for a in assets.values()} == {ssm.MANAGED, ssm.SUMMARY, ssm.SETTING}
    node = assets[UID.format("i-1")].attrs
    assert (node["ping_status"], node["patch_state_present"], node["patch_state"]) == (
        "Online", None, None)
    assert error_keys(sc.errors) == refusals(
        "ssm", "DescribeInstancePatchStates", (f"{ssm.MANAGED}#patch_state",))


def test_refused_listing_is_recorded_against_the_type(moto_endpoint: str) -> None:
    sc = refused_scope(moto_endpoint, "ssm", "DescribeInstanceInformation", "GetServiceSetting")
    assert ssm.collect(sc) == []
    assert error_keys(sc.errors) == (
        refusals("ssm", "DescribeInstanceInformation", (ssm.MANAGED,))
        | refusals("ssm", "GetServiceSetting", (ssm.SETTING,)))


def test_no_managed_nodes_asks_no_patch_states(moto_endpoint: str) -> None:
    with aws_stub(moto_endpoint) as stub:
        stub.answer(SETTING, service_setting())
        stub.answer(LIST, {"InstanceInformationList": []})
        sc = scope(stub.base, region="us-east-1")
        setting, summary = ssm.collect(sc)  # listed, none: a known answer
    assert (summary.type, summary.attrs) == (ssm.SUMMARY, {"nodes": 0, "ping_status": {}})
    assert setting.type == ssm.SETTING
    assert sc.errors == []
    assert [key for key, _ in stub.requests] == [SETTING, LIST]


def test_default_host_management_on_names_its_role(moto_endpoint: str) -> None:
    with aws_stub(moto_endpoint) as stub:
        stub.answer(SETTING, service_setting(DHMC_ROLE, "Customized", region="eu-west-1"))
        stub.answer(LIST, {"InstanceInformationList": []})
        sc = scope(stub.base, region="eu-west-1")
        assets = by_uid(ssm.collect(sc))
    assert sc.errors == []
    assert [body for key, body in stub.requests if key == SETTING] == [{"SettingId": DHMC}]
    setting = assets[setting_arn("eu-west-1")]
    assert (setting.type, setting.name, setting.region) == (
        ssm.SETTING, "default host management eu-west-1", "eu-west-1")
    assert setting.attrs == {
        "setting_id": DHMC, "value": DHMC_ROLE, "status": "Customized", "enabled": True,
        "role": DHMC_ROLE, "last_modified": "2023-11-14T22:13:20+00:00",
        "last_modified_user": "arn:aws:sts::123456789012:assumed-role/Admin/ops"}


def test_refused_setting_leaves_the_nodes(moto_endpoint: str) -> None:
    with aws_stub(moto_endpoint) as stub:
        stub.answer(LIST, {"InstanceInformationList": []})
        sc = refused_scope(stub.base, "ssm", "GetServiceSetting")
        assets = ssm.collect(sc)
    assert [a.type for a in assets] == [ssm.SUMMARY]
    assert error_keys(sc.errors) == refusals("ssm", "GetServiceSetting", (ssm.SETTING,))
    assert "ssm:GetServiceSetting" in all_permissions()
