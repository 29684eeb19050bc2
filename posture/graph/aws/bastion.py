"""Bastions (designated, recognised by intent, or inferred) and who reaches the administrative
ports of a private host.

A host is a bastion, strongest reason first:

- **tagged** with one of the bastion tags (``Role=bastion``);
- **referenced**: a member of a security group that some private-tier host's administrative
  rules name as their *only* source (no address range, no other group, not the host's own
  group) - the network itself says "admin comes from there";
- **named**: its Name matches the bastion name pattern (``bastion``, ``jump``, ``jumphost``,
  ``jumpbox`` as a word of the name);
- **inferred** (below).

Tagged and referenced bastions are *designated*: the CRITICAL exposure check leaves them to the
bastion check. Named and inferred ones are recognised (they are never a bypass of themselves),
but their own exposure is still judged as any host's: a name or a guess never hides one.

Inference rule (parameter ``infer_bastions``, default on; see docs/reachability.md): a host
without a bastion tag is an *inferred bastion* when

1. it is reachable from the internet on an administrative port through its own interfaces -
   from the wide internet or only from allow-listed public ranges (a well-built bastion admits
   the office range only);
2. it reaches, on an administrative port over IPv4, at least one *private-tier* host - a host with
   no public IPv4/IPv6 address on any interface - in some subnet S;
3. it is the only *admin hop* into S: no other host satisfying (1), and no tagged bastion,
   reaches (or might reach - an undecidable verdict counts) a private-tier host in S on an
   administrative port.

Two exposed admin hosts into the same tier are therefore never inferred (both remain admin
exposures); a bastion recognised otherwise (tag, reference, name) into S prevents inferring
another hop into S.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from posture.graph.aws.exposure import TCP, host_lb, is_bastion, judge
from posture.graph.aws.reach import AwsReach, Host
from posture.graph.core import Action
from posture.graph.intervals import EMPTY, IntervalSet

_Sources = dict[tuple[Any, ...], tuple[IntervalSet, list[str]]]
BASTION_NAME = r"(?:^|[^a-z])(?:bastion|jump(?:host|box|server)?)(?:[^a-z]|$)"


def is_private(reach: AwsReach, host: Host) -> bool:
    return not any(any(reach.classes[i.key].public.values()) for i in host.interfaces)


def _tag_of(host: Host, tags: Sequence[str]) -> str | None:
    for tag in tags:
        if is_bastion(host.asset, (tag,)):
            return str(tag)
    return None


def _private_classes(reach: AwsReach) -> dict[tuple[Any, ...], IntervalSet]:
    out: dict[tuple[Any, ...], IntervalSet] = {}
    for h in reach.hosts():
        if is_private(reach, h):
            for i in h.interfaces:
                addrs = i.private.get(4, EMPTY)
                if addrs:
                    out[i.key] = out.get(i.key, EMPTY) | addrs
    return out


def _tiers_reached(
    reach: AwsReach,
    host: Host,
    private: dict[tuple[Any, ...], IntervalSet],
    ports: Sequence[int],
) -> tuple[set[str], set[str]]:
    """Private subnets ``host`` surely reaches on an admin port, and those it might reach."""
    sure: set[str] = set()
    maybe: set[str] = set()
    for src in host.interfaces:
        src_addrs = src.private.get(4, EMPTY)
        if not src_addrs:
            continue
        allowed = reach.connected_vpcs(src.key[0])
        for dst_key, dst_addrs in sorted(private.items(), key=lambda kv: str(kv[0])):
            subnet = dst_key[1]
            if subnet is None or dst_key[0] not in allowed or subnet in sure:
                continue
            for port in ports:
                v = reach.between(
                    src.key, dst_key, 4, TCP, int(port), src_addrs=src_addrs, dst_addrs=dst_addrs
                )
                if v.path is not None:
                    sure.add(str(subnet))
                    break
                if v.unknown:
                    maybe.add(str(subnet))
    return sure, maybe | sure


def admin_source_groups(reach: AwsReach, ports: Sequence[int]) -> dict[str, list[str]]:
    """Security group id -> names of the private-tier hosts whose administrative ingress rules
    admit only that group (no address range, no unresolved prefix list, no other group, not one
    of the host's own groups)."""
    out: dict[str, list[str]] = {}
    for h in reach.hosts():
        if not is_private(reach, h):
            continue
        sources: set[str] = set()
        own: set[str] = set()
        by_address = False
        for iface in h.interfaces:
            att = reach.classes[iface.key]
            own |= att.groups
            for f in att.host_filters():
                for rule in f.inbound:
                    if rule.action is not Action.ALLOW or not any(
                        rule.covers(TCP, int(p)) for p in ports
                    ):
                        continue
                    by_address |= rule.unresolved is not None or any(
                        bool(r) for r in rule.peers.values()
                    )
                    sources |= rule.groups
        if len(sources) == 1 and not by_address and not sources & own:
            out.setdefault(next(iter(sources)), []).append(h.asset.name)
    return out


def _named(host: Host, pattern: str) -> str | None:
    for name in dict.fromkeys((host.asset.name, host.asset.tags.get("Name") or "")):
        if name and re.search(pattern, name, re.IGNORECASE):
            return name
    return None


def _intent(
    reach: AwsReach, h: Host, tags: Sequence[str], referenced: dict[str, list[str]], pattern: str
) -> str | None:
    """Why ``h`` is a bastion by tag, security-group reference or name (None: it is not)."""
    tag = _tag_of(h, tags)
    if tag is not None:
        return f"tagged {tag}"
    mine = {g for i in h.interfaces for g in reach.classes[i.key].groups}
    groups = sorted(mine & set(referenced))
    if groups:
        hosts = sorted({n for g in groups for n in referenced[g]})
        shown = ", ".join(hosts[:3]) + (f" (+{len(hosts) - 3} more)" if len(hosts) > 3 else "")
        return (
            f"referenced: security group {', '.join(groups)} is the only administrative source "
            f"of private host(s) {shown}"
        )
    name = _named(h, pattern) if pattern else None
    return f"named: {name!r} matches the bastion name pattern" if name is not None else None


def designated(why: str | None) -> bool:
    """A bastion the estate designates itself (tag or security-group reference): judged by the
    bastion check instead of the exposure check."""
    return why is not None and why.startswith(("tagged", "referenced"))


def bastions(
    reach: AwsReach,
    tags: Sequence[str],
    ports: Sequence[int],
    infer: bool,
    name_pattern: str = BASTION_NAME,
) -> dict[str, str]:
    """uid -> why it is a bastion ("tagged Role=bastion", "referenced: ...", "named: ..." or
    "inferred: ..."); cached per run."""
    cache: dict[Any, dict[str, str]] = reach.memo.setdefault("bastions", {})
    memo = (tuple(str(t) for t in tags), tuple(int(p) for p in ports), bool(infer), name_pattern)
    found = cache.get(memo)
    if found is not None:
        return found
    out: dict[str, str] = {}
    hops: list[Host] = []
    referenced = admin_source_groups(reach, ports)
    for h in reach.hosts():
        why = _intent(reach, h, tags, referenced, name_pattern)
        if why is not None:
            out[h.asset.uid] = why
            hops.append(h)
        elif infer:
            exp = judge(reach, h.asset, ports, (), h.interfaces)
            if exp.exposed or exp.narrow:
                hops.append(h)
    if infer:
        private = _private_classes(reach)
        reached = {h.asset.uid: _tiers_reached(reach, h, private, ports) for h in hops}
        into: dict[str, set[str]] = {}
        for uid, (_, maybe) in reached.items():
            for subnet in maybe:
                into.setdefault(subnet, set()).add(uid)
        for h in hops:
            uid = h.asset.uid
            if uid in out:
                continue
            only = sorted(s for s in reached[uid][0] if into.get(s) == {uid})
            if only:
                out[uid] = "inferred: only internet-exposed admin hop into subnet(s) " + ", ".join(
                    only
                )
    cache[memo] = out
    return out


def _sources(reach: AwsReach, skip: set[str]) -> _Sources:
    """Per class: the private IPv4 addresses and uids of its non-bastion members."""
    out: _Sources = {}
    for h in reach.hosts():
        if h.asset.uid in skip:
            continue
        for i in h.interfaces:
            addrs, uids = out.get(i.key, (EMPTY, []))
            out[i.key] = (addrs | i.private.get(4, EMPTY), [*uids, h.asset.uid])
    return out


def admin_sources(
    reach: AwsReach, host: Host, ports: Sequence[int], bastion_uids: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Paths from non-bastion sources to ``host``'s admin ports, and undecidable reasons."""
    offenders: list[dict[str, Any]] = []
    unknown: list[str] = []
    for e in host_lb(reach, host.asset):
        if e.port in ports and e.clients and e.path is not None:
            offenders.append({**e.path.to_dict(), "source": f"internet via {e.load_balancer.name}"})
    sources = _sources(reach, bastion_uids)
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
