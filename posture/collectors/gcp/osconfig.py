"""VM Manager (OS Config v1, discovery client): which instances report an OS inventory, their
vulnerability reports summarised, and the project's patch deployments.

Inventories and vulnerability reports are listed per zone (``projects/P/locations/ZONE/
instances/-``; the API takes no wildcard zone), for the zones that hold instances: the module
lists the project's instances itself (names, ids and zones only) to know them, and to name the
instance each report belongs to (the API names instances by numeric id). A report is summarised,
never copied: counts of critical and high vulnerabilities, how many have a fix available, the
oldest ``createTime`` (when VM Manager first saw it on the machine) and the ten worst CVEs;
``raw`` keeps the report's name and times only.

A vulnerability's severity is the distribution's own rating when it is one of the usual levels
(``CRITICAL``, ``HIGH``/``IMPORTANT``, ``MEDIUM``/``MODERATE``, ``LOW``), else its CVSS v3 base
score (>= 9 critical, >= 7 high, >= 4 medium), else its CVSS v2 score.

A project where the OS Config API is not enabled (403 ``SERVICE_DISABLED``) has no inventory,
report or deployment: an answer, not an error (``serviceusage.py`` records the API's state).

Patch jobs are listed for the whole project (the API documents no order): the ``RECENT_JOBS``
latest of each patch deployment, and of the jobs run by hand, are kept, with their state and
instance counts; the jobs' instance details are not read. A deployment's schedule is reduced to
the longest gap its runs can leave (:func:`max_interval_days`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from posture.collectors.gcp.base import ProjectScope, compute_uid, last, parallel_flat_map
from posture.collectors.gcp.listing import Listed, listing, segment_after
from posture.collectors.secrets import quiet_logger
from posture.gcp import OS_INVENTORY, PATCH_DEPLOYMENT, PATCH_JOB, VULNERABILITY_REPORT
from posture.model import Asset

SERVICE = "osconfig"
PERMISSIONS = (
    "compute.instances.list", "osconfig.inventories.list", "osconfig.patchDeployments.list",
    "osconfig.patchJobs.list", "osconfig.vulnerabilityReports.list",
)
LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
_DISTRO = {"CRITICAL": "CRITICAL", "HIGH": "HIGH", "IMPORTANT": "HIGH", "MEDIUM": "MEDIUM",
           "MODERATE": "MEDIUM", "LOW": "LOW"}
TOP_CVES = 10
RECENT_JOBS = 5
_JOB_COUNTS = {
    "succeeded_count": "succeededInstanceCount",
    "reboot_required_count": "succeededRebootRequiredInstanceCount",
    "failed_count": "failedInstanceCount",
    "timed_out_count": "timedOutInstanceCount",
    "no_agent_count": "noAgentDetectedInstanceCount",
    "inactive_count": "inactiveInstanceCount",
    "skipped_count": "skippedInstanceCount",
}
"""The instance counts kept (int64 in the API: JSON strings); ``instance_count`` sums them all,
the pending and in-progress ones too."""
_MONTH_DAY_GAP = {29: 59, 30: 60, 31: 61}
"""A monthly run on day 29-31 skips the months without that day (API: "Months without the
target day will be skipped"): the longest gap, over leap and common years."""
_INSTANCES_LOGGER = "google.cloud.compute_v1.services.instances.transports.rest"


def uid(name: str) -> str:
    return f"//osconfig.googleapis.com/{name}"


def _api(scope: ProjectScope) -> Any:
    return scope.clients.discovery("osconfig", "v1")


def fetch_instances(scope: ProjectScope) -> list[dict[str, str]] | None:
    """Every instance's name, id, zone and self link (no metadata is read or kept)."""
    quiet_logger(_INSTANCES_LOGGER, "Received response")
    client, retry = scope.clients.compute("InstancesClient"), scope.clients.retry

    def run() -> list[dict[str, str]]:
        out = []
        for _where, scoped in client.aggregated_list(request={"project": scope.project},
                                                     retry=retry):
            out += [{"id": str(i.id), "name": str(i.name), "zone": last(i.zone),
                     "self_link": str(i.self_link)} for i in scoped.instances]
        return out

    return scope.call("compute", "instances.aggregatedList", (OS_INVENTORY, VULNERABILITY_REPORT),
                      run)


def collect(scope: ProjectScope) -> list[Asset]:
    instances = fetch_instances(scope)
    known = {key: i for i in instances or () for key in (i["id"], i["name"])}
    zones = sorted({i["zone"] for i in instances or ()})

    def per_zone(zone: str) -> list[Asset]:
        parent = f"projects/{scope.project}/locations/{zone}/instances/-"
        locations = _api(scope).projects().locations()
        inventories = listing(
            scope, lambda: locations.instances().inventories(), "inventories",
            service=SERVICE, operation="inventories.list", asset_types=(OS_INVENTORY,),
            region=zone, parent=parent, view="BASIC")
        reports = listing(
            scope, lambda: locations.instances().vulnerabilityReports(), "vulnerabilityReports",
            service=SERVICE, operation="vulnerabilityReports.list",
            asset_types=(VULNERABILITY_REPORT,), region=zone, parent=parent)
        return [normalize_inventory(scope, i, known) for i in inventories.found] + [
            normalize_report(scope, r, known) for r in reports.found]

    found = parallel_flat_map(per_zone, zones)
    deployments: Listed = listing(
        scope, lambda: _api(scope).projects().patchDeployments(), "patchDeployments",
        service=SERVICE, operation="patchDeployments.list", asset_types=(PATCH_DEPLOYMENT,),
        parent=f"projects/{scope.project}")
    jobs: Listed = listing(
        scope, lambda: _api(scope).projects().patchJobs(), "patchJobs", service=SERVICE,
        operation="patchJobs.list", asset_types=(PATCH_JOB,), parent=f"projects/{scope.project}",
        pageSize=100)
    return found + [normalize_deployment(scope, d) for d in deployments.found] + [
        normalize_job(scope, j) for j in recent_jobs(jobs.found)]


def _instance(name: str, known: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The instance a per-instance resource name (``.../locations/Z/instances/ID/...``) is of."""
    zone, ident = segment_after(name, "locations", ""), segment_after(name, "instances", "")
    inst = known.get(ident)
    return {
        "instance": compute_uid(inst["self_link"]) if inst else None,
        "instance_name": inst["name"] if inst else None,
        "instance_id": inst["id"] if inst else ident,
        "zone": zone,
    }


def normalize_inventory(scope: ProjectScope, inv: Mapping[str, Any],
                        known: Mapping[str, Mapping[str, str]]) -> Asset:
    """One instance's OS inventory (BASIC view: the OS, no package list)."""
    os_info = inv.get("osInfo") or {}
    name = str(inv["name"])
    where = _instance(name, known)
    attrs = {
        **where,
        "update_time": inv.get("updateTime"),
        "os_short_name": os_info.get("shortName"),
        "os_long_name": os_info.get("longName"),
        "os_version": os_info.get("version"),
        "kernel_version": os_info.get("kernelVersion"),
        "kernel_release": os_info.get("kernelRelease"),
        "agent_version": os_info.get("osconfigAgentVersion"),
        "hostname": os_info.get("hostname"),
    }
    label = str(where["instance_name"] or where["instance_id"])
    return scope.asset(uid(name), OS_INVENTORY, label, attrs, inv, region=str(where["zone"]))


def severity_of(details: Mapping[str, Any]) -> str | None:
    """The vulnerability's level (module docstring), or None when nothing rates it."""
    rated = _DISTRO.get(str(details.get("severity") or "").upper())
    if rated:
        return rated
    score = (details.get("cvssV3") or {}).get("baseScore")
    if score is None:
        score = details.get("cvssV2Score")
    if score is None:
        return None
    value = float(score)
    if value >= 9.0:
        return "CRITICAL"
    if value >= 7.0:
        return "HIGH"
    return "MEDIUM" if value >= 4.0 else "LOW"


def summarize(vulnerabilities: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts per level, fixable counts and the oldest first sighting; the worst CVEs."""
    out: dict[str, Any] = {}
    rows = []
    for v in vulnerabilities:
        details = v.get("details") or {}
        level = severity_of(details)
        fixable = bool(v.get("availableInventoryItemIds"))
        rows.append({"cve": details.get("cve"), "severity": level,
                     "cvss_v3": (details.get("cvssV3") or {}).get("baseScore"),
                     "create_time": v.get("createTime"), "fixable": fixable})
    for level in ("CRITICAL", "HIGH"):
        mine = [r for r in rows if r["severity"] == level]
        times = sorted(str(r["create_time"]) for r in mine if r["create_time"])
        key = level.lower()
        out[f"{key}_count"] = len(mine)
        out[f"{key}_fixable"] = sum(1 for r in mine if r["fixable"])
        out[f"{key}_oldest"] = times[0] if times else None
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    worst = sorted((r for r in rows if r["severity"] in ("CRITICAL", "HIGH")),
                   key=lambda r: (rank[str(r["severity"])], str(r["create_time"] or "~"),
                                  str(r["cve"])))
    out["vulnerability_count"] = len(rows)
    out["top_cves"] = worst[:TOP_CVES]
    return out


def normalize_report(scope: ProjectScope, report: Mapping[str, Any],
                     known: Mapping[str, Mapping[str, str]]) -> Asset:
    name = str(report["name"])
    where = _instance(name, known)
    attrs = {
        **where,
        "update_time": report.get("updateTime"),
        "highest_upgradable_severity": report.get("highestUpgradableCveSeverity"),
        **summarize(report.get("vulnerabilities") or ()),
    }
    raw = {k: v for k, v in report.items() if k != "vulnerabilities"}
    label = str(where["instance_name"] or where["instance_id"])
    return scope.asset(uid(name), VULNERABILITY_REPORT, label, attrs, raw,
                       region=str(where["zone"]))


def _instance_ref(ref: str) -> str:
    """``zones/Z/instances/N`` in any of the filter's accepted forms → ``Z/N``."""
    parts = ref.rstrip("/").split("/")
    if "zones" in parts and "instances" in parts:
        return f"{parts[parts.index('zones') + 1]}/{parts[parts.index('instances') + 1]}"
    return ref


def max_interval_days(recurring: Mapping[str, Any]) -> int | None:
    """The longest gap, in days, between two runs of a recurring schedule: DAILY 1, WEEKLY 7,
    MONTHLY on a week day of the month (2nd Tuesday, last Friday; any offset) 35, on day 1-28 or
    the last day 31, on day 29, 30, 31: 59, 60, 61 (months skipped); None when the schedule is not
    readable."""
    frequency = recurring.get("frequency")
    if frequency in ("DAILY", "WEEKLY"):
        return 1 if frequency == "DAILY" else 7
    monthly = recurring.get("monthly") or {}
    if frequency != "MONTHLY" or not monthly:
        return None
    if monthly.get("weekDayOfMonth"):
        return 35
    day = monthly.get("monthDay")
    return None if day is None else _MONTH_DAY_GAP.get(int(day), 31)


def _schedule(recurring: Mapping[str, Any]) -> dict[str, Any]:
    monthly = recurring.get("monthly") or {}
    week_day = monthly.get("weekDayOfMonth") or {}
    return {
        "weekly_day": (recurring.get("weekly") or {}).get("dayOfWeek"),
        "month_day": monthly.get("monthDay"),
        "week_day_of_month": {
            "week_ordinal": week_day.get("weekOrdinal"), "day_of_week": week_day.get("dayOfWeek"),
            "day_offset": int(week_day.get("dayOffset") or 0)} if week_day else None,
        "max_interval_days": max_interval_days(recurring) if recurring else None,
    }


def normalize_deployment(scope: ProjectScope, d: Mapping[str, Any]) -> Asset:
    flt = d.get("instanceFilter") or {}
    recurring = d.get("recurringSchedule") or {}
    config = d.get("patchConfig") or {}
    attrs = {
        "deployment_id": last(d.get("name")),
        "description": d.get("description"),
        "state": d.get("state") or "ACTIVE",
        "recurring": bool(recurring),
        "frequency": recurring.get("frequency"),
        "next_execute_time": recurring.get("nextExecuteTime"),
        "last_execute_time": recurring.get("lastExecuteTime") or d.get("lastExecuteTime"),
        "end_time": recurring.get("endTime"),
        **_schedule(recurring),
        "one_time_execute_time": (d.get("oneTimeSchedule") or {}).get("executeTime"),
        "instance_filter": {
            "all": bool(flt.get("all")),
            "group_labels": [dict(g.get("labels") or {}) for g in flt.get("groupLabels") or ()],
            "zones": sorted(flt.get("zones") or ()),
            "instances": sorted(_instance_ref(str(i)) for i in flt.get("instances") or ()),
            "name_prefixes": sorted(flt.get("instanceNamePrefixes") or ()),
        },
        "reboot_config": config.get("rebootConfig"),
        "create_time": d.get("createTime"),
    }
    return scope.asset(uid(str(d["name"])), PATCH_DEPLOYMENT, str(attrs["deployment_id"]),
                       attrs, d)


def _job_deployment(job: Mapping[str, Any]) -> str | None:
    """The id of the patch deployment that started the job (None: run by hand)."""
    return last(job.get("patchDeployment")) or None


def recent_jobs(jobs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The ``RECENT_JOBS`` latest jobs (by ``createTime``) of each deployment and of the jobs
    run by hand."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for job in jobs:
        groups.setdefault(_job_deployment(job), []).append(job)
    out: list[Mapping[str, Any]] = []
    for group in groups.values():
        group.sort(key=lambda j: (str(j.get("createTime") or ""), str(j.get("name"))),
                   reverse=True)
        out += group[:RECENT_JOBS]
    return out


def normalize_job(scope: ProjectScope, job: Mapping[str, Any]) -> Asset:
    summary = job.get("instanceDetailsSummary") or {}
    attrs: dict[str, Any] = {
        "job_id": last(job.get("name")),
        "display_name": job.get("displayName"),
        "deployment": _job_deployment(job),
        "state": job.get("state"),
        "create_time": job.get("createTime"),
        "update_time": job.get("updateTime"),
        "percent_complete": job.get("percentComplete"),
        "dry_run": bool(job.get("dryRun")),
        "error_message": job.get("errorMessage"),
        **{key: int(summary.get(field) or 0) for key, field in _JOB_COUNTS.items()},
        "instance_count": sum(int(v or 0) for v in summary.values()),
    }
    return scope.asset(uid(str(job["name"])), PATCH_JOB, str(attrs["job_id"]), attrs, job)
