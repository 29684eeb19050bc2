"""The engine: collection gaps become INCONCLUSIVE, crashes become ERROR, order is stable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory

from posture.engine import SCOPE_TYPE, CheckContext, Result, RunOptions, run_check
from posture.model import GLOBAL, Principle, Severity, Status
from posture.registry import Check, CheckSpec

VOL = "AWS::EC2::Volume"


def _vol(vid: str, region: str = "us-east-1", encrypted: bool = True):
    return asset(
        VOL,
        f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{vid}",
        region=region,
        volume_id=vid,
        encrypted=encrypted,
    )


def _encrypted(ctx: CheckContext) -> Iterator[Result]:
    for v in ctx.inventory.of(VOL):
        if v.attr("encrypted"):
            yield ctx.passed(v, "encrypted")
        else:
            yield ctx.fail(v, "not encrypted", volume=v.attr("volume_id"))


def _crash(ctx: CheckContext) -> Iterator[Result]:
    yield from ()
    raise RuntimeError("boom")


def _check(func, reads=(VOL,)) -> Check:
    spec = CheckSpec(
        id="aws.test.volume_encrypted",
        title="t",
        severity=Severity.HIGH,
        principles=(Principle.ENCRYPTION_AT_REST,),
        reads=frozenset(reads),
        remediation="encrypt",
        params={"limit": 3},
    )
    return Check(spec=spec, func=func, controls={"SOC2": ("CC6.1",)})


def _run(check: Check, inv, raise_errors: bool = False):
    return run_check(check, inv, RunOptions(raise_errors=raise_errors), {})


def test_pass_and_fail_are_stamped_with_metadata() -> None:
    findings = _run(_check(_encrypted), inventory(_vol("vol-1"), _vol("vol-2", encrypted=False)))
    by_uid = {f.resource_uid.rsplit("/", 1)[-1]: f for f in findings}
    assert by_uid["vol-1"].status == Status.PASS
    assert by_uid["vol-2"].status == Status.FAIL
    assert by_uid["vol-2"].evidence == {"volume": "vol-2"}
    assert by_uid["vol-2"].controls == {"SOC2": ("CC6.1",)}
    assert by_uid["vol-2"].severity == Severity.HIGH


def test_listing_failure_in_a_region_gives_inconclusive_scope_and_no_pass() -> None:
    gap = collection_error("ec2", "DescribeVolumes", (VOL,), region="eu-west-1")
    inv = inventory(
        _vol("vol-1"),
        _vol("vol-9", region="eu-west-1"),
        errors=(gap,),
        regions=("us-east-1", "eu-west-1"),
    )
    findings = _run(_check(_encrypted), inv)
    statuses = {(f.region, f.resource_type, f.status) for f in findings}
    assert ("us-east-1", VOL, Status.PASS) in statuses
    assert ("eu-west-1", VOL, Status.INCONCLUSIVE) in statuses  # PASS downgraded
    assert ("eu-west-1", SCOPE_TYPE, Status.INCONCLUSIVE) in statuses  # the scope itself
    assert not any(f.region == "eu-west-1" and f.status == Status.PASS for f in findings)


def test_unrelated_error_does_not_touch_the_check() -> None:
    gap = collection_error("s3", "ListBuckets", ("AWS::S3::Bucket",), region=GLOBAL)
    findings = _run(_check(_encrypted), inventory(_vol("vol-1"), errors=(gap,)))
    assert [f.status for f in findings] == [Status.PASS]


def test_global_error_covers_every_region() -> None:
    gap = collection_error("ec2", "DescribeVolumes", (VOL,), region=GLOBAL)
    findings = _run(_check(_encrypted), inventory(_vol("vol-1"), errors=(gap,)))
    assert Status.PASS not in {f.status for f in findings}


def test_resource_detail_failure_on_a_facet() -> None:
    bucket = "arn:aws:s3:::logs"
    b = asset("AWS::S3::Bucket", bucket, encryption=None)
    gap = collection_error(
        "s3",
        "GetBucketEncryption",
        ("AWS::S3::Bucket#encryption",),
        region=GLOBAL,
        resource_uid=bucket,
    )

    def skip_unknown(ctx: CheckContext) -> Iterator[Result]:
        for x in ctx.inventory.of("AWS::S3::Bucket"):
            if x.attr("encryption") is not None:
                yield ctx.passed(x, "encrypted")

    enc = _check(skip_unknown, reads=("AWS::S3::Bucket#encryption",))
    findings = _run(enc, inventory(b, errors=(gap,)))
    # the check skipped the unknown bucket; the engine still reports it, once
    assert [(f.resource_uid, f.status) for f in findings] == [(bucket, Status.INCONCLUSIVE)]
    assert "GetBucketEncryption" in findings[0].message
    # a failure of another facet does not affect an encryption check
    other = collection_error(
        "s3", "GetBucketPolicy", ("AWS::S3::Bucket#policy",), region=GLOBAL, resource_uid=bucket
    )
    b2 = asset("AWS::S3::Bucket", bucket, encryption=[{"sse_algorithm": "AES256"}])
    assert [f.status for f in _run(enc, inventory(b2, errors=(other,)))] == [Status.PASS]


def test_fail_is_kept_even_with_a_gap() -> None:
    gap = collection_error("ec2", "DescribeVolumes", (VOL,))
    findings = _run(_check(_encrypted), inventory(_vol("vol-2", encrypted=False), errors=(gap,)))
    assert Status.FAIL in {f.status for f in findings}


def test_crashing_check_is_error_not_silence() -> None:
    findings = _run(_check(_crash), inventory(_vol("vol-1")))
    assert [f.status for f in findings] == [Status.ERROR]
    assert "RuntimeError: boom" in findings[0].message


def test_crashing_check_reraises_under_tests() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        _run(_check(_crash), inventory(_vol("vol-1")), raise_errors=True)


def test_unknown_parameter_is_rejected() -> None:
    from posture.errors import CheckSelectionError

    with pytest.raises(CheckSelectionError, match="nope"):
        run_check(
            _check(_encrypted),
            inventory(),
            RunOptions(params={"aws.test.volume_encrypted": {"nope": 1}}),
            {},
        )


def test_findings_order_is_stable_regardless_of_input_order() -> None:
    from posture.engine import run
    from posture.registry import Catalogue

    cat = Catalogue(checks=(_check(_encrypted),), frameworks=())
    vols = [_vol(f"vol-{i}", encrypted=i % 2 == 0) for i in range(6)]
    a = run(cat, inventory(*vols))
    b = run(cat, inventory(*reversed(vols)))
    assert a == b
    assert [f.resource_uid for f in a] == sorted(f.resource_uid for f in a)
