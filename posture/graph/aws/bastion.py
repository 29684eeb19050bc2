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
from dataclasses import dataclass
from typing import Any

from posture.graph.aws.exposure import TCP, host_lb, is_bastion, judge
from posture.graph.aws.lb import LbExposure
from posture.graph.aws.reach import AwsReach, Host, Iface
from posture.graph.core import Action, Direction
from posture.graph.intervals import EMPTY, IntervalSet
from posture.graph.paths import Verdict

_Member = tuple[Host, Iface]
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


@dataclass(frozen=True, slots=True)
class AdminPath:
    """A non-bastion source reaching an administrative port of a private host: a member of a
    source interface class (``source``, ``src``), or the internet through a load balancer
    (``lb``). ``verdict`` is the class's verdict; the member's own path is :meth:`exact`."""

    port: int
    source: Host | None = None
    src: Iface | None = None
    dst: Iface | None = None
    verdict: Verdict | None = None
    lb: LbExposure | None = None


def _members(
    reach: AwsReach, skip: frozenset[str]
) -> dict[tuple[Any, ...], tuple[IntervalSet, list[_Member]]]:
    """Per interface class: its non-bastion members' IPv4 addresses and the members (host,
    interface), memoized per run."""
    memo: dict[frozenset[str], dict[tuple[Any, ...], tuple[IntervalSet, list[_Member]]]] = (
        reach.memo.setdefault("bastion.members", {})
    )
    found = memo.get(skip)
    if found is None:
        found = {}
        for h in reach.hosts():
            if h.asset.uid not in skip:
                for i in h.interfaces:
                    addrs, members = found.get(i.key, (EMPTY, []))
                    found[i.key] = (addrs | i.private.get(4, EMPTY), [*members, (h, i)])
        memo[skip] = found
    return found


def admin_sources(
    reach: AwsReach, host: Host, ports: Sequence[int], bastion_uids: set[str]
) -> tuple[list[AdminPath], list[str]]:
    """Non-bastion sources reaching ``host``'s admin ports over IPv4 (every port, every member
    of a source class whose address is among the admitted sources), and undecidable reasons
    (missing filters, a prefix list that was not collected)."""
    found: list[AdminPath] = []
    unknown: list[str] = []
    for e in host_lb(reach, host.asset):
        if e.port in ports and e.clients and e.path is not None:
            found.append(AdminPath(e.port, lb=e))
    members = _members(reach, frozenset(bastion_uids))
    for iface in host.interfaces:
        unknown += _unresolved(reach, iface, ports)
        allowed = reach.connected_vpcs(iface.key[0])
        for src_key, (addrs, group) in sorted(members.items(), key=lambda kv: str(kv[0])):
            if src_key[0] not in allowed or not addrs:
                continue
            others = [(h, i) for h, i in group if h.asset.uid != host.asset.uid]
            if not others:
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
                    found += [
                        AdminPath(int(port), h, i, iface, v)
                        for h, i in others
                        if i.private.get(4, EMPTY) & v.reachable
                    ]
    return found, list(dict.fromkeys(unknown))


def _unresolved(reach: AwsReach, iface: Iface, ports: Sequence[int]) -> list[str]:
    """Admin rules of the host's security groups whose sources were not collected (a prefix
    list): who they admit is unknown."""
    out = []
    for f in reach.classes[iface.key].host_filters():
        for port in ports:
            for rule in f.admit(Direction.IN, 4, TCP, int(port)).unresolved:
                out.append(
                    f"security group {rule.ref.get('group')} admits tcp/{port} from "
                    f"{rule.unresolved}, which was not collected"
                )
    return out


def exact(reach: AwsReach, found: AdminPath) -> Verdict | None:
    """The member's own verdict: the class verdict when the member is the class's only source
    in it, else the flow from the member's addresses alone."""
    if found.verdict is None or found.src is None or found.dst is None:
        return None
    mine = found.src.private.get(4, EMPTY) & found.verdict.reachable
    if mine == found.verdict.reachable:
        return found.verdict
    v = reach.between(
        found.src.key,
        found.dst.key,
        4,
        TCP,
        found.port,
        src_addrs=mine,
        dst_addrs=found.dst.private.get(4, EMPTY) or None,
    )
    return v if v.path is not None else found.verdict
