"""Cloud Functions (v2 API, discovery client): every function of the project, 1st and 2nd gen,
in all locations (``locations/-``; locations the listing reports ``unreachable`` are recorded as
errors), with its runtime, trigger, ingress and HTTPS settings, identity and environment
(scanned for plaintext secrets, values replaced in ``raw``), and each function's IAM policy.

Who may invoke a 2nd gen function is decided by the Cloud Run service that runs it
(``run_service``, read by ``run.py``: ``roles/run.invoker``); the function's own policy decides
for 1st gen functions (``roles/cloudfunctions.invoker``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, last, parallel_map
from posture.collectors.gcp.listing import iam_bindings, listing, segment_after
from posture.collectors.secrets import redact_variables, scan_values
from posture.gcp import FUNCTION
from posture.model import Asset

SERVICE = "cloudfunctions"
PERMISSIONS = ("cloudfunctions.functions.getIamPolicy", "cloudfunctions.functions.list")


def uid(name: str) -> str:
    return f"//cloudfunctions.googleapis.com/{name}"


def _fns(scope: ProjectScope) -> Any:
    return scope.clients.discovery("cloudfunctions", "v2").projects().locations().functions()


def collect(scope: ProjectScope) -> list[Asset]:
    found = listing(scope, lambda: _fns(scope), "functions", service=SERVICE,
                    operation="functions.list", asset_types=(FUNCTION,),
                    parent=f"projects/{scope.project}/locations/-")
    for where in (found.extra or {}).get("unreachable") or ():
        scope.record(SERVICE, "functions.list", "UNAVAILABLE",
                     f"the listing could not reach {where}", (FUNCTION,), region=last(str(where)))

    def one(fn: dict[str, Any]) -> Asset:
        name = str(fn["name"])
        policy = iam_bindings(scope, lambda: _fns(scope), name, service=SERVICE,
                              operation="functions.getIamPolicy", facet=f"{FUNCTION}#iam_policy",
                              resource_uid=uid(name), region=_region(name))
        return normalize_function(scope, fn, policy)

    return parallel_map(one, found.found)


def _region(name: str) -> str:
    return segment_after(name, "locations")


def run_service_key(service: str | None) -> str | None:
    """``projects/P/locations/R/services/S`` → ``R/S`` (the project may be an id or a number)."""
    if not service or "/services/" not in service:
        return None
    return f"{_region(service)}/{last(service)}"


def normalize_function(scope: ProjectScope, fn: Mapping[str, Any],
                       policy: list[dict[str, Any]] | None) -> Asset:
    svc = fn.get("serviceConfig") or {}
    build = fn.get("buildConfig") or {}
    trigger = fn.get("eventTrigger") or {}
    env = {str(k): str(v) for k, v in (svc.get("environmentVariables") or {}).items()}
    build_env = {str(k): str(v) for k, v in (build.get("environmentVariables") or {}).items()}
    generation = fn.get("environment") or "GEN_1"
    name = str(fn["name"])
    attrs = {
        "function_name": last(name),
        "region": _region(name),
        "environment": generation,
        "state": fn.get("state"),
        "runtime": build.get("runtime"),
        "url": fn.get("url") or svc.get("uri"),
        "http_trigger": not trigger,
        "event_type": trigger.get("eventType"),
        "ingress": svc.get("ingressSettings") or "ALLOW_ALL",
        # 2nd gen serves HTTPS only; 1st gen's default is SECURE_OPTIONAL (HTTP accepted)
        "security_level": "SECURE_ALWAYS" if generation == "GEN_2"
        else (svc.get("securityLevel") or "SECURE_OPTIONAL"),
        "run_service": run_service_key(svc.get("service")),
        "service_account": svc.get("serviceAccountEmail"),
        "kms_key_name": fn.get("kmsKeyName"),
        "docker_registry": build.get("dockerRegistry"),
        "env_names": sorted(env),
        "secret_env_names": sorted(str(s.get("key")) for s in svc.get("secretEnvironmentVariables")
                                   or ()),
        "env_secrets": scan_values({**{f"build:{k}": v for k, v in build_env.items()}, **env},
                                   scope.project),
        "iam_bindings": policy,
    }
    raw = dict(fn)
    if env:
        raw["serviceConfig"] = {**svc, "environmentVariables": redact_variables(env)}
    if build_env:
        raw["buildConfig"] = {**build, "environmentVariables": redact_variables(build_env)}
    return scope.asset(uid(name), FUNCTION, str(attrs["function_name"]), attrs, raw,
                       region=str(attrs["region"]), tags=fn.get("labels") or {})
