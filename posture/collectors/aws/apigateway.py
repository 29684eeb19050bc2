"""API Gateway: REST APIs (v1) with their methods and stages, HTTP and WebSocket APIs (v2)
with their routes and stages, and the custom domain names of both (attrs as in
``docs/aws-assets.md``).

Per API, concurrently: GetResources (methods embedded) and GetStages, or GetRoutes and GetStages.
Custom domain names are one namespace shared by both APIs: GetDomainNames of v1 (which also
knows edge-optimized names) first, then names only v2 lists. A failed per-API call leaves that
facet unknown (the error names the API's uid).
"""

from __future__ import annotations

import json
from typing import Any

from posture.collectors.aws.base import Payload, RegionScope, parse_policy
from posture.collectors.runner import parallel_flat_map
from posture.model import Asset

REST_API = "AWS::ApiGateway::RestApi"
STAGE = "AWS::ApiGateway::Stage"
HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_STAGE = "AWS::ApiGatewayV2::Stage"
DOMAIN = "AWS::ApiGateway::DomainName"

PERMISSIONS: tuple[str, ...] = ("apigateway:GET",)  # every read of v1 and v2 is apigateway:GET


def collect(scope: RegionScope) -> list[Asset]:
    rest = scope.paginate("apigateway", "GetRestApis", "items", (REST_API, STAGE))
    out = parallel_flat_map(lambda api: fetch_rest_api(scope, api),
                            sorted(rest or [], key=lambda a: str(a["id"])))
    http = scope.paginate("apigatewayv2", "GetApis", "Items", (HTTP_API, HTTP_STAGE))
    out += parallel_flat_map(lambda api: fetch_http_api(scope, api),
                             sorted(http or [], key=lambda a: str(a["ApiId"])))
    return out + collect_domains(scope)


def _arn(scope: RegionScope, path: str) -> str:
    return f"arn:{scope.partition}:apigateway:{scope.region}::{path}"


def _tags(tags: Payload | None) -> dict[str, str]:
    """API Gateway tags: a plain ``{key: value}`` map."""
    return {str(k): str(v) for k, v in (tags or {}).items()}


def _stage_attrs(api_id: str, api_uid: str, name: str, access_log: str | None,
                 level: str | None) -> dict[str, Any]:
    """What REST and HTTP API stages share (no logging level reported = ``OFF``)."""
    return {"api_id": api_id, "api_uid": api_uid, "stage_name": name,
            "access_log_destination": access_log, "execution_logging_level": level or "OFF"}


# --- REST APIs ---------------------------------------------------------------------------------


def fetch_rest_api(scope: RegionScope, api: Payload) -> list[Asset]:
    uid = _arn(scope, f"/restapis/{api['id']}")
    resources = scope.paginate("apigateway", "GetResources", "items", (f"{REST_API}#methods",),
                               uid, restApiId=api["id"], embed=["methods"])
    stages = scope.call("apigateway", "GetStages", (STAGE,), uid, restApiId=api["id"])
    out = [normalize_rest_api(scope, uid, api, resources)]
    for stage in sorted((stages or {}).get("item") or [], key=lambda s: str(s["stageName"])):
        out.append(normalize_stage(scope, uid, api, stage))
    return out


def rest_methods(resources: list[Payload] | None) -> list[dict[str, Any]] | None:
    if resources is None:
        return None
    out = []
    for res in resources:
        for verb, method in sorted((res.get("resourceMethods") or {}).items()):
            out.append({
                "path": res.get("path"),
                "http_method": method.get("httpMethod") or verb,
                "authorization_type": method.get("authorizationType"),
                "authorizer_id": method.get("authorizerId"),
                "api_key_required": bool(method.get("apiKeyRequired")),
            })
    return sorted(out, key=lambda m: (str(m["path"]), str(m["http_method"])))


def rest_api_policy(text: Any) -> dict[str, Any] | None:
    """A REST API's resource policy: AWS returns the document JSON-escaped once more (quotes
    and the slashes of CIDRs backslash-escaped), so unescape it when it does not parse as is."""
    if not text:
        return None
    parsed = parse_policy(text)
    if parsed is None or "Unparsed" not in parsed:
        return parsed
    try:
        return parse_policy(json.loads(f'"{text}"'))
    except ValueError:
        return parsed


def normalize_rest_api(scope: RegionScope, uid: str, api: Payload,
                       resources: list[Payload] | None) -> Asset:
    endpoint: Payload = api.get("endpointConfiguration") or {}
    policy = rest_api_policy(api.get("policy"))
    attrs = {
        "api_id": api["id"],
        "api_name": api.get("name"),
        "endpoint_types": sorted(str(t) for t in endpoint.get("types") or []),
        "vpc_endpoint_ids": sorted(str(v) for v in endpoint.get("vpcEndpointIds") or []),
        "disable_execute_api_endpoint": bool(api.get("disableExecuteApiEndpoint")),
        "policy": policy,
        "policy_present": policy is not None,
        "methods": rest_methods(resources),
    }
    tags = _tags(api.get("tags"))
    return scope.asset(uid, REST_API, str(api.get("name") or api["id"]), attrs, raw=api,
                       tags=tags)


def normalize_stage(scope: RegionScope, api_uid: str, api: Payload, stage: Payload) -> Asset:
    settings: Payload = (stage.get("methodSettings") or {}).get("*/*") or {}
    access: Payload = stage.get("accessLogSettings") or {}
    attrs = {
        **_stage_attrs(api["id"], api_uid, stage["stageName"], access.get("destinationArn"),
                       settings.get("loggingLevel")),
        "data_trace_enabled": bool(settings.get("dataTraceEnabled")),
        "tracing_enabled": bool(stage.get("tracingEnabled")),
        "web_acl_arn": stage.get("webAclArn"),
        "client_certificate_id": stage.get("clientCertificateId"),
        "cache_cluster_enabled": bool(stage.get("cacheClusterEnabled")),
    }
    name = f"{api.get('name') or api['id']}/{stage['stageName']}"
    tags = _tags(stage.get("tags"))
    return scope.asset(f"{api_uid}/stages/{stage['stageName']}", STAGE, name, attrs, raw=stage,
                       tags=tags)


# --- HTTP and WebSocket APIs -------------------------------------------------------------------


def fetch_http_api(scope: RegionScope, api: Payload) -> list[Asset]:
    uid = _arn(scope, f"/apis/{api['ApiId']}")
    routes = scope.paginate("apigatewayv2", "GetRoutes", "Items", (f"{HTTP_API}#routes",), uid,
                            ApiId=api["ApiId"])
    stages = scope.paginate("apigatewayv2", "GetStages", "Items", (HTTP_STAGE,), uid,
                            ApiId=api["ApiId"])
    out = [normalize_http_api(scope, uid, api, routes)]
    for stage in sorted(stages or [], key=lambda s: str(s["StageName"])):
        out.append(normalize_http_stage(scope, uid, api, stage))
    return out


def normalize_http_api(scope: RegionScope, uid: str, api: Payload,
                       routes: list[Payload] | None) -> Asset:
    listed = None if routes is None else sorted(
        ({"route_key": r.get("RouteKey"), "authorization_type": r.get("AuthorizationType"),
          "authorizer_id": r.get("AuthorizerId"), "api_key_required": bool(r.get(
              "ApiKeyRequired"))} for r in routes), key=lambda r: str(r["route_key"]))
    attrs = {
        "api_id": api["ApiId"],
        "api_name": api.get("Name"),
        "protocol_type": api.get("ProtocolType"),
        "api_endpoint": api.get("ApiEndpoint"),
        "disable_execute_api_endpoint": bool(api.get("DisableExecuteApiEndpoint")),
        "routes": listed,
    }
    tags = _tags(api.get("Tags"))
    return scope.asset(uid, HTTP_API, str(api.get("Name") or api["ApiId"]), attrs, raw=api,
                       tags=tags)


def normalize_http_stage(scope: RegionScope, api_uid: str, api: Payload, stage: Payload
                         ) -> Asset:
    access: Payload = stage.get("AccessLogSettings") or {}
    defaults: Payload = stage.get("DefaultRouteSettings") or {}
    attrs = {
        **_stage_attrs(api["ApiId"], api_uid, stage["StageName"], access.get("DestinationArn"),
                       defaults.get("LoggingLevel")),
        "auto_deploy": bool(stage.get("AutoDeploy")),
    }
    name = f"{api.get('Name') or api['ApiId']}/{stage['StageName']}"
    tags = _tags(stage.get("Tags"))
    return scope.asset(f"{api_uid}/stages/{stage['StageName']}", HTTP_STAGE, name, attrs,
                       raw=stage, tags=tags)


# --- custom domain names -----------------------------------------------------------------------


def collect_domains(scope: RegionScope) -> list[Asset]:
    found: dict[str, Asset] = {}
    v1 = scope.paginate("apigateway", "GetDomainNames", "items", (DOMAIN,))
    for d in v1 or []:
        policy = d.get("securityPolicy")
        endpoint: Payload = d.get("endpointConfiguration") or {}
        found[str(d["domainName"])] = normalize_domain(
            scope, str(d["domainName"]), [policy] if policy else [],
            [str(t) for t in endpoint.get("types") or []], d)
    v2 = scope.paginate("apigatewayv2", "GetDomainNames", "Items", (DOMAIN,))
    for d in v2 or []:
        name = str(d["DomainName"])
        if name in found:
            continue
        configs: list[Payload] = d.get("DomainNameConfigurations") or []
        found[name] = normalize_domain(
            scope, name, [str(c["SecurityPolicy"]) for c in configs if c.get("SecurityPolicy")],
            [str(c["EndpointType"]) for c in configs if c.get("EndpointType")], d)
    return [found[name] for name in sorted(found)]


def normalize_domain(scope: RegionScope, name: str, policies: list[str], endpoint_types:
                     list[str], raw: Payload) -> Asset:
    attrs = {
        "domain_name": name,
        "security_policies": sorted(set(policies)),
        "endpoint_types": sorted(set(endpoint_types)),
    }
    tags = _tags(raw.get("tags") or raw.get("Tags"))
    return scope.asset(_arn(scope, f"/domainnames/{name}"), DOMAIN, name, attrs, raw=raw,
                       tags=tags)
