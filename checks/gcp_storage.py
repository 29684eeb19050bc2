"""Cloud Storage access: no public buckets, uniform bucket-level access, public access
prevention enforced (on the bucket or by the organisation policy in effect on its project)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import BUCKET, ORG_POLICY, public_grants
from posture.model import Asset, Principle, Severity
from posture.registry import check


@check("gcp.storage.bucket_not_public", Severity.CRITICAL, (Principle.LEAST_PRIVILEGE,),
       reads={f"{BUCKET}#iam_policy"})
def bucket_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Storage buckets are not readable or writable by allUsers or allAuthenticatedUsers

    A public binding exposes every object to anyone (allAuthenticatedUsers means any Google
    account, not your organisation). Enforced public access prevention overrides such bindings, so
    the bucket then passes. Object ACLs of fine-grained buckets are not read.

    Remediation: Remove the allUsers / allAuthenticatedUsers bindings and enforce public access
    prevention (`gcloud storage buckets update gs://B --public-access-prevention`); serve public
    content through a load balancer or signed URLs.
    """
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


@check("gcp.storage.bucket_uniform_access_enabled", Severity.MEDIUM, (Principle.LEAST_PRIVILEGE,),
       reads={f"{BUCKET}#listing"})
def bucket_uniform_access_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Storage buckets use uniform bucket-level access

    With fine-grained access every object can carry its own ACL, invisible to bucket IAM reviews;
    uniform access makes IAM the only authority.

    Remediation: Enable uniform bucket-level access (`gcloud storage buckets update gs://B
    --uniform-bucket-level-access`) after moving object ACL grants into IAM.
    """
    for bucket in ctx.inventory.of(BUCKET):
        if bucket.attr("uniform_access"):
            yield ctx.passed(bucket, "uniform bucket-level access enabled")
        else:
            yield ctx.fail(bucket, "fine-grained (object ACL) access is enabled")


PAP_CONSTRAINT = "storage.publicAccessPrevention"


def _pap_policies(ctx: CheckContext) -> dict[str, Asset]:
    """The effective ``storage.publicAccessPrevention`` policy of each project, by project id."""
    return {p.account: p for p in ctx.inventory.of(ORG_POLICY)
            if p.attr("constraint") == PAP_CONSTRAINT}


@check("gcp.storage.bucket_public_access_prevention_enforced", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE),
       reads={f"{BUCKET}#listing", ORG_POLICY})
def bucket_public_access_prevention_enforced(ctx: CheckContext) -> Iterator[Result]:
    """Cloud Storage buckets are under enforced public access prevention

    Enforced public access prevention rejects any grant to allUsers or allAuthenticatedUsers, in
    IAM or ACLs, whoever writes it later. A bucket set to 'inherited' (or the legacy 'unspecified')
    is protected only if the organisation policy storage.publicAccessPrevention in effect on its
    project enforces it, so that policy is read (Organization Policy API, effective policy); when
    it could not be read, or depends on tags, the bucket is INCONCLUSIVE, never PASS. It is a guard
    rail, not an exposure: a bucket that is public today is reported CRITICAL by
    gcp.storage.bucket_not_public; hence MEDIUM.

    Remediation: Enforce the organisation policy constraint storage.publicAccessPrevention on the
    organisation, folder or project (`gcloud resource-manager org-policies enable-enforce
    storage.publicAccessPrevention --project P`), or per bucket (`gcloud storage buckets update
    gs://B --public-access-prevention`); serve public content through a load balancer backend
    bucket or signed URLs.
    """
    policies = _pap_policies(ctx)
    for bucket in ctx.inventory.of(BUCKET):
        setting = bucket.attr("public_access_prevention")
        if setting == "enforced":
            yield ctx.passed(bucket, "public access prevention is enforced on the bucket")
            continue
        policy = policies.get(bucket.account)
        evidence = {"public_access_prevention": setting, "org_policy": PAP_CONSTRAINT}
        enforced = None if policy is None else policy.attr("enforced")
        where = f"on project {bucket.account}"
        if enforced:
            yield ctx.passed(bucket, f"the bucket inherits public access prevention, enforced "
                             f"by the organisation policy {PAP_CONSTRAINT} {where}", **evidence)
        elif enforced is False:
            yield ctx.fail(bucket, f"public access prevention is not enforced: the bucket "
                           f"inherits it and no organisation policy enforces {PAP_CONSTRAINT} "
                           f"{where}", **evidence)
        elif policy is not None and policy.attr("conditional"):
            yield ctx.unknown(bucket, f"the bucket inherits public access prevention and the "
                              f"organisation policy {PAP_CONSTRAINT} {where} depends on tags",
                              rules=policy.attr("rules"), **evidence)
        else:
            yield ctx.unknown(bucket, f"the bucket inherits public access prevention and the "
                              f"organisation policy {PAP_CONSTRAINT} {where} was not read",
                              **evidence)
