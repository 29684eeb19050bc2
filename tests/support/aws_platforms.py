"""Builders for the platform checks (EKS, Lambda, API Gateway, Redshift, ElastiCache, OpenSearch,
DynamoDB): assets with the attrs the collectors store (docs/aws-assets.md), policy documents in
AWS's real shapes, and a dated EKS end-of-support table served from a temporary package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from posture import lifecycle
from posture.model import Asset

from .aws import ACCOUNT, asset, aws_arn

R = "us-east-1"
CLUSTER_UID = aws_arn("eks", "cluster/shop")
NODEGROUP_UID = aws_arn("eks", "nodegroup/shop/workers/1")
FUNCTION_UID = aws_arn("lambda", "function:hook")
REST_UID = f"arn:aws:apigateway:{R}::/restapis/a1"
REDSHIFT_UID = aws_arn("redshift", "cluster:warehouse")
DOMAIN_UID = aws_arn("es", "domain/search")
KEY_ARN = aws_arn("kms", "key/k-1")

# scan date of the test inventories: 2026-01-01 (support.model.FINISHED)
EKS_TABLE = """
[source]
as_of = 2025-12-01
[source.products.eks_version]
name = "EKS test calendar (standard)"
url = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
[source.products.eks_version_extended]
name = "EKS test calendar (extended)"
url = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
[eks_version]
"1.28" = 2024-11-26
"1.31" = 2025-11-26
"1.33" = 2026-07-29
[eks_version_extended]
"1.28" = 2025-11-26
"1.31" = 2026-11-26
"1.33" = 2027-07-29
"""


def use_eks_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make ``posture.lifecycle`` read :data:`EKS_TABLE` as ``aws.toml`` (a temporary package)."""
    package = tmp_path / "eks_table_pkg"
    (package / "lifecycle").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "lifecycle" / "aws.toml").write_text(EKS_TABLE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = lifecycle.lifecycle
    monkeypatch.setattr(lifecycle, "lifecycle",
                        lambda provider, package="": real(provider, "eks_table_pkg"))


def cluster(**over: Any) -> Asset:
    """A compliant EKS cluster ``shop`` (private endpoint in vpc-1, secrets with a KMS key, all
    log types, Kubernetes 1.33, access entries only); ``over`` changes attrs."""
    attrs: dict[str, Any] = {
        "arn": CLUSTER_UID, "cluster_name": "shop", "status": "ACTIVE", "version": "1.33",
        "endpoint_public_access": False, "endpoint_private_access": True,
        "public_access_cidrs": ["0.0.0.0/0"], "vpc_id": "vpc-1", "subnet_ids": ["subnet-1"],
        "security_group_ids": [], "cluster_security_group_id": "sg-eks",
        "secrets_encrypted": True, "secrets_kms_key_arn": KEY_ARN,
        "logging_enabled_types": ["api", "audit", "authenticator"],
        "authentication_mode": "API", "bootstrap_creator_admin": False, "support_type": "STANDARD",
    }
    attrs.update(over)
    return asset("AWS::EKS::Cluster", CLUSTER_UID, name="shop", **attrs)


def nodegroup(**over: Any) -> Asset:
    attrs: dict[str, Any] = {
        "arn": NODEGROUP_UID, "nodegroup_name": "workers", "cluster_name": "shop",
        "cluster_arn": CLUSTER_UID, "version": "1.33", "subnet_ids": ["subnet-1"],
        "remote_access_key": None, "remote_access_source_groups": [],
        "remote_access_security_group": None, "launch_template": None,
    }
    attrs.update(over)
    return asset("AWS::EKS::Nodegroup", NODEGROUP_UID, name="shop/workers", **attrs)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


def allow(action: str, principal: Any = "*", resource: str = FUNCTION_UID,
          condition: dict[str, Any] | None = None, sid: str = "s") -> dict[str, Any]:
    stmt: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal,
                            "Action": action, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return stmt


# the statements the Lambda console adds for a URL with AuthType NONE (AWS's real shape)
URL_PUBLIC = allow("lambda:InvokeFunctionUrl", sid="FunctionURLAllowPublicAccess",
                   condition={"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}})
URL_INVOKE = allow("lambda:InvokeFunction", sid="FunctionURLAllowInvokeAction",
                   condition={"Bool": {"lambda:InvokedViaFunctionUrl": "true"}})


AUTO: Any = "auto"


def target(qualifier: str | None = None, url: str | None = None, auth: str | None = None,
           doc: dict[str, Any] | None = None, *, url_present: Any = AUTO,
           policy_present: Any = AUTO) -> dict[str, Any]:
    """One ``invoke_targets`` entry (``url``/``doc`` None: none; ``*_present=None``: unknown)."""
    arn = FUNCTION_UID if qualifier is None else f"{FUNCTION_UID}:{qualifier}"
    return {
        "qualifier": qualifier, "arn": arn,
        "url_present": (url is not None) if url_present is AUTO else url_present,
        "url": url, "url_auth_type": auth,
        "policy_present": (doc is not None) if policy_present is AUTO else policy_present,
        "policy": doc,
    }


def function(*targets: dict[str, Any], aliases: list[str] | None = None) -> Asset:
    return asset("AWS::Lambda::Function", FUNCTION_UID, name="hook", arn=FUNCTION_UID,
                 function_name="hook", runtime="python3.12",
                 aliases=[t["qualifier"] for t in targets if t["qualifier"]]
                 if aliases is None else aliases,
                 invoke_targets=list(targets or [target()]))


def rest_api(methods: list[dict[str, Any]] | None, doc: dict[str, Any] | None = None,
             endpoint: str = "REGIONAL") -> Asset:
    return asset("AWS::ApiGateway::RestApi", REST_UID, name="shop-api", api_id="a1",
                 api_name="shop-api", endpoint_types=[endpoint], vpc_endpoint_ids=[],
                 policy=doc, policy_present=doc is not None, methods=methods)


def method(verb: str, path: str = "/items", auth: str = "NONE", key: bool = False
           ) -> dict[str, Any]:
    return {"path": path, "http_method": verb, "authorization_type": auth,
            "authorizer_id": None, "api_key_required": key}


def stage(name: str = "prod", access_log: str | None = None, api_uid: str = REST_UID,
          type_: str = "AWS::ApiGateway::Stage") -> Asset:
    return asset(type_, f"{api_uid}/stages/{name}", name=f"shop-api/{name}", api_id="a1",
                 api_uid=api_uid, stage_name=name, access_log_destination=access_log,
                 execution_logging_level="INFO")


def execute_api(stage_name: str = "*") -> str:
    """The execute-api ARN pattern of REST API a1 (AWS stores the expanded form)."""
    return f"arn:aws:execute-api:{R}:{ACCOUNT}:a1/{stage_name}/*"


def redshift(**over: Any) -> Asset:
    """A compliant Redshift cluster ``warehouse`` (private, encrypted, TLS, logs, snapshots)."""
    attrs: dict[str, Any] = {
        "arn": REDSHIFT_UID, "cluster_id": "warehouse", "encrypted": True, "kms_key_id": KEY_ARN,
        "publicly_accessible": False, "endpoint_address": "warehouse.x.us-east-1.redshift."
        "amazonaws.com", "port": 5439, "vpc_id": "vpc-1", "subnet_ids": ["subnet-1"],
        "security_group_ids": ["sg-db"], "public_ips": [], "parameter_group": "secure",
        "require_ssl": True, "audit_logging_enabled": True, "audit_log_destination": "cloudwatch",
        "user_activity_logging": True, "automated_snapshot_retention_days": 7,
    }
    attrs.update(over)
    return asset("AWS::Redshift::Cluster", REDSHIFT_UID, name="warehouse", **attrs)


def cache(type_: str = "AWS::ElastiCache::ReplicationGroup", name: str = "sessions",
          **over: Any) -> Asset:
    kind = "replicationgroup" if type_.endswith("ReplicationGroup") else "cluster"
    uid = aws_arn("elasticache", f"{kind}:{name}")
    attrs: dict[str, Any] = {
        "arn": uid, "engine": "redis", "at_rest_encryption": True, "transit_encryption": True,
        "transit_encryption_mode": "required", "auth_token_enabled": False,
        "user_group_ids": ["rbac-app"], "snapshot_retention_days": 5,
    }
    attrs.update(over)
    return asset(type_, uid, name=name, **attrs)


def domain(**over: Any) -> Asset:
    """A compliant OpenSearch domain ``search`` (in a VPC, encrypted, HTTPS with TLS 1.2)."""
    attrs: dict[str, Any] = {
        "arn": DOMAIN_UID, "domain_name": "search", "in_vpc": True, "vpc_id": "vpc-1",
        "security_group_ids": ["sg-os"], "access_policy": None, "access_policy_present": False,
        "encryption_at_rest": True, "kms_key_id": KEY_ARN, "node_to_node_encryption": True,
        "enforce_https": True, "tls_security_policy": "Policy-Min-TLS-1-2-PFS-2023-10",
        "fine_grained_access_control": False, "anonymous_auth": False, "audit_logs_enabled": True,
    }
    attrs.update(over)
    return asset("AWS::OpenSearchService::Domain", DOMAIN_UID, name="search", **attrs)


def es_policy(principal: Any = "AWS:*", condition: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """An access policy granting es:* on the domain (``"AWS:*"``: ``{"AWS": "*"}``)."""
    who = {"AWS": "*"} if principal == "AWS:*" else principal
    return policy(allow("es:*", who, f"{DOMAIN_UID}/*", condition))


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document)
