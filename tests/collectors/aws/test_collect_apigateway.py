"""API Gateway collector against the moto server: REST APIs with their methods (authorization,
API keys), resource policy and stages (access and execution logging), HTTP APIs with routes and
stages, custom domain names of both APIs; a refused GetResources leaves the methods unknown."""

from __future__ import annotations

import json

from support.aws import client
from support.collect import error_keys, scope
from support.faults import refusals, refused_scope

from posture.collectors.aws import apigateway
from posture.collectors.aws.apigateway import rest_api_policy

R = "us-east-1"
LOG = "arn:aws:logs:us-east-1:123456789012:log-group:api"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
    "Resource": "execute-api:/*",
    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}


def _seed(endpoint: str) -> tuple[str, str]:
    ag = client("apigateway", endpoint)
    api = ag.create_rest_api(name="shop", endpointConfiguration={"types": ["REGIONAL"]},
                             policy=json.dumps(POLICY))["id"]
    root = ag.get_resources(restApiId=api)["items"][0]["id"]
    items = ag.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    for verb, auth, key in (("GET", "NONE", False), ("POST", "AWS_IAM", False),
                            ("PUT", "NONE", True)):
        ag.put_method(restApiId=api, resourceId=items, httpMethod=verb, authorizationType=auth,
                      apiKeyRequired=key)
    ag.put_integration(restApiId=api, resourceId=items, httpMethod="GET", type="MOCK")
    ag.create_deployment(restApiId=api, stageName="prod")
    ag.create_deployment(restApiId=api, stageName="dev")
    ag.update_stage(restApiId=api, stageName="prod", patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"},
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": LOG}])
    ag.create_domain_name(domainName="api.example.com", securityPolicy="TLS_1_0",
                          regionalCertificateArn="arn:aws:acm:us-east-1:123456789012:"
                          "certificate/c-1", endpointConfiguration={"types": ["REGIONAL"]})
    v2 = client("apigatewayv2", endpoint)
    http = v2.create_api(Name="hooks", ProtocolType="HTTP")["ApiId"]
    v2.create_route(ApiId=http, RouteKey="POST /hook", AuthorizationType="NONE")
    v2.create_route(ApiId=http, RouteKey="GET /me", AuthorizationType="JWT", AuthorizerId="a1")
    v2.create_stage(ApiId=http, StageName="$default")
    v2.create_domain_name(DomainName="hooks.example.com", DomainNameConfigurations=[{
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/c-2",
        "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}])
    return api, http


def test_apis_methods_stages_and_domains(moto_endpoint: str) -> None:
    api, http = _seed(moto_endpoint)
    sc = scope(moto_endpoint, region=R)
    found = {a.uid: a for a in apigateway.collect(sc)}
    assert sc.errors == []
    rest_uid = f"arn:aws:apigateway:{R}::/restapis/{api}"
    rest = found[rest_uid].attrs
    assert (rest["endpoint_types"], rest["policy"], rest["policy_present"]) == (
        ["REGIONAL"], POLICY, True)
    assert [(m["path"], m["http_method"], m["authorization_type"], m["api_key_required"])
            for m in rest["methods"]] == [
        ("/items", "GET", "NONE", False), ("/items", "POST", "AWS_IAM", False),
        ("/items", "PUT", "NONE", True)]
    prod, dev = found[f"{rest_uid}/stages/prod"], found[f"{rest_uid}/stages/dev"]
    assert (prod.name, prod.attrs["access_log_destination"],
            prod.attrs["execution_logging_level"]) == ("shop/prod", LOG, "ERROR")
    assert (dev.attrs["access_log_destination"], dev.attrs["execution_logging_level"]) == (
        None, "OFF")
    http_uid = f"arn:aws:apigateway:{R}::/apis/{http}"
    assert [(r["route_key"], r["authorization_type"]) for r in found[http_uid].attrs["routes"]] \
        == [("GET /me", "JWT"), ("POST /hook", "NONE")]
    assert found[f"{http_uid}/stages/$default"].type == apigateway.HTTP_STAGE
    domains = {a.name: a.attrs["security_policies"] for a in found.values()
               if a.type == apigateway.DOMAIN}
    assert domains == {"api.example.com": ["TLS_1_0"], "hooks.example.com": ["TLS_1_2"]}


def test_refused_get_resources_leaves_methods_unknown(moto_endpoint: str) -> None:
    api, _ = _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "apigateway", "GetResources")
    rest_uid = f"arn:aws:apigateway:{R}::/restapis/{api}"
    found = {a.uid: a for a in apigateway.collect(sc)}
    assert found[rest_uid].attrs["methods"] is None
    assert error_keys(sc.errors) == refusals(
        "apigateway", "GetResources", ("AWS::ApiGateway::RestApi#methods",), [rest_uid])


def test_rest_api_policy_as_aws_returns_it() -> None:
    """AWS escapes the policy document once more (quotes and the slashes of CIDRs)."""
    escaped = json.dumps(POLICY, separators=(",", ":")).replace('"', '\\"').replace("/", "\\/")
    assert rest_api_policy(escaped) == POLICY
    assert rest_api_policy(json.dumps(POLICY)) == POLICY
    assert rest_api_policy(None) is None and rest_api_policy("") is None
