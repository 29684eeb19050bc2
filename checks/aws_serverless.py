"""Serverless and API front doors on AWS: who may invoke Lambda functions (resource policies,
function URLs), whether API Gateway methods authenticate their callers, stage access logs, and
the TLS minimum of custom domain names. Resource policies are evaluated by posture's IAM policy
evaluator for an arbitrary outside principal, never matched as strings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from posture.engine import CheckContext, Result
from posture.iam.actions import catalogue
from posture.iam.conditions import ABSENT, Value
from posture.iam.evaluate import Decision, Verdict, world_verdict
from posture.iam.policy import parse_policy
from posture.model import Asset, Principle, Severity
from posture.registry import check

FUNCTION = "AWS::Lambda::Function"
REST_API = "AWS::ApiGateway::RestApi"
STAGE = "AWS::ApiGateway::Stage"
HTTP_API = "AWS::ApiGatewayV2::Api"
HTTP_STAGE = "AWS::ApiGatewayV2::Stage"
DOMAIN = "AWS::ApiGateway::DomainName"

_DIRECT: Mapping[str, Value] = {"lambda:functionurlauthtype": ABSENT,
                                "lambda:invokedviafunctionurl": ("false",)}


def world(document: Any, label: str, action: str, resource: str,
          context: Mapping[str, Value] | None = None) -> Verdict:
    """Whether an arbitrary outside principal may do ``action`` on ``resource`` under the
    resource policy ``document`` (``context``: request keys the caller cannot choose)."""
    cat = catalogue()
    return world_verdict(parse_policy(document, label, cat), action, resource, cat, context)


def _targets(fn: Asset) -> list[dict[str, Any]]:
    return list(fn.attr("invoke_targets") or [])


def _name(target: Mapping[str, Any], fn: Asset) -> str:
    return fn.name if not target.get("qualifier") else f"{fn.name}:{target['qualifier']}"


@check("aws.serverless.lambda_not_publicly_invocable", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{FUNCTION}#policy", f"{FUNCTION}#aliases"})
def lambda_not_publicly_invocable(ctx: CheckContext) -> Iterator[Result]:
    """No Lambda function or alias lets anyone invoke it through the Lambda API

    A resource-policy statement with Principal '*' and no condition that pins the caller lets
    every AWS account in the world run the function with its role's permissions, on your bill.
    Each policy (the function's and each alias's) is evaluated for an arbitrary outside principal
    calling Invoke directly; conditions that cannot be decided make the verdict inconclusive.
    Function URLs are judged by aws.serverless.lambda_function_url_not_public.

    Remediation: Remove the statement (`aws lambda remove-permission --function-name <f>
    --statement-id <sid>`) or re-add it with the caller named and a source condition
    (`--source-arn`, `--source-account`, `--principal-org-id`).
    """
    for fn in ctx.inventory.of(FUNCTION):
        targets = _targets(fn)
        if not targets or any(t.get("policy_present") is None for t in targets):
            yield ctx.unknown(fn, "resource policy unknown")
            continue
        open_, maybe = [], []
        for t in targets:
            if not t.get("policy_present"):
                continue
            v = world(t["policy"], f"{t['arn']}#policy", "lambda:InvokeFunction", t["arn"],
                      _DIRECT)
            entry = {"target": _name(t, fn), **v.evidence()}
            if v.allowed:
                open_.append(entry)
            elif v.decision == Decision.CONDITIONAL:
                maybe.append(entry)
        if open_:
            names = ", ".join(str(e["target"]) for e in open_)
            yield ctx.fail(fn, f"resource policy lets any AWS account invoke {names}",
                           public_grants=open_)
        elif maybe:
            yield ctx.unknown(fn, "resource policy may let anyone invoke it, under conditions "
                              "that cannot be decided", conditional_grants=maybe)
        else:
            yield ctx.passed(fn, "no resource policy lets anyone outside invoke it",
                             aliases=fn.attr("aliases"))


def _url_verdict(t: Mapping[str, Any]) -> tuple[Verdict, Verdict]:
    """(InvokeFunctionUrl, InvokeFunction through the URL) for an arbitrary caller of the URL."""
    if not t.get("policy_present"):
        none = Verdict(Decision.IMPLICIT_DENY)
        return none, none
    auth: Mapping[str, Value] = {"lambda:functionurlauthtype": (str(t.get("url_auth_type")),),
                                 "lambda:invokedviafunctionurl": ("true",)}
    label = f"{t['arn']}#policy"
    return (world(t["policy"], label, "lambda:InvokeFunctionUrl", t["arn"], auth),
            world(t["policy"], label, "lambda:InvokeFunction", t["arn"], auth))


@check("aws.serverless.lambda_function_url_not_public", Severity.HIGH,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE),
       reads={f"{FUNCTION}#url", f"{FUNCTION}#policy", f"{FUNCTION}#aliases"})
def lambda_function_url_not_public(ctx: CheckContext) -> Iterator[Result]:
    """No Lambda function URL accepts unauthenticated requests from anyone

    A function URL with AuthType NONE is an HTTPS endpoint on the internet; it answers anyone
    when the function's resource policy grants lambda:InvokeFunctionUrl to everyone (the policy
    the console adds). Without such a grant it answers 403, which passes. A URL with AuthType
    AWS_IAM whose policy grants everyone accepts any AWS account's signed requests (MEDIUM).
    Since October 2025 new URLs also need lambda:InvokeFunction; the evidence says whether the
    policy grants it, but a grant of InvokeFunctionUrl alone still fails (older URLs were allowed
    to keep working without it).

    Remediation: Switch the URL to AuthType AWS_IAM (`aws lambda update-function-url-config
    --auth-type AWS_IAM`) or delete it, and put a public API behind API Gateway or CloudFront
    with authentication, throttling and a WAF.
    """
    for fn in ctx.inventory.of(FUNCTION):
        targets = _targets(fn)
        if not targets or any(t.get("url_present") is None or t.get("policy_present") is None
                              for t in targets):
            yield ctx.unknown(fn, "function URL or resource policy unknown")
            continue
        urls = [t for t in targets if t.get("url_present")]
        if not urls:
            yield ctx.passed(fn, "no function URL")
            continue
        findings = []
        for t in urls:
            url_v, invoke_v = _url_verdict(t)
            findings.append((t, url_v, {"target": _name(t, fn), "url": t.get("url"),
                                        "auth_type": t.get("url_auth_type"),
                                        "invoke_function_url": url_v.evidence(),
                                        "invoke_function": invoke_v.evidence()}))
        yield _url_result(ctx, fn, findings)


def _url_result(ctx: CheckContext, fn: Asset,
                findings: Sequence[tuple[Mapping[str, Any], Verdict, dict[str, Any]]]) -> Result:
    urls = [e for _, _, e in findings]
    anonymous = [e for t, v, e in findings if v.allowed and t.get("url_auth_type") == "NONE"]
    signed = [e for t, v, e in findings if v.allowed and t.get("url_auth_type") != "NONE"]
    maybe = [e for _, v, e in findings if v.decision == Decision.CONDITIONAL]
    if anonymous:
        first = anonymous[0]
        return ctx.fail(fn, f"function URL {first['url']} ({first['target']}) accepts "
                        "unauthenticated requests from anyone on the internet", urls=urls)
    if signed:
        return ctx.fail_at(Severity.MEDIUM, fn, f"function URL {signed[0]['url']} accepts "
                           "IAM-signed requests from any AWS account", urls=urls)
    if maybe:
        return ctx.unknown(fn, "function URL may be open to anyone, under policy conditions that "
                           "cannot be decided", urls=urls)
    none = [e for e in urls if e["auth_type"] == "NONE"]
    if none:
        return ctx.passed(fn, f"function URL {none[0]['url']} has AuthType NONE but no policy "
                          "statement lets anyone invoke it (requests are refused)", urls=urls)
    return ctx.passed(fn, "function URLs require IAM-signed requests from named principals",
                      urls=urls)


# --- API Gateway -------------------------------------------------------------------------------


_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _method_decision(api: Asset, method: Mapping[str, Any], stages: Sequence[str]) -> Decision:
    """What the REST API's resource policy decides for an arbitrary caller of ``method`` on any
    deployed stage (the most open answer wins)."""
    if not api.attr("policy_present"):
        return Decision.ALLOWED
    path = re.sub(r"\{[^}]*\}", "posture-probe", str(method.get("path") or "/"))
    verb = str(method.get("http_method"))
    decisions = set()
    for stage in stages:
        for v in _VERBS if verb == "ANY" else (verb,):
            arn = (f"arn:aws:execute-api:{api.region}:{api.account}:{api.attr('api_id')}/"
                   f"{stage}/{v}{path}")
            decisions.add(world(api.attr("policy"), f"{api.uid}#policy", "execute-api:Invoke",
                                arn).decision)
    for d in (Decision.ALLOWED, Decision.CONDITIONAL):
        if d in decisions:
            return d
    return Decision.IMPLICIT_DENY


def _rest_open(ctx: CheckContext, api: Asset, stages: Sequence[str]) -> Result:
    methods = api.attr("methods")
    if methods is None:
        return ctx.unknown(api, "methods unknown")
    if "PRIVATE" in (api.attr("endpoint_types") or []):
        return ctx.passed(api, "private API: reachable only through interface VPC endpoints",
                          vpc_endpoint_ids=api.attr("vpc_endpoint_ids"))
    unauth = [m for m in methods
              if m.get("authorization_type") == "NONE" and m.get("http_method") != "OPTIONS"]
    if not unauth:
        return ctx.passed(api, f"all {len(methods)} method(s) require authorization")
    if not stages:
        return ctx.passed(api, "not deployed to any stage: no method is reachable",
                          method_count=len(methods))
    names = [f"{m['http_method']} {m['path']}" for m in unauth]
    verdicts = {n: _method_decision(api, m, stages) for m, n in zip(unauth, names, strict=True)}
    anyone = [n for n in names if verdicts[n] == Decision.ALLOWED]
    maybe = [n for n in names if verdicts[n] == Decision.CONDITIONAL]
    evidence = {"unauthenticated": names[:20], "method_count": len(methods), "stages": stages,
                "api_key_only": [n for m, n in zip(unauth, names, strict=True)
                                 if m.get("api_key_required")][:20]}
    if anyone:
        more = f" (+{len(anyone) - 5} more)" if len(anyone) > 5 else ""
        return ctx.fail(api, f"{len(anyone)} of {len(methods)} method(s) accept unauthenticated "
                        f"requests from anyone: {', '.join(anyone[:5])}{more}", **evidence)
    if maybe:
        return ctx.unknown(api, f"{len(maybe)} unauthenticated method(s) may be open to anyone, "
                           "under resource-policy conditions that cannot be decided", **evidence)
    return ctx.passed(api, f"{len(names)} method(s) without authorization, but the resource "
                      "policy admits no arbitrary caller", **evidence)


def _http_open(ctx: CheckContext, api: Asset) -> Result:
    routes = api.attr("routes")
    if routes is None:
        return ctx.unknown(api, "routes unknown")
    if api.attr("protocol_type") == "WEBSOCKET":
        routes = [r for r in routes if r.get("route_key") == "$connect"]
    unauth = [str(r.get("route_key")) for r in routes
              if r.get("authorization_type") in (None, "NONE")
              and not str(r.get("route_key")).startswith("OPTIONS ")]
    if unauth:
        return ctx.fail(api, f"{len(unauth)} of {len(routes)} route(s) accept unauthenticated "
                        f"requests from anyone: {', '.join(unauth[:5])}",
                        unauthenticated=unauth[:20], route_count=len(routes))
    return ctx.passed(api, f"all {len(routes)} route(s) require authorization")


@check("aws.serverless.apigateway_methods_authorized", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{REST_API}#methods", STAGE, f"{HTTP_API}#routes"})
def apigateway_methods_authorized(ctx: CheckContext) -> Iterator[Result]:
    """API Gateway methods and routes authenticate their callers

    A method with authorization NONE on a regional or edge API runs its backend for anyone on the
    internet; an API key is a usage-plan identifier, not authentication. A REST API's resource
    policy is evaluated for an arbitrary caller: one that admits only your ranges or VPC
    endpoints restricts the method; a private API is reachable only through VPC endpoints. CORS
    preflight (OPTIONS) is exempt; for WebSocket APIs only $connect is judged.

    Remediation: Attach an authorizer (IAM, Cognito, JWT or Lambda) to every method and route,
    or restrict the REST API with a resource policy (aws:SourceIp, aws:SourceVpce) or make it
    private.
    """
    stages: dict[str, list[str]] = {}
    for stage in ctx.inventory.of(STAGE):
        stages.setdefault(str(stage.attr("api_uid")), []).append(str(stage.attr("stage_name")))
    for api in ctx.inventory.of(REST_API):
        yield _rest_open(ctx, api, sorted(stages.get(api.uid, [])))
    for api in ctx.inventory.of(HTTP_API):
        yield _http_open(ctx, api)


@check("aws.serverless.apigateway_stage_access_logging", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={STAGE, HTTP_STAGE})
def apigateway_stage_access_logging(ctx: CheckContext) -> Iterator[Result]:
    """API Gateway stages write access logs

    The access log records every request: caller address, identity, method, status. Execution
    logs alone trace integrations for debugging and miss rejected calls, so they do not count.

    Remediation: Set an access-log destination on every stage (`aws apigateway update-stage
    --patch-operations op=replace,path=/accessLogSettings/destinationArn,value=<log group ARN>`,
    or AccessLogSettings on HTTP API stages).
    """
    for stage in ctx.inventory.of(STAGE, HTTP_STAGE):
        dest = stage.attr("access_log_destination")
        level = stage.attr("execution_logging_level")
        if dest:
            yield ctx.passed(stage, f"access logs go to {dest}", execution_logging_level=level)
        else:
            yield ctx.fail(stage, f"no access log (execution logging {level})",
                           execution_logging_level=level)


_POLICY_MIN = (re.compile(r"^TLS_1_(\d)$"), re.compile(r"^SecurityPolicy_TLS1\d_1_(\d)(_|$)"))


def tls_minimum(policy: str) -> str | None:
    """The lowest TLS version a custom-domain security policy accepts (``1.0``), by its name."""
    for rx in _POLICY_MIN:
        match = rx.match(policy)
        if match:
            return f"1.{match.group(1)}"
    return None


@check("aws.serverless.apigateway_domain_tls12", Severity.MEDIUM,
       (Principle.ENCRYPTION_IN_TRANSIT,), reads={DOMAIN})
def apigateway_domain_tls12(ctx: CheckContext) -> Iterator[Result]:
    """API Gateway custom domain names accept TLS 1.2 or newer only

    The security policy TLS_1_0 still negotiates TLS 1.0 and 1.1, deprecated (RFC 8996) and
    exposed to downgrade attacks. The minimum is read from the policy's name (TLS_1_0, TLS_1_2,
    SecurityPolicy_TLS13_1_2_…); a policy whose name does not say it is unknown. The default
    execute-api endpoint is not judged here.

    Remediation: Set the domain's security policy to TLS_1_2 or a TLS 1.3 policy (`aws apigateway
    update-domain-name --patch-operations op=replace,path=/securityPolicy,value=TLS_1_2`).
    """
    for domain in ctx.inventory.of(DOMAIN):
        policies = list(domain.attr("security_policies") or [])
        minimums = {p: tls_minimum(p) for p in policies}
        old = [p for p, m in minimums.items() if m is not None and m < "1.2"]
        unknown = [p for p, m in minimums.items() if m is None]
        if old:
            yield ctx.fail(domain, f"security policy {old[0]} accepts TLS "
                           f"{minimums[old[0]]} and newer", security_policies=policies)
        elif unknown or not policies:
            yield ctx.unknown(domain, f"cannot tell the TLS minimum of security policy "
                              f"{', '.join(unknown) or '(none reported)'}",
                              security_policies=policies)
        else:
            yield ctx.passed(domain, f"security policy {', '.join(policies)} requires TLS "
                             f"{min(m for m in minimums.values() if m)} or newer",
                             security_policies=policies)
