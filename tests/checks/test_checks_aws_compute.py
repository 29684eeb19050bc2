"""Checks on data collected before: IMDSv2 (graded on the reachability graph and the instance
profile), Lambda runtimes and RDS/Aurora engines against the dated end-of-support table
(unknown versions are never called supported), S3 versioning where it matters, the account's own
machine images not public; pass, fail, not collected and the traps (an IMDSv1 host with no role,
a runtime newer than the table, a bucket whose versioning was suspended, a public Amazon image an
instance runs, a deregistered image)."""

from __future__ import annotations

from typing import Any

from support.aws import asset, aws_arn, collection_error, inventory
from support.aws_net import INSTANCE_UID, estate, replaced
from support.aws_patching import IMAGE, INSTANCE, image, instance
from support.checks import by_uid, only, run_one

from posture.model import Asset, Severity, Status

IMDS = "aws.compute.imdsv2_required"
RUNTIME = "aws.compute.lambda_runtime_supported"
ENGINE = "aws.data.rds_engine_supported"
VERSIONING = "aws.data.s3_bucket_versioning_enabled"
AMI_PUBLIC = "aws.compute.ami_not_public"
PROFILE = "arn:aws:iam::123456789012:instance-profile/web"
FUNCTION = "AWS::Lambda::Function"


def _imds(inv_tokens: str | None, profile: str | None, exposed: bool) -> tuple[Status, Severity]:
    inv = estate() if exposed else estate(public_ip=None)
    inv = replaced(inv, INSTANCE, http_tokens=inv_tokens, http_endpoint="enabled",
                   iam_instance_profile_arn=profile)
    finding = by_uid(run_one(IMDS, inv))[INSTANCE_UID]
    return finding.status, finding.severity


def test_imds_graded_by_credentials_and_reachability() -> None:
    assert _imds("required", PROFILE, True) == (Status.PASS, Severity.HIGH)
    assert _imds("optional", PROFILE, True) == (Status.FAIL, Severity.HIGH)
    assert _imds("optional", PROFILE, False) == (Status.FAIL, Severity.MEDIUM)
    assert _imds(None, PROFILE, True)[0] == Status.INCONCLUSIVE
    inv = replaced(estate(public_ip=None), INSTANCE, http_tokens="optional",
                   iam_instance_profile_arn=PROFILE)
    assert by_uid(run_one(IMDS, inv))[INSTANCE_UID].message == (
        "IMDSv1 is allowed: an SSRF in any application on it hands out its instance profile's "
        "credentials (no internet path reaches it)")


def test_trap_imdsv1_on_an_exposed_host_without_a_role_is_low() -> None:
    assert _imds("optional", None, True) == (Status.FAIL, Severity.LOW)
    inv = replaced(estate(), INSTANCE, http_tokens="optional", iam_instance_profile_arn=None)
    finding = by_uid(run_one(IMDS, inv))[INSTANCE_UID]
    assert finding.message == ("IMDSv1 is allowed; the instance has no instance profile, so a "
                               "forged request reads user data, not credentials")


def test_imds_turned_off_passes_terminated_is_not_judged() -> None:
    inv = inventory(instance("i-1", http_tokens="optional", http_endpoint="disabled"),
                    instance("i-2", state="terminated", http_tokens="optional"))
    finding = only(run_one(IMDS, inv))
    assert (finding.status, finding.message) == (
        Status.PASS, "the instance metadata service is turned off")


def test_imds_instances_not_listed_are_inconclusive() -> None:
    error = collection_error("ec2", "DescribeInstances", (INSTANCE,))
    inv = inventory(instance("i-1"), errors=(error,))
    assert {f.status for f in run_one(IMDS, inv)} == {Status.INCONCLUSIVE}


def _function(name: str, runtime: str | None) -> Asset:
    return asset(FUNCTION, aws_arn("lambda", f"function:{name}"), name=name, runtime=runtime)


def test_lambda_runtimes_against_the_table() -> None:
    inv = inventory(_function("old", "python3.9"), _function("new", "python3.12"),
                    _function("future", "python3.99"), _function("image", None))
    found = {f.resource_name: f for f in run_one(RUNTIME, inv)}
    assert set(found) == {"old", "new", "future"}  # a container image has no managed runtime
    assert (found["old"].status, found["old"].severity) == (Status.FAIL, Severity.HIGH)
    assert found["old"].message == "runtime python3.9 is past its end of support since 2025-12-15"
    assert found["old"].evidence["source"].startswith("AWS Lambda runtimes (deprecation dates) "
                                                      "(https://docs.aws.amazon.com/lambda/")
    assert found["new"].status == Status.PASS
    assert found["new"].message == ("runtime python3.12 is supported until 2028-10-31 (1034 days "
                                    "after the scan)")
    assert found["future"].status == Status.INCONCLUSIVE  # the trap: unknown is not supported
    assert "not in posture's end-of-support table" in found["future"].message


def test_lambda_not_listed_is_inconclusive() -> None:
    error = collection_error("lambda", "ListFunctions", (FUNCTION,))
    inv = inventory(_function("new", "python3.12"), errors=(error,))
    assert {f.status for f in run_one(RUNTIME, inv)} == {Status.INCONCLUSIVE}


def _db(type_: str, name: str, engine: str, version: str | None, **attrs: Any) -> Asset:
    kind = "cluster" if type_.endswith("DBCluster") else "db"
    return asset(type_, aws_arn("rds", f"{kind}:{name}"), name=name, engine=engine,
                 engine_version=version, db_instance_id=name, **attrs)


def test_rds_engines_against_the_table() -> None:
    inst, cluster = "AWS::RDS::DBInstance", "AWS::RDS::DBCluster"
    inv = inventory(
        _db(inst, "my57", "mysql", "5.7.44-rds.20240408"),
        _db(inst, "my80", "mysql", "8.0.35"),
        _db(inst, "pg16", "postgres", "16.3"),
        _db(inst, "pg18", "postgres", "18.1"),
        _db(inst, "pg93", "postgres", "9.3.3"),
        _db(inst, "ora", "oracle-ee", "19.0.0.0.ru-2024-01.rur-2024-01.r1"),
        _db(cluster, "aur2", "aurora-mysql", "5.7.mysql_aurora.2.11.2",
            member_instance_ids=["aur2-a"]),
        _db(inst, "aur2-a", "aurora-mysql", "5.7.mysql_aurora.2.11.2"),
        _db(cluster, "apg", "aurora-postgresql", "15.4"),
    )
    found = {f.resource_name: f for f in run_one(ENGINE, inv)}
    assert set(found) == {"my57", "my80", "pg16", "pg18", "pg93", "aur2", "apg"}
    assert found["my57"].status == Status.FAIL
    assert found["my57"].message == ("RDS for MySQL 5.7 (5.7.44-rds.20240408) is past its end of "
                                     "support since 2024-02-29")
    assert found["aur2"].status == Status.FAIL
    assert {found[n].status for n in ("my80", "pg16", "apg")} == {Status.PASS}
    assert found["pg18"].status == Status.INCONCLUSIVE  # newer than the table: unknown
    assert found["pg93"].status == Status.FAIL  # older than a version already past its date
    assert found["pg93"].message == ("RDS for PostgreSQL 9.3 (9.3.3) is older than RDS for "
                                     "PostgreSQL 11, itself past its end of support since "
                                     "2024-02-29")


def _bucket(name: str, versioning: str | None, tags: dict[str, str] | None = None) -> Asset:
    return asset("AWS::S3::Bucket", f"arn:aws:s3:::{name}", name=name, tags=tags,
                 bucket_name=name, versioning=versioning, mfa_delete="Disabled")


def test_versioning_judged_on_trail_and_production_buckets_only() -> None:
    trail = asset("AWS::CloudTrail::Trail", aws_arn("cloudtrail", "trail/org"), name="org",
                  s3_bucket_name="audit-logs")
    inv = inventory(trail, _bucket("audit-logs", "Disabled"),
                    _bucket("orders", "Enabled", {"Environment": "prod"}),
                    _bucket("reports", "Disabled", {"env": "Production"}),
                    _bucket("build-cache", "Disabled"))
    found = {f.resource_name: f for f in run_one(VERSIONING, inv)}
    assert set(found) == {"audit-logs", "orders", "reports"}
    assert (found["audit-logs"].status, found["audit-logs"].severity) == (
        Status.FAIL, Severity.MEDIUM)
    assert found["audit-logs"].message == ("versioning is never enabled: an overwrite or delete "
                                           "cannot be undone (trail org writes its logs here)")
    assert found["orders"].status == Status.PASS
    assert (found["reports"].status, found["reports"].severity) == (Status.FAIL, Severity.LOW)


def test_trap_suspended_versioning_fails_and_unknown_is_inconclusive() -> None:
    tags = {"Environment": "prod"}
    inv = inventory(_bucket("was-on", "Suspended", tags), _bucket("unread", None, tags))
    found = {f.resource_name: f for f in run_one(VERSIONING, inv)}
    assert found["was-on"].status == Status.FAIL
    assert "suspended" in found["was-on"].message
    assert found["unread"].status == Status.INCONCLUSIVE


def test_own_images_public_fail_private_pass_in_use_or_not() -> None:
    inv = inventory(image("ami-shared", "2025-06-01T00:00:00+00:00", public=True),
                    image("ami-spare", "2025-06-01T00:00:00+00:00", instance_ids=(),
                          public=True),
                    image("ami-private", "2025-06-01T00:00:00+00:00"))
    found = {f.resource_name: f for f in run_one(AMI_PUBLIC, inv)}
    assert (found["ami-shared"].status, found["ami-shared"].severity) == (Status.FAIL,
                                                                          Severity.HIGH)
    assert found["ami-shared"].message == ("the image is public: every AWS account can launch it "
                                           "and read its disks")
    assert found["ami-spare"].status == Status.FAIL
    assert found["ami-private"].status == Status.PASS


def test_trap_public_images_of_other_owners_and_vanished_images_are_not_ours() -> None:
    amazon = image("ami-amzn", "2025-06-01T00:00:00+00:00", public=True, owner_id="137112412989",
                   owner_alias="amazon")
    gone = image("ami-gone", None, found=False, public=None, owner_id=None)
    assert run_one(AMI_PUBLIC, inventory(amazon, gone)) == []


def test_own_images_not_listed_are_inconclusive() -> None:
    error = collection_error("ec2", "DescribeImages", (f"{IMAGE}#owned",))
    inv = inventory(image("ami-private", "2025-06-01T00:00:00+00:00"), errors=(error,))
    assert {f.status for f in run_one(AMI_PUBLIC, inv)} == {Status.INCONCLUSIVE}
    unreported = image("ami-odd", "2025-06-01T00:00:00+00:00", public=None)
    assert only(run_one(AMI_PUBLIC, inventory(unreported))).status == Status.INCONCLUSIVE
