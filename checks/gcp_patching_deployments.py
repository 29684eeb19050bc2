"""VM Manager patch deployments seen from the project and from their jobs: whether each project
with running instances has an active recurring deployment that patches some of them often
enough, and whether the latest job of each recurring deployment patched every instance it
targeted. Which instances no deployment targets is ``gcp.patching.instance_patch_scheduled``'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.checks.gcp_patching import (
    LISTING,
    OSCONFIG_API,
    active_recurring,
    api_state,
    listing_failed,
    running_vms,
)

from posture.engine import CheckContext, Result
from posture.gcp import PATCH_DEPLOYMENT, PATCH_JOB, PROJECT, SERVICE_USAGE, patch_targets
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

FINISHED = frozenset({"SUCCEEDED", "COMPLETED_WITH_INACTIVE_VMS", "COMPLETED_WITH_ERRORS",
                      "CANCELED", "TIMED_OUT"})
"""The states in which a patch job has ended (the others: it is still running)."""
UNFINISHED_WORK = frozenset({"COMPLETED_WITH_ERRORS", "CANCELED", "TIMED_OUT"})
LEFT_UNPATCHED = (("failed_count", "failed"), ("timed_out_count", "timed out"),
                  ("no_agent_count", "without an agent"))
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}


def _by_account(assets: Iterable[Asset]) -> dict[str, list[Asset]]:
    out: dict[str, list[Asset]] = {}
    for a in assets:
        out.setdefault(a.account, []).append(a)
    return out


def schedule_text(d: Asset) -> str:
    """``WEEKLY on SUNDAY``, ``MONTHLY on the 2nd TUESDAY``, ``MONTHLY on day 31``."""
    frequency = str(d.attr("frequency"))
    week_day = d.attr("week_day_of_month") or {}
    if d.attr("weekly_day"):
        return f"{frequency} on {d.attr('weekly_day')}"
    if week_day:
        offset = int(week_day.get("day_offset") or 0)
        shift = f" {offset:+d} days" if offset else ""
        ordinal = _ORDINAL.get(int(week_day.get("week_ordinal") or 0), "?")
        return f"{frequency} on the {ordinal} {week_day.get('day_of_week')}{shift}"
    day = d.attr("month_day")
    if day is not None:
        return f"{frequency} on {'the last day' if int(day) == -1 else f'day {day}'}"
    return frequency


def filter_text(flt: Mapping[str, Any]) -> str:
    """An instance filter in words: ``labels tier=db``, ``zones us-east1-b``, ..."""
    if flt.get("all"):
        return "all instances"
    parts = []
    if flt.get("group_labels"):
        groups = [",".join(f"{k}={v}" for k, v in sorted(g.items())) for g in flt["group_labels"]]
        parts.append("labels " + " or ".join(groups))
    for key, words in (("zones", "zones"), ("instances", "instances"),
                       ("name_prefixes", "name prefixes")):
        if flt.get(key):
            parts.append(f"{words} {', '.join(flt[key])}")
    return " and ".join(parts) or "no criterion"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a deployment patches the project on schedule: ``kind`` is ``ok``, ``one_time``,
    ``stopped``, ``idle`` (its filter matches no running instance), ``unread`` (schedule) or
    ``seldom``; ``why`` in words; ``targets`` the running instances it targets."""

    kind: str
    why: str
    targets: int


def _verdict(d: Asset, machines: Sequence[Asset], now: dt.datetime, limit: int) -> Verdict:
    flt = d.attr("instance_filter") or {}
    targets = sum(1 for vm in machines if patch_targets(flt, vm))
    interval = d.attr("max_interval_days")
    if not d.attr("recurring"):
        return Verdict("one_time", f"{d.name} is a one-time deployment (not recurring)", targets)
    if not active_recurring(d, now):
        state = "is paused" if d.attr("state") == "PAUSED" else f"ended on {d.attr('end_time')}"
        return Verdict("stopped", f"{d.name} {state}", targets)
    if not targets:
        return Verdict("idle", f"{d.name} patches nothing: its instance filter "
                       f"({filter_text(flt)}) matches none of the running instances", 0)
    if interval is None:
        return Verdict("unread", f"{d.name}: its schedule could not be read "
                       f"({d.attr('frequency')})", targets)
    if int(interval) > limit:
        return Verdict("seldom", f"{d.name} runs {schedule_text(d)}: up to {interval} days "
                       f"between runs (> {limit})", targets)
    return Verdict("ok", f"{d.name} runs {schedule_text(d)}", targets)


def _subject(ctx: CheckContext, account: str, machines: Sequence[Asset]) -> Asset:
    for p in ctx.inventory.of(PROJECT):
        if p.account == account:
            return p
    return machines[0]


@check("gcp.patching.patch_deployment_scheduled", Severity.MEDIUM,
       (Principle.PATCHING, Principle.CHANGE_CONTROL),
       reads={LISTING, PATCH_DEPLOYMENT, SERVICE_USAGE}, params={"max_interval_days": 35})
def patch_deployment_scheduled(ctx: CheckContext) -> Iterator[Result]:
    """Each project with running instances has a recurring patch deployment that patches them at
    least every max_interval_days

    VM Manager applies OS updates on a cycle only through an active recurring patch deployment.
    A one-time deployment is not recurring; a paused or ended one does not run; one whose
    instance filter matches none of the project's running instances (a label no machine
    carries, a zone without machines) patches nothing, and is named as such. A schedule is
    judged by the longest gap it can leave: monthly on a week day (2nd Tuesday) up to 35 days,
    monthly on day 29-31 skips the months without that day (up to 61 days). GKE nodes are left
    to GKE; which instances the deployments leave out is gcp.patching.instance_patch_scheduled.

    Remediation: Create a recurring patch deployment whose instance filter matches the
    project's instances (`gcloud compute os-config patch-deployments create NAME
    --file=weekly.yaml`), weekly or monthly on a week day, and check its filter against the
    instances' labels and zones.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_interval_days"))
    deployments = _by_account(ctx.inventory.of(PATCH_DEPLOYMENT))
    for account, machines in sorted(_by_account(running_vms(ctx)).items()):
        subject = _subject(ctx, account, machines)
        mine = sorted(deployments.get(account, []), key=lambda d: d.name)
        verdicts = [_verdict(d, machines, now, limit) for d in mine]
        kinds = {v.kind for v in verdicts}
        evidence = {"running_instances": len(machines), "deployments": [
            {"name": d.name, "targets": v.targets, "verdict": v.kind}
            for d, v in zip(mine, verdicts, strict=True)]}
        if "ok" in kinds:
            text = ", ".join(f"{d.name} ({schedule_text(d)}: {v.targets} of {len(machines)} "
                             "running instance(s))"
                             for d, v in zip(mine, verdicts, strict=True) if v.kind == "ok")
            idle = [v.why for v in verdicts if v.kind == "idle"]
            yield ctx.passed(subject, "; ".join([f"patched on schedule by {text}", *idle]),
                             **evidence)
        elif not mine and listing_failed(ctx, PATCH_DEPLOYMENT, subject):
            yield ctx.unknown(subject, f"the patch deployments of project {account} could not "
                              "be listed")
        elif api_state(ctx, account, OSCONFIG_API) == "DISABLED":
            yield ctx.fail(subject, f"{len(machines)} running instance(s) and no patch "
                           f"deployment can run: VM Manager is not enabled on project "
                           f"{account}", **evidence)
        elif "unread" in kinds:
            yield ctx.unknown(subject, "; ".join(v.why for v in verdicts), **evidence)
        else:
            reasons = "; ".join(v.why for v in verdicts) or "no patch deployment"
            yield ctx.fail(subject, f"{len(machines)} running instance(s) and no active "
                           f"recurring patch deployment patches them often enough: {reasons}",
                           **evidence)


def _jobs(ctx: CheckContext) -> dict[tuple[str, str], list[Asset]]:
    """The collected patch jobs of each (project, deployment id), the latest first."""
    out: dict[tuple[str, str], list[Asset]] = {}
    for job in ctx.inventory.of(PATCH_JOB):
        if job.attr("deployment"):
            out.setdefault((job.account, str(job.attr("deployment"))), []).append(job)
    for jobs in out.values():
        jobs.sort(key=lambda j: str(j.attr("create_time") or ""), reverse=True)
    return out


def _job_evidence(job: Asset, now: dt.datetime) -> dict[str, Any]:
    created = parse_time(job.attr("create_time"))
    return {"job": job.attr("job_id"), "state": job.attr("state"),
            "create_time": job.attr("create_time"),
            "age_days": None if created is None else age_days(created, now),
            "percent_complete": job.attr("percent_complete"),
            "instances": job.attr("instance_count"),
            **{key: job.attr(key) for key in ("succeeded_count", "reboot_required_count",
                                              "failed_count", "timed_out_count",
                                              "no_agent_count", "inactive_count")}}


@check("gcp.patching.patch_jobs_succeed", Severity.MEDIUM, (Principle.PATCHING,),
       reads={PATCH_DEPLOYMENT, PATCH_JOB})
def patch_jobs_succeed(ctx: CheckContext) -> Iterator[Result]:
    """The latest patch job of each recurring patch deployment patched every instance it
    targeted

    A schedule proves nothing if its jobs fail: an instance whose patching failed, timed out,
    or that runs no OS Config agent keeps its missing patches until the next cycle, or for good
    when the same machine fails every time. The latest finished job of each recurring
    deployment is judged (a job still running does not hide the failure of the one before);
    one that ended with errors, timed out or was canceled fails, with the counts. One-time
    deployments are history, not judged.

    Remediation: Open the job's instance details (`gcloud compute os-config patch-jobs
    list-instance-details JOB`), fix the failing machines (agent installed and running,
    package manager healthy, enough time in the deployment's duration) and rerun the job.
    """
    now, jobs = scan_time(ctx.inventory), _jobs(ctx)
    for d in ctx.inventory.of(PATCH_DEPLOYMENT):
        if not d.attr("recurring"):
            continue
        mine = jobs.get((d.account, str(d.attr("deployment_id") or d.name)), [])
        finished = [j for j in mine if j.attr("state") in FINISHED]
        running = [j for j in mine if j.attr("state") not in FINISHED]
        if not finished:
            why = ("the patch jobs of its project could not be listed"
                   if listing_failed(ctx, PATCH_JOB, d) else
                   "its first patch job is still running" if running else
                   "no patch job of it was found: it has not run yet")
            yield ctx.unknown(d, why, last_execute_time=d.attr("last_execute_time"))
            continue
        latest = finished[0]
        evidence = _job_evidence(latest, now)
        newer = " (a newer job is still running)" if mine[0] is not latest else ""
        lead = (f"its latest patch job ({evidence['age_days']} days ago) ended "
                f"{latest.attr('state')}")
        left = [f"{latest.attr(key)} {words}" for key, words in LEFT_UNPATCHED
                if latest.attr(key)]
        if left or latest.attr("state") in UNFINISHED_WORK:
            counts = f": {', '.join(left)} of {latest.attr('instance_count')} instance(s)" \
                if left else ""
            yield ctx.fail(d, f"{lead}{counts}{newer}", **evidence)
        elif not latest.attr("instance_count"):
            yield ctx.passed(d, f"{lead}, on no instance: its filter matched none{newer}",
                             **evidence)
        else:
            done = int(latest.attr("succeeded_count") or 0) + int(
                latest.attr("reboot_required_count") or 0)
            skipped = latest.attr("inactive_count")
            note = f", {skipped} stopped instance(s) skipped" if skipped else ""
            yield ctx.passed(d, f"{lead}: {done} of {latest.attr('instance_count')} "
                             f"instance(s) patched{note}{newer}", **evidence)
