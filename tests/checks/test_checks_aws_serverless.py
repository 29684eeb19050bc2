"""aws.serverless.*: Lambda resource policies and function URLs evaluated by the IAM evaluator
(traps: a URL with AuthType NONE whose policy grants no one; the console's URL statement, whose
condition keeps it from opening the Invoke API), API Gateway authorization (traps: OPTIONS, a
private API, a resource policy that admits only an office range), stage access logs and the TLS
minimum of custom domains — pass, fail and not collected."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import asset, collection_error, inventory
from support.aws_platforms import (
    FUNCTION_UID,
    REST_UID,
    URL_INVOKE,
    URL_PUBLIC,
    allow,
    execute_api,
    function,
    method,
    policy,
    rest_api,
    stage,
    target,
)
from support.cases import named
from support.checks import only, run_one

from posture.model import Severity, Status

INVOKE = "aws.serverless.lambda_not_publicly_invocable"
URL = "aws.serverless.lambda_function_url_not_public"
METHODS = "aws.serverless.apigateway_methods_authorized"
HOOK = "https://abc.lambda-url.us-east-1.on.aws/"
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
S3_TRIGGER = allow("lambda:InvokeFunction", {"Service": "s3.amazonaws.com"},
                   condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}})


@pytest.mark.parametrize(("targets", "status"), named([
    ("no-policy", [target()], Status.PASS),
    ("service-trigger", [target(doc=policy(S3_TRIGGER))], Status.PASS),
    ("anyone", [target(doc=policy(allow("lambda:InvokeFunction")))], Status.FAIL),
    ("anyone-on-an-alias", [target(), target("live", doc=policy(allow(
        "lambda:*", resource=f"{FUNCTION_UID}:live")))], Status.FAIL),
    ("pinned-to-organisation", [target(doc=policy(allow("lambda:InvokeFunction",
                                                        condition=ORG)))], Status.PASS),
    ("undecidable-condition", [target(doc=policy(allow(
        "lambda:InvokeFunction", condition={"StringEquals": {"aws:RequestTag/team": "a"}})))],
     Status.INCONCLUSIVE),
    # the console's function-URL statements do not open the Invoke API
    ("url-statements-only", [target(url=HOOK, auth="NONE", doc=policy(URL_PUBLIC, URL_INVOKE))],
     Status.PASS),
    ("policy-unknown", [target(policy_present=None)], Status.INCONCLUSIVE),
]))
def test_lambda_not_publicly_invocable(targets: list[dict[str, Any]], status: Status) -> None:
    found = only(run_one(INVOKE, inventory(function(*targets))))
    assert found.status == status, found.message


@pytest.mark.parametrize(("targets", "status", "severity"), named([
    ("no-url", [target()], Status.PASS, None),
    ("none-auth-public", [target(url=HOOK, auth="NONE", doc=policy(URL_PUBLIC, URL_INVOKE))],
     Status.FAIL, Severity.HIGH),
    ("none-auth-url-permission-only", [target(url=HOOK, auth="NONE", doc=policy(URL_PUBLIC))],
     Status.FAIL, Severity.HIGH),
    # the trap: AuthType NONE, but no statement grants anyone: the URL answers 403
    ("none-auth-no-grant", [target(url=HOOK, auth="NONE")], Status.PASS, None),
    ("iam-auth-console-statement", [target(url=HOOK, auth="AWS_IAM",
                                           doc=policy(URL_PUBLIC, URL_INVOKE))], Status.PASS, None),
    ("iam-auth-any-account", [target(url=HOOK, auth="AWS_IAM", doc=policy(allow(
        "lambda:InvokeFunctionUrl")))], Status.FAIL, Severity.MEDIUM),
    ("alias-url", [target(), target("live", url=HOOK, auth="NONE", doc=policy(allow(
        "lambda:InvokeFunctionUrl", resource=f"{FUNCTION_UID}:live")))],
     Status.FAIL, Severity.HIGH),
    ("url-unknown", [target(url_present=None)], Status.INCONCLUSIVE, None),
]))
def test_function_url_not_public(targets: list[dict[str, Any]], status: Status,
                                 severity: Severity | None) -> None:
    found = only(run_one(URL, inventory(function(*targets))))
    assert found.status == status, found.message
    if severity is not None:
        assert found.severity == severity
    if status == Status.FAIL and severity == Severity.HIGH:
        assert "accepts unauthenticated requests from anyone on the internet" in found.message


def test_url_evidence_says_whether_invoke_function_is_granted() -> None:
    found = only(run_one(URL, inventory(function(target(url=HOOK, auth="NONE",
                                                        doc=policy(URL_PUBLIC))))))
    [url] = found.evidence["urls"]
    assert (url["invoke_function_url"]["decision"], url["invoke_function"]["decision"]) == (
        "allowed", "implicit-deny")


def test_alias_listing_failure_makes_lambda_checks_inconclusive() -> None:
    gap = collection_error("lambda", "ListAliases", ("AWS::Lambda::Function#aliases",),
                           resource_uid=FUNCTION_UID)
    inv = inventory(function(target(), aliases=None), errors=(gap,))
    assert only(run_one(INVOKE, inv)).status == Status.INCONCLUSIVE
    assert only(run_one(URL, inv)).status == Status.INCONCLUSIVE


OFFICE_ONLY = policy(allow("execute-api:Invoke", resource=execute_api(),
                           condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
PROD_OPEN = policy(allow("execute-api:Invoke", resource=execute_api("prod")))


@pytest.mark.parametrize(("api", "stages", "status"), named([
    ("all-authorized", rest_api([method("GET", auth="AWS_IAM"), method("OPTIONS")]), ["prod"],
     Status.PASS),
    ("open-get", rest_api([method("GET"), method("POST", auth="COGNITO_USER_POOLS")]), ["prod"],
     Status.FAIL),
    ("api-key-is-not-auth", rest_api([method("GET", key=True)]), ["prod"], Status.FAIL),
    ("private-api", rest_api([method("GET")], endpoint="PRIVATE"), ["prod"], Status.PASS),
    ("office-only-policy", rest_api([method("GET")], OFFICE_ONLY), ["prod"], Status.PASS),
    ("policy-open-on-prod", rest_api([method("ANY", "/{proxy+}")], PROD_OPEN), ["dev", "prod"],
     Status.FAIL),
    ("policy-open-on-another-stage", rest_api([method("GET")], PROD_OPEN), ["dev"], Status.PASS),
    ("not-deployed", rest_api([method("GET")]), [], Status.PASS),
    ("methods-unknown", rest_api(None), ["prod"], Status.INCONCLUSIVE),
]))
def test_rest_methods_authorized(api: Any, stages: list[str], status: Status) -> None:
    found = only(run_one(METHODS, inventory(api, *(stage(s) for s in stages))))
    assert found.status == status, found.message


def test_stage_listing_failure_leaves_rest_methods_unverified() -> None:
    gap = collection_error("apigateway", "GetStages", ("AWS::ApiGateway::Stage",),
                           resource_uid=REST_UID)
    found = only(run_one(METHODS, inventory(rest_api([method("GET", auth="AWS_IAM")]),
                                            errors=(gap,))))
    assert found.status == Status.INCONCLUSIVE


def _http(routes: list[dict[str, Any]] | None, protocol: str = "HTTP") -> Any:
    return asset("AWS::ApiGatewayV2::Api", "arn:aws:apigateway:us-east-1::/apis/h1",
                 name="hooks", api_id="h1", protocol_type=protocol, routes=routes)


def _route(key: str, auth: str = "NONE") -> dict[str, Any]:
    return {"route_key": key, "authorization_type": auth, "authorizer_id": None,
            "api_key_required": False}


@pytest.mark.parametrize(("api", "status"), named([
    ("jwt", _http([_route("GET /x", "JWT"), _route("OPTIONS /x")]), Status.PASS),
    ("open-route", _http([_route("POST /hook")]), Status.FAIL),
    ("websocket-connect-authorized", _http([_route("$connect", "AWS_IAM"), _route("$default")],
                                           "WEBSOCKET"), Status.PASS),
    ("routes-unknown", _http(None), Status.INCONCLUSIVE),
]))
def test_http_routes_authorized(api: Any, status: Status) -> None:
    assert only(run_one(METHODS, inventory(api))).status == status


def test_stage_access_logging() -> None:
    http_uid = "arn:aws:apigateway:us-east-1::/apis/h1"
    logged = stage("prod", "arn:aws:logs:us-east-1:123456789012:log-group:api")
    silent = stage("dev")
    v2 = stage("$default", api_uid=http_uid, type_="AWS::ApiGatewayV2::Stage")
    found = {f.resource_name: f for f in run_one("aws.serverless.apigateway_stage_access_logging",
                                                 inventory(logged, silent, v2))}
    assert found["shop-api/prod"].status == Status.PASS
    assert found["shop-api/dev"].status == Status.FAIL
    assert "execution logging INFO" in found["shop-api/dev"].message
    assert found["shop-api/$default"].status == Status.FAIL
    gap = collection_error("apigateway", "GetRestApis",
                           ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage"))
    after = run_one("aws.serverless.apigateway_stage_access_logging",
                    inventory(logged, errors=(gap,)))
    assert Status.PASS not in {f.status for f in after}


@pytest.mark.parametrize(("policies", "status"), named([
    ("tls12", ["TLS_1_2"], Status.PASS),
    ("tls13-enhanced", ["SecurityPolicy_TLS13_1_2_2021_06"], Status.PASS),
    ("tls10", ["TLS_1_0"], Status.FAIL),
    ("unknown-name", ["SecurityPolicy_Custom"], Status.INCONCLUSIVE),
    ("none-reported", [], Status.INCONCLUSIVE),
]))
def test_domain_tls_minimum(policies: list[str], status: Status) -> None:
    dom = asset("AWS::ApiGateway::DomainName",
                "arn:aws:apigateway:us-east-1::/domainnames/api.example.com",
                name="api.example.com", domain_name="api.example.com",
                security_policies=policies, endpoint_types=["REGIONAL"])
    found = only(run_one("aws.serverless.apigateway_domain_tls12", inventory(dom)))
    assert found.status == status
