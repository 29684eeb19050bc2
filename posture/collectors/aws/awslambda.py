"""Lambda functions with their environment variables scanned for plaintext secrets (attrs as in
``docs/aws-assets.md``).

ListFunctions returns each function's environment in clear text. Only the detector's verdicts
(``environment_secrets``) and the variable names are kept; every value is redacted from ``raw``.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, protect_logs
from posture.collectors.secrets import redact_variables, scan_variables
from posture.model import Asset

FUNCTION = "AWS::Lambda::Function"

PERMISSIONS: tuple[str, ...] = ("lambda:ListFunctions",)


def collect(scope: RegionScope) -> list[Asset]:
    protect_logs()
    functions = scope.paginate("lambda", "ListFunctions", "Functions", (FUNCTION,))
    return [normalize_function(scope, f) for f in functions or []]


def normalize_function(scope: RegionScope, function: Payload) -> Asset:
    env = function.get("Environment") or {}
    variables = env.get("Variables") or {}
    vpc = function.get("VpcConfig") or {}
    attrs = {
        "arn": function["FunctionArn"],
        "function_name": function.get("FunctionName"),
        "runtime": function.get("Runtime"),
        "role_arn": function.get("Role"),
        "kms_key_arn": function.get("KMSKeyArn"),
        "vpc_id": vpc.get("VpcId") or None,
        "environment_variable_names": sorted(str(k) for k in variables),
        "environment_secrets": scan_variables(variables, scope.account),
    }
    raw = {**function}
    if "Environment" in raw:
        raw["Environment"] = {**env, "Variables": redact_variables(variables)}
    name = str(function.get("FunctionName") or function["FunctionArn"])
    return scope.asset(str(function["FunctionArn"]), FUNCTION, name, attrs, raw=raw)
