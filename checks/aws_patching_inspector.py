"""Amazon Inspector: it scans EC2, ECR and Lambda in every scanned region and covers the running
instances, and its open critical and high findings are fixed within their service level
(summaries per resource: counts and the oldest, never CVE lists). Ages are measured at the scan's
finish time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks.aws_patching import INSPECTOR, INSTANCE, days_since, running_instances

from posture.engine import CheckContext, Result, Subject
from posture.model import Asset, Principle, Severity
from posture.registry import check

REPOSITORY = "AWS::ECR::Repository"
FUNCTION = "AWS::Lambda::Function"
_PATCHING = (Principle.PATCHING,)
_WORKLOADS = {"ec2": ("running instance", INSTANCE), "ecr": ("repository", REPOSITORY),
              "lambda": ("function", FUNCTION), "lambda_code": ("function", FUNCTION)}


@check("aws.patching.inspector_enabled", Severity.HIGH, _PATCHING,
       reads={f"{INSPECTOR}#coverage", f"{INSTANCE}#listing"},
       params={"required_scans": ("ec2", "ecr", "lambda")})
def inspector_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Amazon Inspector scans EC2, ECR and Lambda in every scanned region and covers the instances

    Inspector is a regional service: a region where it is off has no vulnerability detection. Off
    where workloads of that kind run (instances, repositories, functions in the inventory): HIGH;
    off where none was seen: LOW (a workload created there tomorrow goes unscanned). On, but
    running instances it reports as not covered (no SSM agent, unsupported OS): MEDIUM — enabled
    is not covered. `required_scans` names the scan types required (`ec2`, `ecr`, `lambda`,
    `lambda_code`).

    Remediation: Activate Inspector in every region (from the delegated administrator for an
    organisation, with auto-enable for new accounts) with EC2, ECR and Lambda scanning; make the
    uncovered instances managed by Systems Manager or turn on agentless scanning.
    """
    required = [str(s) for s in ctx.param("required_scans")]
    statuses = {(s.account, s.region): s for s in ctx.inventory.of(INSPECTOR)}
    meta = ctx.inventory.meta
    for account in meta.accounts:
        for region in meta.regions:
            status = statuses.get((account, region))
            if status is None:
                uid = f"arn:aws:inspector2:{region}:{account}:account-status"
                yield ctx.unknown(Subject(uid, INSPECTOR, f"inspector2 {region}", account, region),
                                  "Inspector's status was not collected")
                continue
            yield _inspector_verdict(ctx, status, required)


def _inspector_verdict(ctx: CheckContext, status: Asset, required: list[str]) -> Result:
    scans = status.attr("scans") or {}
    off = [s for s in required if scans.get(s) != "ENABLED"]
    evidence = {"status": status.attr("status"), "scans": scans,
                "coverage": status.attr("coverage")}
    if off:
        counts = {s: _workloads(ctx, status, _WORKLOADS[s][1]) for s in off}
        seen = [f"{s} ({n} {_WORKLOADS[s][0]}{'s' if n != 1 else ''})" for s, n in counts.items()
                if n]
        if seen:
            return ctx.fail(status, f"Inspector does not scan {', '.join(seen)} in this region",
                            off=off, **evidence)
        return ctx.fail_at(Severity.LOW, status, f"Inspector scanning of {', '.join(off)} is off "
                           "in this region; no such workload was seen here yet", off=off,
                           **evidence)
    running = {str(i.attr("instance_id")) for i in running_instances(ctx)
               if (i.account, i.region) == (status.account, status.region)}
    dark = [u for u in status.attr("uncovered") or [] if u.get("resource_id") in running]
    if dark:
        reasons = sorted({str(u.get("reason")) for u in dark})
        return ctx.fail_at(Severity.MEDIUM, status, f"Inspector is on, but {len(dark)} of "
                           f"{len(running)} running instance(s) are not scanned "
                           f"({', '.join(reasons)})", uncovered=dark, **evidence)
    return ctx.passed(status, f"Inspector scans {', '.join(required)} in this region",
                      **evidence)


def _workloads(ctx: CheckContext, status: Asset, type_: str) -> int:
    assets = running_instances(ctx) if type_ == INSTANCE else ctx.inventory.of(type_)
    return sum(1 for a in assets if (a.account, a.region) == (status.account, status.region))


@check("aws.patching.vulnerabilities_remediated_within_sla", Severity.HIGH, _PATCHING,
       reads={f"{INSPECTOR}#findings"},
       params={"critical_days": 15, "high_days": 30})
def vulnerabilities_remediated_within_sla(ctx: CheckContext) -> Iterator[Result]:
    """Inspector's critical and high findings are fixed within their service level

    An open critical (high) finding first observed more than `critical_days` (`high_days`) days
    ago — 15 and 30 by default — is a known, published vulnerability left on an instance, image or
    function. Findings are summarised per resource (counts and the oldest), never listed.
    Critical overdue: HIGH; high overdue: MEDIUM. A region where Inspector is off or its findings
    could not be read is INCONCLUSIVE: no finding is not the same as no vulnerability.

    Remediation: Patch or rebuild the resource (update the package, rebuild the image from a
    patched base, redeploy the function), or suppress a finding that does not apply with a
    documented reason; work the oldest first.
    """
    crit_days, high_days = int(ctx.param("critical_days")), int(ctx.param("high_days"))
    assets = {a.uid: a for a in ctx.inventory.of(INSTANCE, FUNCTION)}
    for status in ctx.inventory.of(INSPECTOR):
        rows = status.attr("findings")
        if "ENABLED" not in (status.attr("scans") or {}).values():
            yield ctx.unknown(status, "Inspector is off in this region: there are no findings to "
                              "judge")
            continue
        if rows is None:
            yield ctx.unknown(status, "Inspector's findings could not be read")
            continue
        if not rows:
            yield ctx.passed(status, "no open critical or high Inspector finding in this region")
        for row in rows:
            subject = _subject(status, row, assets)
            yield _sla_verdict(ctx, subject, row, crit_days, high_days)


def _subject(status: Asset, row: Mapping[str, Any], assets: Mapping[str, Asset]) -> Asset | Subject:
    rid, kind = str(row["resource_id"]), str(row["resource_type"])
    uid = rid if rid.startswith("arn:") else \
        f"arn:aws:ec2:{status.region}:{status.account}:instance/{rid}"
    return assets.get(uid) or Subject(uid, kind, rid.rsplit("/", 1)[-1], status.account,
                                      status.region)


def _sla_verdict(ctx: CheckContext, subject: Asset | Subject, row: Mapping[str, Any],
                 crit_days: int, high_days: int) -> Result:
    crit_age = days_since(ctx, row.get("oldest_critical"))
    high_age = days_since(ctx, row.get("oldest_high"))
    text = f"{row['critical']} critical and {row['high']} high finding(s) open"
    evidence = {**row, "oldest_critical_days": crit_age, "oldest_high_days": high_age}
    if crit_age is not None and crit_age > crit_days:
        return ctx.fail(subject, f"{text}; the oldest critical was first seen {crit_age} days "
                        f"ago (SLA {crit_days})", **evidence)
    if high_age is not None and high_age > high_days:
        return ctx.fail_at(Severity.MEDIUM, subject, f"{text}; the oldest high was first seen "
                           f"{high_age} days ago (SLA {high_days})", **evidence)
    return ctx.passed(subject, f"{text}, all within their SLA ({crit_days} / {high_days} days)",
                      **evidence)
