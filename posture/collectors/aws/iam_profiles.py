"""IAM instance profiles (global; attrs as in ``docs/aws-assets.md``): which role an EC2
instance runs as. An instance names its profile (``iam_instance_profile_arn``); the profile
names its role. One listing (``ListInstanceProfiles``) returns both."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope
from posture.model import GLOBAL, Asset

INSTANCE_PROFILE = "AWS::IAM::InstanceProfile"

PERMISSIONS: tuple[str, ...] = ("iam:ListInstanceProfiles",)


def collect(scope: RegionScope) -> list[Asset]:
    profiles = scope.paginate("iam", "ListInstanceProfiles", "InstanceProfiles",
                              (INSTANCE_PROFILE,))
    ordered = sorted(profiles or [], key=lambda p: str(p["Arn"]))
    return [normalize_instance_profile(scope, p) for p in ordered]


def normalize_instance_profile(scope: RegionScope, profile: Payload) -> Asset:
    arn = str(profile["Arn"])
    roles = profile.get("Roles") or []
    attrs = {
        "arn": arn,
        "instance_profile_name": profile.get("InstanceProfileName"),
        "instance_profile_id": profile.get("InstanceProfileId"),
        "path": profile.get("Path"),
        "role_arns": sorted(str(r["Arn"]) for r in roles if r.get("Arn")),
        "role_names": sorted(str(r["RoleName"]) for r in roles if r.get("RoleName")),
    }
    name = str(profile.get("InstanceProfileName") or arn)
    raw = {k: v for k, v in profile.items() if k != "Roles"}
    raw["Roles"] = [{"Arn": r.get("Arn"), "RoleName": r.get("RoleName")} for r in roles]
    return scope.asset(arn, INSTANCE_PROFILE, name, attrs, raw=raw, region=GLOBAL)
