"""Lambda invocation surface against the moto server: the function URL and resource policy of a
function and of each alias. "None" (ResourceNotFoundException) is a known value; a refused call
is unknown and names the function.

moto ignores the Qualifier of GetFunctionUrlConfig and GetPolicy (an alias answers with the
function's own URL and policy), so the alias's answers are served through botocore's event
system in the shape AWS returns them (a URL of its own, no policy)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from support.aws import ACCOUNT, client
from support.collect import error_keys, scope
from support.faults import FakeHttp, refusals, refused_scope

from posture.collectors.aws import awslambda
from posture.collectors.aws.base import ClientFactory

R = "us-east-1"
HOOK = f"arn:aws:lambda:{R}:{ACCOUNT}:function:hook"
PLAIN = f"arn:aws:lambda:{R}:{ACCOUNT}:function:plain"
ALIAS_URL = "https://live0alias0url.lambda-url.us-east-1.on.aws/"


def _function(endpoint: str, name: str, role: str) -> None:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("h.py", "def h(e, c):\n    return 1\n")
    client("lambda", endpoint).create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                               Handler="h.h", Code={"ZipFile": code.getvalue()})


def _seed(endpoint: str) -> None:
    role = client("iam", endpoint).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")[
        "Role"]["Arn"]
    _function(endpoint, "hook", role)
    _function(endpoint, "plain", role)
    lam = client("lambda", endpoint)
    lam.create_function_url_config(FunctionName="hook", AuthType="NONE")
    lam.add_permission(FunctionName="hook", StatementId="FunctionURLAllowPublicAccess",
                       Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")


def _alias_answers(factory: ClientFactory) -> None:
    """Answer the ``live`` alias's URL and policy reads the way AWS does."""
    api = factory.client("lambda", R)

    def url(params: dict[str, Any], **_: Any) -> tuple[FakeHttp, dict[str, Any]] | None:
        if params.get("query_string", {}).get("Qualifier") != "live":
            return None
        return FakeHttp(200), {"FunctionUrl": ALIAS_URL, "FunctionArn": f"{HOOK}:live",
                               "AuthType": "AWS_IAM", "InvokeMode": "BUFFERED",
                               "CreationTime": "2026-01-01T00:00:00.000+0000",
                               "ResponseMetadata": {"HTTPStatusCode": 200}}

    def policy(params: dict[str, Any], **_: Any) -> tuple[FakeHttp, dict[str, Any]] | None:
        if params.get("query_string", {}).get("Qualifier") != "live":
            return None
        error = {"Code": "ResourceNotFoundException",
                 "Message": "The resource you requested does not exist."}
        return FakeHttp(404), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 404}}

    api.meta.events.register("before-call.lambda.GetFunctionUrlConfig", url)
    api.meta.events.register("before-call.lambda.GetPolicy", policy)


def test_urls_and_policies_of_functions_and_aliases(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    lam = client("lambda", moto_endpoint)
    lam.publish_version(FunctionName="hook")
    lam.create_alias(FunctionName="hook", Name="live", FunctionVersion="1")
    sc = scope(moto_endpoint, region=R)
    _alias_answers(sc.clients)
    found = {a.uid: a for a in awslambda.collect(sc)}
    assert sc.errors == []
    hook, plain = found[HOOK].attrs, found[PLAIN].attrs
    assert hook["aliases"] == ["live"]
    own, live = hook["invoke_targets"]
    assert (own["qualifier"], own["arn"], own["url_present"], own["url_auth_type"],
            own["policy_present"]) == (None, HOOK, True, "NONE", True)
    assert own["url"].startswith("https://")
    [stmt] = own["policy"]["Statement"]
    assert (stmt["Action"], stmt["Principal"]) == ("lambda:InvokeFunctionUrl", "*")
    assert (live["qualifier"], live["arn"], live["url"], live["url_auth_type"],
            live["policy_present"], live["policy"]) == (
        "live", f"{HOOK}:live", ALIAS_URL, "AWS_IAM", False, None)
    assert plain["aliases"] == []
    [none] = plain["invoke_targets"]
    assert (none["url_present"], none["url"], none["policy_present"]) == (False, None, False)


def test_refused_reads_are_unknown_not_absent(moto_endpoint: str) -> None:
    _seed(moto_endpoint)
    sc = refused_scope(moto_endpoint, "lambda", "GetPolicy", "ListAliases")
    found = {a.uid: a for a in awslambda.collect(sc)}
    [own] = found[HOOK].attrs["invoke_targets"]
    assert (found[HOOK].attrs["aliases"], own["url_present"], own["policy_present"]) == (
        None, True, None)
    assert error_keys(sc.errors) == (
        refusals("lambda", "GetPolicy", ("AWS::Lambda::Function#policy",), [HOOK, PLAIN])
        | refusals("lambda", "ListAliases", ("AWS::Lambda::Function#aliases",), [HOOK, PLAIN]))
