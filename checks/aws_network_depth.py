"""Defense depth: how many independent layers keep each sensitive port from the internet.

Depth is computed by :mod:`posture.graph.depth` (docs/reachability.md, "Defense depth"): the
least number of layer flips - a public address, an internet-gateway route, a network-ACL entry,
a security-group rule, a target-group registration - after which a wide range of internet
clients reaches the port, over every candidate path (each interface over IPv4 and IPv6, each
internet-facing load balancer whose target group holds the asset). Sensitive are the admin and
database ports of every host, an RDS instance's port, tcp/443 of every interface VPC endpoint,
and every port (:mod:`posture.graph.depth_sweep`) of a host tagged as sensitive. Depth 0 on an
admin or database port is a real exposure the exposure checks report (their evidence carries
``depth: 0``); depth 0 on a port judged only because the asset is sensitive is reported here
(no other check covers it). This check reports the assets below the required depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from posture.checks._aws_depth import SENSITIVE, Unit, front_door, judge, pairs
from posture.checks._aws_exposure import READS, is_bastion, reach_of
from posture.checks.aws_network import ADMIN_PORTS, BASTION_TAGS, DB_PORTS

from posture.engine import CheckContext, Result
from posture.graph.aws import RDS_INSTANCE, AwsReach, Host
from posture.graph.depth import TCP, Depth, host_depths, rds_depth
from posture.graph.depth_direct import route_layer
from posture.graph.depth_sweep import sweep
from posture.model import Asset, Principle, Severity
from posture.registry import check

PORT_CLASSES = (("admin", ADMIN_PORTS), ("database", DB_PORTS))
CLASS_SEVERITY = (("admin", "low"), ("database", "low"), (SENSITIVE, "low"))
SENSITIVE_TAGS = ("Sensitivity=high", "DataClassification=confidential", "Tier=private")


def _classes(ctx: CheckContext) -> dict[int, str]:
    """port -> its class (the first class listing it)."""
    out: dict[int, str] = {}
    for name, ports in pairs(ctx.param("port_classes")):
        for p in ports:
            out.setdefault(int(p), str(name))
    return out


def _strings(value: Any, lower: bool = False) -> tuple[str, ...]:
    """A parameter given as one string or a list of them."""
    items = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(str(v).lower() if lower else str(v) for v in items)


def _tags_of(asset: Asset, tags: Sequence[str]) -> list[str]:
    return [str(t) for t in tags if is_bastion(asset, (t,))]


def _private_tier(reach: AwsReach, host: Host) -> bool:
    """No public address on any interface, and no subnet of its interfaces routes the wide
    internet (IPv4 or IPv6) to an internet gateway."""
    for iface in host.interfaces:
        att = reach.classes[iface.key]
        if att.unknown or any(att.public.values()):
            return False
        if any(route_layer(reach, att.network, fam)[0].blocking is not True for fam in (4, 6)):
            return False
    return True


def _port_units(depths: Sequence[Depth], classes: dict[int, str], need: int) -> list[Unit]:
    return [Unit(TCP, d.port, d.port, d, classes.get(d.port, "database"), need) for d in depths]


def _swept_units(
    reach: AwsReach, host: Host, classes: dict[int, str], protocols: Sequence[str], need: int,
    class_need: int,
) -> list[Unit]:
    """Every port of every protocol in ``protocols``: the class ports alone (their class and
    requirement), the ranges between them of class ``sensitive``."""
    out = []
    for proto in protocols:
        alone = tuple(classes) if proto == TCP else ()
        for piece in sweep(reach, host, proto, alone):
            klass = classes.get(piece.lo) if proto == TCP and piece.lo == piece.hi else None
            unit = Unit(proto, piece.lo, piece.hi, piece.depth, klass or SENSITIVE,
                        class_need if klass else need)
            out.append(front_door(unit))
    return out


@check(
    id="aws.network.sensitive_ports_defense_in_depth",
    title="Sensitive ports are kept from the internet by at least two independent layers",
    severity=Severity.LOW,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=READS | {RDS_INSTANCE},
    remediation=(
        "Add a second, independent layer in front of the port: move the host or database to a "
        "private subnet (no internet-gateway route, no public address), turn off "
        "PubliclyAccessible, restrict the subnet's network ACL, and allow the port in the "
        "security group only from the tier that needs it. A sensitive asset reachable from "
        "the internet on any port: close the path first."
    ),
    rationale=(
        "The security policy asks for several controls in depth, not just 'not exposed today'. "
        "Sensitive are the administrative and database ports of every EC2 host, the port of "
        "every RDS instance, tcp/443 of every interface VPC endpoint (KMS, Secrets Manager, ... "
        "- parameter endpoint_ports) and, for hosts tagged as sensitive (parameter "
        "sensitive_tags, e.g. Sensitivity=high), every port of sensitive_protocols. For each, "
        "the depth is the least number of independent layer changes (a public address, an "
        "internet-gateway route, a network-ACL entry, a security-group rule, a target-group "
        "registration) that would expose the port to the wide internet, over every candidate "
        "path (each interface over IPv4 and IPv6, each internet-facing load balancer forwarding "
        "to the asset). Depth 1 - one change exposes it - fails at the severity of the port's "
        "class (parameters port_classes, class_severity; class 'sensitive' for the ports judged "
        "because the asset is sensitive); the message names the single layer, its resource and "
        "rule, and the change. Depth 0 on an admin or database port is a real exposure, "
        "reported by aws.network.admin_ports_not_internet_reachable and "
        "aws.network.db_ports_not_internet_reachable (evidence depth 0), not here; depth 0 on "
        "any other port of a sensitive asset is reported here at exposed_severity (no other "
        "check covers it), with the path - except a port an internet-facing load balancer "
        "serves by design (its front door, judged on its other paths). Bastions (tagged, or "
        "inferred as the exposure checks do) need bastion_min_depth on their admin and "
        "database ports (default 1: the allow-list is their one layer). Undecidable layers "
        "give INCONCLUSIVE unless the lower bound already meets the requirement."
    ),
    params={
        "port_classes": PORT_CLASSES,
        "class_severity": CLASS_SEVERITY,
        "min_depth": 2,
        "bastion_min_depth": 1,
        "bastion_tags": BASTION_TAGS,
        "infer_bastions": True,
        "sensitive_tags": SENSITIVE_TAGS,
        "sensitive_protocols": ("tcp", "udp"),
        "endpoint_ports": (443,),
        "exposed_severity": "medium",
    },
)
def sensitive_ports_defense_in_depth(ctx: CheckContext) -> Iterator[Result]:
    from posture.checks._aws_bastion import bastions

    reach: AwsReach = ctx.derived("aws.reach", reach_of)
    classes = _classes(ctx)
    admin = [p for p, k in classes.items() if k == "admin"] or list(ADMIN_PORTS)
    known = bastions(reach, ctx.param("bastion_tags"), admin, ctx.param("infer_bastions"))
    need, bastion_need = int(ctx.param("min_depth")), int(ctx.param("bastion_min_depth"))
    tags, protocols = _strings(ctx.param("sensitive_tags")), _strings(
        ctx.param("sensitive_protocols"), lower=True
    )
    ports = tuple(classes)
    for host in reach.hosts():
        why = known.get(host.asset.uid)
        extra: dict[str, Any] = {"bastion": why} if why else {}
        required = bastion_need if why else need
        tagged = _tags_of(host.asset, tags)
        reasons = [f"tagged {t}" for t in tagged] or ["admin and database ports"]
        if _private_tier(reach, host):
            reasons.append("private tier")
        if tagged:
            units = _swept_units(reach, host, classes, protocols, need, required)
        else:
            units = _port_units(host_depths(reach, host, ports), classes, required)
        found = judge(ctx, reach, host.asset, units, host, bool(tagged), sensitive=reasons,
                      **extra)
        if found is not None:
            yield found
    endpoint_ports = tuple(int(p) for p in ctx.param("endpoint_ports") or ())
    for host in reach.endpoints() if endpoint_ports else ():
        depths = host_depths(reach, host, endpoint_ports)
        units = [front_door(Unit(TCP, d.port, d.port, d, SENSITIVE, need)) for d in depths]
        found = judge(ctx, reach, host.asset, units, host, sensitive=["VPC endpoint interface"],
                      endpoint=str(host.asset.attr("description") or ""))
        if found is not None:
            yield found
    for db in ctx.inventory.of(RDS_INSTANCE):
        found = _rds(ctx, reach, db, need)
        if found is not None:
            yield found


def _rds(ctx: CheckContext, reach: AwsReach, db: Asset, need: int) -> Result | None:
    if db.attr("publicly_accessible") is None or db.attr("port") is None or not db.attr(
        "subnet_ids"
    ):
        return ctx.unknown(
            db,
            "cannot decide the defense depth: publicly_accessible, port or subnets unknown",
            depth=None,
        )
    depth, per_subnet = rds_depth(reach, db)
    zero = [s for s, d in per_subnet if d.depth == 0]
    if zero and len(zero) < len(per_subnet):
        return ctx.unknown(
            db,
            f"depth 0 (exposed) if the instance runs in subnet {', '.join(zero)}, else more: "
            "see aws.network.db_ports_not_internet_reachable",
            subnets={s: d.depth for s, d in per_subnet},
            depth=None,
        )
    unit = Unit(TCP, depth.port, depth.port, depth, "database", need)
    return judge(ctx, reach, db, [unit], sensitive=["database"])


__all__ = ["CLASS_SEVERITY", "PORT_CLASSES", "SENSITIVE_TAGS"]
