"""Cloud Storage access: no public buckets, uniform bucket-level access."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import BUCKET, public_grants
from posture.model import Principle, Severity
from posture.registry import check


@check(
    id="gcp.storage.bucket_not_public",
    title="Cloud Storage buckets are not readable or writable by allUsers or allAuthenticatedUsers",
    severity=Severity.CRITICAL,
    principles=(Principle.LEAST_PRIVILEGE,),
    reads={f"{BUCKET}#iam_policy"},
    remediation=(
        "Remove the allUsers / allAuthenticatedUsers bindings and enforce public access "
        "prevention (`gcloud storage buckets update gs://B --public-access-prevention`); serve "
        "public content through a load balancer or signed URLs."
    ),
    rationale=(
        "A public binding exposes every object to anyone (allAuthenticatedUsers means any Google "
        "account, not your organisation). Enforced public access prevention overrides such "
        "bindings, so the bucket then passes. Object ACLs of fine-grained buckets are not read."
    ),
)
def bucket_not_public(ctx: CheckContext) -> Iterator[Result]:
    for bucket in ctx.inventory.of(BUCKET):
        if bucket.attr("iam_bindings") is None:
            yield ctx.unknown(bucket, "bucket IAM policy unknown")
            continue
        public = public_grants(bucket)
        pap = bucket.attr("public_access_prevention")
        if public and pap == "enforced":
            yield ctx.passed(
                bucket,
                "public bindings exist but public access prevention is enforced",
                public_bindings=public,
            )
        elif public:
            roles = sorted({g["role"] for g in public})
            yield ctx.fail(
                bucket,
                f"public binding(s): {', '.join(roles)}",
                public_bindings=public,
                public_access_prevention=pap,
            )
        else:
            yield ctx.passed(bucket, "no public IAM binding", public_access_prevention=pap)


@check(
    id="gcp.storage.bucket_uniform_access_enabled",
    title="Cloud Storage buckets use uniform bucket-level access",
    severity=Severity.MEDIUM,
    principles=(Principle.LEAST_PRIVILEGE,),
    reads={f"{BUCKET}#listing"},
    remediation=(
        "Enable uniform bucket-level access (`gcloud storage buckets update gs://B "
        "--uniform-bucket-level-access`) after moving object ACL grants into IAM."
    ),
    rationale=(
        "With fine-grained access every object can carry its own ACL, invisible to bucket IAM "
        "reviews; uniform access makes IAM the only authority."
    ),
)
def bucket_uniform_access_enabled(ctx: CheckContext) -> Iterator[Result]:
    for bucket in ctx.inventory.of(BUCKET):
        if bucket.attr("uniform_access"):
            yield ctx.passed(bucket, "uniform bucket-level access enabled")
        else:
            yield ctx.fail(bucket, "fine-grained (object ACL) access is enabled")
