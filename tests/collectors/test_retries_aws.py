"""The AWS collector under injected faults: a fault proxy (``support.fault_proxy``) between boto3
and the moto server answers HTTP 500, 503 with ``Retry-After``, throttling in each protocol's
error shape, or drops the connection, by a seeded schedule.

Every call is retried on its own (``posture.collectors.aws.retries``): at 60 % HTTP 500 a scan
loses no call and audits to the same findings; botocore's own retry quota, shared by every call
of a client, gives calls up after one attempt under the same faults (why posture replaces it).
``sts:GetCallerIdentity`` survives a transient fault, and a permanent one ends the scan with a
message that does not blame the credentials. The backoff is injected small (``FAST``): the
waits are the policy's shape, not its real seconds."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard
from support.aws import ACCOUNT, client
from support.collect import denied_session
from support.fault_proxy import Fault, FaultProxy, Schedule, aws_error, fault_proxy, only

from posture.collectors.aws import collector
from posture.collectors.aws.base import ClientFactory, RegionScope
from posture.collectors.aws.collector import AwsTarget
from posture.collectors.aws.member import check_access
from posture.collectors.retry import Backoff
from posture.errors import CollectorError
from posture.model import Inventory
from posture.pipeline import audit, prepare

FAST = Backoff(base=0.001, throttle_base=0.002, cap=0.02)
"""The default policy (attempts, budget) with waits of milliseconds."""
REGION = "us-east-1"


def _estate(endpoint: str) -> None:
    """A small account with findings: an open security group and instance, an unencrypted
    volume, a public bucket, a user with a key and an inline admin policy, a key, a secret."""
    ec2 = client("ec2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="open", Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet,
                      SecurityGroupIds=[group])
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket="public-assets")
    s3.put_bucket_acl(Bucket="public-assets", ACL="public-read")
    iam = client("iam", endpoint)
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="admin", PolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", '
        '"Resource": "*"}]}'))
    client("kms", endpoint).create_key(Description="data")
    client("secretsmanager", endpoint).create_secret(Name="db", SecretString="x")


def _scan(endpoint: str) -> Inventory:
    return collector.collect(AwsTarget(regions=(REGION,), endpoint_url=endpoint, backoff=FAST))


def _verdicts(inventory: Inventory) -> set[tuple[str, ...]]:
    return {f.sort_key() for f in audit(prepare(inventory))}


def _errors(inventory: Inventory) -> set[tuple[str, ...]]:
    return {(e.region, e.service, e.operation, e.code) for e in inventory.errors}


def test_at_60_percent_http_500_no_call_is_lost_and_the_findings_are_the_same(
    moto_endpoint: str,
) -> None:
    _estate(moto_endpoint)
    clean = _scan(moto_endpoint)
    probe_once = Schedule({Fault.ERROR: 1.0}, match=only("GetCallerIdentity"), first=2)
    with fault_proxy(moto_endpoint, aws_error, probe_once, Schedule({Fault.ERROR: 0.6})) as proxy:
        faulted = _scan(proxy.base)

    assert len(proxy.faults()) > len(proxy.calls())  # most calls met a fault, many several
    assert proxy.given_up() == []  # every faulted call was tried again until it was answered
    probe = [r.fault for r in proxy.records if r.operation == "GetCallerIdentity"]
    assert probe[:2] == [Fault.ERROR, Fault.ERROR] and probe[-1] is None  # did not stop it
    assert _errors(faulted) == _errors(clean)  # no CollectionError the faults caused
    assert {a.uid for a in faulted.assets} == {a.uid for a in clean.assets}
    assert {a.uid: a.attrs for a in faulted.assets} == {a.uid: a.attrs for a in clean.assets}
    verdicts = _verdicts(faulted)
    assert {v[2] for v in verdicts} >= {"FAIL", "PASS"}
    assert verdicts == _verdicts(clean)


def _calls(ec2: object, n: int) -> list[dict[str, object]]:
    """``n`` distinct read calls; the ``ResponseMetadata`` of each, or of its error."""
    out = []
    for i in range(n):
        try:
            answer = ec2.describe_security_groups(  # type: ignore[attr-defined]
                Filters=[{"Name": "group-name", "Values": [f"group-{i}"]}])
        except ClientError as exc:
            answer = exc.response
        out.append(answer["ResponseMetadata"])
    return out


def test_botocore_retry_quota_gives_up_where_per_call_retries_do_not(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The defect, reproduced: one shared client in botocore's adaptive mode (posture's old
    configuration) stops retrying once its quota is spent; posture's clients never do.
    (botocore's waits are made 100 times shorter here: its quota, not its waits, is shown.)"""
    monkeypatch.setitem(standard.ExponentialBackoff._DEFAULT_BACKOFF_CONFIG,
                        "non_throttling_base_scale", 0.0005)
    session = boto3.session.Session()
    with fault_proxy(moto_endpoint, aws_error, Schedule({Fault.ERROR: 0.6})) as proxy:
        stock = session.client("ec2", region_name=REGION, endpoint_url=proxy.base, config=Config(
            retries={"mode": "adaptive", "max_attempts": 8}))
        before = _calls(stock, 80)
        posture = ClientFactory(session, endpoint_url=proxy.base, backoff=FAST).client(
            "ec2", REGION)
        after = _calls(posture, 80)

    quota_reached = [m for m in before if m.get("RetryQuotaReached")]
    assert len(quota_reached) > 10
    assert all(m["HTTPStatusCode"] == 500 for m in quota_reached)
    assert [m for m in after if m["HTTPStatusCode"] != 200] == []
    assert max(int(m.get("RetryAttempts", 0)) for m in after) >= 3


def test_throttling_and_dropped_connections_in_every_protocol(moto_endpoint: str) -> None:
    """Throttles (400 Throttling, 503 RequestLimitExceeded, 400 ThrottlingException, 429,
    503 SlowDown), 503s, closed and reset connections: every call of each protocol answered."""
    client("s3", moto_endpoint).create_bucket(Bucket="logs")
    client("kms", moto_endpoint).create_key(Description="k")
    rates = {Fault.THROTTLE: 0.2, Fault.UNAVAILABLE: 0.1, Fault.DROP: 0.15, Fault.RESET: 0.15}
    with fault_proxy(moto_endpoint, aws_error, Schedule(rates, retry_after="0")) as proxy:
        scope = RegionScope(ACCOUNT, REGION, ClientFactory(boto3.session.Session(),
                                                           endpoint_url=proxy.base, backoff=FAST))
        for _ in range(6):
            assert scope.call("ec2", "DescribeVpcs", ("AWS::EC2::VPC",)) is not None  # EC2 query
            assert scope.paginate("iam", "ListRoles", "Roles", ("AWS::IAM::Role",)) is not None
            assert len(scope.paginate("kms", "ListKeys", "Keys", ("AWS::KMS::Key",)) or ()) == 1
            assert scope.call("s3", "ListBuckets", ("AWS::S3::Bucket",))  # REST-XML
            assert scope.paginate("lambda", "ListFunctions", "Functions",
                                  ("AWS::Lambda::Function",)) is not None  # REST-JSON
    assert scope.errors == []
    assert {r.fault for r in proxy.faults()} == set(rates)
    assert proxy.given_up() == []


def _waited(proxy: FaultProxy, operation: str) -> float:
    """Seconds between the fault answered to ``operation`` and its next attempt."""
    first, second = next(rs for rs in proxy.calls().values() if rs[0].operation == operation)[:2]
    assert first.fault is not None and second.fault is None
    return second.received - first.answered


def test_retry_after_is_honoured(moto_endpoint: str) -> None:
    """A 503 asking for one second: the next attempt comes no sooner (the backoff alone would
    wait at most 20 ms)."""
    unavailable = Schedule({Fault.UNAVAILABLE: 1.0}, match=only("DescribeVpcs"), first=1,
                           retry_after="1")
    with fault_proxy(moto_endpoint, aws_error, unavailable) as proxy:
        scope = RegionScope(ACCOUNT, REGION, ClientFactory(boto3.session.Session(),
                                                           endpoint_url=proxy.base, backoff=FAST))
        assert scope.call("ec2", "DescribeVpcs", ("AWS::EC2::VPC",)) is not None
    assert 0.95 <= _waited(proxy, "DescribeVpcs") < 5


@pytest.mark.parametrize("fault", [Fault.ERROR, Fault.THROTTLE])
def test_a_permanent_fault_on_get_caller_identity_does_not_blame_the_credentials(
    moto_endpoint: str, fault: Fault,
) -> None:
    always = Schedule({fault: 1.0}, match=only("GetCallerIdentity"), retry_after=None)
    with fault_proxy(moto_endpoint, aws_error, always) as proxy, \
            pytest.raises(CollectorError) as exc:
        _scan(proxy.base)
    message = str(exc.value)
    assert "rejected" not in message and "not a credential problem" in message, message
    assert f"{FAST.attempts} attempt(s)" in message
    assert ("InternalFailure" if fault is Fault.ERROR else "Throttling") in message
    assert len(proxy.records) == FAST.attempts  # retried to the end of the policy, no further


def test_rejected_credentials_are_named_at_once(moto_endpoint: str) -> None:
    """moto enforcing IAM answers unknown keys with InvalidClientTokenId: that, and only that
    kind of answer, is the credentials' fault (and is not retried)."""
    bogus = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                  aws_secret_access_key="not-a-secret", region_name=REGION)
    with denied_session(moto_endpoint, "ec2:DescribeVolumes"):
        with pytest.raises(CollectorError) as exc:
            collector.collect(AwsTarget(regions=(REGION,), endpoint_url=moto_endpoint,
                                        backoff=FAST), session=bogus)
        with pytest.raises(CollectorError) as member:
            check_access(bogus, endpoint_url=moto_endpoint, backoff=FAST)
    assert str(exc.value).startswith("AWS rejected the credentials (InvalidClientTokenId")
    assert str(member.value).startswith("AWS rejected the AWS credentials (InvalidClientTokenId")


def test_an_organisation_member_probe_does_not_blame_credentials_for_a_5xx(
    moto_endpoint: str,
) -> None:
    always = Schedule({Fault.UNAVAILABLE: 1.0}, match=only("GetCallerIdentity"), retry_after="0")
    with fault_proxy(moto_endpoint, aws_error, always) as proxy, \
            pytest.raises(CollectorError) as exc:
        check_access(boto3.session.Session(), endpoint_url=proxy.base, backoff=FAST)
    assert "not a credential problem" in str(exc.value) and "HTTP 503" in str(exc.value)
    assert len(proxy.records) == FAST.attempts
