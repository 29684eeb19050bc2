"""OpenSearch Service domains (OpenSearch and legacy Elasticsearch): network placement, access
policy, encryption at rest and between nodes, HTTPS enforcement and TLS policy, fine-grained
access control and audit logs (attrs as in ``docs/aws-assets.md``).

ListDomainNames names the domains; DescribeDomain runs per domain, concurrently. A domain whose
DescribeDomain failed is not emitted (the error names its ARN and the type).
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, parse_policy
from posture.model import Asset

DOMAIN = "AWS::OpenSearchService::Domain"

PERMISSIONS: tuple[str, ...] = ("es:ListDomainNames", "es:DescribeDomain")


def collect(scope: RegionScope) -> list[Asset]:
    names = scope.paginate("opensearch", "ListDomainNames", "DomainNames", (DOMAIN,))
    ordered = sorted(str(n["DomainName"]) for n in names or [])
    found = parallel_map(lambda name: fetch_domain(scope, name), ordered)
    return [normalize_domain(scope, d) for d in found if d is not None]


def domain_uid(scope: RegionScope, name: str) -> str:
    return scope.arn("es", f"domain/{name}")


def fetch_domain(scope: RegionScope, name: str) -> Payload | None:
    answer = scope.call("opensearch", "DescribeDomain", (DOMAIN,), domain_uid(scope, name),
                        DomainName=name)
    return None if answer is None else dict(answer.get("DomainStatus") or {}) or None


def _enabled(block: Payload | None) -> bool | None:
    """An ``{"Enabled": …}`` option block as a bool (absent block: null)."""
    if block is None:
        return None
    return bool(block.get("Enabled"))


def normalize_domain(scope: RegionScope, domain: Payload) -> Asset:
    vpc: Payload | None = domain.get("VPCOptions")
    endpoint_options: Payload = domain.get("DomainEndpointOptions") or {}
    security: Payload = domain.get("AdvancedSecurityOptions") or {}
    logs: Payload = domain.get("LogPublishingOptions") or {}
    policy = parse_policy(domain.get("AccessPolicies") or None)
    name = str(domain["DomainName"])
    attrs = {
        "arn": domain.get("ARN") or domain_uid(scope, name),
        "domain_name": name,
        "engine_version": domain.get("EngineVersion"),
        "endpoint": domain.get("Endpoint") or (domain.get("Endpoints") or {}).get("vpc"),
        "in_vpc": bool(vpc and vpc.get("VPCId")),
        "vpc_id": (vpc or {}).get("VPCId"),
        "subnet_ids": sorted(str(s) for s in (vpc or {}).get("SubnetIds") or []),
        "security_group_ids": sorted(str(s) for s in (vpc or {}).get("SecurityGroupIds") or []),
        "access_policy": policy,
        "access_policy_present": policy is not None,
        "encryption_at_rest": _enabled(domain.get("EncryptionAtRestOptions")),
        "kms_key_id": (domain.get("EncryptionAtRestOptions") or {}).get("KmsKeyId"),
        "node_to_node_encryption": _enabled(domain.get("NodeToNodeEncryptionOptions")),
        "enforce_https": endpoint_options.get("EnforceHTTPS"),
        "tls_security_policy": endpoint_options.get("TLSSecurityPolicy"),
        "fine_grained_access_control": security.get("Enabled"),
        "internal_user_database": security.get("InternalUserDatabaseEnabled"),
        "anonymous_auth": security.get("AnonymousAuthEnabled"),
        "audit_logs_enabled": _enabled(logs.get("AUDIT_LOGS")) or False,
    }
    uid = str(domain.get("ARN") or domain_uid(scope, name))
    return scope.asset(uid, DOMAIN, name, attrs, raw=domain)
