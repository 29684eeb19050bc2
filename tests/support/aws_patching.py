"""Patch and vulnerability management on AWS: a loopback stub for the read calls moto 5.2.6 does
not implement, responses recorded in AWS's wire shape, and asset builders for the check tests.

moto answers SSM ``DescribeInstanceInformation``, ``DescribeInstancePatchStates`` and
``GetServiceSetting`` with HTTP 500 (``NotImplementedError``) and Inspector ``ListCoverage`` with
404. :class:`AwsStub` is an HTTP
server on 127.0.0.1 that answers those operations with recorded bodies (JSON 1.1 for SSM, keyed by
``X-Amz-Target``; REST-JSON for Inspector, keyed by method and path) and forwards every other
request to the moto server unchanged, so one endpoint serves the collector and botocore parses
every answer itself (epoch-second timestamps included).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from posture.model import Asset, Provider

from .aws import ACCOUNT, asset
from .model import asset_of

Route = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
JSON_11 = "application/x-amz-json-1.1"

MANAGED = "AWS::SSM::ManagedInstance"
SUMMARY = "AWS::SSM::ManagedNodeSummary"
SETTING = "AWS::SSM::ServiceSetting"
DHMC = "/ssm/managed-instance/default-ec2-instance-management-role"
DHMC_ROLE = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
INSPECTOR = "AWS::Inspector2::AccountStatus"
REPOSITORY = "AWS::ECR::Repository"
IMAGE = "AWS::EC2::Image"
INSTANCE = "AWS::EC2::Instance"


@dataclass
class AwsStub:
    """Recorded answers by operation key; ``requests`` lists (key, parsed body) as received."""

    moto: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base: str = ""

    def answer(self, key: str, body: dict[str, Any], status: int = 200) -> None:
        """Answer ``key`` (``AmazonSSM.<Operation>`` or ``POST /coverage/list``) with ``body``."""
        self.routes[key] = lambda _sent: (status, body)

    def pages(self, key: str, result_key: str, items: list[dict[str, Any]], size: int) -> None:
        """Answer ``key`` page by page (``NextToken``/``nextToken`` as AWS names it)."""
        token_name = "NextToken" if key.startswith("Amazon") else "nextToken"

        def route(sent: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            start = int(sent.get(token_name) or 0)
            body: dict[str, Any] = {result_key: items[start:start + size]}
            if start + size < len(items):
                body[token_name] = str(start + size)
            return 200, body

        self.routes[key] = route


def _handler(stub: AwsStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
            target = self.headers.get("x-amz-target")
            key = target or f"{self.command} {urlsplit(self.path).path}"
            route = stub.routes.get(key)
            if route is None:
                self._forward(data)
                return
            sent = json.loads(data or b"{}") if data else {}
            stub.requests.append((key, sent))
            status, body = route(sent)
            out = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("content-type", JSON_11 if target else "application/json")
            self.send_header("x-amzn-requestid", "posture-test-stub")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_PUT = do_DELETE = do_POST

        def _forward(self, data: bytes) -> None:
            moto = urlsplit(stub.moto)
            conn = http.client.HTTPConnection(moto.hostname or "127.0.0.1", moto.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request(self.command, self.path, body=data or None, headers=headers)
            reply = conn.getresponse()
            payload = reply.read()
            self.send_response(reply.status)
            for name, value in reply.getheaders():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            conn.close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def aws_stub(moto_endpoint: str) -> Iterator[AwsStub]:
    """A stub in front of the moto server at ``moto_endpoint`` for the block; ``.base`` is its
    endpoint."""
    stub = AwsStub(moto_endpoint)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


# --- AWS wire shapes (timestamps as epoch seconds, as the JSON protocols send them) ----------


def instance_information(instance_id: str, ping: str = "Online", last_ping: float = 1.7e9,
                         agent: str = "3.3.1142.0", latest: bool = False) -> dict[str, Any]:
    """One ``InstanceInformationList`` entry of DescribeInstanceInformation for an EC2 node."""
    return {
        "InstanceId": instance_id, "PingStatus": ping, "LastPingDateTime": last_ping,
        "AgentVersion": agent, "IsLatestVersion": latest, "PlatformType": "Linux",
        "PlatformName": "Amazon Linux", "PlatformVersion": "2023", "ResourceType": "EC2Instance",
        "IPAddress": "10.0.1.10", "ComputerName": "ip-10-0-1-10.ec2.internal",
        "AssociationStatus": "Success", "SourceId": instance_id,
        "SourceType": "AWS::EC2::Instance",
    }


def patch_state(instance_id: str, end: float, critical: int = 0, security: int = 0,
                missing: int = 0, failed: int = 0, operation: str = "Scan") -> dict[str, Any]:
    """One ``InstancePatchStates`` entry of DescribeInstancePatchStates."""
    return {
        "InstanceId": instance_id, "PatchGroup": "web", "BaselineId": "pb-0c10e65780EXAMPLE",
        "OwnerInformation": "", "InstalledCount": 120, "InstalledOtherCount": 4,
        "InstalledPendingRebootCount": 0, "InstalledRejectedCount": 0, "MissingCount": missing,
        "FailedCount": failed, "UnreportedNotApplicableCount": 0, "NotApplicableCount": 800,
        "OperationStartTime": end - 120, "OperationEndTime": end, "Operation": operation,
        "RebootOption": "RebootIfNeeded", "CriticalNonCompliantCount": critical,
        "SecurityNonCompliantCount": security, "OtherNonCompliantCount": 0,
    }


def service_setting(value: str = "$None", status: str = "Default",
                    region: str = "us-east-1") -> dict[str, Any]:
    """GetServiceSetting's answer for Default Host Management Configuration (AWS answers
    ``$None`` / ``Default`` while it was never turned on, the role name / ``Customized`` after)."""
    return {"ServiceSetting": {
        "SettingId": DHMC, "SettingValue": value, "LastModifiedDate": 1.7e9,
        "LastModifiedUser": "System" if status == "Default" else
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/ops", "ARN": setting_arn(region),
        "Status": status}}


def setting_arn(region: str = "us-east-1") -> str:
    return f"arn:aws:ssm:{region}:{ACCOUNT}:servicesetting{DHMC}"


def covered(resource_id: str, resource_type: str, code: str = "ACTIVE",
            reason: str = "SUCCESSFUL") -> dict[str, Any]:
    """One ``coveredResources`` entry of Inspector ListCoverage."""
    return {
        "accountId": ACCOUNT, "resourceId": resource_id, "resourceType": resource_type,
        "scanType": "PACKAGE", "scanStatus": {"statusCode": code, "reason": reason},
        "lastScannedAt": 1.7e9, "scanMode": "EC2_SSM_AGENT_BASED",
    }


def finding(resource_id: str, resource_type: str, severity: str, first: float) -> dict[str, Any]:
    """One ``findings`` entry of Inspector ListFindings (a package vulnerability)."""
    return {
        "findingArn": f"arn:aws:inspector2:us-east-1:{ACCOUNT}:finding/{resource_id}{first}",
        "awsAccountId": ACCOUNT, "type": "PACKAGE_VULNERABILITY", "severity": severity,
        "title": "CVE-2024-0001 - openssl", "description": "A flaw.", "status": "ACTIVE",
        "remediation": {"recommendation": {"text": "Update openssl"}},
        "firstObservedAt": first, "lastObservedAt": first + 3600, "updatedAt": first + 3600,
        "resources": [{"type": resource_type, "id": resource_id, "partition": "aws",
                       "region": "us-east-1"}],
    }


# --- assets for the check tests (attrs as in docs/aws-assets.md) -------------------------------


def arn(service: str, resource: str, region: str = "us-east-1") -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def instance(iid: str, state: str = "running", region: str = "us-east-1", **attrs: Any) -> Asset:
    base: dict[str, Any] = {
        "instance_id": iid, "state": state, "image_id": "ami-0old", "public_ip": None,
        "iam_instance_profile_arn": None, "http_tokens": "required", "http_endpoint": "enabled",
        "launch_time": "2025-12-01T00:00:00+00:00", "network_interface_ids": [],
        "security_group_ids": [], "subnet_id": None, "vpc_id": None}
    return asset(INSTANCE, arn("ec2", f"instance/{iid}", region), region=region,
                 **{**base, **attrs})


def managed(iid: str, ping: str = "Online", region: str = "us-east-1",
            patch: dict[str, Any] | None = None, present: bool | None = True,
            **attrs: Any) -> Asset:
    base: dict[str, Any] = {"instance_id": iid, "resource_type": "EC2Instance", "ping_status": ping,
            "last_ping": "2025-12-31T23:00:00+00:00", "agent_version": "3.3.1142.0",
            "is_latest_agent": False, "platform_type": "Linux", "platform_name": "Amazon Linux",
            "platform_version": "2023", "patch_state_present": present, "patch_state": patch}
    return asset(MANAGED, arn("ssm", f"managed-instance/{iid}", region), region=region,
                 **{**base, **attrs})


def listed(region: str = "us-east-1", nodes: int = 1) -> Asset:
    """The region's managed-node summary: SSM was listed there."""
    return asset(SUMMARY, arn("ssm", "managed-node-summary", region), region=region,
                 name=f"managed nodes {region}", nodes=nodes, ping_status={"Online": nodes})


def dhmc(role: str | None = DHMC_ROLE, region: str = "us-east-1") -> Asset:
    """The region's Default Host Management Configuration: on with ``role``, off with None."""
    return asset(SETTING, setting_arn(region), region=region, setting_id=DHMC,
                 value=role or "$None", status="Customized" if role else "Default",
                 enabled=role is not None, role=role, last_modified="2023-11-14T22:13:20+00:00",
                 last_modified_user="System")


def patched(end: str = "2025-12-30T00:00:00+00:00", **counts: int) -> dict[str, Any]:
    """A ``patch_state`` attr: every count 0 unless given."""
    names = ("critical_missing", "security_missing", "other_missing", "missing", "failed",
             "installed_pending_reboot", "installed_rejected")
    return {**{n: counts.get(n, 0) for n in names}, "operation": "Install",
            "operation_end_time": end, "last_no_reboot_install_time": None,
            "baseline_id": "pb-1", "patch_group": None}


def inspector(region: str = "us-east-1", status: str = "ENABLED",
              scans: dict[str, str] | None = None, **attrs: Any) -> Asset:
    on = {"ec2": "ENABLED", "ecr": "ENABLED", "lambda": "ENABLED", "lambda_code": "DISABLED"}
    base = {"status": status, "scans": on if scans is None else scans, "coverage": {},
            "uncovered": [], "findings": []}
    return asset(INSPECTOR, arn("inspector2", "account-status", region), region=region,
                 name=f"inspector2 {region}", **{**base, **attrs})


def repository(name: str, region: str = "us-east-1", **attrs: Any) -> Asset:
    base = {"repository_name": name, "arn": arn("ecr", f"repository/{name}", region),
            "image_tag_mutability": "IMMUTABLE", "scan_on_push": False,
            "scan_frequency": "SCAN_ON_PUSH", "image_count": 1, "latest_image": None,
            "policy_present": False, "policy": None, "lifecycle_policy_present": True,
            "lifecycle_rule_count": 1}
    return asset(REPOSITORY, arn("ecr", f"repository/{name}", region), region=region,
                 **{**base, **attrs})


def scanned(status: str = "COMPLETE", pushed_at: str = "2025-12-20T00:00:00+00:00",
            **counts: int) -> dict[str, Any]:
    """A ``latest_image`` attr with the given finding counts (``CRITICAL=2``)."""
    return {"digest": "sha256:abc", "tags": ["v42"], "pushed_at": pushed_at,
            "scan_status": status, "scan_status_description": None,
            "scan_completed_at": pushed_at, "finding_counts": dict(counts)}


def image(image_id: str, created: str | None, region: str = "us-east-1",
          instance_ids: tuple[str, ...] = ("i-1",), found: bool = True,
          tags: dict[str, str] | None = None, **attrs: Any) -> Asset:
    base = {"image_id": image_id, "found": found, "name": f"{image_id}-name",
            "owner_id": ACCOUNT, "owner_alias": None, "creation_date": created,
            "deprecation_time": None, "state": "available" if found else None, "public": False,
            "platform_details": "Linux/UNIX", "source_image_id": None,
            "source_image_region": None, "instance_ids": list(instance_ids)}
    return asset_of(Provider.AWS, IMAGE, arn("ec2", f"image/{image_id}", region), account=ACCOUNT,
                    region=region, name=image_id, tags=tags, attrs={**base, **attrs})


def repository_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    """An ECR repository policy: statements name no Resource (the repository it is set on)."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def grant(actions: list[str] | str, principal: Any = "*",
          condition: dict[str, Any] | None = None, sid: str = "s") -> dict[str, Any]:
    stmt: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal,
                            "Action": actions}
    if condition:
        stmt["Condition"] = condition
    return stmt


PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
PUSH = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload"]
