"""Lateral administrative access on AWS, graded by where it comes from
(:mod:`posture.graph.lateral` says the grades).

For every private host (no public address on any interface) that is not a bastion, the
non-bastion sources reaching one of its administrative ports
(:func:`posture.graph.aws.bastion.admin_sources`) become graded offences:

* the **rule** is the security-group rule of the target that admits the source (the last
  inbound security-group hop of the path; a group referenced by the source's groups counts), so
  the finding's subject is that security group; the path names the network-ACL entries too;
* a source's **environment** is its own environment tag, else its VPC's;
* a source is **internet-exposed** when the exposure checks' verdict finds a wide range of
  internet clients reaching some TCP port of it, directly or through an internet-facing load
  balancer (:func:`posture.graph.aws.served.served_ports`: every port, one per range no rule
  tells apart);
* peering and transit-gateway hops of the path are named in the grade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from posture.graph.aws.bastion import AdminPath, admin_sources, exact
from posture.graph.aws.exposure import TCP
from posture.graph.aws.reach import AwsReach, Host, Iface
from posture.graph.aws.served import served_ports
from posture.graph.core import Direction, describe_rule
from posture.graph.intervals import EMPTY
from posture.graph.lateral import AdmittingRule, Env, Offence, Party, environment, offence

TRANSIT = ("vpc-peering", "transit-gateway")


def _env(reach: AwsReach, host: Host, keys: Sequence[str], prod: Sequence[str]) -> Env:
    tagged: list[tuple[str, Mapping[str, str]]] = [(host.asset.name, host.asset.tags)]
    for iface in host.interfaces:
        vpc = reach.vpcs.get(str(iface.key[0]))
        if vpc is not None:
            tagged.append((vpc.name or str(iface.key[0]), vpc.tags))
    return environment(tagged, keys, prod)


def exposure(reach: AwsReach, host: Host) -> tuple[str | None, str | None]:
    """(where ``host`` is internet-exposed, why that is undecided): the exposure checks' verdict
    on every tcp port (:func:`posture.graph.aws.served.served_ports`, shared with the attack-path
    check and memoized per host)."""
    served = served_ports(reach, host)
    exp = served.exposure
    if not exp.exposed:
        return None, exp.unknown[0] if exp.unknown else None
    lbs = sorted({str(x["load_balancer"]) for x in exp.exposed if "load_balancer" in x})
    how = f"through load balancer {', '.join(lbs)}" if lbs else "on its public address"
    if lbs and any("load_balancer" not in x for x in exp.exposed):
        how += " and its public address"
    return f"{served.text()} {how}", None


def party(
    reach: AwsReach, host: Host, iface: Iface, keys: Sequence[str], prod: Sequence[str],
    exposed: bool = False,
) -> Party:
    where, unknown = exposure(reach, host) if exposed else (None, None)
    return Party(
        host.asset.name,
        host.asset.uid,
        str(iface.key[0]) if iface.key[0] else None,
        str(iface.key[1]) if iface.key[1] else None,
        _env(reach, host, keys, prod),
        exposed=where,
        exposure_unknown=unknown,
    )


def admitting_rule(reach: AwsReach, hops: Sequence[Mapping[str, Any]], host: Host) -> AdmittingRule:
    """The target's security-group rule on ``hops`` (the last inbound security-group hop before
    the target's interface); the host itself when no security group filters it."""
    last = max((n for n, h in enumerate(hops) if h.get("kind") == "interface"), default=len(hops))
    for h in reversed(hops[:last]):
        rule = h.get("rule") or {}
        if h.get("kind") == "security-group" and str(h.get("detail", "")).startswith("inbound"):
            group = str(rule.get("group") or h.get("id"))
            sg = reach.sgs.get(group)
            text = str(h.get("detail", "")).removeprefix("inbound: ")
            return AdmittingRule(sg.uid if sg is not None else group, text)
    return AdmittingRule(host.asset.uid, f"no security group filters {host.asset.name}")


def _member_rule(reach: AwsReach, found: AdminPath, target: Host) -> AdmittingRule:
    """The security-group rule admitting this member's own address (the class path names the
    rule for one representative address)."""
    assert found.src is not None and found.dst is not None and found.verdict is not None
    address = (found.src.private.get(4, EMPTY) & found.verdict.reachable).widest()
    groups = reach.classes[found.src.key].groups
    for f in reach.classes[found.dst.key].host_filters():
        rule = f.admit(Direction.IN, 4, TCP, found.port, groups).rule_for(address or 0)
        if rule is not None:
            group = str(rule.ref.get("group"))
            sg = reach.sgs.get(group)
            return AdmittingRule(sg.uid if sg is not None else group, describe_rule(rule))
    path = found.verdict.path
    return admitting_rule(reach, path.to_dict()["hops"] if path else [], target)


def _via(found: AdminPath) -> str:
    """The first peering or transit-gateway hop of the member's path ("" inside one VPC)."""
    path = found.verdict.path if found.verdict is not None else None
    for h in path.hops if path is not None else ():
        if h.kind.startswith(TRANSIT):
            return f"{h.kind} {h.id}"
    return ""


def offences(
    reach: AwsReach,
    host: Host,
    ports: Sequence[int],
    bastion_uids: set[str],
    keys: Sequence[str],
    prod: Sequence[str],
) -> tuple[list[Offence], list[str]]:
    """The graded offences against ``host``'s administrative ports, and undecidable reasons."""
    found, unknown = admin_sources(reach, host, ports, bastion_uids)
    targets = {i.key: party(reach, host, i, keys, prod) for i in host.interfaces}
    first = next(iter(targets.values()), Party(host.asset.name, host.asset.uid))
    out: list[Offence] = []
    for f in found:
        if f.lb is not None:
            assert f.lb.path is not None
            lb_path = {**f.lb.path.to_dict(), "load_balancer": f.lb.load_balancer.name}
            src = Party(
                f"internet via {f.lb.load_balancer.name}",
                internet=f"through load balancer {f.lb.load_balancer.name} "
                f"(listener {f.lb.listener.name}) to port {f.port}",
            )
            rule = admitting_rule(reach, lb_path["hops"], host)
            out.append(offence(src, first, f.port, rule, partial(dict, lb_path)))
            continue
        assert f.source is not None and f.src is not None and f.dst is not None
        src = party(reach, f.source, f.src, keys, prod, exposed=True)
        out.append(
            offence(
                src,
                targets[f.dst.key],
                f.port,
                _member_rule(reach, f, host),
                partial(_path, reach, f),
                _via(f),
            )
        )
    return out, unknown


def _path(reach: AwsReach, found: AdminPath) -> Mapping[str, Any]:
    v = exact(reach, found)
    return v.path.to_dict() if v is not None and v.path is not None else {}


__all__ = ["admitting_rule", "exposure", "offences", "party"]
