"""Container images in ECR: scanned on push or continuously, the latest image free of critical
findings, tags that cannot be moved onto an image nobody scanned, repositories no outside account
can pull from or push to, old images expired by a lifecycle policy.

Only the most recently pushed image of a repository is judged (what a deployment pulling the
newest tag gets); Inspector's findings on older images in use are judged by
``aws.patching.vulnerabilities_remediated_within_sla``. Repository policies are evaluated by
posture's IAM policy evaluator for an arbitrary outside principal, never matched as strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from posture.checks._shared import no_policy_document
from posture.checks.aws_iam_access import public_grants

from posture.engine import CheckContext, Result
from posture.iam.actions import catalogue
from posture.iam.policy import Policy, parse_policy
from posture.model import Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

REPOSITORY = "AWS::ECR::Repository"
_PATCHING = (Principle.PATCHING,)
_SCANNED = ("COMPLETE", "ACTIVE")
_WRITE = {"write", "permissions-management"}


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


@check("aws.patching.ecr_repository_not_public", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH), reads={f"{REPOSITORY}#policy"})
def ecr_repository_not_public(ctx: CheckContext) -> Iterator[Result]:
    """ECR repositories do not let every AWS account pull or push images

    A repository policy statement with Principal '*' and no condition that pins the caller lets
    any AWS account pull the images (the code, its libraries, whatever was baked into a layer)
    and, if it grants push, replace them: whoever deploys the tag then runs a stranger's image.
    Each ECR action the policy grants a wildcard principal is evaluated for an arbitrary outside
    principal by posture's IAM policy evaluator: a condition on the caller's organization, account
    or source (aws:PrincipalOrgID, aws:SourceAccount, aws:SourceArn) admits no outsider and
    passes; a condition that cannot be decided is INCONCLUSIVE. Push or policy changes open:
    CRITICAL; pull only: HIGH.

    Remediation: Remove the wildcard statement or name the principals (`aws ecr
    set-repository-policy`), or pin it to your organization with aws:PrincipalOrgID; publish
    images meant for everyone through ECR Public instead.
    """
    cat = catalogue()
    for repo in ctx.inventory.of(REPOSITORY):
        document = repo.attr("policy")
        if document is None:
            yield no_policy_document(ctx, repo, "policy")
            continue
        policy = _attached(parse_policy(document, f"{repo.uid}#policy", cat), repo.uid)
        if policy.unparsed:
            yield ctx.unknown(repo, "the repository policy could not be parsed")
            continue
        definite, conditional = public_grants(policy, repo.uid, "ecr", cat)
        levels = sorted({lv for g in definite for lv in g["access_levels"]})
        if definite and _WRITE & set(levels):
            yield ctx.fail_at(Severity.CRITICAL, repo, f"the repository policy grants every AWS "
                              f"account {', '.join(levels)} access: anyone can push images to "
                              "it", public_grants=definite)
        elif definite:
            yield ctx.fail(repo, f"the repository policy grants every AWS account "
                           f"{', '.join(levels)} access: anyone can pull its images",
                           public_grants=definite)
        elif conditional:
            yield ctx.unknown(repo, "the repository policy may grant every AWS account access, "
                              "under conditions that cannot be decided",
                              conditional_grants=conditional)
        else:
            yield ctx.passed(repo, "the repository policy grants no outside account access")


def _attached(policy: Policy, arn: str) -> Policy:
    """ECR repository policies name no Resource: a statement without one applies to the
    repository the policy is attached to."""
    return replace(policy, statements=tuple(
        s if s.resources or s.not_resource else replace(s, resources=(arn,))
        for s in policy.statements))


@check("aws.patching.ecr_lifecycle_policy_configured", Severity.LOW, _PATCHING,
       reads={f"{REPOSITORY}#lifecycle"})
def ecr_lifecycle_policy_configured(ctx: CheckContext) -> Iterator[Result]:
    """ECR repositories expire old images with a lifecycle policy

    Without a lifecycle policy every image ever pushed stays pullable: old builds with known,
    fixed vulnerabilities remain one tag away from a rollback or a stale deployment, and the
    registry's scan findings fill with images nobody runs. A policy with at least one rule
    passes (posture does not judge the rule's count or age).

    Remediation: Put a lifecycle policy on the repository (`aws ecr put-lifecycle-policy`), e.g.
    expire untagged images after 14 days and keep only the last N tagged releases.
    """
    for repo in ctx.inventory.of(REPOSITORY):
        present, rules = repo.attr("lifecycle_policy_present"), repo.attr("lifecycle_rule_count")
        if present is None:
            yield ctx.unknown(repo, "the repository's lifecycle policy is unknown")
        elif present and rules:
            yield ctx.passed(repo, f"a lifecycle policy with {rules} rule(s) expires old images",
                             lifecycle_rule_count=rules)
        else:
            yield ctx.fail(repo, "no lifecycle policy: every image ever pushed stays pullable"
                           if not present else "the lifecycle policy has no rule",
                           lifecycle_rule_count=rules)
