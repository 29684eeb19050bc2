"""Lambda functions: environment variables scanned for plaintext secrets, and who may invoke
them — function URLs and resource policies, of the function and of each alias (attrs as in
``docs/aws-assets.md``).

ListFunctions returns each function's environment in clear text. Only the detector's verdicts
(``environment_secrets``) and the variable names are kept; every value is redacted from ``raw``.

Per function, concurrently: ListAliases, then GetFunctionUrlConfig and GetPolicy for the
unqualified function and for each alias (a URL or a permission on an alias is its own).
``ResourceNotFoundException`` from those two means "none", a known value.
"""

from __future__ import annotations

from posture.collectors.aws.base import (
    Payload,
    RegionScope,
    parallel_map,
    parse_policy,
    protect_logs,
)
from posture.collectors.secrets import redact_variables, scan_variables
from posture.model import Asset

FUNCTION = "AWS::Lambda::Function"
_NONE = ("ResourceNotFoundException",)

PERMISSIONS: tuple[str, ...] = (
    "lambda:ListFunctions", "lambda:ListAliases", "lambda:GetFunctionUrlConfig",
    "lambda:GetPolicy",
)


def collect(scope: RegionScope) -> list[Asset]:
    protect_logs()
    functions = scope.paginate("lambda", "ListFunctions", "Functions", (FUNCTION,))
    ordered = sorted(functions or [], key=lambda f: str(f["FunctionArn"]))
    access = parallel_map(lambda f: fetch_access(scope, f), ordered)
    return [normalize_function(scope, f, a) for f, a in zip(ordered, access, strict=True)]


# --- fetch -------------------------------------------------------------------------------------


def fetch_access(scope: RegionScope, function: Payload) -> Payload:
    """``{"aliases": [names] | None, "targets": [...]}``: the URL and policy answers of the
    function and of each alias (``None`` = the call failed)."""
    uid, name = str(function["FunctionArn"]), str(function["FunctionName"])
    listed = scope.paginate("lambda", "ListAliases", "Aliases", (f"{FUNCTION}#aliases",), uid,
                            FunctionName=name)
    aliases = None if listed is None else sorted(str(a["Name"]) for a in listed)
    targets = []
    for qualifier in [None, *(aliases or [])]:
        extra = {} if qualifier is None else {"Qualifier": qualifier}
        url = scope.call("lambda", "GetFunctionUrlConfig", (f"{FUNCTION}#url",), uid,
                         ok_codes=_NONE, FunctionName=name, **extra)
        policy = scope.call("lambda", "GetPolicy", (f"{FUNCTION}#policy",), uid,
                            ok_codes=_NONE, FunctionName=name, **extra)
        targets.append({"qualifier": qualifier, "url": url, "policy": policy})
    return {"aliases": aliases, "targets": targets}


# --- normalize ---------------------------------------------------------------------------------


def invoke_target(function_arn: str, answers: Payload) -> Payload:
    """One invocable target (the function or an alias): its URL and resource policy."""
    qualifier = answers.get("qualifier")
    url, policy = answers.get("url"), answers.get("policy")
    url_present = None if url is None else "__error_code__" not in url
    policy_present = None if policy is None else "__error_code__" not in policy
    return {
        "qualifier": qualifier,
        "arn": function_arn if qualifier is None else f"{function_arn}:{qualifier}",
        "url_present": url_present,
        "url": (url or {}).get("FunctionUrl") if url_present else None,
        "url_auth_type": (url or {}).get("AuthType") if url_present else None,
        "policy_present": policy_present,
        "policy": parse_policy((policy or {}).get("Policy")) if policy_present else None,
    }


def normalize_function(scope: RegionScope, function: Payload, access: Payload | None = None
                       ) -> Asset:
    env = function.get("Environment") or {}
    variables = env.get("Variables") or {}
    vpc = function.get("VpcConfig") or {}
    arn = str(function["FunctionArn"])
    access = access or {"aliases": None, "targets": []}
    attrs = {
        "arn": arn,
        "function_name": function.get("FunctionName"),
        "runtime": function.get("Runtime"),
        "role_arn": function.get("Role"),
        "kms_key_arn": function.get("KMSKeyArn"),
        "vpc_id": vpc.get("VpcId") or None,
        "environment_variable_names": sorted(str(k) for k in variables),
        "environment_secrets": scan_variables(variables, scope.account),
        "aliases": access["aliases"],
        "invoke_targets": [invoke_target(arn, t) for t in access["targets"]],
    }
    raw = {**function}
    if "Environment" in raw:
        raw["Environment"] = {**env, "Variables": redact_variables(variables)}
    name = str(function.get("FunctionName") or arn)
    return scope.asset(arn, FUNCTION, name, attrs, raw=raw)
