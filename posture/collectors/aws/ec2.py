"""EC2 compute and storage: network interfaces, instances, EBS volumes and the region's EBS
encryption-by-default setting (attrs as in ``docs/aws-assets.md``).

The network layer (VPCs, routes, NACLs, security groups, prefix lists) is in ``ec2_network.py``.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, name_from_tags, parallel_map, tag_map
from posture.collectors.aws.ec2_network import listing
from posture.collectors.aws.ec2_userdata import PERMISSIONS as USER_DATA_PERMISSIONS
from posture.collectors.aws.ec2_userdata import fetch_user_data, with_user_data
from posture.model import Asset

NETWORK_INTERFACE = "AWS::EC2::NetworkInterface"
INSTANCE = "AWS::EC2::Instance"
VOLUME = "AWS::EC2::Volume"
EBS_DEFAULT = "AWS::EC2::EbsEncryptionByDefault"

PERMISSIONS: tuple[str, ...] = (
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeInstances", "ec2:DescribeVolumes",
    "ec2:GetEbsEncryptionByDefault", "ec2:GetEbsDefaultKmsKeyId", *USER_DATA_PERMISSIONS,
)


def collect(scope: RegionScope) -> list[Asset]:
    assets = listing(scope, "DescribeNetworkInterfaces", "NetworkInterfaces", NETWORK_INTERFACE,
                     normalize_network_interface)
    assets.extend(collect_instances(scope))
    assets.extend(listing(scope, "DescribeVolumes", "Volumes", VOLUME, normalize_volume))
    assets.append(collect_ebs_default(scope))
    return assets


# --- network interfaces --------------------------------------------------------------------


def normalize_network_interface(scope: RegionScope, eni: Payload) -> Asset:
    eni_id = eni["NetworkInterfaceId"]
    addresses = eni.get("PrivateIpAddresses", [])
    private = {a["PrivateIpAddress"] for a in addresses if a.get("PrivateIpAddress")}
    if eni.get("PrivateIpAddress"):
        private.add(eni["PrivateIpAddress"])
    associations = [eni.get("Association") or {}]
    associations += [a.get("Association") or {} for a in addresses]
    attachment = eni.get("Attachment") or {}
    attrs = {
        "eni_id": eni_id,
        "subnet_id": eni.get("SubnetId"),
        "vpc_id": eni.get("VpcId"),
        "private_ips": sorted(private),
        "public_ips": sorted({a["PublicIp"] for a in associations if a.get("PublicIp")}),
        "ipv6_addresses": _ipv6(eni),
        "security_group_ids": sorted({g["GroupId"] for g in eni.get("Groups", [])}),
        "instance_id": attachment.get("InstanceId"),
        "interface_type": eni.get("InterfaceType"),
        "requester_managed": eni.get("RequesterManaged"),
        "description": eni.get("Description"),
        "status": eni.get("Status"),
    }
    tags = tag_map(eni.get("TagSet") or eni.get("Tags"))
    uid = scope.arn("ec2", f"network-interface/{eni_id}")
    return scope.asset(uid, NETWORK_INTERFACE, name_from_tags(tags, eni_id), attrs, raw=eni,
                       tags=tags)


# --- instances -----------------------------------------------------------------------------


def collect_instances(scope: RegionScope) -> list[Asset]:
    reservations = scope.paginate("ec2", "DescribeInstances", "Reservations", (INSTANCE,))
    instances = [instance for reservation in reservations or []
                 for instance in reservation.get("Instances", [])]
    user_data = parallel_map(lambda i: fetch_user_data(scope, i["InstanceId"]), instances)
    return [with_user_data(normalize_instance(scope, instance), text)
            for instance, text in zip(instances, user_data, strict=True)]


def normalize_instance(scope: RegionScope, instance: Payload) -> Asset:
    instance_id = instance["InstanceId"]
    interfaces = instance.get("NetworkInterfaces", [])
    metadata = instance.get("MetadataOptions") or {}
    attrs = {
        "instance_id": instance_id,
        "state": (instance.get("State") or {}).get("Name"),
        "vpc_id": instance.get("VpcId"),
        "subnet_id": instance.get("SubnetId"),
        "private_ip": instance.get("PrivateIpAddress"),
        "public_ip": instance.get("PublicIpAddress"),
        "ipv6_addresses": sorted({a for eni in interfaces for a in _ipv6(eni)}),
        "security_group_ids": sorted({g["GroupId"] for g in instance.get("SecurityGroups", [])}),
        "network_interface_ids": sorted({e["NetworkInterfaceId"] for e in interfaces}),
        "iam_instance_profile_arn": (instance.get("IamInstanceProfile") or {}).get("Arn"),
        "image_id": instance.get("ImageId"),
        "platform": instance.get("Platform"),
        "launch_time": instance.get("LaunchTime"),
        "http_tokens": metadata.get("HttpTokens"),
        "http_endpoint": metadata.get("HttpEndpoint"),
    }
    tags = tag_map(instance.get("Tags"))
    uid = scope.arn("ec2", f"instance/{instance_id}")
    return scope.asset(uid, INSTANCE, name_from_tags(tags, instance_id), attrs, raw=instance,
                       tags=tags)


# --- volumes and EBS defaults --------------------------------------------------------------


def normalize_volume(scope: RegionScope, volume: Payload) -> Asset:
    volume_id = volume["VolumeId"]
    attached = {a["InstanceId"] for a in volume.get("Attachments", [])
                if a.get("InstanceId") and a.get("State") != "detached"}
    attrs = {
        "volume_id": volume_id,
        "encrypted": volume.get("Encrypted"),
        "kms_key_id": volume.get("KmsKeyId"),
        "state": volume.get("State"),
        "size_gib": volume.get("Size"),
        "attached_instance_ids": sorted(attached),
    }
    tags = tag_map(volume.get("Tags"))
    uid = scope.arn("ec2", f"volume/{volume_id}")
    return scope.asset(uid, VOLUME, name_from_tags(tags, volume_id), attrs, raw=volume,
                       tags=tags)


def collect_ebs_default(scope: RegionScope) -> Asset:
    uid = ebs_default_uid(scope)
    enabled = _call(scope, "GetEbsEncryptionByDefault", (EBS_DEFAULT,), uid)
    key: Payload | None = {}
    if enabled is None or enabled.get("EbsEncryptionByDefault"):
        # the default key only matters when default encryption is on (or unknown)
        key = _call(scope, "GetEbsDefaultKmsKeyId", (f"{EBS_DEFAULT}#kms_key_id",), uid)
    return normalize_ebs_default(scope, enabled, key)


def ebs_default_uid(scope: RegionScope) -> str:
    return scope.arn("ec2", "ebs-encryption-by-default")


def normalize_ebs_default(
    scope: RegionScope, enabled: Payload | None, key: Payload | None
) -> Asset:
    """``None`` payloads are failed calls: the value is unknown (null), never "disabled"."""
    attrs = {
        "enabled": None if enabled is None else enabled.get("EbsEncryptionByDefault"),
        "kms_key_id": None if key is None else key.get("KmsKeyId"),
    }
    raw = {"GetEbsEncryptionByDefault": enabled, "GetEbsDefaultKmsKeyId": key}
    name = f"ebs-encryption-by-default ({scope.region})"
    return scope.asset(ebs_default_uid(scope), EBS_DEFAULT, name, attrs, raw=raw)


# --- helpers -------------------------------------------------------------------------------


def _ipv6(eni: Payload) -> list[str]:
    return sorted({a["Ipv6Address"] for a in eni.get("Ipv6Addresses", []) if a.get("Ipv6Address")})


def _call(scope: RegionScope, operation: str, asset_types: tuple[str, ...], uid: str
          ) -> Payload | None:
    return scope.call("ec2", operation, asset_types, resource_uid=uid)
