"""IAM instance profiles (posture/collectors/aws/iam_profiles.py) against the moto server: the
profile names its role, the instance names its profile (the link an attack path follows), and a
denied listing is recorded."""

from __future__ import annotations

import json

from support.aws import ACCOUNT, client
from support.collect import by_uid, collected, collected_denied, error_keys, scope

from posture.collectors.aws import ec2, iam_profiles
from posture.collectors.aws.base import ClientFactory
from posture.model import GLOBAL

TRUST_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
]})
PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/web"


def test_profiles_name_their_role_and_instances_their_profile(
    moto_endpoint: str, factory: ClientFactory
) -> None:
    iam = client("iam", moto_endpoint)
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument=TRUST_EC2)
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web-role")
    iam.create_instance_profile(InstanceProfileName="empty", Path="/batch/")
    ec2c = client("ec2", moto_endpoint)
    inst = ec2c.run_instances(ImageId="ami-1e749f67", MinCount=1, MaxCount=1,
                              IamInstanceProfile={"Name": "web"})["Instances"][0]["InstanceId"]

    sc = scope(moto_endpoint)
    assets = by_uid(iam_profiles.collect(sc))
    assert sc.errors == []
    web = assets[PROFILE]
    assert (web.type, web.region, web.name) == ("AWS::IAM::InstanceProfile", GLOBAL, "web")
    assert web.attrs["role_arns"] == [f"arn:aws:iam::{ACCOUNT}:role/web-role"]
    assert web.attrs["role_names"] == ["web-role"]
    empty = assets[f"arn:aws:iam::{ACCOUNT}:instance-profile/batch/empty"]
    assert (empty.attrs["role_arns"], empty.attrs["path"]) == ([], "/batch/")
    assert "AssumeRolePolicyDocument" not in json.dumps(web.raw)  # the role is named, not copied

    instances, _ = collected(ec2, factory)
    (host,) = [a for a in instances.values()
               if a.type == "AWS::EC2::Instance" and a.attrs["instance_id"] == inst]
    assert host.attrs["iam_instance_profile_arn"] == PROFILE


def test_a_denied_listing_is_recorded(moto_endpoint: str) -> None:
    client("iam", moto_endpoint).create_instance_profile(InstanceProfileName="web")
    assets, sc = collected_denied(iam_profiles, moto_endpoint, "iam:ListInstanceProfiles")
    assert assets == {}
    assert error_keys(sc.errors) == {
        (GLOBAL, "iam", "ListInstanceProfiles", "AccessDenied", ("AWS::IAM::InstanceProfile",),
         None),
    }
