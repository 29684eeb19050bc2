"""Patch and vulnerability management on GCP: which instances VM Manager sees, whether their
critical and high vulnerabilities are fixed within the SLA, whether a recurring patch deployment
targets them, and whether container images are scanned, fixed and rebuilt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks._shared import gcp_estate

from posture.engine import CheckContext, Result
from posture.gcp import (
    AR_REPOSITORY,
    INSTANCE,
    OS_INVENTORY,
    PATCH_DEPLOYMENT,
    SERVICE_USAGE,
    VULNERABILITY_REPORT,
    patch_targets,
)
from posture.graph.gcp.served import served_ports
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

LISTING = f"{INSTANCE}#listing"
OSCONFIG_API = "osconfig.googleapis.com"
SCANNING_API = "containerscanning.googleapis.com"
GKE_NODE = "goog-gke-node"


def running_vms(ctx: CheckContext) -> Iterator[Asset]:
    """Running instances that are not GKE nodes (GKE patches its node images itself)."""
    for vm in ctx.inventory.of(INSTANCE):
        if vm.attr("status") == "RUNNING" and GKE_NODE not in vm.tags:
            yield vm


def _by_instance(ctx: CheckContext, type_: str) -> dict[str, Asset]:
    return {str(a.attr("instance")): a for a in ctx.inventory.of(type_) if a.attr("instance")}


def api_state(ctx: CheckContext, project: str, api: str) -> str | None:
    for s in ctx.inventory.of(SERVICE_USAGE):
        if s.account == project and s.attr("service") == api:
            return str(s.attr("state")) if s.attr("state") else None
    return None


def listing_failed(ctx: CheckContext, type_: str, vm: Asset) -> bool:
    """Whether a listing of ``type_`` covering the asset's project and zone (region) failed."""
    return any(e.affects_types((type_,)) and e.resource_uid is None
               and e.covers(vm.account, vm.region) for e in ctx.inventory.errors)


def _not_reporting(ctx: CheckContext, vm: Asset) -> str:
    state = api_state(ctx, vm.account, OSCONFIG_API)
    if state == "DISABLED":
        return f"VM Manager is not enabled on project {vm.account} (the OS Config API is off)"
    return "no OS inventory: the OS Config agent is not running, or enable-osconfig is off"


@check("gcp.patching.vm_manager_reporting", Severity.MEDIUM, (Principle.PATCHING,),
       reads={LISTING, OS_INVENTORY, SERVICE_USAGE}, params={"max_inventory_age_days": 7})
def vm_manager_reporting(ctx: CheckContext) -> Iterator[Result]:
    """Running instances report their OS inventory to VM Manager

    VM Manager (OS Config) is how GCP knows a machine's packages, its missing patches and its
    vulnerabilities; a machine that does not report is patched, if at all, outside any record.
    An inventory older than max_inventory_age_days means the agent stopped reporting. GKE nodes
    are left to GKE.

    Remediation: Enable the OS Config API, set enable-osconfig=TRUE in the project metadata and
    keep the OS Config agent installed and running (it ships with Google's public images).
    """
    inventories, now = _by_instance(ctx, OS_INVENTORY), scan_time(ctx.inventory)
    limit = int(ctx.param("max_inventory_age_days"))
    for vm in running_vms(ctx):
        inv = inventories.get(vm.uid)
        if inv is None and listing_failed(ctx, OS_INVENTORY, vm):
            yield ctx.unknown(vm, "the OS inventories of its zone could not be listed")
            continue
        if inv is None:
            yield ctx.fail(vm, _not_reporting(ctx, vm),
                           osconfig_api=api_state(ctx, vm.account, OSCONFIG_API))
            continue
        stamp = parse_time(inv.attr("update_time"))
        age = None if stamp is None else age_days(stamp, now)
        evidence = {"os": inv.attr("os_long_name"), "agent_version": inv.attr("agent_version"),
                    "last_report": inv.attr("update_time")}
        if age is not None and age > limit:
            yield ctx.fail(vm, f"its last OS inventory is {age} days old (> {limit}): the agent "
                           "stopped reporting", **evidence)
        else:
            yield ctx.passed(vm, f"reports to VM Manager ({inv.attr('os_long_name')})", **evidence)


def _age(value: Any, now: dt.datetime) -> int | None:
    stamp = parse_time(value)
    return None if stamp is None else age_days(stamp, now)


@check("gcp.patching.vm_vulnerabilities_within_sla", Severity.HIGH,
       (Principle.PATCHING,), reads={LISTING, VULNERABILITY_REPORT},
       params={"critical_sla_days": 15, "high_sla_days": 30, "high_severity": "medium",
               "exposed_severity": "critical"})
def vm_vulnerabilities_within_sla(ctx: CheckContext) -> Iterator[Result]:
    """Instances carry no critical or high vulnerability for longer than the SLA

    From VM Manager's vulnerability reports: a critical vulnerability first seen on the machine
    more than critical_sla_days ago fails HIGH - exposed_severity when the wide internet reaches
    one of the machine's tcp ports (the exposure checks' verdict); a high one past
    high_sla_days fails at high_severity. Counts, the oldest sighting and the worst CVEs are the
    evidence, never the full list. An instance without a report is not judged clean.

    Remediation: Patch the machine (a VM Manager patch job, or the OS package manager) and
    reboot if the kernel changed; schedule recurring patch deployments so the SLA holds.
    """
    reports, now = _by_instance(ctx, VULNERABILITY_REPORT), scan_time(ctx.inventory)
    inventories = _by_instance(ctx, OS_INVENTORY)
    sla = {"critical": int(ctx.param("critical_sla_days")),
           "high": int(ctx.param("high_sla_days"))}
    for vm in running_vms(ctx):
        report = reports.get(vm.uid)
        if report is None:
            why = ("the vulnerability reports of its zone could not be listed"
                   if listing_failed(ctx, VULNERABILITY_REPORT, vm) else
                   "VM Manager has no vulnerability report for it" if vm.uid in inventories
                   else _not_reporting(ctx, vm))
            yield ctx.unknown(vm, f"vulnerabilities unknown: {why}")
            continue
        late = {level: _age(report.attr(f"{level}_oldest"), now) for level in sla}
        evidence = _report_evidence(report, late)
        if (late["critical"] or 0) > sla["critical"]:
            ports = served_ports(gcp_estate(ctx), vm)
            text = _counts(report, "critical", late["critical"], sla["critical"])
            if ports.ranges:
                yield ctx.fail_at(Severity.parse(str(ctx.param("exposed_severity"))), vm,
                                  f"{text}, and the internet reaches it on {ports.text()}",
                                  exposed=ports.text(), **evidence)
            else:
                yield ctx.fail(vm, text, **evidence)
        elif (late["high"] or 0) > sla["high"]:
            yield ctx.fail_at(Severity.parse(str(ctx.param("high_severity"))), vm,
                              _counts(report, "high", late["high"], sla["high"]), **evidence)
        else:
            open_ = report.attr("critical_count") + report.attr("high_count")
            yield ctx.passed(vm, f"{open_} critical/high vulnerabilities, none older than the "
                             f"SLA ({sla['critical']} / {sla['high']} days)", **evidence)


def _counts(report: Asset, level: str, age: int | None, sla: int) -> str:
    count, fixable = report.attr(f"{level}_count"), report.attr(f"{level}_fixable")
    return (f"{count} {level} vulnerabilit{'y' if count == 1 else 'ies'} ({fixable} with a fix "
            f"available), the oldest first seen {age} days ago (SLA {sla} days)")


def _report_evidence(report: Asset, late: Mapping[str, int | None]) -> dict[str, Any]:
    return {"critical": report.attr("critical_count"), "high": report.attr("high_count"),
            "critical_fixable": report.attr("critical_fixable"),
            "high_fixable": report.attr("high_fixable"),
            "oldest_days": dict(late), "top_cves": report.attr("top_cves"),
            "report_time": report.attr("update_time")}


def active_recurring(d: Asset, now: dt.datetime) -> bool:
    end = parse_time(d.attr("end_time"))
    return bool(d.attr("recurring")) and d.attr("state") != "PAUSED" and (end is None
                                                                          or end > now)


@check("gcp.patching.instance_patch_scheduled", Severity.MEDIUM,
       (Principle.PATCHING, Principle.CHANGE_CONTROL),
       reads={LISTING, PATCH_DEPLOYMENT, SERVICE_USAGE})
def instance_patch_scheduled(ctx: CheckContext) -> Iterator[Result]:
    """Every running instance is targeted by a recurring VM Manager patch deployment

    A patch deployment with a recurring schedule applies OS updates on a regular cycle; an
    instance it does not target (labels, zones, names, prefixes as the API matches them), a
    paused or ended deployment, or a one-time schedule leaves patching to hand work. Patch job
    results are not read.

    Remediation: Create a recurring patch deployment targeting the instances (`gcloud compute
    os-config patch-deployments create NAME --file=weekly.yaml`), with reboots as needed.
    """
    now = scan_time(ctx.inventory)
    deployments: dict[str, list[Asset]] = {}
    for d in ctx.inventory.of(PATCH_DEPLOYMENT):
        deployments.setdefault(d.account, []).append(d)
    for vm in running_vms(ctx):
        mine = deployments.get(vm.account, [])
        hits = sorted(d.name for d in mine if active_recurring(d, now)
                      and patch_targets(d.attr("instance_filter") or {}, vm))
        if hits:
            yield ctx.passed(vm, f"patched on schedule by {', '.join(hits)}", deployments=hits)
        elif listing_failed(ctx, PATCH_DEPLOYMENT, vm):
            yield ctx.unknown(vm, f"the patch deployments of project {vm.account} could not be "
                              "listed")
        elif api_state(ctx, vm.account, OSCONFIG_API) == "DISABLED":
            yield ctx.fail(vm, f"no patch deployment can run: VM Manager is not enabled on "
                           f"project {vm.account}")
        else:
            others = sorted(d.name for d in mine)
            yield ctx.fail(vm, "no active recurring patch deployment targets it"
                           + (f" (deployments: {', '.join(others)})" if others else ""),
                           deployments=others)


def _docker(ctx: CheckContext) -> Iterator[Asset]:
    for repo in ctx.inventory.of(AR_REPOSITORY):
        if repo.attr("format") == "DOCKER" and repo.attr("mode") != "VIRTUAL_REPOSITORY":
            yield repo


def _scanned(ctx: CheckContext, repo: Asset) -> tuple[bool | None, str]:
    """Whether the repository's images are scanned (None: unknown), and why."""
    state = repo.attr("scanning_state")
    if state == "SCANNING_ACTIVE":
        return True, "vulnerability scanning is active"
    if state in ("SCANNING_DISABLED", "SCANNING_UNSUPPORTED"):
        reason = repo.attr("scanning_state_reason") or state
        return False, f"vulnerability scanning is off ({reason})"
    api = api_state(ctx, repo.account, SCANNING_API)
    if api == "ENABLED":
        return True, "the Container Scanning API is enabled: pushed images are scanned"
    if api == "DISABLED":
        return False, f"the Container Scanning API is not enabled on project {repo.account}"
    return None, "whether the Container Scanning API is enabled was not read"


@check("gcp.patching.registry_scanning_enabled", Severity.MEDIUM, (Principle.PATCHING,),
       reads={f"{AR_REPOSITORY}#listing", SERVICE_USAGE})
def registry_scanning_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Artifact Registry Docker repositories scan their images for vulnerabilities

    Without scanning, nobody learns that an image ships a vulnerable package. Decided by the
    repository's own scanning state when the API reports one, else by the Container Scanning
    API's enablement on the project.

    Remediation: Enable the Container Scanning API (`gcloud services enable
    containerscanning.googleapis.com`) and do not disable scanning on repositories.
    """
    for repo in _docker(ctx):
        scanned, why = _scanned(ctx, repo)
        if scanned is None:
            yield ctx.unknown(repo, why)
        elif scanned:
            yield ctx.passed(repo, why)
        else:
            yield ctx.fail(repo, why, scanning_state=repo.attr("scanning_state"))


@check("gcp.patching.image_vulnerabilities_within_sla", Severity.HIGH,
       (Principle.PATCHING,), reads={AR_REPOSITORY, SERVICE_USAGE},
       params={"critical_sla_days": 15, "max_image_age_days": 180, "stale_severity": "low"})
def image_vulnerabilities_within_sla(ctx: CheckContext) -> Iterator[Result]:
    """The latest container images carry no critical vulnerability past the SLA and are rebuilt
    regularly

    For each image name of a Docker repository its most recently uploaded digest is what gets
    deployed: one with a critical vulnerability and not rebuilt within critical_sla_days fails
    (counts, fixable counts and the oldest upload are the evidence). An image old but free of
    known vulnerabilities is still old - its base layers miss every patch since: older than
    max_image_age_days fails at stale_severity. Repositories that are not scanned are not judged
    clean.

    Remediation: Rebuild the images on a patched base and redeploy; rebuild on a schedule even
    without a code change, and fail the pipeline on fixable critical vulnerabilities.
    """
    now, sla = scan_time(ctx.inventory), int(ctx.param("critical_sla_days"))
    stale_after = int(ctx.param("max_image_age_days"))
    for repo in _docker(ctx):
        images = repo.attr("latest_images")
        scanned, why = _scanned(ctx, repo)
        if images is None:
            yield ctx.unknown(repo, "its images could not be listed")
            continue
        aged = [{**i, "age_days": _age(i.get("upload_time"), now)} for i in images]
        stale = [i for i in aged if (i["age_days"] or 0) > stale_after]
        late = [i for i in aged if (i.get("critical") or 0) and (i["age_days"] or 0) > sla]
        evidence = {"latest_images": len(aged), "stale": [_image(i) for i in stale[:5]]}
        if late:
            worst = late[0]
            yield ctx.fail(repo, f"{len(late)} latest image(s) carry critical vulnerabilities "
                           f"past the {sla}-day SLA; the worst, {_image(worst)}",
                           late=[_image(i) for i in late[:5]], **evidence)
        elif stale:
            oldest = max(stale, key=lambda i: i["age_days"] or 0)
            yield ctx.fail_at(Severity.parse(str(ctx.param("stale_severity"))), repo,
                              f"{len(stale)} latest image(s) not rebuilt for over {stale_after} "
                              f"days; the oldest, {_image(oldest)}"
                              + ("" if scanned else f" (vulnerabilities unknown: {why})"),
                              **evidence)
        elif not scanned or not repo.attr("vulnerability_counts_read"):
            reason = why if not scanned else "the vulnerability summary could not be read"
            yield ctx.unknown(repo, f"vulnerabilities unknown: {reason}", **evidence)
        else:
            yield ctx.passed(repo, f"{len(aged)} latest image(s): no critical vulnerability past "
                             f"the SLA, none older than {stale_after} days", **evidence)


def _image(i: Mapping[str, Any]) -> str:
    name = str(i.get("image")).rsplit("/", 1)[-1]
    counts = f"{i.get('critical')} critical ({i.get('fixable_critical')} fixable), " \
             f"{i.get('high')} high, " if i.get("critical") is not None else ""
    return f"{name}@{str(i.get('digest'))[:19]} ({counts}uploaded {i.get('age_days')} days ago)"
