"""Shared logic of the AWS exposure checks: the per-run reachability graph and verdict wording.

"Reachable from the internet" means: a complete path (address, route, network ACL both ways,
security group - or the same through an internet-facing load balancer) exists for a *wide*
range of internet clients: at least a /8 worth of public IPv4 addresses, or a /16 worth of
global IPv6. A port reachable only from narrow allow-listed ranges (an office /24) is not an
exposure; it is named in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from posture.graph.aws.lb import LbExposure, lb_exposures
from posture.graph.aws.reach import FAMILIES, LB_READS, NETWORK_READS, AwsReach, Iface
from posture.graph.depth import wide  # one definition of "the wide internet"
from posture.graph.paths import Verdict
from posture.model import Asset, Inventory

READS = NETWORK_READS | LB_READS
TCP = "tcp"


def reach_of(inventory: Inventory) -> AwsReach:
    return AwsReach(inventory)


def is_bastion(asset: Asset, tags: Iterable[str]) -> bool:
    for tag in tags:
        key, _, value = str(tag).partition("=")
        actual = asset.tags.get(key.strip())
        if actual is not None and (not value or actual.strip().lower() == value.strip().lower()):
            return True
    return False


@dataclass(slots=True)
class Exposure:
    """One host's internet exposure on a set of ports."""

    exposed: list[dict[str, Any]] = field(default_factory=list)  # real paths (evidence)
    ports: set[int] = field(default_factory=set)
    narrow: list[dict[str, Any]] = field(default_factory=list)  # reachable from allow-lists only
    latent: list[dict[str, Any]] = field(default_factory=list)  # SG open, path blocked
    unknown: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why not reachable (first blocking layer)
    summary: str = ""  # first path, one line


def _latent(v: Verdict, iface: str | None, groups: str) -> dict[str, Any] | None:
    if not wide(v.family, v.admitted) or wide(v.family, v.reachable):
        return None
    stage = v.blocking(lambda s: wide(v.family, s))
    if stage is None:
        return None
    return {
        "protocol": v.protocol,
        "port": v.port,
        "family": f"ipv{v.family}",
        "network_interface": iface,
        "security_groups": groups,
        "admitted_clients": v.admitted.describe(v.family),
        "blocked_at": stage.layer,
        "detail": stage.detail,
    }


def _class_records(reach: AwsReach, key: Any, ports: Sequence[int]) -> list[tuple[Any, ...]]:
    """Per (family, port) of one interface class: (kind, verdict, payload) - cached per run."""
    cache: dict[Any, list[tuple[Any, ...]]] = reach.memo.setdefault("judged", {})
    memo = (key, tuple(ports))
    found = cache.get(memo)
    if found is not None:
        return found
    out: list[tuple[Any, ...]] = []
    groups = ", ".join(f.id for f in reach.classes[key].host_filters())
    for fam in FAMILIES:
        for port in ports:
            v = reach.internet(key, fam, TCP, int(port))
            if v.unknown:
                out.append(("unknown", v, v.unknown))
            elif v.path is not None and wide(fam, v.reachable):
                out.append(("exposed", v, None))
            elif v.path is not None and v.reachable:
                out.append(("narrow", v, v.reachable.describe(fam)))
            else:
                stage = v.blocking(bool)
                reason = stage.detail if stage and (fam == 4 or v.admitted) else None
                out.append(("blocked", v, (_latent(v, None, groups), reason)))
    cache[memo] = out
    return out


def judge(
    reach: AwsReach,
    subject: Asset,
    ports: Sequence[int],
    lb: Sequence[LbExposure] = (),
    ifaces: Sequence[Iface] = (),
) -> Exposure:
    out = Exposure()
    for iface in ifaces:
        for kind, v, payload in _class_records(reach, iface.key, ports):
            if kind == "unknown":
                out.unknown.append(payload)
                continue
            if kind == "blocked":
                latent, reason = payload
                if latent:
                    out.latent.append({**latent, "network_interface": iface.eni_id})
                if reason and reason not in out.reasons:
                    out.reasons.append(reason)
                continue
            path = v.path.at(
                iface.eni_id or subject.name, iface.public.get(v.family), subject.name, subject.type
            )
            if kind == "exposed":
                out.exposed.append(path.to_dict())
                out.ports.add(v.port)
                out.summary = out.summary or path.text()
            else:
                out.narrow.append({"port": v.port, "clients": payload, "path": path.text()})
    for e in lb:
        if e.port not in ports:
            continue
        if e.unknown:
            out.unknown.append(e.unknown)
        elif wide(4, e.clients) and e.path is not None:
            out.exposed.append(
                {
                    **e.path.to_dict(),
                    "load_balancer": e.load_balancer.name,
                    "listener": e.listener.name,
                }
            )
            out.ports.add(e.port)
            out.summary = out.summary or (
                f"through load balancer {e.load_balancer.name} (listener {e.listener.name}) "
                f"to port {e.port}: {e.path.text()}"
            )
    return out


def host_lb(reach: AwsReach, asset: Asset) -> list[LbExposure]:
    return [e for e in lb_exposures(reach).get(asset.uid, []) if e.protocol == TCP]


def latent_text(latent: Sequence[dict[str, Any]]) -> str:
    first = latent[0]
    ports = "/".join(str(p) for p in sorted({int(x["port"]) for x in latent}))
    return (
        f"security group {first['security_groups']} admits tcp/{ports} from the internet, "
        f"but no path exists today: {first['detail']} (blocked at {first['blocked_at']})"
    )


def ports_text(ports: Iterable[int]) -> str:
    return "tcp/" + "/".join(str(p) for p in sorted(set(ports)))


__all__ = [
    "READS",
    "TCP",
    "Exposure",
    "host_lb",
    "is_bastion",
    "judge",
    "latent_text",
    "ports_text",
    "reach_of",
    "wide",
]
