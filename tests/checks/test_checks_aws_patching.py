"""aws.patching.*: Systems Manager coverage (with Default Host Management) and patch compliance,
Inspector enabled and its findings within SLA, image age, ECR scanning, repository policies and
lifecycle policies; pass, fail, not collected, and the traps (a compliant but stale patch
report, Inspector on but not covering, an old image built by a "patched" pipeline, an unscanned
image, an unmanaged instance in a region with DHMC on, a wildcard repository policy pinned to the
organization or the source account, an image nobody runs)."""

from __future__ import annotations

from support.aws import asset, collection_error, inventory
from support.aws_patching import (
    DHMC_ROLE,
    IMAGE,
    INSPECTOR,
    MANAGED,
    PULL,
    PUSH,
    REPOSITORY,
    arn,
    dhmc,
    grant,
    image,
    inspector,
    instance,
    listed,
    managed,
    patched,
    repository,
    repository_policy,
    scanned,
)
from support.checks import by_uid, only, run_one

from posture.model import Severity, Status

SSM = "aws.patching.instances_managed_by_ssm"
PATCH = "aws.patching.instances_patch_compliant"
ENABLED = "aws.patching.inspector_enabled"
SLA = "aws.patching.vulnerabilities_remediated_within_sla"
AMI = "aws.patching.ami_age_within_limit"
SCANNING = "aws.patching.ecr_image_scanning_enabled"
CRITICAL = "aws.patching.ecr_images_without_critical_findings"
TAGS = "aws.patching.ecr_image_tags_immutable"
PUBLIC_REPO = "aws.patching.ecr_repository_not_public"
LIFECYCLE = "aws.patching.ecr_lifecycle_policy_configured"
I1, I2, I3 = (arn("ec2", f"instance/i-{n}") for n in (1, 2, 3))
STATUS = arn("inspector2", "account-status")


# --- Systems Manager ---------------------------------------------------------------------------


def test_managed_online_passes_missing_or_lost_fails_stopped_is_not_judged() -> None:
    inv = inventory(instance("i-1"), instance("i-2"), instance("i-3"),
                    instance("i-4", state="stopped"), managed("i-1"),
                    managed("i-3", ping="ConnectionLost"), listed(nodes=2))
    found = by_uid(run_one(SSM, inv))
    assert set(found) == {I1, I2, I3}
    assert found[I1].status == Status.PASS
    assert found[I2].status == Status.FAIL and "not managed by Systems Manager" in found[I2].message
    assert found[I3].status == Status.FAIL and "ConnectionLost" in found[I3].message


def test_unlisted_managed_nodes_are_inconclusive_not_unmanaged() -> None:
    error = collection_error("ssm", "DescribeInstanceInformation", (MANAGED,))
    found = by_uid(run_one(SSM, inventory(instance("i-1"), errors=(error,))))
    assert found[I1].status == Status.INCONCLUSIVE
    assert found[I1].message.startswith("Systems Manager's managed nodes could not be listed")
    # a snapshot taken before SSM was collected: no summary of the region, no error either
    for check_id in (SSM, PATCH):
        finding = only(run_one(check_id, inventory(instance("i-1"))))
        assert finding.status == Status.INCONCLUSIVE
        assert finding.message == ("Systems Manager's managed nodes were not collected in this "
                                   "region")


def test_unmanaged_instances_say_which_way_to_register_is_missing() -> None:
    profile = "arn:aws:iam::123456789012:instance-profile/web"
    base = "running instance is not managed by Systems Manager: no agent reports from it, so no " \
        "patch cycle or patch report covers it"
    inv = inventory(instance("i-1"), instance("i-2", iam_instance_profile_arn=profile),
                    instance("i-3", region="eu-west-1"),
                    instance("i-4", region="eu-west-1", http_tokens="optional"),
                    listed(), listed("eu-west-1"), dhmc(None), dhmc(region="eu-west-1"),
                    regions=("us-east-1", "eu-west-1"))
    found = {uid.rsplit("/", 1)[-1]: f for uid, f in by_uid(run_one(SSM, inv)).items()}
    assert {f.status for f in found.values()} == {Status.FAIL}
    assert found["i-1"].message == base + (
        "; it has no instance profile and Default Host Management is off in this region: nothing "
        "gives its agent credentials")
    assert found["i-2"].message.startswith(base + "; Default Host Management is off in this "
                                           "region, so only its instance profile could register")
    assert found["i-2"].evidence["instance_profile"] == profile
    # the trap: DHMC on does not make an instance managed when SSM does not list it
    assert found["i-3"].message == base + (
        f"; Default Host Management is on in this region (role {DHMC_ROLE}), so its agent is "
        "missing, older than 3.2.582.0, stopped, or cannot reach the Systems Manager endpoints")
    assert found["i-3"].evidence["default_host_management"] == {
        "enabled": True, "role": DHMC_ROLE, "status": "Customized"}
    assert found["i-4"].message.endswith("but works only with IMDSv2, and this instance allows "
                                         "IMDSv1")


def test_unread_default_host_management_leaves_the_verdict_and_says_so() -> None:
    error = collection_error("ssm", "GetServiceSetting", ("AWS::SSM::ServiceSetting",))
    inv = inventory(instance("i-1"), instance("i-2"), managed("i-2"), listed(), errors=(error,))
    found = by_uid(run_one(SSM, inv))
    assert found[I1].status == Status.FAIL  # unmanaged whatever DHMC says
    assert found[I1].message.endswith("; it has no instance profile (whether Default Host "
                                      "Management is on in this region is unknown)")
    assert found[I1].evidence["default_host_management"] is None
    assert found[I2].status == Status.PASS  # not downgraded: DHMC is not what it is judged on


def test_patch_compliance_graded() -> None:
    inv = inventory(
        instance("i-1"), managed("i-1", patch=patched()),
        instance("i-2"), managed("i-2", patch=patched(critical_missing=3, security_missing=5)),
        instance("i-3"), managed("i-3", patch=patched(security_missing=2)),
        instance("i-4"), managed("i-4", patch=None, present=False),
        instance("i-5"), listed(nodes=4),
        inspector(findings=[{"resource_type": "AWS_EC2_INSTANCE", "resource_id": "i-2",
                             "critical": 4, "high": 0,
                             "oldest_critical": "2025-11-02T00:00:00+00:00",
                             "oldest_high": None}]),
    )
    found = {uid.rsplit("/", 1)[-1]: f for uid, f in by_uid(run_one(PATCH, inv)).items()}
    assert found["i-1"].status == Status.PASS
    assert found["i-1"].message == ("no critical or security patch missing as of the install of "
                                    "2025-12-30T00:00:00+00:00 (2 days ago)")
    assert (found["i-2"].status, found["i-2"].severity) == (Status.FAIL, Severity.HIGH)
    assert found["i-2"].message == (
        "3 critical and 5 security patch(es) missing as of the install of "
        "2025-12-30T00:00:00+00:00; Inspector first saw an open critical vulnerability on it "
        "60 days ago")
    assert (found["i-3"].status, found["i-3"].severity) == (Status.FAIL, Severity.MEDIUM)
    assert "never reported a scan" in found["i-4"].message
    assert (found["i-5"].severity, found["i-5"].message) == (
        Severity.MEDIUM, "not managed by Systems Manager: no patch compliance is reported for it")


def test_trap_a_compliant_but_stale_report_fails() -> None:
    inv = inventory(instance("i-1"), managed("i-1", patch=patched("2025-10-01T00:00:00+00:00")))
    finding = only(run_one(PATCH, inv))
    assert (finding.status, finding.severity) == (Status.FAIL, Severity.MEDIUM)
    assert finding.message == ("the last patch report is 92 days old (limit 14): its compliance "
                               "is stale")
    assert only(run_one(PATCH, inv, scan_max_age_days=120)).status == Status.PASS


def test_unread_patch_state_is_inconclusive() -> None:
    error = collection_error("ssm", "DescribeInstancePatchStates", (f"{MANAGED}#patch_state",))
    inv = inventory(instance("i-1"), managed("i-1", patch=None, present=None), errors=(error,))
    found = by_uid(run_one(PATCH, inv))
    assert found[I1].status == Status.INCONCLUSIVE
    assert found[I1].message == "the node's patch state could not be read"


# --- Inspector ---------------------------------------------------------------------------------


def test_inspector_on_passes_off_is_graded_by_workloads() -> None:
    regions = ("us-east-1", "eu-west-1", "ap-south-1")
    off = {"ec2": "DISABLED", "ecr": "DISABLED", "lambda": "DISABLED", "lambda_code": "DISABLED"}
    inv = inventory(inspector("us-east-1"), inspector("eu-west-1", status="DISABLED", scans=off),
                    instance("i-9", region="eu-west-1"),
                    inspector("ap-south-1", status="DISABLED", scans=off), regions=regions)
    found = {f.region: f for f in run_one(ENABLED, inv)}
    assert found["us-east-1"].status == Status.PASS
    assert (found["eu-west-1"].status, found["eu-west-1"].severity) == (Status.FAIL, Severity.HIGH)
    assert found["eu-west-1"].message == ("Inspector does not scan ec2 (1 running instance) in "
                                          "this region")
    assert (found["ap-south-1"].severity, found["ap-south-1"].message) == (
        Severity.LOW, "Inspector scanning of ec2, ecr, lambda is off in this region; no such "
        "workload was seen here yet")


def test_trap_inspector_on_but_instances_not_covered() -> None:
    dark = [{"resource_id": "i-1", "resource_type": "AWS_EC2_INSTANCE",
             "reason": "UNMANAGED_EC2_INSTANCE"},
            {"resource_id": "i-gone", "resource_type": "AWS_EC2_INSTANCE", "reason": "STALE"}]
    inv = inventory(inspector(uncovered=dark), instance("i-1"), instance("i-2"))
    finding = only(run_one(ENABLED, inv))
    assert (finding.status, finding.severity) == (Status.FAIL, Severity.MEDIUM)
    assert finding.message == ("Inspector is on, but 1 of 2 running instance(s) are not scanned "
                               "(UNMANAGED_EC2_INSTANCE)")


def test_inspector_not_collected_is_inconclusive() -> None:
    inv = inventory(regions=("us-east-1",))
    assert only(run_one(ENABLED, inv)).status == Status.INCONCLUSIVE
    error = collection_error("inspector2", "ListCoverage", (f"{INSPECTOR}#coverage",))
    inv = inventory(inspector(coverage=None, uncovered=None), errors=(error,))
    assert {f.status for f in run_one(ENABLED, inv)} == {Status.INCONCLUSIVE}


def _row(rid: str, critical: int, high: int, oldest_critical: str | None,
         oldest_high: str | None, kind: str = "AWS_EC2_INSTANCE") -> dict[str, object]:
    return {"resource_type": kind, "resource_id": rid, "critical": critical, "high": high,
            "oldest_critical": oldest_critical, "oldest_high": oldest_high}


def test_findings_within_and_past_their_sla() -> None:
    lambda_arn = arn("lambda", "function:gone")
    rows = [_row("i-1", 1, 0, "2025-12-01T00:00:00+00:00", None),
            _row("i-2", 0, 2, None, "2025-11-01T00:00:00+00:00"),
            _row("i-3", 1, 1, "2025-12-25T00:00:00+00:00", "2025-12-20T00:00:00+00:00"),
            _row(lambda_arn, 0, 1, None, "2025-10-01T00:00:00+00:00", "AWS_LAMBDA_FUNCTION")]
    inv = inventory(inspector(findings=rows), instance("i-1"), instance("i-2"), instance("i-3"))
    found = by_uid(run_one(SLA, inv))
    assert (found[I1].status, found[I1].severity) == (Status.FAIL, Severity.HIGH)
    assert found[I1].message == ("1 critical and 0 high finding(s) open; the oldest critical was "
                                 "first seen 31 days ago (SLA 15)")
    assert (found[I2].status, found[I2].severity) == (Status.FAIL, Severity.MEDIUM)
    assert found[I3].status == Status.PASS
    assert found[lambda_arn].resource_type == "AWS_LAMBDA_FUNCTION"  # not in the inventory
    assert found[lambda_arn].status == Status.FAIL
    assert by_uid(run_one(SLA, inv, critical_days=40))[I1].status == Status.PASS


def test_no_finding_passes_only_where_inspector_looks() -> None:
    off = {"ec2": "DISABLED", "ecr": "DISABLED", "lambda": "DISABLED", "lambda_code": "DISABLED"}
    inv = inventory(inspector("us-east-1"), inspector("eu-west-1", scans=off),
                    inspector("ap-south-1", findings=None),
                    regions=("us-east-1", "eu-west-1", "ap-south-1"))
    found = {f.region: f for f in run_one(SLA, inv)}
    assert found["us-east-1"].status == Status.PASS
    assert found["eu-west-1"].status == Status.INCONCLUSIVE
    assert found["eu-west-1"].message.startswith("Inspector is off in this region")
    assert found["ap-south-1"].status == Status.INCONCLUSIVE


# --- machine images ----------------------------------------------------------------------------


def test_image_age_against_the_limit() -> None:
    inv = inventory(image("ami-new", "2025-11-01T00:00:00+00:00"),
                    image("ami-old", "2025-01-01T00:00:00+00:00", instance_ids=("i-1", "i-2")),
                    image("ami-superseded", "2025-10-01T00:00:00+00:00",
                          deprecation_time="2025-12-01T00:00:00+00:00"))
    found = {f.resource_name: f for f in run_one(AMI, inv)}
    assert (found["ami-superseded"].status, found["ami-superseded"].severity) == (
        Status.FAIL, Severity.LOW)
    assert found["ami-new"].status == Status.PASS
    assert found["ami-new"].message == "image created 61 days ago (limit 180)"
    assert found["ami-old"].status == Status.FAIL
    assert found["ami-old"].message == ("image created 365 days ago (limit 180), run by 2 "
                                        "instance(s): it lacks every patch released since it was "
                                        "built")


def test_trap_an_image_from_a_patched_pipeline_is_still_old() -> None:
    golden = image("ami-gold", "2025-03-01T00:00:00+00:00", name="golden-2025-03-patched",
                   tags={"Pipeline": "image-builder", "Patched": "true"},
                   deprecation_time="2025-09-01T00:00:00+00:00")
    launched_yesterday = instance("i-1", image_id="ami-gold",
                                  launch_time="2025-12-31T00:00:00+00:00")
    finding = only(run_one(AMI, inventory(golden, launched_yesterday)))
    assert finding.status == Status.FAIL
    assert finding.message == (
        "image created 306 days ago (limit 180), run by 1 instance(s): it lacks every patch "
        "released since it was built (its name or tags say patched: that describes the build, "
        "not today); deprecated since 2025-09-01T00:00:00+00:00")


def test_a_vanished_image_is_bounded_by_its_instances_launch() -> None:
    inv = inventory(image("ami-a", None, found=False, instance_ids=("i-1",)),
                    instance("i-1", launch_time="2025-02-01T00:00:00+00:00"),
                    image("ami-b", None, found=False, instance_ids=("i-2",)),
                    instance("i-2", launch_time="2025-12-01T00:00:00+00:00"))
    found = {f.resource_name: f for f in run_one(AMI, inv)}
    assert found["ami-a"].status == Status.FAIL
    assert "at least that old" in found["ami-a"].message
    assert found["ami-b"].status == Status.INCONCLUSIVE


def test_an_owned_image_nobody_runs_is_not_judged_for_age() -> None:
    inv = inventory(image("ami-spare", "2024-01-01T00:00:00+00:00", instance_ids=()))
    assert run_one(AMI, inv) == []
    # the account's own listing failing does not make the age of images in use unknown
    error = collection_error("ec2", "DescribeImages", (f"{IMAGE}#owned",))
    inv = inventory(image("ami-new", "2025-11-01T00:00:00+00:00"), errors=(error,))
    assert only(run_one(AMI, inv)).status == Status.PASS


def test_images_not_collected_are_inconclusive() -> None:
    error = collection_error("ec2", "DescribeImages", (IMAGE,))
    inv = inventory(image("ami-new", "2025-11-01T00:00:00+00:00"), errors=(error,))
    assert {f.status for f in run_one(AMI, inv)} == {Status.INCONCLUSIVE}


# --- ECR ---------------------------------------------------------------------------------------


def test_ecr_scanning_frequency() -> None:
    inv = inventory(repository("cont", scan_frequency="CONTINUOUS_SCAN"),
                    repository("push", scan_frequency="SCAN_ON_PUSH"),
                    repository("manual", scan_frequency="MANUAL"),
                    repository("unknown", scan_frequency=None))
    found = {f.resource_name: f.status for f in run_one(SCANNING, inv)}
    assert found == {"cont": Status.PASS, "push": Status.PASS, "manual": Status.FAIL,
                     "unknown": Status.INCONCLUSIVE}


def test_latest_image_critical_findings_and_the_unscanned_trap() -> None:
    inv = inventory(repository("bad", latest_image=scanned(CRITICAL=2, HIGH=7)),
                    repository("ok", latest_image=scanned(HIGH=3)),
                    repository("enhanced", latest_image=scanned("ACTIVE")),
                    repository("unscanned", latest_image=scanned("NOT_SCANNED")),
                    repository("empty", image_count=0),
                    repository("unread", image_count=None))
    found = {f.resource_name: f for f in run_one(CRITICAL, inv)}
    assert set(found) == {"bad", "ok", "enhanced", "unscanned", "unread"}
    assert found["bad"].status == Status.FAIL
    assert found["bad"].message == ("the latest image (v42, pushed 12 days ago) has 2 critical "
                                    "and 7 high finding(s)")
    assert (found["ok"].status, found["enhanced"].status) == (Status.PASS, Status.PASS)
    assert found["unscanned"].status == Status.INCONCLUSIVE
    assert found["unscanned"].message == "the latest image (v42) has no scan result (NOT_SCANNED)"
    assert found["unread"].status == Status.INCONCLUSIVE


def test_tag_mutability() -> None:
    inv = inventory(repository("a"), repository("b", image_tag_mutability="MUTABLE"),
                    repository("c", image_tag_mutability="IMMUTABLE_WITH_EXCLUSION"))
    found = {f.resource_name: f.status for f in run_one(TAGS, inv)}
    assert found == {"a": Status.PASS, "b": Status.FAIL, "c": Status.PASS}
    error = collection_error("ecr", "DescribeRepositories", (REPOSITORY,))
    assert {f.status for f in run_one(TAGS, inventory(repository("a"), errors=(error,)))} == {
        Status.INCONCLUSIVE}


def _repo_policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"policy_present": True, "policy": repository_policy(*statements)}


def test_public_repository_policies_graded_by_what_anyone_can_do() -> None:
    inv = inventory(
        repository("none"),
        repository("named", **_repo_policy(grant(PULL, {"AWS": "arn:aws:iam::210987654321:root"}))),
        repository("pull", **_repo_policy(grant(PULL, {"AWS": "*"}))),
        repository("push", **_repo_policy(grant(PULL + PUSH))),
        repository("admin", **_repo_policy(grant("ecr:*"))),
    )
    found = {f.resource_name: f for f in run_one(PUBLIC_REPO, inv)}
    assert (found["none"].status, found["named"].status) == (Status.PASS, Status.PASS)
    assert (found["pull"].status, found["pull"].severity) == (Status.FAIL, Severity.HIGH)
    assert found["pull"].message == ("the repository policy grants every AWS account read "
                                     "access: anyone can pull its images")
    assert (found["push"].status, found["push"].severity) == (Status.FAIL, Severity.CRITICAL)
    assert found["push"].message == ("the repository policy grants every AWS account read, write "
                                     "access: anyone can push images to it")
    assert found["admin"].severity == Severity.CRITICAL
    assert "permissions-management" in found["admin"].message


def test_trap_a_wildcard_pinned_to_the_organization_or_source_account_is_not_public() -> None:
    org = grant(PULL, condition={"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})
    lambda_pull = grant(PULL, {"Service": "lambda.amazonaws.com"},
                        condition={"StringLike": {"aws:sourceArn":
                                                  "arn:aws:lambda:us-east-1:123456789012:*"}})
    source = grant(PULL, condition={"StringEquals": {"aws:SourceAccount": "123456789012"}})
    fenced = {"Sid": "OutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "ecr:*",
              "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
    inv = inventory(repository("org", **_repo_policy(org)),
                    repository("fenced", **_repo_policy(grant(PULL), fenced)),
                    repository("lambda", **_repo_policy(lambda_pull)),
                    repository("source", **_repo_policy(source)),
                    repository("later", **_repo_policy(grant(PULL, condition={
                        "DateGreaterThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}}))))
    found = {f.resource_name: f for f in run_one(PUBLIC_REPO, inv)}
    assert {n: f.status for n, f in found.items()} == {
        "org": Status.PASS, "fenced": Status.PASS, "lambda": Status.PASS, "source": Status.PASS,
        "later": Status.INCONCLUSIVE}
    assert found["org"].message == "the repository policy grants no outside account access"
    assert found["later"].evidence["conditional_grants"][0]["actions"] == sorted(PULL)


def test_repository_policy_not_collected_is_inconclusive() -> None:
    uid = arn("ecr", "repository/app")
    error = collection_error("ecr", "GetRepositoryPolicy", (f"{REPOSITORY}#policy",),
                             resource_uid=uid)
    inv = inventory(repository("app", policy_present=None), errors=(error,))
    finding = only(run_one(PUBLIC_REPO, inv))
    assert (finding.status, finding.message) == (Status.INCONCLUSIVE, "resource policy unknown")
    # a snapshot taken before repository policies were collected: unknown, never "no policy"
    old = asset(REPOSITORY, uid, repository_name="app", image_tag_mutability="IMMUTABLE")
    assert only(run_one(PUBLIC_REPO, inventory(old))).status == Status.INCONCLUSIVE
    unparsed = repository("app", policy_present=True, policy={"Unparsed": "not json"})
    assert only(run_one(PUBLIC_REPO, inventory(unparsed))).status == Status.INCONCLUSIVE


def test_lifecycle_policy() -> None:
    inv = inventory(repository("kept", lifecycle_rule_count=2),
                    repository("hoard", lifecycle_policy_present=False,
                               lifecycle_rule_count=None),
                    repository("hollow", lifecycle_rule_count=0),
                    repository("unread", lifecycle_policy_present=None,
                               lifecycle_rule_count=None))
    found = {f.resource_name: f for f in run_one(LIFECYCLE, inv)}
    assert found["kept"].status == Status.PASS
    assert found["kept"].message == "a lifecycle policy with 2 rule(s) expires old images"
    assert (found["hoard"].status, found["hoard"].severity) == (Status.FAIL, Severity.LOW)
    assert found["hoard"].message == ("no lifecycle policy: every image ever pushed stays "
                                      "pullable")
    assert found["hollow"].status == Status.FAIL  # the trap: a policy, but no rule in it
    assert found["unread"].status == Status.INCONCLUSIVE
    error = collection_error("ecr", "GetLifecyclePolicy", (f"{REPOSITORY}#lifecycle",))
    inv = inventory(repository("kept"), errors=(error,))
    assert {f.status for f in run_one(LIFECYCLE, inv)} == {Status.INCONCLUSIVE}
