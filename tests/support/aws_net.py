"""Builders for small AWS network estates (attrs as in docs/aws-assets.md): one VPC ``vpc-1`` with
subnet ``subnet-1``, host ``i-1`` (ENI ``eni-1``, security group ``sg-1``), and the knobs the
reachability, exposure and depth tests turn; plus the load-balancer and bastion estates built on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from posture.model import Asset, Finding, Inventory

from .aws import asset, aws_arn, inventory
from .checks import by_uid, run_one

ADMIN = "aws.network.admin_ports_not_internet_reachable"
DB = "aws.network.db_ports_not_internet_reachable"
DEPTH = "aws.network.sensitive_ports_defense_in_depth"
LATENT = "aws.network.no_latent_sensitive_port_exposure"
BASTION = "aws.network.bastion_not_open_to_internet"
VIA_BASTION = "aws.network.private_admin_only_via_bastion"
SEGREGATION = "aws.segregation.no_prod_nonprod_network_path"
R = "us-east-1"


def arn(kind: str, id_: str) -> str:
    return aws_arn("ec2", f"{kind}/{id_}")


INSTANCE_UID = arn("instance", "i-1")


def status(check_id: str, inv: Inventory, uid: str = INSTANCE_UID, **params: Any) -> Finding:
    """The finding of ``check_id`` on ``uid`` (host i-1 unless said otherwise)."""
    return by_uid(run_one(check_id, inv, **params))[uid]


# -- rules: network-ACL entries, routes, security-group rules ----------------------------------


def entry(
    rule: int,
    action: str,
    cidr: str = "0.0.0.0/0",
    egress: bool = False,
    protocol: str = "-1",
    ports: tuple[int, int] | None = None,
) -> dict[str, Any]:
    port_from, port_to = ports or (None, None)
    return {
        "rule_number": rule,
        "egress": egress,
        "protocol": protocol,
        "action": action,
        "cidr": cidr,
        "port_from": port_from,
        "port_to": port_to,
        "icmp_type": None,
        "icmp_code": None,
    }


def default_acl(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The AWS default ACL (allow all both ways, IPv4 and IPv6) plus ``extra`` entries."""
    base = [
        entry(100, "allow"),
        entry(101, "allow", "::/0"),
        entry(100, "allow", egress=True),
        entry(101, "allow", "::/0", egress=True),
        entry(32767, "deny"),
        entry(32767, "deny", "::/0"),
        entry(32767, "deny", egress=True),
        entry(32767, "deny", "::/0", egress=True),
    ]
    return [*extra, *base]


SSH_DENIED = default_acl(entry(50, "deny", protocol="6", ports=(22, 22)))


def route(
    dest: str,
    kind: str = "igw",
    target: str = "igw-1",
    state: str = "active",
    dest_kind: str | None = None,
) -> dict[str, Any]:
    return {
        "destination": dest,
        "destination_kind": dest_kind or ("ipv6" if ":" in dest else "ipv4"),
        "target_kind": kind,
        "target_id": target,
        "state": state,
    }


LOCAL = route("10.0.0.0/16", "local", "local")
PUBLIC_ROUTES = (LOCAL, route("0.0.0.0/0"), route("::/0"))
PRIVATE_ROUTES = (LOCAL, route("0.0.0.0/0", "nat", "nat-1"))


def sg_rule(
    lo: int | None,
    hi: int | None,
    source: str = "0.0.0.0/0",
    protocol: str = "tcp",
    kind: str | None = None,
) -> dict[str, Any]:
    if kind is None:
        kind = "cidr6" if ":" in source else "cidr4"
    return {
        "protocol": protocol,
        "from_port": lo,
        "to_port": hi,
        "source_kind": kind,
        "source": source,
        "source_account": None,
        "description": None,
    }


SSH_WORLD = (sg_rule(22, 22),)
ALL_OUT = sg_rule(None, None, protocol="-1")
FROM_BASTION = [sg_rule(22, 22, "sg-b", kind="security_group")]
FROM_BASTION_IP = [sg_rule(22, 22, "10.0.1.9/32")]  # the bastion's address, not its group
OFFICE_SSH = [sg_rule(22, 22, "203.0.113.0/24")]


# -- assets -------------------------------------------------------------------------------------

ID_ATTRS = {
    "SecurityGroup": "group_id",
    "NetworkInterface": "eni_id",
    "VPCPeeringConnection": "peering_id",
    "TransitGatewayAttachment": "attachment_id",
    "TransitGatewayRouteTable": "route_table_id",
}
"""The EC2 types whose id attribute is not ``<type in snake case>_id`` (``network_acl_id``)."""


def ec2(type_: str, id_: str, tags: dict[str, str] | None = None, **attrs: Any) -> Asset:
    """The ``AWS::EC2::<type_>`` asset ``id_``, its ARN's resource type and its id attribute
    spelled from ``type_`` (``NetworkAcl``: ``network-acl/acl-1``, ``network_acl_id``)."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", type_).lower().split()
    id_attr = ID_ATTRS.get(type_, "_".join([*words, "id"]))
    return asset(f"AWS::EC2::{type_}", arn("-".join(words), id_), tags=tags, **{id_attr: id_},
                 **attrs)


def vpc(id_: str, cidr: str, tags: dict[str, str] | None = None) -> Asset:
    return ec2("VPC", id_, tags, cidr_blocks=[cidr], ipv6_cidr_blocks=[], is_default=False)


def route_table(
    id_: str, routes: Any, subnets: Iterable[str] = ("subnet-1",), main: bool = False,
    vpc_id: str = "vpc-1",
) -> Asset:
    return ec2("RouteTable", id_, vpc_id=vpc_id, main=main, subnet_ids=list(subnets),
               routes=list(routes))


def subnet(
    id_: str = "subnet-1", *, vpc_id: str = "vpc-1", cidr: str = "10.0.1.0/24",
    zone: str = "us-east-1a", public: bool = True,
) -> Asset:
    return ec2("Subnet", id_, vpc_id=vpc_id, cidr_block=cidr, ipv6_cidr_blocks=[],
               availability_zone=zone, map_public_ip_on_launch=public)


def nacl(
    entries: Any, subnets: Iterable[str] = ("subnet-1",), id_: str = "acl-1", vpc_id: str = "vpc-1",
    is_default: bool = True,
) -> Asset:
    return ec2("NetworkAcl", id_, vpc_id=vpc_id, is_default=is_default,
               subnet_ids=list(subnets), entries=list(entries))


def sg(ingress: Any, id_: str = "sg-1", vpc_id: str = "vpc-1", egress: Any = ()) -> Asset:
    return ec2("SecurityGroup", id_, group_name=id_, vpc_id=vpc_id, description="",
               ingress=list(ingress), egress=list(egress))


def eni(
    id_: str = "eni-1",
    instance: str | None = "i-1",
    subnet_id: str = "subnet-1",
    public_ip: str | None = "54.1.2.3",
    ipv6: tuple[str, ...] = (),
    sgs: tuple[str, ...] = ("sg-1",),
    **extra: Any,
) -> Asset:
    """Interface ``id_`` of ``instance`` (10.0.1.5 in vpc-1 unless ``extra`` says otherwise)."""
    attrs = {
        "subnet_id": subnet_id,
        "vpc_id": "vpc-1",
        "private_ips": ["10.0.1.5"],
        "public_ips": [public_ip] if public_ip else [],
        "ipv6_addresses": list(ipv6),
        "security_group_ids": list(sgs),
        "instance_id": instance,
        "interface_type": "interface",
        "requester_managed": False,
        "description": "",
        "status": "in-use",
        **extra,
    }
    return ec2("NetworkInterface", id_, **attrs)


def instance(
    id_: str = "i-1",
    state: str = "running",
    enis: Iterable[str] = ("eni-1",),
    *,
    private_ip: str = "10.0.1.5",
    sgs: Iterable[str] = ("sg-1",),
    tags: dict[str, str] | None = None,
    vpc_id: str = "vpc-1",
    subnet_id: str = "subnet-1",
) -> Asset:
    return ec2("Instance", id_, tags, state=state, vpc_id=vpc_id, subnet_id=subnet_id,
               private_ip=private_ip, public_ip=None, ipv6_addresses=[],
               security_group_ids=list(sgs), network_interface_ids=list(enis))


def peered_side(
    v: str, n: str, cidr: str, peer: str, ingress: Any, env: str, kind: str = "pcx"
) -> list[Asset]:
    """One side of two connected VPCs: VPC ``v`` (tag ``Environment: env``, the /16 of ``cidr``)
    with private subnet ``subnet-<n>`` (``cidr``) routing ``peer`` through peering ``pcx-1``
    (``kind`` "pcx") or transit gateway ``tgw-1``, the default NACL, security group ``sg-<n>``
    admitting ``ingress`` (all egress) and host ``i-<n>`` (ENI ``eni-<n>``, no public IP)."""
    network = cidr.replace(".1.0/24", ".0.0/16")
    routes = [route(network, "local", "local"),
              route(peer, kind, "pcx-1" if kind == "pcx" else "tgw-1")]
    sgid = f"sg-{n}"
    return [
        vpc(v, network, {"Environment": env}),
        subnet(f"subnet-{n}", vpc_id=v, cidr=cidr, zone="a", public=False),
        route_table(f"rtb-{n}", routes, (), main=True, vpc_id=v),
        nacl(default_acl(), (f"subnet-{n}",), f"acl-{n}", vpc_id=v),
        sg(ingress, sgid, vpc_id=v, egress=[ALL_OUT]),
        eni(f"eni-{n}", f"i-{n}", subnet_id=f"subnet-{n}", public_ip=None, sgs=(sgid,),
            private_ips=[cidr.replace("0/24", "10")], vpc_id=v),
        instance(f"i-{n}", enis=(f"eni-{n}",)),
    ]


def estate(
    routes: Any = PUBLIC_ROUTES,
    acl: Any = None,
    ingress: Any = SSH_WORLD,
    public_ip: str | None = "54.1.2.3",
    ipv6: tuple[str, ...] = (),
    explicit: bool = True,
    extra: tuple[Asset, ...] = (),
    errors: tuple[Any, ...] = (),
    state: str = "running",
) -> Inventory:
    """One VPC, one subnet, one host i-1 (ENI eni-1, SG sg-1) and the knobs under test."""
    tables = [route_table("rtb-1", routes, ("subnet-1",) if explicit else (), main=not explicit)]
    return inventory(
        subnet(),
        *tables,
        nacl(default_acl() if acl is None else acl),
        sg(ingress),
        eni(public_ip=public_ip, ipv6=ipv6),
        instance(state=state),
        *extra,
        errors=errors,
    )


def replaced(inv: Inventory, type_: str, **attrs: Any) -> Inventory:
    """``inv`` with ``attrs`` set on every asset of ``type_``."""
    return inventory(*(
        asset(a.type, a.uid, name=a.name, tags=a.tags, region=a.region, account=a.account,
              **{**a.attrs, **attrs}) if a.type == type_ else a
        for a in inv.assets
    ), errors=inv.errors, regions=inv.meta.regions)


def with_egress(inv: Inventory) -> Inventory:
    """``inv`` with every security group allowing all egress."""
    return replaced(inv, "AWS::EC2::SecurityGroup", egress=[ALL_OUT])


def hop(path: dict[str, Any], kind: str) -> dict[str, Any]:
    """The first hop of ``kind`` on a finding's evidence path."""
    return next(h for h in path["hops"] if h["kind"] == kind)


# -- databases ----------------------------------------------------------------------------------

DB_UID = aws_arn("rds", "db:orders")


def rds(
    public: bool | None = True, subnets: tuple[str, ...] = ("subnet-1",), port: int = 5432
) -> Asset:
    return asset(
        "AWS::RDS::DBInstance",
        DB_UID,
        arn=DB_UID,
        db_instance_id="orders",
        engine="postgres",
        publicly_accessible=public,
        storage_encrypted=True,
        vpc_id="vpc-1",
        subnet_ids=list(subnets),
        security_group_ids=["sg-db"],
        endpoint_address="orders.abc.us-east-1.rds.amazonaws.com",
        port=port,
    )


PG_WORLD = (sg_rule(5432, 5432),)


def db_estate(
    db: Asset, routes: Any = PUBLIC_ROUTES, ingress: Any = PG_WORLD, extra: tuple[Asset, ...] = ()
) -> Inventory:
    return inventory(
        subnet(),
        route_table("rtb-1", routes),
        nacl(default_acl()),
        sg(ingress, "sg-db"),
        db,
        *extra,
    )


# -- a network load balancer in front of the private host i-1 ---------------------------------

LB_ARN = aws_arn("elasticloadbalancing", "loadbalancer/net/edge/1")
TG_ARN = aws_arn("elasticloadbalancing", "targetgroup/ssh/1")


def elb(type_: str, uid: str, name: str, **attrs: Any) -> Asset:
    """An ``AWS::ElasticLoadBalancingV2::<type_>`` asset (``arn`` = ``uid``)."""
    return asset(f"AWS::ElasticLoadBalancingV2::{type_}", uid, name=name, arn=uid, **attrs)


def load_balancer(
    uid: str, name: str, subnets: Iterable[str], *, sgs: Iterable[str] = (),
    lb_type: str = "network", scheme: str = "internet-facing", vpc_id: str = "vpc-1",
) -> Asset:
    return elb("LoadBalancer", uid, name, lb_name=name, lb_type=lb_type, scheme=scheme,
               vpc_id=vpc_id, subnet_ids=list(subnets), security_group_ids=list(sgs),
               dns_name=f"{name}.elb.amazonaws.com", state="active", public_ips=None)


def listener(
    lb: str, port: int, target_group: str, *, protocol: str = "TCP",
    default_actions: list[dict[str, Any]] | None = None, rules: list[dict[str, Any]] | None = None,
) -> Asset:
    """Listener ``<lb>/listener/1`` on ``port`` (named ``<lb name>:<port>``, the name being the
    next-to-last part of the ARN) forwarding to ``target_group`` unless ``default_actions``."""
    forward = [{"type": "forward", "target_group_arns": [target_group]}]
    return elb("Listener", f"{lb}/listener/1", f"{lb.split('/')[-2]}:{port}", load_balancer_arn=lb,
               port=port, protocol=protocol, ssl_policy=None, certificate_arns=[],
               default_actions=forward if default_actions is None else default_actions,
               rules=[] if rules is None else rules)


def target_group(
    uid: str, name: str, lb: str, port: int, targets: Iterable[str], *,
    target_type: str = "instance", vpc_id: str = "vpc-1",
) -> Asset:
    """TCP target group ``name`` of load balancer ``lb``: ``targets`` (ids) on ``port``."""
    return elb("TargetGroup", uid, name, tg_name=name, protocol="TCP", port=port,
               target_type=target_type, vpc_id=vpc_id, load_balancer_arns=[lb],
               targets=[{"id": t, "port": port} for t in targets])


def lb_estate(
    lb_sgs: tuple[str, ...] = (),
    target_ingress: Any = None,
    lb_type: str = "network",
    scheme: str = "internet-facing",
    lb_subnet_routes: Any = PUBLIC_ROUTES,
    target_type: str = "instance",
    protocol: str = "TCP",
    default_actions: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> Inventory:
    """Load balancer ``edge`` (listener tcp/2222, subnet-lb) forwarding to tcp/22 of i-1."""
    if target_ingress is None:
        target_ingress = (sg_rule(22, 22, "10.0.9.0/24"),)
    extra = (
        subnet("subnet-lb", cidr="10.0.9.0/24"),
        route_table("rtb-lb", lb_subnet_routes, ("subnet-lb",)),
        load_balancer(LB_ARN, "edge", ["subnet-lb"], sgs=lb_sgs, lb_type=lb_type, scheme=scheme),
        listener(LB_ARN, 2222, TG_ARN, protocol=protocol, default_actions=default_actions,
                 rules=rules),
        target_group(TG_ARN, "ssh", LB_ARN, 22, ["10.0.1.5" if target_type == "ip" else "i-1"],
                     target_type=target_type),
        sg([sg_rule(2222, 2222)], "sg-lb"),
    )
    inv = estate(routes=PRIVATE_ROUTES, public_ip=None, ingress=target_ingress, extra=extra)
    return replaced(inv, "AWS::EC2::NetworkAcl", subnet_ids=["subnet-1", "subnet-lb"])


def registered_on(inv: Inventory, port: int) -> Inventory:
    """``inv`` with the target group's port (and i-1's registration) moved to ``port``."""
    return replaced(inv, "AWS::ElasticLoadBalancingV2::TargetGroup", port=port,
                    targets=[{"id": "i-1", "port": port}])


# -- a bastion i-b (public, sg-b) in front of a worker i-w (private subnet-2, sg-w) -----------

BASTION_UID = arn("instance", "i-b")
WORKER_UID = arn("instance", "i-w")


def bastion_estate(
    ingress: Any, worker_ingress: Any, tags: dict[str, str] | None = None
) -> Inventory:
    """``ingress`` on the bastion's group, ``worker_ingress`` on the worker's; the bastion is
    tagged ``Role=bastion`` unless ``tags`` says otherwise."""
    others = (
        sg(ingress, "sg-b"),
        sg(worker_ingress, "sg-w"),
        eni("eni-b", "i-b", public_ip="54.9.9.9", sgs=("sg-b",), private_ips=["10.0.1.9"]),
        eni(
            "eni-w",
            "i-w",
            subnet_id="subnet-2",
            public_ip=None,
            sgs=("sg-w",),
            private_ips=["10.0.2.7"],
        ),
        instance("i-w", enis=("eni-w",)),
        instance(
            "i-b",
            enis=("eni-b",),
            private_ip="10.0.1.9",
            sgs=("sg-b",),
            tags={"Role": "bastion"} if tags is None else tags,
        ),
        subnet("subnet-2"),
        route_table("rtb-2", PRIVATE_ROUTES, ("subnet-2",)),
        nacl(default_acl(), ("subnet-2",), "acl-2"),
    )
    inv = estate(ingress=[ALL_OUT], extra=others)
    return with_egress(inv)
