"""Container images in ECR: scanned on push or continuously, the latest image free of critical
findings, tags that cannot be moved onto an image nobody scanned.

Only the most recently pushed image of a repository is judged (what a deployment pulling the
newest tag gets); Inspector's findings on older images in use are judged by
``aws.patching.vulnerabilities_remediated_within_sla``.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

REPOSITORY = "AWS::ECR::Repository"
_PATCHING = (Principle.DEFENSE_IN_DEPTH,)
_SCANNED = ("COMPLETE", "ACTIVE")


@check("aws.patching.ecr_image_scanning_enabled", Severity.MEDIUM, _PATCHING,
       reads={f"{REPOSITORY}#scanning"})
def ecr_image_scanning_enabled(ctx: CheckContext) -> Iterator[Result]:
    """ECR repositories scan images on push or continuously

    The effective scan frequency applies the registry's scanning rules (basic or enhanced) to the
    repository. `MANUAL` means an image is scanned only when someone asks: a vulnerable image is
    pushed and deployed unseen. Basic scan on push looks once, at push; continuous (enhanced)
    scanning also finds the CVEs published after the push — the message says which.

    Remediation: Set a registry scanning rule for every repository (`*`): enhanced scanning with
    continuous scan through Amazon Inspector, or at least basic scan on push.
    """
    for repo in ctx.inventory.of(REPOSITORY):
        frequency = repo.attr("scan_frequency")
        evidence = {"scan_frequency": frequency, "scan_on_push": repo.attr("scan_on_push")}
        if frequency is None:
            yield ctx.unknown(repo, "the repository's scanning configuration is unknown")
        elif frequency == "CONTINUOUS_SCAN":
            yield ctx.passed(repo, "images are scanned continuously (enhanced scanning)",
                             **evidence)
        elif frequency == "SCAN_ON_PUSH" or repo.attr("scan_on_push"):
            yield ctx.passed(repo, "images are scanned on push (once: CVEs published later are "
                             "not found without continuous scanning)", **evidence)
        else:
            yield ctx.fail(repo, f"images are never scanned unless someone asks (scan frequency "
                           f"{frequency})", **evidence)


@check("aws.patching.ecr_images_without_critical_findings", Severity.HIGH, _PATCHING,
       reads={f"{REPOSITORY}#images"})
def ecr_images_without_critical_findings(ctx: CheckContext) -> Iterator[Result]:
    """The latest image of each ECR repository has no critical vulnerability

    Judged on the scan summary of the most recently pushed image (severity counts, never the CVE
    list). An image with no scan result (never scanned, failed, unsupported, scan eligibility
    expired) is INCONCLUSIVE: unscanned is not clean. Empty repositories are not judged.

    Remediation: Rebuild the image from a patched base image with updated packages, push it,
    redeploy, and make the build fail on critical findings.
    """
    now = scan_time(ctx.inventory)
    for repo in ctx.inventory.of(REPOSITORY):
        latest, count = repo.attr("latest_image"), repo.attr("image_count")
        if count == 0:
            continue
        if latest is None:
            yield ctx.unknown(repo, "the repository's images could not be read")
            continue
        status, counts = latest.get("scan_status"), latest.get("finding_counts") or {}
        pushed = parse_time(latest.get("pushed_at"))
        tag = ", ".join(latest.get("tags") or []) or str(latest.get("digest"))[:19]
        evidence = {"image": latest, "image_count": count}
        if status not in _SCANNED:
            yield ctx.unknown(repo, f"the latest image ({tag}) has no scan result ({status})",
                              **evidence)
            continue
        critical, high = int(counts.get("CRITICAL", 0)), int(counts.get("HIGH", 0))
        age = "" if pushed is None else f", pushed {age_days(pushed, now)} days ago"
        if critical:
            yield ctx.fail(repo, f"the latest image ({tag}{age}) has {critical} critical and "
                           f"{high} high finding(s)", **evidence)
        else:
            yield ctx.passed(repo, f"the latest image ({tag}) has no critical finding ({high} "
                             "high)", **evidence)


@check("aws.patching.ecr_image_tags_immutable", Severity.LOW, _PATCHING,
       reads={f"{REPOSITORY}#listing"})
def ecr_image_tags_immutable(ctx: CheckContext) -> Iterator[Result]:
    """ECR repositories do not let a tag be moved to another image

    With mutable tags, `app:v42` can be re-pushed after it was scanned and approved: what is
    deployed under the tag is no longer what was checked. Immutable with exclusions (e.g.
    `latest`) passes and the exclusions are named.

    Remediation: Set image tag mutability to IMMUTABLE (exclusion filters for tags meant to move,
    such as `latest`), and deploy by digest where possible.
    """
    for repo in ctx.inventory.of(REPOSITORY):
        mutability = repo.attr("image_tag_mutability")
        if mutability is None:
            yield ctx.unknown(repo, "the repository's tag mutability is unknown")
        elif str(mutability).startswith("IMMUTABLE"):
            yield ctx.passed(repo, f"tags are immutable ({mutability})", mutability=mutability)
        else:
            yield ctx.fail(repo, f"tags are mutable ({mutability}): a scanned tag can be "
                           "re-pointed to an unscanned image", mutability=mutability)
