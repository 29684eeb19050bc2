"""Patch management on EC2: running instances managed by Systems Manager and missing no critical
or security patch, and machine images no older than a limit (Inspector: aws_patching_inspector.py,
ECR: aws_patching_images.py).

Principle: defense in depth (a known, fixed vulnerability left in place is a layer removed);
``secure-code`` is kept for what is judged on the code itself (GitHub). Ages are measured at the
scan's finish time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import ALL, Asset, CollectionError, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

INSTANCE = "AWS::EC2::Instance"
MANAGED = "AWS::SSM::ManagedInstance"
SUMMARY = "AWS::SSM::ManagedNodeSummary"
SETTING = "AWS::SSM::ServiceSetting"
DHMC = "/ssm/managed-instance/default-ec2-instance-management-role"
INSPECTOR = "AWS::Inspector2::AccountStatus"
IMAGE = "AWS::EC2::Image"
_PATCHING = (Principle.PATCHING,)
Where = tuple[str, str, str]  # account, region, resource id


def _listing_failed(ctx: CheckContext, type_: str, asset: Asset) -> list[CollectionError]:
    """The errors that left ``type_`` unlisted where ``asset`` lives (its absence means nothing)."""
    return [e for e in ctx.inventory.errors if e.resource_uid is None
            and any(t in (type_, ALL) for t in e.asset_types) and e.covers(asset.account,
                                                                            asset.region)]


def _unmanaged_gap(ctx: CheckContext, inst: Asset) -> str | None:
    """Why an instance without a managed node cannot be called unmanaged (None: it can)."""
    if _listing_failed(ctx, MANAGED, inst):
        return "Systems Manager's managed nodes could not be listed in this region"
    listed = {(s.account, s.region) for s in ctx.inventory.of(SUMMARY)}
    if (inst.account, inst.region) not in listed:
        return "Systems Manager's managed nodes were not collected in this region"
    return None


def _nodes_of_running(ctx: CheckContext) -> Iterator[tuple[Asset, Asset | None, str | None]]:
    """Each running instance, its managed node (None: none) and, without one, why it cannot be
    called unmanaged (None: it can)."""
    nodes = {_where(n): n for n in ctx.inventory.of(MANAGED)}
    for inst in running_instances(ctx):
        node = nodes.get(_where(inst))
        yield inst, node, None if node is not None else _unmanaged_gap(ctx, inst)


def running_instances(ctx: CheckContext) -> list[Asset]:
    return [i for i in ctx.inventory.of(INSTANCE) if i.attr("state") == "running"]


def _where(asset: Asset) -> Where:
    """An instance or managed node by account, region and instance id."""
    return (asset.account, asset.region, str(asset.attr("instance_id")))


def inspector_findings(ctx: CheckContext) -> dict[Where, Mapping[str, Any]]:
    """Inspector's open critical/high summary per resource id, where it was read."""
    return {(s.account, s.region, str(row["resource_id"])): row
            for s in ctx.inventory.of(INSPECTOR) for row in s.attr("findings") or []}


def days_since(ctx: CheckContext, stamp: Any) -> int | None:
    when = parse_time(stamp)
    return None if when is None else age_days(when, scan_time(ctx.inventory))


@check("aws.patching.instances_managed_by_ssm", Severity.MEDIUM, _PATCHING,
       reads={f"{INSTANCE}#listing", f"{MANAGED}#listing", SUMMARY})
def instances_managed_by_ssm(ctx: CheckContext) -> Iterator[Result]:
    """Running EC2 instances are managed by Systems Manager

    An instance whose SSM agent does not report to Systems Manager is outside Patch Manager,
    inventory and Session Manager: nobody patches it on a cycle and nobody sees its patch level.
    A node registered but not Online (ConnectionLost, Inactive) is no better. Stopped instances
    are not judged; an instance whose region's managed nodes could not be listed (or were not
    collected: a snapshot older than the SSM collector) is INCONCLUSIVE. An unmanaged instance
    stays unmanaged when the region's Default Host Management Configuration is on (it offers a
    role, the agent still has to run, use IMDSv2 and reach Systems Manager): the finding says
    which of the two ways to register (DHMC, instance profile) the instance lacks.

    Remediation: Give the instance an instance profile with AmazonSSMManagedInstanceCore (or turn
    on Default Host Management Configuration), make sure the SSM agent runs and reaches the SSM
    endpoints (VPC endpoints or NAT), then check that the node shows Online in Fleet Manager.
    """
    settings = {(a.account, a.region): a for a in ctx.inventory.of(SETTING)
                if a.attr("setting_id") == DHMC}
    for inst, node, gap in _nodes_of_running(ctx):
        if gap:
            yield ctx.unknown(inst, gap)
            continue
        if node is None:
            setting = settings.get((inst.account, inst.region))
            yield ctx.fail(inst, "running instance is not managed by Systems Manager: no agent "
                           "reports from it, so no patch cycle or patch report covers it"
                           f"{_unmanaged_why(inst, setting)}", image_id=inst.attr("image_id"),
                           instance_profile=inst.attr("iam_instance_profile_arn"),
                           default_host_management=_dhmc_evidence(setting))
            continue
        ping, last = node.attr("ping_status"), node.attr("last_ping")
        evidence = {"ping_status": ping, "last_ping": last,
                    "agent_version": node.attr("agent_version"),
                    "platform": node.attr("platform_name")}
        if ping == "Online":
            yield ctx.passed(inst, "managed by Systems Manager: agent "
                             f"{node.attr('agent_version')} online", **evidence)
        else:
            yield ctx.fail(inst, f"registered with Systems Manager but its agent is {ping} (last "
                           f"seen {last}): patching and commands do not reach it", **evidence)


def _unmanaged_why(inst: Asset, setting: Asset | None) -> str:
    """Which way for the instance's agent to register is missing, as far as the snapshot says."""
    profile = inst.attr("iam_instance_profile_arn")
    if setting is None:
        return "" if profile else ("; it has no instance profile (whether Default Host Management "
                                   "is on in this region is unknown)")
    if setting.attr("enabled"):
        on = f"; Default Host Management is on in this region (role {setting.attr('role')})"
        if inst.attr("http_tokens") != "required":
            return f"{on} but works only with IMDSv2, and this instance allows IMDSv1"
        return (f"{on}, so its agent is missing, older than 3.2.582.0, stopped, or cannot reach "
                "the Systems Manager endpoints")
    if not profile:
        return ("; it has no instance profile and Default Host Management is off in this region: "
                "nothing gives its agent credentials")
    return ("; Default Host Management is off in this region, so only its instance profile could "
            "register it: the profile's role lacks AmazonSSMManagedInstanceCore, or the agent is "
            "missing, stopped or cannot reach the Systems Manager endpoints")


def _dhmc_evidence(setting: Asset | None) -> dict[str, Any] | None:
    if setting is None:
        return None
    return {"enabled": setting.attr("enabled"), "role": setting.attr("role"),
            "status": setting.attr("status")}


@check("aws.patching.instances_patch_compliant", Severity.HIGH, _PATCHING,
       reads={f"{INSTANCE}#listing", MANAGED, SUMMARY}, params={"scan_max_age_days": 14})
def instances_patch_compliant(ctx: CheckContext) -> Iterator[Result]:
    """Running EC2 instances miss no critical or security patch

    Read from the patch state each managed node reports to Patch Manager (its last scan or
    install against its patch baseline). Missing critical patches: HIGH; missing security
    patches or patches that failed to install: MEDIUM; a last scan older than
    `scan_max_age_days` (14) days, a node never scanned, or an instance not managed at all:
    MEDIUM, since its patch level is then unknown to the organisation. Patch Manager does not say
    since when a patch is missing: the evidence adds Inspector's oldest open critical finding on
    the instance when there is one (aws.patching.vulnerabilities_remediated_within_sla judges that
    age).

    Remediation: Run AWS-RunPatchBaseline with Install in a maintenance window or a Quick Setup
    patch policy on a regular cycle, fix the installs that fail, and reboot where patches wait for
    it.
    """
    findings, limit = inspector_findings(ctx), int(ctx.param("scan_max_age_days"))
    for inst, node, gap in _nodes_of_running(ctx):
        if gap:
            yield ctx.unknown(inst, gap)
            continue
        if node is None:
            yield ctx.fail_at(Severity.MEDIUM, inst, "not managed by Systems Manager: no patch "
                              "compliance is reported for it")
            continue
        present, state = node.attr("patch_state_present"), node.attr("patch_state")
        if present is None or (present and state is None):
            yield ctx.unknown(inst, "the node's patch state could not be read")
            continue
        if not present:
            yield ctx.fail_at(Severity.MEDIUM, inst, "managed by Systems Manager but Patch "
                              "Manager has never reported a scan of it")
            continue
        yield _patch_verdict(ctx, inst, state, limit, findings.get(_where(inst)))


def _patch_verdict(ctx: CheckContext, inst: Asset, state: Mapping[str, Any], limit: int,
                   finding: Mapping[str, Any] | None) -> Result:
    critical, security = int(state["critical_missing"]), int(state["security_missing"])
    failed, age = int(state["failed"]), days_since(ctx, state.get("operation_end_time"))
    operation = str(state.get("operation") or "patch operation").lower()
    when = f"the {operation} of {state.get('operation_end_time')}"
    evidence: dict[str, Any] = {**state, "scan_age_days": age}
    seen = ""
    if finding and finding.get("oldest_critical"):
        evidence["inspector"] = dict(finding)
        seen = (f"; Inspector first saw an open critical vulnerability on it "
                f"{days_since(ctx, finding['oldest_critical'])} days ago")
    if critical:
        return ctx.fail(inst, f"{critical} critical and {security} security patch(es) missing "
                        f"as of {when}{seen}", **evidence)
    if security or failed:
        what = f"{security} security patch(es) missing" if security else \
            f"{failed} patch(es) failed to install"
        return ctx.fail_at(Severity.MEDIUM, inst, f"{what} as of {when}{seen}", **evidence)
    if age is None:
        return ctx.fail_at(Severity.MEDIUM, inst, "the node's patch report has no time: its "
                           "compliance cannot be dated", **evidence)
    if age > limit:
        return ctx.fail_at(Severity.MEDIUM, inst, f"the last patch report is {age} days old "
                           f"(limit {limit}): its compliance is stale", **evidence)
    return ctx.passed(inst, f"no critical or security patch missing as of {when} ({age} days ago)",
                      **evidence)


@check("aws.patching.ami_age_within_limit", Severity.MEDIUM, _PATCHING,
       reads={f"{IMAGE}#listing"}, params={"max_age_days": 180})
def ami_age_within_limit(ctx: CheckContext) -> Iterator[Result]:
    """The machine images instances run are no older than the limit

    An image is as patched as the day it was built: an instance launched today from a 300-day-old
    image starts 300 days of patches behind, whatever the image's name or tags say ("patched",
    "hardened") and however recent its pipeline's newer builds are. Judged by the creation date of
    the image each instance runs, against `max_age_days` (180). An image AWS no longer describes
    (deregistered, no longer shared) is at least as old as the oldest instance launched from it;
    when that does not settle it, INCONCLUSIVE. An image within the limit that its owner has
    deprecated (a newer one replaces it) fails LOW. A copy's creation date is the copy's: the
    evidence names its source. Images no instance runs are not judged here.

    Remediation: Rebuild the image from a current base on a schedule (EC2 Image Builder pipeline),
    roll the instances onto it (instance refresh of the Auto Scaling group), and deregister the
    old image.
    """
    limit = int(ctx.param("max_age_days"))
    launches = {a.uid: a.attr("launch_time") for a in ctx.inventory.of(INSTANCE)}
    for img in ctx.inventory.of(IMAGE):
        users = [str(i) for i in img.attr("instance_ids") or []]
        if not users:
            continue
        evidence = {k: img.attr(k) for k in ("image_id", "name", "owner_id", "owner_alias",
                                             "creation_date", "deprecation_time",
                                             "source_image_id")}
        evidence["instance_ids"] = users
        if not img.attr("found"):
            yield _bounded_by_launch(ctx, img, users, launches, limit, evidence)
            continue
        age = days_since(ctx, img.attr("creation_date"))
        if age is None:
            yield ctx.unknown(img, "the image's creation date is unknown", **evidence)
        elif age > limit:
            yield ctx.fail(img, f"image created {age} days ago (limit {limit}), run by "
                           f"{len(users)} instance(s){_old_notes(ctx, img)}", age_days=age,
                           **evidence)
        elif _deprecated(ctx, img):
            yield ctx.fail_at(Severity.LOW, img, f"image created {age} days ago (limit {limit}) "
                              f"but deprecated by its owner since {img.attr('deprecation_time')}",
                              age_days=age, **evidence)
        else:
            yield ctx.passed(img, f"image created {age} days ago (limit {limit})", age_days=age,
                             **evidence)


def _deprecated(ctx: CheckContext, img: Asset) -> bool:
    since = days_since(ctx, img.attr("deprecation_time"))
    return since is not None and since >= 0


def _old_notes(ctx: CheckContext, img: Asset) -> str:
    notes = [": it lacks every patch released since it was built"]
    label = " ".join([str(img.attr("name") or ""), *img.tags.keys(), *img.tags.values()]).lower()
    if "patch" in label:
        notes.append(" (its name or tags say patched: that describes the build, not today)")
    if _deprecated(ctx, img):
        notes.append(f"; deprecated since {img.attr('deprecation_time')}")
    return "".join(notes)


def _bounded_by_launch(ctx: CheckContext, img: Asset, users: list[str],
                       launches: Mapping[str, Any], limit: int, evidence: dict[str, Any]
                       ) -> Result:
    uids = [f"arn:aws:ec2:{img.region}:{img.account}:instance/{i}" for i in users]
    ages = [a for a in (days_since(ctx, launches.get(u)) for u in uids) if a is not None]
    if ages and max(ages) > limit:
        return ctx.fail(img, f"the image is no longer described (deregistered or no longer "
                        f"shared), but an instance was launched from it {max(ages)} days ago, so "
                        f"it is at least that old (limit {limit})", age_days_at_least=max(ages),
                        **evidence)
    return ctx.unknown(img, "the image is no longer described (deregistered or no longer "
                       "shared): its age is unknown", **evidence)
