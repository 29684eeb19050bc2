"""Who reaches the administrative ports of a private host: bastions only, or others too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from posture.checks._aws_exposure import TCP, host_lb, is_bastion

from posture.graph.aws import AwsReach, Host
from posture.graph.intervals import EMPTY, IntervalSet

_Sources = dict[tuple[Any, ...], tuple[IntervalSet, list[str]]]


def _sources(reach: AwsReach, tags: Sequence[str]) -> _Sources:
    """Per class: the private IPv4 addresses and uids of its non-bastion members."""
    out: _Sources = {}
    for h in reach.hosts():
        if is_bastion(h.asset, tags):
            continue
        for i in h.interfaces:
            addrs, uids = out.get(i.key, (EMPTY, []))
            out[i.key] = (addrs | i.private.get(4, EMPTY), [*uids, h.asset.uid])
    return out


def admin_sources(
    reach: AwsReach, host: Host, ports: Sequence[int], tags: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Paths from non-bastion sources to ``host``'s admin ports, and undecidable reasons."""
    offenders: list[dict[str, Any]] = []
    unknown: list[str] = []
    for e in host_lb(reach, host.asset):
        if e.port in ports and e.clients and e.path is not None:
            offenders.append({**e.path.to_dict(), "source": f"internet via {e.load_balancer.name}"})
    sources = _sources(reach, tags)
    for iface in host.interfaces:
        allowed = reach.connected_vpcs(iface.key[0])
        for src_key, (addrs, uids) in sorted(sources.items(), key=lambda kv: str(kv[0])):
            others = [u for u in uids if u != host.asset.uid]
            if src_key[0] not in allowed or not others or not addrs:
                continue
            for port in ports:
                v = reach.between(
                    src_key,
                    iface.key,
                    4,
                    TCP,
                    int(port),
                    src_addrs=addrs,
                    dst_addrs=iface.private.get(4, EMPTY) or None,
                )
                if v.unknown:
                    unknown.append(v.unknown)
                elif v.path is not None:
                    name = reach.inventory.get(others[0])
                    offenders.append(
                        {
                            **v.path.to_dict(),
                            "source": name.name if name else others[0],
                            "source_members": len(others),
                        }
                    )
                    break
    return offenders, unknown
