"""Lateral administrative access on Azure, graded by where it comes from
(:mod:`posture.graph.lateral` says the grades).

For every VM and administrative port, the sources both NSG levels admit
(:meth:`~posture.graph.azure.reach.AzureNetwork.candidate_sources`: one address of every other
subnet of the VNet and its connected peers, every NIC in them) become graded offences, and so
does the internet when the exposure evaluator finds it reaching the port through an entry point
(:meth:`~posture.graph.azure.reach.AzureNetwork.internet_exposure`; an NSG rule admitting the
internet without an entry point is latent exposure, another check's finding). Sources in the
AzureBastionSubnet are the bastion and never offend.

* the **rule** is the first NSG level that filters the flow (the subnet's NSG, else the NIC's):
  its deciding rule by name and priority - Azure's default rule as ``AllowVnetInBound (priority
  65000, default rule of every NSG)``; that NSG is the finding's subject. With no NSG at either
  level the subnet is the subject (nothing filters it);
* a source's **environment** is its VM's environment tag, else its VNet's; a subnet stands for
  its hosts with its VNet's environment;
* a source VM is **internet-exposed** when the exposure evaluator finds some TCP port of one of
  its NICs reachable from a wide range of internet clients (:mod:`posture.graph.azure.served`:
  every port is judged, one per range no NSG rule, load-balancer rule or DNAT rule tells apart);
* a source in another VNet names the peering in the grade and the path.

Undecidable: an NSG or subnet that was not collected, an internet verdict that depends on the
ranges of service tags that are not collected, and a rule whose service tag (``AzureCloud``,
``Storage``...) might hold a source with a public address (a VNet may use public space): service
tags hold public ranges, so they never decide a source with a private address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from posture.graph.azure.nsg import (
    AZURE_LB_IP,
    INTERNET,
    Decision,
    Peer,
    allowed,
    inbound,
    net_of,
    nsg_decision,
    ordered_rules,
    rule_matches,
)
from posture.graph.azure.reach import AzureNetwork, Endpoint
from posture.graph.azure.served import (
    exposure,
    internet_hops,
    path_hops,
    rule_text,
    short,
)
from posture.graph.lateral import (
    AdmittingRule,
    Env,
    Offence,
    Party,
    environment,
    offence,
)
from posture.graph.paths import Reach
from posture.model import Asset

_RESOLVED = {"*", "any", "internet", "virtualnetwork", "azureloadbalancer"}


def vm_of_nic(net: AzureNetwork) -> dict[str, Asset]:
    """NIC uid -> the VM it is attached to (from the VMs' ``nic_ids``), memoized."""
    found: dict[str, Asset] | None = net.memo.get("lateral.vm_of_nic")
    if found is None:
        found = {n: vm for vm, _ in net.hosts() for n in vm.attr("nic_ids") or ()}
        net.memo["lateral.vm_of_nic"] = found
    return found


def vnet_of(net: AzureNetwork, subnet_id: str | None) -> str | None:
    subnet = net.subnets.get(subnet_id or "")
    return str(subnet.attr("vnet_id")) if subnet is not None and subnet.attr("vnet_id") else None


def _env(
    net: AzureNetwork, vm: Asset | None, subnet_id: str | None, keys: Sequence[str],
    prod: Sequence[str],
) -> Env:
    tagged: list[tuple[str, Mapping[str, str]]] = [(vm.name, vm.tags)] if vm else []
    vnet = net.vnets.get(vnet_of(net, subnet_id) or "")
    if vnet is not None:
        tagged.append((vnet.name, vnet.tags))
    return environment(tagged, keys, prod)


def undecided(nsg: Asset | None, src: Peer, dst: Peer, port: int) -> str | None:
    """Why ``nsg``'s verdict on ``src`` is undecidable (a rule ahead of the deciding one, with
    the other access, whose service tag might hold ``src``'s public address), or None."""
    if nsg is None or src.address is None or not src.address.is_global:
        return None
    decision = nsg_decision(nsg, "inbound", src, dst, port)
    for rule in ordered_rules(nsg):
        if rule is decision.rule:
            return None
        tags = [
            str(t)
            for t in rule.get("source_prefixes") or ()
            if str(t).strip().lower() not in _RESOLVED and net_of(str(t)) is None
        ]
        access = str(rule.get("access"))
        if not tags or rule.get("source_asg_ids") or (access == "allow") == decision.allowed:
            continue
        if rule_matches({**rule, "source_prefixes": ["*"]}, "inbound", src, dst, port):
            return (
                f"rule {rule.get('name')} (priority {rule.get('priority')}) of NSG "
                f"{short(nsg.uid)} {access}s tcp/{port} from service tag {tags[0]}, whose "
                "ranges are not collected"
            )
    return None


def blame(net: AzureNetwork, ep: Endpoint, layers: Sequence[Mapping[str, Any]]) -> AdmittingRule:
    """The first NSG level filtering the flow, and its deciding rule (the subnet when none)."""
    for layer in layers:
        if layer.get("nsg"):
            return AdmittingRule(
                str(layer["nsg"]), rule_text(layer), bool(layer.get("default_rule"))
            )
    subnet = net.subnets.get(ep.subnet or "")
    name = subnet.name if subnet is not None else short(ep.subnet)
    return AdmittingRule(
        str(ep.subnet), f"no NSG on subnet {name} or NIC {short(ep.nic)}: nothing filters it"
    )


def _peering_of(net: AzureNetwork, target_vnet: str | None, source_vnet: str | None) -> str:
    for p in net.peerings.get(str(target_vnet), ()):
        if str(p.attr("remote_vnet_id")) == str(source_vnet):
            return f"VNet peering {p.name}"
    return "VNet peering" if source_vnet and source_vnet != target_vnet else ""


def offences(
    net: AzureNetwork,
    vm: Asset,
    endpoints: Sequence[Endpoint],
    ports: Sequence[int],
    keys: Sequence[str],
    prod: Sequence[str],
) -> tuple[list[Offence], list[str], list[str]]:
    """The graded offences against ``vm``'s administrative ports, undecidable reasons, and the
    bastion sources admitted."""
    found: list[Offence] = []
    unknown: list[str] = []
    bastions: list[str] = []
    owners = vm_of_nic(net)
    for ep in endpoints:
        subnet_nsg, nic_nsg, why = net.layers(ep)
        if why:
            unknown.append(why)
            continue
        network = vnet_of(net, ep.subnet)
        target = Party(vm.name, vm.uid, network, ep.subnet, _env(net, vm, ep.subnet, keys, prod))
        space = net.vnet_space(ep.subnet)
        dst = net.target(ep)
        candidates = [
            (p, m, *_prepared(net, p, m, owners))
            for p, m in net.candidate_sources(ep, space)
            if p is not INTERNET
        ]
        verdicts: dict[tuple[int, ...], tuple[Any, list[dict[str, Any]], AdmittingRule]] = {}
        for port in map(int, ports):
            found += _internet(net, vm, ep, port, target, unknown)
            levels = (
                ("subnet", _compiled(net, subnet_nsg, dst, port)),
                ("nic", _compiled(net, nic_nsg, dst, port)),
            )
            for peer, meta, owner, public, address in candidates:
                if owner is not None and owner.uid == vm.uid:
                    continue
                unsure = public and (
                    undecided(subnet_nsg, peer, dst, port) or undecided(nic_nsg, peer, dst, port)
                )
                if unsure:
                    unknown.append(f"whether {meta['source']} reaches tcp/{port}: {unsure}")
                    continue
                chain = _inbound(levels, subnet_nsg, nic_nsg, peer, dst, port)
                if not allowed(chain):
                    continue
                if meta["bastion"]:
                    bastions.append(str(meta["source"]))
                    continue
                key = tuple(id(d) for _, d in chain)
                known = verdicts.get(key)
                if known is None:
                    layers = [d.evidence(layer) for layer, d in chain]
                    known = verdicts[key] = (chain, layers, blame(net, ep, layers))  # holds the
                _, layers, rule = known  # decisions: their ids stay theirs
                src = _source(net, peer, address, meta, owner, keys, prod)
                via = _peering(net, network, src.network)
                head = [{"kind": "source", "id": src.name, "detail": address}]
                if via:
                    head.append({"kind": "vnet-peering", "id": via.removeprefix("VNet peering ")})
                path = partial(path_hops, head, layers, ep, vm, port)
                found.append(offence(src, target, port, rule, path, via))
    return found, list(dict.fromkeys(unknown)), sorted(set(bastions))


def _source(
    net: AzureNetwork,
    peer: Peer,
    address: str,
    meta: Mapping[str, Any],
    owner: Asset | None,
    keys: Sequence[str],
    prod: Sequence[str],
) -> Party:
    """A source as a party (memoized: the same for every target)."""
    memo: dict[Any, Party] = net.memo.setdefault("lateral.sources", {})
    key = (meta.get("nic") or meta.get("subnet"), address, tuple(keys), tuple(prod))
    found = memo.get(key)
    if found is None:
        found = memo[key] = _party(net, peer, meta, owner, keys, prod)
    return found


_Prepared = tuple[Asset | None, bool, str]


def _prepared(
    net: AzureNetwork, peer: Peer, meta: Mapping[str, Any], owners: Mapping[str, Asset]
) -> _Prepared:
    """A candidate source's owning VM, whether its address is public, and its address as text
    (memoized per source: the candidates of a VNet are the same objects for every target)."""
    memo: dict[int, tuple[Peer, _Prepared]] = net.memo.setdefault("lateral.prepared", {})
    hit = memo.get(id(peer))
    if hit is not None and hit[0] is peer:
        return hit[1]
    found = (
        owners.get(str(meta.get("nic"))),
        peer.address is not None and peer.address.is_global,
        str(peer.address),
    )
    memo[id(peer)] = (peer, found)  # holds the peer: its id stays its own
    return found


def _peering(net: AzureNetwork, target_vnet: str | None, source_vnet: str | None) -> str:
    memo: dict[tuple[str | None, str | None], str] = net.memo.setdefault("lateral.peerings", {})
    found = memo.get((target_vnet, source_vnet))
    if found is None:
        found = memo[(target_vnet, source_vnet)] = _peering_of(net, target_vnet, source_vnet)
    return found


# -- NSG decisions, compiled per (NSG, target, port) -----------------------------------------
#
# ``nsg_decision`` walks every rule for every source; the parts of a rule that do not depend on
# the source (direction, protocol, port, source ports of a deny, destination) are the same for
# every source of one target and port, so they are evaluated once, and each source only meets
# the source sides of the rules left, in the same order: the same first match, the same
# Decision.

_NO_NSG = Decision(True, None)
_Match = tuple[str, Any]
_Compiled = list[tuple[tuple[_Match, ...] | frozenset[str], Decision]]


def _token(token: Any) -> _Match:
    if not isinstance(token, str):
        raise TypeError(f"source prefix {token!r}")
    t = token.strip().lower()
    if t in ("*", "any"):
        return ("any", None)
    if t in ("internet", "virtualnetwork", "azureloadbalancer"):
        return (t, None)
    net = net_of(t)
    return ("none", None) if net is None else ("net", net)


def _matches(match: _Match, peer: Peer) -> bool:
    """:func:`~posture.graph.azure.nsg.prefix_matches` on a compiled token."""
    kind, net = match
    if kind == "net":
        if peer.address is None:
            return peer.internet and not net.is_private and net.prefixlen <= 8
        return bool(peer.address.version == net.version and peer.address in net)
    if kind == "any":
        return True
    if kind == "internet":
        return peer.internet
    if kind == "virtualnetwork":
        return peer.virtual_network
    if kind == "azureloadbalancer":
        return peer.address == AZURE_LB_IP
    return False


def _compiled(net: AzureNetwork, nsg: Asset | None, dst: Peer, port: int) -> _Compiled | None:
    """The rules of ``nsg`` that may decide an inbound ``tcp/port`` flow to ``dst``, each with
    its source side and its Decision, then the fall-through; None when a rule cannot be
    compiled (the plain walk then decides, as before)."""
    if nsg is None:
        return [((("any", None),), _NO_NSG)]
    memo: dict[Any, _Compiled | None] = net.memo.setdefault("lateral.compiled", {})
    key = (nsg.uid, dst, port)
    if key in memo:
        return memo[key]
    rules: _Compiled = []
    out: _Compiled | None = rules
    try:
        for rule in ordered_rules(nsg):
            src_free = {**rule, "source_prefixes": ["*"], "source_asg_ids": []}
            if not rule_matches(src_free, "inbound", Peer(None), dst, port):
                continue
            asgs = rule.get("source_asg_ids") or ()
            side: tuple[_Match, ...] | frozenset[str] = (
                frozenset(asgs)
                if asgs
                else tuple(_token(p) for p in rule.get("source_prefixes") or ("*",))
            )
            rules.append((side, Decision(rule.get("access") == "allow", nsg.uid, rule)))
        rules.append(((("any", None),), Decision(False, nsg.uid)))
    except Exception:  # a malformed rule: the plain walk fails (or not) where it did
        out = None
    memo[key] = out
    return out


def _decide(rules: _Compiled, peer: Peer) -> Decision:
    for side, decision in rules:
        if isinstance(side, frozenset):
            if side & peer.asgs:
                return decision
        elif any(_matches(m, peer) for m in side):
            return decision
    raise AssertionError("the fall-through matches every source")


def _inbound(
    levels: Sequence[tuple[str, _Compiled | None]],
    subnet_nsg: Asset | None,
    nic_nsg: Asset | None,
    peer: Peer,
    dst: Peer,
    port: int,
) -> list[tuple[str, Decision]]:
    """:func:`~posture.graph.azure.nsg.inbound` on compiled rules."""
    if any(rules is None for _, rules in levels):
        return inbound(subnet_nsg, nic_nsg, peer, dst, port)
    out = []
    for layer, rules in levels:
        assert rules is not None
        decision = _decide(rules, peer)
        out.append((layer, decision))
        if not decision.allowed:
            break
    return out


def _party(
    net: AzureNetwork,
    peer: Peer,
    meta: Mapping[str, Any],
    owner: Asset | None,
    keys: Sequence[str],
    prod: Sequence[str],
) -> Party:
    if meta.get("nic"):
        nic = net.nics[str(meta["nic"])]
        cfg: Mapping[str, Any] = next(
            (c for c in nic.attr("ip_configurations") or ()
             if str(c.get("private_ip")) == str(peer.address)),
            {},
        )
        subnet_id = cfg.get("subnet_id")
        key = owner.uid if owner is not None else nic.uid
        eps = (
            [e for n in owner.attr("nic_ids") or () if n in net.nics
             for e in net.endpoints(net.nics[n])]
            if owner is not None
            else net.endpoints(nic)
        )
        where, unsure = exposure(net, key, eps)
        return Party(
            owner.name if owner is not None else nic.name,
            key,
            vnet_of(net, subnet_id),
            subnet_id,
            _env(net, owner, subnet_id, keys, prod),
            exposed=where,
            exposure_unknown=unsure,
        )
    subnet_id = str(meta.get("subnet"))
    return Party(
        str(meta["source"]),
        subnet_id,
        vnet_of(net, subnet_id),
        subnet_id,
        _env(net, None, subnet_id, keys, prod),
    )


def _internet(
    net: AzureNetwork, vm: Asset, ep: Endpoint, port: int, target: Party, unknown: list[str]
) -> list[Offence]:
    v = net.internet_exposure(ep, port)
    if v.state is Reach.UNKNOWN:
        unknown.append(f"whether the internet reaches tcp/{port}: {v.detail}")
    if v.state is not Reach.EXPOSED:
        return []
    entry = v.paths[0]
    how = f"through {entry['entry']} {short(entry['via'])}"
    layers = list(entry.get("nsg_layers") or ())
    path = partial(internet_hops, entry, ep, vm)
    src = Party(f"Internet ({entry['entry']} {short(entry['via'])})", internet=how)
    return [offence(src, target, port, blame(net, ep, layers), path)]


__all__ = ["blame", "offences", "undecided", "vm_of_nic"]
