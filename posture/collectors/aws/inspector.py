"""Amazon Inspector in one region: whether it scans EC2, ECR and Lambda (BatchGetAccountStatus),
what it actually covers (ListCoverage) and its open critical and high findings summarised per
resource (ListFindings); attrs as in ``docs/aws-assets.md``.

Summaries only: per resource the counts and the oldest ``firstObservedAt`` per severity, never a
CVE list. Coverage is read for instances, functions and repositories (not per image: a registry
holds thousands). Where Inspector is off, coverage and findings are known to be empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from posture.collectors.aws.base import Payload, RegionScope
from posture.model import Asset
from posture.snapshot import jsonable
from posture.values import parse_time

STATUS = "AWS::Inspector2::AccountStatus"
COVERAGE_TYPES = ("AWS_EC2_INSTANCE", "AWS_LAMBDA_FUNCTION", "AWS_ECR_REPOSITORY")
LISTED_UNCOVERED = ("AWS_EC2_INSTANCE", "AWS_LAMBDA_FUNCTION")
SEVERITIES = ("CRITICAL", "HIGH")
SCANS = {"ec2": "ec2", "ecr": "ecr", "lambda": "lambda", "lambdaCode": "lambda_code"}

PERMISSIONS: tuple[str, ...] = (
    "inspector2:BatchGetAccountStatus", "inspector2:ListCoverage", "inspector2:ListFindings",
)


def collect(scope: RegionScope) -> list[Asset]:
    answer = scope.call("inspector2", "BatchGetAccountStatus", (STATUS,),
                        accountIds=[scope.account])
    if answer is None:
        return []
    state = account_state(scope, answer)
    if state is None:
        return []
    scans = {name: (state.get("resourceState") or {}).get(key, {}).get("status")
             for key, name in SCANS.items()}
    on = "ENABLED" in scans.values()
    coverage = fetch_coverage(scope) if on else []
    findings = fetch_findings(scope) if on else []
    return [normalize_status(scope, state, scans, coverage, findings)]


# --- fetch -------------------------------------------------------------------------------------


def account_state(scope: RegionScope, answer: Payload) -> Payload | None:
    """This account's entry of a BatchGetAccountStatus answer (a failed or missing entry is
    recorded: the status is unknown)."""
    for entry in answer.get("accounts") or []:
        if entry.get("accountId") == scope.account:
            return dict(entry)
    failed = [f for f in answer.get("failedAccounts") or [] if f.get("accountId") == scope.account]
    code = str(failed[0].get("errorCode")) if failed else "AccountStatusMissing"
    message = str(failed[0].get("errorMessage")) if failed else "the account was not in the answer"
    scope.record("inspector2", "BatchGetAccountStatus", code, message, (STATUS,))
    return None


def fetch_coverage(scope: RegionScope) -> list[Payload] | None:
    criteria = {"resourceType": [{"comparison": "EQUALS", "value": t} for t in COVERAGE_TYPES]}
    return scope.paginate("inspector2", "ListCoverage", "coveredResources",
                          (f"{STATUS}#coverage",), filterCriteria=criteria)


def fetch_findings(scope: RegionScope) -> list[Payload] | None:
    criteria = {
        "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
        "severity": [{"comparison": "EQUALS", "value": s} for s in SEVERITIES],
    }
    return scope.paginate("inspector2", "ListFindings", "findings", (f"{STATUS}#findings",),
                          filterCriteria=criteria)


# --- normalize ---------------------------------------------------------------------------------


def status_uid(scope: RegionScope) -> str:
    return scope.arn("inspector2", "account-status")


def normalize_status(
    scope: RegionScope,
    state: Payload,
    scans: dict[str, Any],
    coverage: list[Payload] | None,
    findings: list[Payload] | None,
) -> Asset:
    attrs = {
        "status": (state.get("state") or {}).get("status"),
        "scans": scans,
        "coverage": None if coverage is None else coverage_counts(coverage),
        "uncovered": None if coverage is None else uncovered(coverage),
        "findings": None if findings is None else finding_summaries(findings),
    }
    return scope.asset(status_uid(scope), STATUS, f"inspector2 {scope.region}", attrs,
                       raw={"state": state})


def coverage_counts(resources: Iterable[Payload]) -> dict[str, dict[str, int]]:
    """resource type -> scan status code (ACTIVE / INACTIVE) -> count."""
    counts: dict[str, dict[str, int]] = {}
    for r in resources:
        code = str((r.get("scanStatus") or {}).get("statusCode") or "UNKNOWN")
        per_type = counts.setdefault(str(r.get("resourceType")), {})
        per_type[code] = per_type.get(code, 0) + 1
    return {t: dict(sorted(c.items())) for t, c in sorted(counts.items())}


def uncovered(resources: Iterable[Payload]) -> list[dict[str, Any]]:
    """The instances and functions Inspector lists but does not scan, with its reason."""
    out = [
        {"resource_id": str(r.get("resourceId")), "resource_type": r.get("resourceType"),
         "reason": (r.get("scanStatus") or {}).get("reason")}
        for r in resources
        if r.get("resourceType") in LISTED_UNCOVERED
        and (r.get("scanStatus") or {}).get("statusCode") == "INACTIVE"
    ]
    return sorted(out, key=lambda u: (str(u["resource_type"]), u["resource_id"]))


def finding_summaries(findings: Iterable[Payload]) -> list[dict[str, Any]]:
    """Per resource: the count and oldest ``firstObservedAt`` of its critical and high findings."""
    by_resource: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        severity = str(f.get("severity"))
        if severity not in SEVERITIES:
            continue
        first = jsonable(f.get("firstObservedAt"))
        for res in f.get("resources") or []:
            key = (str(res.get("type")), str(res.get("id")))
            row = by_resource.setdefault(key, {
                "resource_type": key[0], "resource_id": key[1], "critical": 0, "high": 0,
                "oldest_critical": None, "oldest_high": None})
            low = severity.lower()
            row[low] += 1
            when, oldest = parse_time(first), parse_time(row[f"oldest_{low}"])
            if when is not None and (oldest is None or when < oldest):
                row[f"oldest_{low}"] = first
    return [by_resource[k] for k in sorted(by_resource)]
