"""gcp.storage.bucket_public_access_prevention_enforced: a bucket's own setting, or the effective
organisation policy storage.publicAccessPrevention of its project; never PASS on a policy that
was not read or that depends on tags."""

from __future__ import annotations

from typing import Any

from support.gcp import PROJECT_ID, binding, gasset, gcp_error, results

from posture.gcp import BUCKET, ORG_POLICY
from posture.model import Severity, Status

CHECK = "gcp.storage.bucket_public_access_prevention_enforced"
PAP = "storage.publicAccessPrevention"
POLICY_UID = f"//orgpolicy.googleapis.com/projects/{PROJECT_ID}/policies/{PAP}"


def bucket(name: str, setting: str = "inherited", **attrs: Any) -> Any:
    base: dict[str, Any] = {"uniform_access": True, "public_access_prevention": setting,
                            "iam_bindings": []}
    base.update(attrs)
    return gasset(BUCKET, f"//storage.googleapis.com/{name}", region="us", **base)


def policy(enforced: bool | None, conditional: bool | None = False,
           constraint: str = PAP) -> Any:
    rules = None if conditional is None else [{"enforce": bool(enforced), "condition": None}]
    return gasset(ORG_POLICY, POLICY_UID.replace(PAP, constraint), name=constraint,
                  constraint=constraint, enforced=enforced, conditional=conditional, rules=rules)


def test_bucket_setting_and_enforced_org_policy_pass() -> None:
    found = results(CHECK, bucket("own", "enforced"), bucket("inherits"), policy(True))
    assert {n: f.status for n, f in found.items()} == {"own": Status.PASS, "inherits": Status.PASS}
    assert found["inherits"].message == (
        "the bucket inherits public access prevention, enforced by the organisation policy "
        f"storage.publicAccessPrevention on project {PROJECT_ID}")
    assert found["own"].severity == Severity.MEDIUM


def test_inherited_without_enforcement_fails() -> None:
    # trap: the bucket holds nothing public today, the guard rail is still off
    found = results(CHECK, bucket("inherits"), bucket("legacy", "unspecified"),
                    bucket("own", "enforced"), policy(False))
    assert {n: f.status for n, f in found.items()} == {
        "inherits": Status.FAIL, "legacy": Status.FAIL, "own": Status.PASS}
    assert found["legacy"].message == (
        "public access prevention is not enforced: the bucket inherits it and no organisation "
        f"policy enforces storage.publicAccessPrevention on project {PROJECT_ID}")
    assert found["legacy"].evidence["public_access_prevention"] == "unspecified"


def test_policy_not_read_or_tag_dependent_is_inconclusive() -> None:
    # no policy collected (an older snapshot), another constraint only, a tag-conditional policy
    for assets in ((), (policy(True, constraint="iam.allowedPolicyMemberDomains"),)):
        found = results(CHECK, bucket("b"), *assets)
        assert found["b"].status == Status.INCONCLUSIVE
        assert found["b"].message.endswith("was not read")
    found = results(CHECK, bucket("b"), policy(None, conditional=True))
    assert found["b"].status == Status.INCONCLUSIVE
    assert found["b"].message.endswith("depends on tags")


def test_denied_policy_read_leaves_own_enforcement_passing() -> None:
    gap = gcp_error("orgpolicy", "policies.getEffectivePolicy", (ORG_POLICY,),
                    resource_uid=POLICY_UID)
    public = [binding("roles/storage.objectViewer", "allUsers")]
    found = results(CHECK, bucket("own", "enforced"), bucket("open", iam_bindings=public),
                    policy(None, conditional=None), errors=(gap,))
    assert {n: f.status for n, f in found.items()} == {
        "own": Status.PASS, "open": Status.INCONCLUSIVE, PAP: Status.INCONCLUSIVE}
    assert "PERMISSION_DENIED" in found[PAP].message


def test_bucket_listing_failure_is_inconclusive() -> None:
    gap = gcp_error("storage", "buckets.list", (BUCKET,))
    found = results(CHECK, policy(True), errors=(gap,))
    assert [f.status for f in found.values()] == [Status.INCONCLUSIVE]
