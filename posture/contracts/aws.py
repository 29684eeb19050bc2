"""The AWS asset contracts (docs/aws-assets.md) as data: the type of every attribute the graphs and
checks read, per asset type. Network topology and identity documents are structural."""

from __future__ import annotations

from collections.abc import Mapping

from posture.contracts.fields import (
    ID,
    NET_LIST,
    OBJ,
    STRS,
    B,
    D,
    Field,
    N,
    S,
    list_of,
    map_of,
    record,
    required,
)

POLICY = OBJ.structure()  # an identity document: other principals' verdicts rest on it
POLICIES = map_of(required(OBJ)).structure()
ARNS = STRS.structure()

SG_RULE = record(
    protocol=required(S), from_port=N, to_port=N, source_kind=required(S), source=S,
    source_account=S, description=S,
)
NACL_ENTRY = record(
    rule_number=required(N), egress=required(B), protocol=required(S), action=required(S),
    cidr=S, port_from=N, port_to=N, icmp_type=N, icmp_code=N,
)
ROUTE = record(
    destination=S, destination_kind=required(S), target_kind=required(S), target_id=S, state=S,
)
SECRET_HITS = list_of(record(type=S, key=S, line=N, fingerprint=S, container=S))
PUBLIC_ACCESS_BLOCK = record(
    BlockPublicAcls=B, IgnorePublicAcls=B, BlockPublicPolicy=B, RestrictPublicBuckets=B,
)
ACTION = record(type=S, target_group_arns=STRS, redirect_protocol=S, redirect_port=S)

_NETWORK: Mapping[str, Mapping[str, Field]] = {
    "AWS::EC2::VPC": {
        "vpc_id": ID, "cidr_blocks": NET_LIST, "ipv6_cidr_blocks": NET_LIST, "is_default": B,
    },
    "AWS::EC2::Subnet": {
        "subnet_id": ID, "vpc_id": ID, "cidr_block": ID, "ipv6_cidr_blocks": NET_LIST,
        "availability_zone": S, "map_public_ip_on_launch": B.structure(),
    },
    "AWS::EC2::RouteTable": {
        "route_table_id": ID, "vpc_id": ID, "main": B.strict(), "subnet_ids": NET_LIST,
        "routes": list_of(ROUTE).strict(),
    },
    "AWS::EC2::InternetGateway": {"igw_id": ID, "vpc_ids": NET_LIST},
    "AWS::EC2::NatGateway": {
        "nat_gateway_id": ID, "vpc_id": ID, "subnet_id": ID, "state": S, "public_ips": NET_LIST,
    },
    "AWS::EC2::NetworkAcl": {
        "network_acl_id": ID, "vpc_id": ID, "is_default": B.structure(), "subnet_ids": NET_LIST,
        "entries": list_of(NACL_ENTRY).strict(),
    },
    "AWS::EC2::SecurityGroup": {
        "group_id": ID, "group_name": S, "vpc_id": ID, "description": S,
        "ingress": list_of(SG_RULE).strict(), "egress": list_of(SG_RULE).strict(),
    },
    "AWS::EC2::PrefixList": {
        "prefix_list_id": ID, "name": S, "address_family": S, "entries": STRS.structure(),
        "aws_managed": B,
    },
    "AWS::EC2::NetworkInterface": {
        "eni_id": ID, "subnet_id": ID, "vpc_id": ID, "private_ips": NET_LIST,
        "public_ips": NET_LIST, "ipv6_addresses": NET_LIST, "security_group_ids": NET_LIST,
        "instance_id": ID, "interface_type": S, "requester_managed": B, "description": S,
        "status": S,
    },
    "AWS::EC2::Instance": {
        "instance_id": ID, "state": S, "vpc_id": ID, "subnet_id": ID, "private_ip": ID,
        "public_ip": ID, "ipv6_addresses": NET_LIST, "security_group_ids": NET_LIST,
        "network_interface_ids": NET_LIST, "iam_instance_profile_arn": ID, "image_id": S,
        "platform": S, "launch_time": S, "http_tokens": S, "http_endpoint": S,
        "user_data_present": B, "user_data_secrets": SECRET_HITS,
    },
    # a load balancer's verdicts fall on its targets: what decides which ones it exposes is
    # structural (its access logs and TLS policy are its own)
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {
        "arn": ID, "lb_name": S, "lb_type": S.structure(), "scheme": S.structure(),
        "vpc_id": ID, "subnet_ids": STRS.structure(), "security_group_ids": STRS.structure(),
        "dns_name": S, "state": S.structure(), "public_ips": STRS.structure(),
        "access_logs_enabled": B, "access_logs_bucket": S,
    },
    "AWS::ElasticLoadBalancingV2::Listener": {
        "arn": ID, "load_balancer_arn": ID, "port": N.structure(), "protocol": S.structure(),
        "ssl_policy": S, "certificate_arns": STRS,
        "default_actions": list_of(ACTION).structure(), "rules": Field((list,)).structure(),
    },
    "AWS::ElasticLoadBalancingV2::TargetGroup": {
        "arn": ID, "tg_name": S, "protocol": S.structure(), "port": N.structure(),
        "target_type": S.structure(), "vpc_id": ID, "load_balancer_arns": STRS.structure(),
        "targets": list_of(record(id=S, port=N, availability_zone=S, health=S)).structure(),
    },
}

_DATA: Mapping[str, Mapping[str, Field]] = {
    "AWS::EC2::Volume": {
        "volume_id": S, "encrypted": B, "kms_key_id": S, "state": S, "size_gib": N,
        "attached_instance_ids": STRS,
    },
    "AWS::EC2::EbsEncryptionByDefault": {"enabled": B, "kms_key_id": S},
    "AWS::EC2::Snapshot": {
        "snapshot_id": S, "volume_id": S, "encrypted": B, "kms_key_id": S, "state": S,
        "start_time": S, "size_gib": N, "public": B, "shared_with_accounts": STRS,
    },
    "AWS::S3::Bucket": {
        "bucket_name": S, "creation_date": S,
        "encryption": list_of(record(sse_algorithm=S, kms_master_key_id=S, bucket_key_enabled=B)),
        "public_access_block": PUBLIC_ACCESS_BLOCK, "policy": D, "policy_present": B,
        "acl_grants": list_of(record(grantee_type=S, grantee=S, permission=S)),
        "versioning": S, "mfa_delete": S, "logging_enabled": B, "logging_target": S,
    },
    "AWS::S3::AccountPublicAccessBlock": {"public_access_block": PUBLIC_ACCESS_BLOCK},
    "AWS::KMS::Key": {
        "arn": S, "key_id": S, "key_manager": S, "key_state": S, "key_spec": S, "key_usage": S,
        "origin": S, "multi_region": B, "rotation_enabled": B, "policy": D, "aliases": STRS,
        "deletion_date": S,
    },
    "AWS::SecretsManager::Secret": {
        "arn": S, "secret_name": S, "kms_key_id": S, "rotation_enabled": B, "rotation_days": N,
        "last_rotated_date": S, "last_changed_date": S, "last_accessed_date": S,
        "created_date": S, "resource_policy": D, "resource_policy_present": B,
    },
    "AWS::RDS::DBInstance": {
        "arn": S, "db_instance_id": S, "engine": S, "engine_version": S, "status": S,
        "publicly_accessible": B, "storage_encrypted": B, "kms_key_id": S, "vpc_id": ID,
        "subnet_ids": STRS.structure(), "security_group_ids": STRS.structure(),
        "endpoint_address": S, "port": N, "iam_auth_enabled": B, "parameter_groups": STRS,
        "multi_az": B, "backup_retention_days": N, "deletion_protection": B,
    },
    "AWS::RDS::DBCluster": {
        "arn": S, "db_cluster_id": S, "engine": S, "engine_version": S, "status": S,
        "storage_encrypted": B, "kms_key_id": S, "publicly_accessible": B, "parameter_group": S,
        "member_instance_ids": STRS, "deletion_protection": B,
    },
    "AWS::EFS::FileSystem": {"file_system_id": S, "encrypted": B, "kms_key_id": S, "state": S},
    "AWS::CloudTrail::Trail": {
        "arn": S, "trail_name": S, "home_region": S, "is_multi_region": B,
        "is_organization_trail": B, "log_file_validation": B, "kms_key_id": S,
        "s3_bucket_name": S, "include_global_service_events": B, "is_logging": B,
        "management_events": S,
    },
}
_DATA = {
    **_DATA,
    **{
        t: {
            "arn": S, "snapshot_id": S, "source_id": S, "engine": S, "snapshot_type": S,
            "status": S, "encrypted": B, "kms_key_id": S, "created": S, "public": B,
            "shared_with_accounts": STRS,
        }
        for t in ("AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot")
    },
}

_IDENTITY: Mapping[str, Mapping[str, Field]] = {
    "AWS::IAM::User": {
        "arn": ID, "user_name": S, "user_id": S, "create_date": S, "password_last_used": S,
        "has_console_password": B, "mfa_devices": STRS,
        "access_keys": list_of(record(
            access_key_id=S, status=S, create_date=S, last_used_date=S, last_used_service=S,
        )),
        "group_names": STRS.structure(), "attached_policy_arns": ARNS,
        "inline_policies": POLICIES, "permissions_boundary_arn": ID,
    },
    "AWS::IAM::Group": {
        "arn": ID, "group_name": S, "attached_policy_arns": ARNS, "inline_policies": POLICIES,
        "member_user_names": STRS.structure(),
    },
    "AWS::IAM::Role": {
        "arn": ID, "role_name": S, "path": S, "trust_policy": POLICY, "attached_policy_arns": ARNS,
        "inline_policies": POLICIES, "permissions_boundary_arn": ID, "last_used_date": S,
        "max_session_duration": N, "service_linked": B,
    },
    "AWS::IAM::InstanceProfile": {
        "arn": ID, "instance_profile_name": S, "role_arns": ARNS, "role_names": STRS,
    },
    "AWS::IAM::Policy": {
        "arn": ID, "policy_name": S, "aws_managed": B, "default_version_id": S,
        "document": POLICY, "attachment_count": N,
    },
    "AWS::IAM::PasswordPolicy": {
        "present": B, "minimum_password_length": N, "require_symbols": B, "require_numbers": B,
        "require_uppercase_characters": B, "require_lowercase_characters": B,
        "expire_passwords": B, "max_password_age": N, "password_reuse_prevention": N,
        "hard_expiry": B, "allow_users_to_change_password": B,
    },
    "AWS::IAM::AccountSummary": {"summary": map_of(N)},
}

CONTRACTS: Mapping[str, Mapping[str, Field]] = {**_NETWORK, **_DATA, **_IDENTITY}

__all__ = ["CONTRACTS"]
