"""Failed neighbours (posture.graph.neighbours, posture.iam.neighbours): per failed detail call,
the assets whose verdicts depend on it - and those that do not."""

from __future__ import annotations

from typing import Any

from support.model import asset_of, error_of, inventory_of, scan_meta

from posture.graph import neighbours
from posture.iam import neighbours as iam_neighbours
from posture.model import Asset, CollectionError, Inventory, Provider

ACCT, REGION = "111122223333", "us-east-1"
LB, LISTENER = "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener"
TG = "AWS::ElasticLoadBalancingV2::TargetGroup"
INSTANCE, ENI = "AWS::EC2::Instance", "AWS::EC2::NetworkInterface"
SUB = "/subscriptions/s1/resourcegroups/rg/providers/microsoft.network"
VNET = f"{SUB}/virtualnetworks"


def _aws(type_: str, uid: str, **attrs: Any) -> Asset:
    return asset_of(Provider.AWS, type_, uid, account=ACCT, region=REGION, name=uid.rsplit("/")[-1],
                    tags=None, attrs=attrs)


def _inv(provider: Provider, assets: list[Asset], *errors: CollectionError) -> Inventory:
    return inventory_of(scan_meta(provider, (ACCT,), (REGION,)), assets, errors)


def _err(provider: Provider, operation: str, facet: str, uid: str) -> CollectionError:
    return error_of(provider, ACCT, "svc", operation, (facet,), code="AccessDenied", message="no",
                    region=REGION, resource_uid=uid)


def _estate(scheme: str = "internet-facing", targets: Any = ()) -> list[Asset]:
    return [
        _aws(LB, "lb/front", arn="lb/front", scheme=scheme, lb_type="application"),
        _aws(TG, "tg/web", arn="tg/web", vpc_id="vpc-1", target_type="instance",
             load_balancer_arns=["lb/front"],
             targets=targets if targets is None else [{"id": "i-1", "port": 80}]),
        _aws(INSTANCE, "i/1", instance_id="i-1", vpc_id="vpc-1"),
        _aws(INSTANCE, "i/2", instance_id="i-2", vpc_id="vpc-1"),
        _aws(INSTANCE, "i/3", instance_id="i-3", vpc_id="vpc-9"),
        _aws(ENI, "eni/4", eni_id="eni-4", vpc_id="vpc-1", private_ips=["10.0.0.4"]),
    ]


LISTENERS = (Provider.AWS, "DescribeListeners", LISTENER, "lb/front")
TARGETS = (Provider.AWS, "DescribeTargetHealth", f"{TG}#targets", "tg/web")


def test_unread_listeners_leave_the_registered_targets_dependent() -> None:
    err = _err(*LISTENERS)
    assert neighbours.dependents(_inv(Provider.AWS, _estate(), err)) == {err: {"i/1"}}


def test_unread_listeners_of_a_group_with_unknown_targets_reach_its_vpc() -> None:
    err = _err(*LISTENERS)
    found = neighbours.dependents(_inv(Provider.AWS, _estate(targets=None), err))
    assert found == {err: {"i/1", "i/2", "eni/4"}}  # not i/3: another VPC


def test_unread_targets_of_an_exposed_group_reach_its_vpc() -> None:
    err = _err(*TARGETS)
    found = neighbours.dependents(_inv(Provider.AWS, _estate(targets=None), err))
    assert found == {err: {"i/1", "i/2", "eni/4"}}


def test_internal_load_balancers_and_other_facets_expose_nothing() -> None:
    internal = _estate(scheme="internal", targets=None)
    assert neighbours.dependents(_inv(Provider.AWS, internal, _err(*LISTENERS))) == {}
    assert neighbours.dependents(_inv(Provider.AWS, internal, _err(*TARGETS))) == {}
    logs = _err(Provider.AWS, "DescribeLoadBalancerAttributes", f"{LB}#attributes", "lb/front")
    assert neighbours.dependents(_inv(Provider.AWS, _estate(), logs)) == {}


def _az(type_: str, uid: str, **attrs: Any) -> Asset:
    return asset_of(Provider.AZURE, type_, uid, account="s1", region="westeurope",
                    name=uid.rsplit("/")[-1], tags=None, attrs=attrs)


def test_a_firewall_policy_without_rules_reaches_vms_of_the_firewall_and_peered_vnets() -> None:
    base, child = f"{SUB}/firewallpolicies/base", f"{SUB}/firewallpolicies/child"
    assets = [
        _az("Microsoft.Network/firewallPolicies", base, base_policy_id=None),
        _az("Microsoft.Network/firewallPolicies", child, base_policy_id=base),
        _az("Microsoft.Network/azureFirewalls", f"{SUB}/azurefirewalls/fw",
            firewall_policy_id=child, subnet_ids=[f"{VNET}/hub/subnets/AzureFirewallSubnet"]),
        _az("Microsoft.Network/virtualNetworks/virtualNetworkPeerings", f"{VNET}/hub/p/spoke",
            vnet_id=f"{VNET}/hub", remote_vnet_id=f"{VNET}/spoke"),
    ]
    for vm, vnet in (("a", "spoke"), ("b", "island")):
        nic = f"{SUB}/networkinterfaces/{vm}"
        assets += [
            _az("Microsoft.Compute/virtualMachines", f"/vm/{vm}", nic_ids=[nic]),
            _az("Microsoft.Network/networkInterfaces", nic,
                ip_configurations=[{"subnet_id": f"{VNET}/{vnet}/subnets/default"}]),
        ]
    err = _err(Provider.AZURE, "FirewallPolicyRuleCollectionGroups_List",
               "Microsoft.Network/firewallPolicies#rules", base)
    inv = _inv(Provider.AZURE, assets, err)
    assert neighbours.dependents(inv) == {err: {"/vm/a"}}


def test_an_unreadable_policy_leaves_its_holders_and_their_group_members_dependent() -> None:
    policy = "arn:aws:iam::1:policy/p"
    assets = [
        _aws("AWS::IAM::Policy", policy),
        _aws("AWS::IAM::Group", "arn:aws:iam::1:group/ops", group_name="ops",
             attached_policy_arns=[policy], member_user_names=None),
        _aws("AWS::IAM::User", "arn:aws:iam::1:user/ana", user_name="ana", group_names=["ops"]),
        _aws("AWS::IAM::User", "arn:aws:iam::1:user/bob", user_name="bob", group_names=[]),
        _aws("AWS::IAM::Role", "arn:aws:iam::1:role/r", attached_policy_arns=[policy]),
    ]
    err = _err(Provider.AWS, "GetPolicyVersion", "AWS::IAM::Policy#document", policy)
    found = iam_neighbours.dependents(_inv(Provider.AWS, assets, err))
    assert found == {err: {"arn:aws:iam::1:group/ops", "arn:aws:iam::1:user/ana",
                           "arn:aws:iam::1:role/r"}}


def test_no_failed_detail_call_no_dependents() -> None:
    listing = error_of(Provider.AWS, ACCT, "elbv2", "DescribeLoadBalancers", (LB,),
                       code="AccessDenied", message="no", region=REGION)
    assert neighbours.dependents(_inv(Provider.AWS, _estate(), listing)) == {}
