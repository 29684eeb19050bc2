"""Patch and vulnerability management on Azure, from Microsoft Defender for Cloud: coverage (the
plans of every subscription, a system-update assessment for every machine) and compliance
(machines missing updates, machines and registry images with vulnerability findings, each
judged against an SLA in days from the moment the assessment turned unhealthy), and SQL
databases' vulnerability assessment findings.

Defender for Cloud is the source of truth here: a machine it does not assess is not "patched",
it is unknown, and a plan that is off is a known gap, not an unknown. Assessments are summarised
per resource by the collector (docs/azure-assets.md, "Defender for Cloud"), with their findings
(sub-assessments) counted per severity: a finding reads "2 high, 1 medium ... for 140 days ...
past the 30-day SLA", never as a list of CVEs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

VM = "Microsoft.Compute/virtualMachines"
REGISTRY = "Microsoft.ContainerRegistry/registries"
CLUSTER = "Microsoft.ContainerService/managedClusters"
PRICINGS = "Microsoft.Security/pricings"
ASSESSMENTS = "Microsoft.Security/assessments"
SUB_ASSESSMENTS = "Microsoft.Security/assessments/subAssessments"
SQL_SERVER = "Microsoft.Sql/servers"
IMAGE_SCANNING = "ContainerRegistriesVulnerabilityAssessments"
PLAN_LABELS = {
    "VirtualMachines": "Servers",
    "Containers": "Containers",
    "SqlServers": "Azure SQL databases",
    "SqlServerVirtualMachines": "SQL servers on machines",
    "OpenSourceRelationalDatabases": "open-source relational databases",
    "CosmosDbs": "Azure Cosmos DB",
    "StorageAccounts": "Storage",
    "AppServices": "App Service",
    "KeyVaults": "Key Vault",
    "Arm": "Resource Manager",
}


def summaries(inventory: Inventory) -> dict[str, Asset]:
    """Assessment summaries by the assessed resource's id."""
    return {str(a.attr("resource_id")): a for a in inventory.of(ASSESSMENTS)}


def plans_by_account(inventory: Inventory) -> dict[str, Mapping[str, Any]]:
    """Each subscription's Defender plans (absent: the pricings were not collected)."""
    return {a.account: a.attr("plans") or {} for a in inventory.of(PRICINGS)}


def _summaries(ctx: CheckContext) -> dict[str, Asset]:
    return ctx.derived("azure.defender.summaries", summaries)


def _count(ctx: CheckContext, account: str, *types: str) -> int:
    return sum(1 for t in types for a in ctx.inventory.of(t) if a.account == account)


def _plan_result(ctx: CheckContext, pricing: Asset, plan: str, covers: tuple[str, ...],
                 extension: str | None = None, extension_label: str = "") -> Result:
    """One plan of one subscription: on (and its ``extension`` on) or off, graded LOW when the
    subscription has none of the resources the plan ``covers`` today."""
    label = f"Defender for {PLAN_LABELS.get(plan, plan)}"
    state = (pricing.attr("plans") or {}).get(plan)
    evidence = {"plan": plan, "pricing": state}
    if state is None or state.get("enabled") is None:
        return ctx.unknown(pricing, f"the {label} plan was not reported", **evidence)
    resources = _count(ctx, pricing.account, *covers)
    if state["enabled"] and (extension is None or (state.get("extensions") or {}).get(
            extension) is not False):
        sub = f" (plan {state['sub_plan']})" if state.get("sub_plan") else ""
        return ctx.passed(pricing, f"{label} is on{sub}", resources=resources, **evidence)
    what = (f"{label} is on but {extension_label} is off" if state["enabled"]
            else f"{label} is off (Free tier)")
    if resources == 0:
        return ctx.fail_at(Severity.LOW, pricing, f"{what}; no resource it covers is collected "
                           "in the subscription today, new ones would be unprotected",
                           resources=0, **evidence)
    return ctx.fail(pricing, f"{what}, with {resources} resource(s) it would cover in the "
                    "subscription", resources=resources, **evidence)


@check("azure.patching.defender_for_servers_enabled", Severity.HIGH,
       (Principle.PATCHING, Principle.AUDITABLE),
       reads={PRICINGS, f"{VM}#listing"})
def defender_for_servers_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Defender for Servers is on in every subscription

    The Servers plan is what assesses machines for missing system updates and vulnerabilities
    (Microsoft Defender Vulnerability Management) and detects threats on them; with it off (Free
    tier) nothing reports an unpatched VM. HIGH when the subscription has VMs, LOW when it has
    none today (a gap for the next one).

    Remediation: Turn on the Defender for Servers plan (Plan 1 or 2) in Microsoft Defender for
    Cloud > Environment settings for the subscription (`az security pricing create -n
    VirtualMachines --tier standard`).
    """
    for pricing in ctx.inventory.of(PRICINGS):
        yield _plan_result(ctx, pricing, "VirtualMachines", (VM,))


@check("azure.patching.defender_for_containers_enabled", Severity.HIGH,
       (Principle.PATCHING, Principle.AUDITABLE),
       reads={PRICINGS, f"{REGISTRY}#listing", f"{CLUSTER}#listing"})
def defender_for_containers_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Defender for Containers is on, with registry image scanning, in every subscription

    The Containers plan scans images pushed to Azure Container Registry for vulnerabilities and
    watches AKS clusters; its extension ContainerRegistriesVulnerabilityAssessments is the image
    scanning itself, so a plan that is on with that component off still leaves images unscanned.
    HIGH when the subscription has registries or clusters, LOW when it has none today.

    Remediation: Turn on the Defender for Containers plan with the 'Agentless container
    vulnerability assessment' component (extension ContainerRegistriesVulnerabilityAssessments)
    in Microsoft Defender for Cloud > Environment settings.
    """
    for pricing in ctx.inventory.of(PRICINGS):
        yield _plan_result(ctx, pricing, "Containers", (REGISTRY, CLUSTER), IMAGE_SCANNING,
                           "registry image scanning (ContainerRegistriesVulnerabilityAssessments)")


@check("azure.patching.defender_plans_enabled", Severity.MEDIUM,
       (Principle.PATCHING, Principle.AUDITABLE), reads={PRICINGS},
       params={"plans": ("SqlServers", "SqlServerVirtualMachines",
                         "OpenSourceRelationalDatabases", "CosmosDbs", "StorageAccounts",
                         "AppServices", "KeyVaults", "Arm")})
def defender_plans_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Defender for Cloud's data and platform plans are on in every subscription

    Each plan (`plans`: databases, storage, App Service, Key Vault, Resource Manager) adds
    threat detection and vulnerability findings for its services; a plan on the Free tier
    leaves them unwatched. Servers and Containers are judged by their own checks.

    Remediation: Turn on the listed plans in Microsoft Defender for Cloud > Environment settings
    for the subscription (`az security pricing create -n <plan> --tier standard`).
    """
    wanted = tuple(str(p) for p in ctx.param("plans"))
    for pricing in ctx.inventory.of(PRICINGS):
        plans = pricing.attr("plans") or {}
        off = [p for p in wanted if (plans.get(p) or {}).get("enabled") is False]
        unknown = [p for p in wanted if (plans.get(p) or {}).get("enabled") is None]
        names = [f"Defender for {PLAN_LABELS.get(p, p)}" for p in off]
        evidence = {"off": off, "not_reported": unknown,
                    "tiers": {p: (plans.get(p) or {}).get("tier") for p in wanted}}
        if off:
            yield ctx.fail(pricing, f"{len(off)} of {len(wanted)} plans are off (Free tier): "
                           f"{', '.join(names)}", **evidence)
        elif unknown:
            yield ctx.unknown(pricing, f"plan(s) not reported: {', '.join(unknown)}", **evidence)
        else:
            yield ctx.passed(pricing, f"all {len(wanted)} plans are on", **evidence)


def _topic(summary: Asset | None, topic: str) -> Mapping[str, Any] | None:
    return None if summary is None else (summary.attr("topics") or {}).get(topic)


GRADES = {"medium": Severity.MEDIUM, "low": Severity.LOW}
"""A topic past its SLA whose worst open finding is only medium (low) fails at MEDIUM (LOW);
critical and high findings, or findings not read, fail at the check's own severity."""


def findings_text(findings: Mapping[str, Any]) -> str:
    """``1 critical, 2 high, 1 medium in 2 images``: open findings per severity, worst first."""
    text = ", ".join(f"{n} {s}" for s, n in (findings.get("severities") or {}).items())
    images = findings.get("images")
    return text + (f" in {images} image{'' if images == 1 else 's'}" if images else "")


def _oldest(findings: Mapping[str, Any] | None) -> str:
    oldest = (findings or {}).get("oldest_published")
    if not oldest:
        return ""
    return (f"; oldest open: {oldest['id']} ({oldest['severity']}, published "
            f"{str(oldest['published'])[:10]})")


def _grade(ctx: CheckContext, findings: Mapping[str, Any] | None) -> Severity:
    worst = next(iter((findings or {}).get("severities") or {}), None)
    return GRADES.get(str(worst), ctx.spec.severity)


def sla_result(ctx: CheckContext, subject: Asset, found: Mapping[str, Any], what: str,
               sla: int) -> Result:
    """An assessment topic judged against an SLA of ``sla`` days since it turned unhealthy,
    with its findings (``found["findings"]``, null when not read) counted per severity."""
    status = str(found.get("status") or "").lower()
    evidence = {"assessment": dict(found), "sla_days": sla}
    name = f"'{found.get('display_name')}'"
    findings = found.get("findings")
    if status == "healthy":
        return ctx.passed(subject, f"Defender for Cloud finds no {what} ({name} is healthy)",
                          **evidence)
    if status != "unhealthy":
        cause = found.get("cause") or found.get("status")
        return ctx.unknown(subject, f"Defender for Cloud did not assess it ({name} is "
                           f"{found.get('status')}: {cause})", **evidence)
    if findings is not None and not findings.get("open"):
        others = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in
                           (findings.get("not_open") or {}).items()) or "none listed"
        return ctx.unknown(subject, f"Defender for Cloud's {name} is unhealthy but lists no open "
                           f"finding ({others}): not evidence either way", **evidence)
    since = parse_time(found.get("since"))
    if since is None:
        return ctx.unknown(subject, f"Defender for Cloud reports {what} ({name} is unhealthy) "
                           "since a date it does not give", **evidence)
    days = age_days(since, scan_time(ctx.inventory))
    count = int(found.get("unhealthy") or 1)
    detail = f" ({findings_text(findings)})" if findings else (
        f" ({count} unhealthy)" if count > 1 else "")
    text = f"{what}{detail} for {days} days (since {since.date().isoformat()})"
    if days > sla:
        return ctx.fail_at(_grade(ctx, findings), subject, f"{text}, past the {sla}-day SLA: "
                           f"Defender for Cloud's {name} is unhealthy{_oldest(findings)}",
                           days=days, **evidence)
    return ctx.passed(subject, f"{text}, within the {sla}-day SLA", days=days, **evidence)


def _vm_topic(ctx: CheckContext, topic: str, what: str, none: str) -> Iterator[Result]:
    index, sla = _summaries(ctx), int(ctx.param("sla_days"))
    for vm in ctx.inventory.of(VM):
        found = _topic(index.get(vm.uid), topic)
        if found is None:
            yield ctx.unknown(vm, none)
        else:
            yield sla_result(ctx, vm, found, what, sla)


@check("azure.patching.machines_assessed_for_updates", Severity.MEDIUM,
       (Principle.PATCHING, Principle.AUDITABLE),
       reads={f"{VM}#listing", ASSESSMENTS})
def machines_assessed_for_updates(ctx: CheckContext) -> Iterator[Result]:
    """Every virtual machine is assessed for missing system updates

    Patch compliance can only be shown for machines that Defender for Cloud (Azure Update
    Manager) assesses; a VM with no system-update assessment is outside patch monitoring, and a
    VM it could not assess (deallocated, agent missing) is not evidence either way.

    Remediation: Turn on Defender for Servers and set the VM's patch assessment mode to
    AutomaticByPlatform ('Machines should be configured to periodically check for missing
    system updates'), so Azure Update Manager assesses it every 24 hours.
    """
    index = _summaries(ctx)
    for vm in ctx.inventory.of(VM):
        summary = index.get(vm.uid)
        updates = _topic(summary, "system_updates")
        checks = _topic(summary, "update_checks")
        status = str((updates or {}).get("status") or "").lower()
        evidence = {"system_updates": updates, "update_checks": checks}
        if status in ("healthy", "unhealthy"):
            yield ctx.passed(vm, "Defender for Cloud assesses its system updates "
                             f"({(updates or {}).get('status')})", **evidence)
        elif updates is not None:
            yield ctx.unknown(vm, f"the system-update assessment is {updates['status']} "
                              f"({updates.get('cause') or 'no cause given'}): not assessed now",
                              **evidence)
        else:
            yield ctx.fail(vm, "Defender for Cloud reports no system-update assessment: nothing "
                           "shows whether the machine is patched", **evidence)


@check("azure.patching.machines_system_updates_installed", Severity.HIGH,
       (Principle.PATCHING,), reads={f"{VM}#listing", ASSESSMENTS},
       params={"sla_days": 30})
def machines_system_updates_installed(ctx: CheckContext) -> Iterator[Result]:
    """Virtual machines install missing system updates within the SLA

    Defender for Cloud's 'System updates should be installed on your machines' turns unhealthy
    when security or critical updates are missing; a machine that stays so longer than
    `sla_days` (default 30) is outside the patch cycle. The clock starts when the assessment
    turned unhealthy. A machine without the assessment is INCONCLUSIVE here (its coverage is
    azure.patching.machines_assessed_for_updates).

    Remediation: Install the missing updates (Azure Update Manager: one-time update, then a
    maintenance configuration with a recurring schedule and AutomaticByPlatform patching).
    """
    yield from _vm_topic(ctx, "system_updates", "missing system updates",
                         "Defender for Cloud reports no system-update assessment for it")


@check("azure.patching.machines_vulnerabilities_resolved", Severity.HIGH,
       (Principle.PATCHING,),
       reads={f"{VM}#listing", ASSESSMENTS, f"{SUB_ASSESSMENTS}#machine_vulnerabilities"},
       params={"sla_days": 30})
def machines_vulnerabilities_resolved(ctx: CheckContext) -> Iterator[Result]:
    """Vulnerability findings on virtual machines are resolved within the SLA

    Defender Vulnerability Management reports installed software with known vulnerabilities
    ('Machines should have vulnerability findings resolved'); findings older than `sla_days`
    (default 30, from when the assessment turned unhealthy) are outside the remediation cycle.
    The open findings are counted per severity; only medium (low) ones fail at MEDIUM (LOW).

    Remediation: Update or remove the vulnerable software the recommendation lists for the
    machine (or rebuild it from a patched image), then let the next assessment confirm it.
    """
    yield from _vm_topic(ctx, "machine_vulnerabilities", "unresolved vulnerability findings",
                         "Defender for Cloud reports no vulnerability assessment for it")


def _unassessed(ctx: CheckContext, asset: Asset, plan: Mapping[str, Any], extension: str | None,
                off: str, none: str) -> Result:
    """No assessment of ``asset``: FAIL (``off``) when the Defender plan that would assess it,
    or that plan's ``extension``, is off in its subscription; else INCONCLUSIVE (``none``)."""
    on = plan.get("enabled")
    if on is False or (on and extension and (plan.get("extensions") or {}).get(
            extension) is False):
        return ctx.fail(asset, off, pricing=plan)
    return ctx.unknown(asset, none, pricing=plan or None)


def _resource_topic(ctx: CheckContext, type_: str, topic: str, what: str,
                    plan: tuple[str, str | None], off: str, none: str) -> Iterator[Result]:
    """Every resource of ``type_`` judged on its ``topic`` against the SLA, or as unassessed
    under its Defender ``plan`` (name, extension)."""
    index, sla = _summaries(ctx), int(ctx.param("sla_days"))
    plans = plans_by_account(ctx.inventory)
    for asset in ctx.inventory.of(type_):
        found = _topic(index.get(asset.uid), topic)
        if found is not None:
            yield sla_result(ctx, asset, found, what, sla)
        else:
            pricing = plans.get(asset.account, {}).get(plan[0]) or {}
            yield _unassessed(ctx, asset, pricing, plan[1], off, none)


@check("azure.patching.registry_images_vulnerabilities_resolved", Severity.HIGH,
       (Principle.PATCHING,),
       reads={f"{REGISTRY}#listing", ASSESSMENTS, PRICINGS,
              f"{SUB_ASSESSMENTS}#image_vulnerabilities"}, params={"sla_days": 30})
def registry_images_vulnerabilities_resolved(ctx: CheckContext) -> Iterator[Result]:
    """Container registry images are scanned and their vulnerabilities resolved within the SLA

    Defender for Containers scans images in Azure Container Registry; 'Azure registry container
    images should have vulnerabilities resolved' turns unhealthy when pushed or recently pulled
    images carry known vulnerabilities. Findings older than `sla_days` (default 30) fail, counted
    per severity and image (only medium or low ones: MEDIUM or LOW); a registry in a subscription
    whose image scanning is off fails as unscanned.

    Remediation: Rebuild the affected images on patched base images and push them (then delete
    or stop pulling the vulnerable tags); turn on Defender for Containers with registry image
    scanning where it is off.
    """
    yield from _resource_topic(
        ctx, REGISTRY, "image_vulnerabilities", "images with unresolved vulnerabilities",
        ("Containers", IMAGE_SCANNING),
        "its images are not scanned: Defender for Containers image scanning is off in the "
        "subscription",
        "Defender for Cloud reports no image vulnerability assessment for it (no image scanned "
        "yet, or scanning not reported)")


@check("azure.patching.sql_vulnerabilities_resolved", Severity.MEDIUM,
       (Principle.PATCHING,),
       reads={f"{SQL_SERVER}#listing", ASSESSMENTS, PRICINGS,
              f"{SUB_ASSESSMENTS}#sql_vulnerabilities"}, params={"sla_days": 30})
def sql_vulnerabilities_resolved(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL vulnerability assessment findings are resolved within the SLA

    Defender for Azure SQL scans every database against the SQL vulnerability assessment rules
    (excess permissions, firewall rules, auditing, unprotected sensitive data: 'SQL databases
    should have vulnerability findings resolved'); findings open longer than `sla_days` (default
    30) fail, counted per severity. A server in a subscription whose Defender for Azure SQL plan
    is off fails as unassessed.

    Remediation: Fix the failing rules the recommendation lists per database (or approve a
    baseline for results that are intended), and turn on Defender for Azure SQL databases where
    it is off.
    """
    yield from _resource_topic(
        ctx, SQL_SERVER, "sql_vulnerabilities", "unresolved SQL vulnerability findings",
        ("SqlServers", None),
        "its databases are not assessed: Defender for Azure SQL databases is off in the "
        "subscription",
        "Defender for Cloud reports no SQL vulnerability assessment for it (not scanned yet, or "
        "not reported)")
