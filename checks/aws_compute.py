"""Compute configuration already collected: the instance metadata service requires IMDSv2
session tokens, Lambda functions run a runtime AWS still supports (dated table in
``checks/lifecycle/aws.toml``), and the machine images the account owns are not public."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from posture import lifecycle
from posture.engine import CheckContext, Result
from posture.graph.aws.exposure import reach_of
from posture.graph.aws.reach import AwsReach, Host
from posture.graph.aws.served import served_ports
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

INSTANCE = "AWS::EC2::Instance"
FUNCTION = "AWS::Lambda::Function"
IMAGE = "AWS::EC2::Image"
_GONE = ("terminated", "shutting-down")


@check("aws.compute.imdsv2_required", Severity.HIGH,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={f"{INSTANCE}#listing"})
def imdsv2_required(ctx: CheckContext) -> Iterator[Result]:
    """EC2 instances require IMDSv2 session tokens for the metadata service

    With IMDSv1 allowed (`HttpTokens` optional), one server-side request forgery in any
    application on the instance reads the instance profile's credentials from
    169.254.169.254. Graded by what a forged request can reach and steal: an instance profile and
    the wide internet reaching a port of the instance (directly or through an internet-facing load
    balancer, on the reachability graph): HIGH; an instance profile, not reachable from the
    internet (or undecided): MEDIUM; no instance profile (only user data and instance identity to
    read): LOW. The metadata service turned off passes. Terminated instances are not judged.

    Remediation: Require tokens (`aws ec2 modify-instance-metadata-options --instance-id <id>
    --http-tokens required --http-put-response-hop-limit 2`), set it in launch templates and as
    the account default (`aws ec2 modify-instance-metadata-defaults --http-tokens required`).
    """
    hosts: dict[str, Host] | None = None
    for inst in ctx.inventory.of(INSTANCE):
        if inst.attr("state") in _GONE:
            continue
        tokens, endpoint = inst.attr("http_tokens"), inst.attr("http_endpoint")
        evidence = {"http_tokens": tokens, "http_endpoint": endpoint,
                    "instance_profile": inst.attr("iam_instance_profile_arn")}
        if endpoint == "disabled":
            yield ctx.passed(inst, "the instance metadata service is turned off", **evidence)
        elif tokens == "required":
            yield ctx.passed(inst, "IMDSv2 is required (session tokens)", **evidence)
        elif tokens is None:
            yield ctx.unknown(inst, "the metadata options were not reported", **evidence)
        else:
            reach: AwsReach = ctx.derived("aws.reach", reach_of)
            hosts = hosts if hosts is not None else {h.asset.uid: h for h in reach.hosts()}
            yield _imdsv1(ctx, inst, reach, hosts.get(inst.uid), evidence)


def _imdsv1(ctx: CheckContext, inst: Asset, reach: AwsReach, host: Host | None,
            evidence: dict[str, object]) -> Result:
    profile = inst.attr("iam_instance_profile_arn")
    served = served_ports(reach, host) if host is not None else None
    exposed = bool(served and served.exposure.exposed)
    if exposed and served is not None:
        evidence = {**evidence, "internet_ports": served.text(),
                    "path": served.exposure.summary}
    if not profile:
        return ctx.fail_at(Severity.LOW, inst, "IMDSv1 is allowed; the instance has no instance "
                           "profile, so a forged request reads user data, not credentials",
                           **evidence)
    if exposed and served is not None:
        return ctx.fail(inst, f"IMDSv1 is allowed on an instance the internet reaches "
                        f"({served.text()}): one SSRF there hands out the credentials of its "
                        "instance profile", **evidence)
    why = "whether the internet reaches it could not be decided" if served is None or \
        served.exposure.unknown else "no internet path reaches it"
    return ctx.fail_at(Severity.MEDIUM, inst, "IMDSv1 is allowed: an SSRF in any application on "
                       f"it hands out its instance profile's credentials ({why})", **evidence)


@check("aws.compute.lambda_runtime_supported", Severity.HIGH, (Principle.PATCHING,),
       reads={f"{FUNCTION}#listing"})
def lambda_runtime_supported(ctx: CheckContext) -> Iterator[Result]:
    """Lambda functions run a runtime AWS still supports

    Past its deprecation date a runtime gets no security patches, and function updates are then
    blocked. Dates come from checks/lifecycle/aws.toml (product lambda_runtime, with its source
    and the date it was last checked): a runtime past its date FAILs with the date; a runtime
    the table does not list (newer than the table, or unheard of) is INCONCLUSIVE — posture never
    calls an unknown version supported. Functions packaged as container images have no managed
    runtime and are judged by image scanning instead.

    Remediation: Move the function to a supported runtime (`aws lambda update-function-configuration
    --runtime <newer>`) after testing it on that version; track the deprecation calendar.
    """
    table = lifecycle.product("aws", "lambda_runtime")
    today = scan_time(ctx.inventory).date()
    for fn in ctx.inventory.of(FUNCTION):
        runtime = fn.attr("runtime")
        if not runtime:
            continue
        yield support_verdict(ctx, fn, f"runtime {runtime}", table.end_of(str(runtime)), table,
                              today)


def support_verdict(ctx: CheckContext, asset: Asset, what: str, end: dt.date | None,
               table: lifecycle.Product, today: dt.date, severity: Severity | None = None
               ) -> Result:
    """The verdict on a version against its end-of-support date (None: not in the table)."""
    evidence = {"end_of_support": end, "source": table.source()}
    if end is None:
        return ctx.unknown(asset, f"{what} is not in posture's end-of-support table "
                           f"({table.source()}): its support cannot be confirmed", **evidence)
    if end <= today:
        text = f"{what} is past its end of support since {end.isoformat()}"
        return ctx.fail_at(severity or ctx.spec.severity, asset, text, **evidence)
    return ctx.passed(asset, f"{what} is supported until {end.isoformat()} "
                      f"({(end - today).days} days after the scan)", **evidence)


@check("aws.compute.ami_not_public", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH), reads={f"{IMAGE}#owned"})
def ami_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Machine images the account owns are not shared publicly

    Every AWS account can launch a public AMI and read its disks: the installed software and its
    configuration, and whatever the build left on them (keys, credentials, data). Judged on each
    image the account owns in the region, in use or not. Images of other owners that instances
    run (Amazon's and Marketplace images are public by design) and images no longer described
    (deregistered) are not the account's to share and are not judged. Image Block Public Access
    only stops new public sharing: an image already public stays public.

    Remediation: Make the image private (`aws ec2 modify-image-attribute --image-id <ami>
    --launch-permission "Remove=[{Group=all}]"`), share it with named accounts or the organization
    instead, and turn on Image Block Public Access in every region (`aws ec2
    enable-image-block-public-access --image-block-public-access-state block-new-sharing`).
    """
    for img in ctx.inventory.of(IMAGE):
        if not img.attr("found") or img.attr("owner_id") != img.account:
            continue
        public = img.attr("public")
        evidence = {"image_id": img.attr("image_id"), "name": img.attr("name"),
                    "state": img.attr("state"), "creation_date": img.attr("creation_date"),
                    "instance_ids": img.attr("instance_ids")}
        if public is None:
            yield ctx.unknown(img, "whether the image is public was not reported", **evidence)
        elif public:
            yield ctx.fail(img, "the image is public: every AWS account can launch it and read "
                           "its disks", **evidence)
        else:
            yield ctx.passed(img, "the image is not public", **evidence)
