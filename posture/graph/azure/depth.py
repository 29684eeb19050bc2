"""Defense depth on Azure: the layers between the internet and ``tcp/port`` of a VM.

The same measure as on AWS (:mod:`posture.graph.depth`, docs/reachability.md): the least number
of independent layers that would each have to change ("flip") for an arbitrary internet client
to reach the port, minimum over the *candidate paths* of every IP configuration of the VM's
NICs. A path is open exactly when the exposure evaluator (:mod:`posture.graph.azure.reach`)
reports it exposed, and every layer of it is one conjunct of that verdict that its flip alone
satisfies, so the depth of a path is the number of its blocking layers (docs/azure-assets.md,
"Defense depth"; ``tests/graph/azure/test_azure_depth_property.py`` checks it against brute force).

Candidate paths of one IP configuration and their layers:

* **public IP**: ``public-address`` (an allocated instance-level public IP), the NSG layers for
  an internet source, and ``secure-by-default`` when the public IP is Standard SKU (or absent:
  a public IP associated today is Standard) and no NSG is associated at either level;
* **load balancer**: each load-balancing rule or inbound NAT rule that sends traffic to the IP
  configuration from a public frontend, whatever its backend port: ``lb-rule`` (the backend
  port is the port, or 0 = HA ports, over tcp), the NSG layers, ``secure-by-default`` for a
  Standard SKU load balancer without NSGs;
* **firewall DNAT**: each DNAT rule of an Azure Firewall (classic, its policy and the policy's
  ancestors) translating to the IP configuration's private address: ``dnat-rule`` (translates to
  the port, over tcp, from internet sources), and the NSG layers for the firewall's private
  address as the source (the firewall SNATs). A firewall whose DNAT rules are not all known
  gives a path whose ``dnat-rule`` layer is unknown.

NSG layers: ``subnet-nsg`` and ``nic-nsg`` (``subnet-nsg+nic-nsg`` when one NSG is associated at
both levels: one change opens both). For internet clients (an address set,
:func:`~posture.graph.azure.nsg.internet_admission`) a layer blocks when the NSG alone does not
admit a wide set of them, and names the rule turning most of them away; when each level admits
a wide set but the two sets have no wide intersection, the NIC's NSG is the blocking layer
(opening either level exposes the port). An NSG whose verdict depends on uncollected service
tags is an unknown layer. For a firewall's address as the source, a layer blocks when its first
matching inbound rule by priority denies the flow, and names that rule. Unknown data (a subnet,
NSG, NIC or public IP not collected, DNAT rules not collected) makes a layer unknown: the path's
depth is then only bounded below (by its known blocking layers), and the (VM, port) depth is
decided only when that bound cannot beat another path's exact depth
(:func:`posture.graph.depth.combine`).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.graph.azure.nsg import (
    INTERNET,
    PUBLIC_SPACE,
    Admission,
    Decision,
    Peer,
    describe,
    flow_family,
    internet_admission,
    is_wide,
    nsg_decision,
    ordered_rules,
    parse_ports,
    side_matches,
)
from posture.graph.azure.reach import (
    AzureNetwork,
    Endpoint,
    dnat_blocks,
    lb_delivers,
    standard_sku,
)
from posture.graph.depth import Depth, Layer, PathDepth, combine, result
from posture.model import Asset

FAMILY = 4  # Azure paths are evaluated over IPv4 (IPv6 is not modelled yet)
NSG_LAYERS = frozenset({"subnet-nsg", "nic-nsg", "subnet-nsg+nic-nsg"})


@dataclass(frozen=True, slots=True)
class Source:
    """Who an NSG sees as the client of a path: the internet, or a firewall's address."""

    peer: Peer
    text: str  # in messages: "the internet", "firewall fw-1 (10.0.1.4)"
    token: str  # in a flip: the source prefix an allow rule would name


def internet_source() -> Source:
    return Source(INTERNET, "the internet", "Internet")


def _short(uid: str | None) -> str:
    return str(uid or "?").rsplit("/", 1)[-1]


def _ipc(net: AzureNetwork, ep: Endpoint) -> str:
    nic = net.nics.get(ep.nic)
    return f"{nic.name if nic else _short(ep.nic)}/{ep.ipconfig.get('name')}"


# -- depth of a VM ------------------------------------------------------------------------------


def vm_depths(net: AzureNetwork, vm: Asset, ports: Sequence[int]) -> tuple[Depth, ...] | None:
    """Depth of every port on ``vm`` (None: the VM has no network interface)."""
    endpoints: list[Endpoint] = []
    missing: list[str] = []
    for nic_id in vm.attr("nic_ids") or ():
        nic = net.nics.get(nic_id)
        if nic is None:
            missing.append(nic_id)
        else:
            endpoints += net.endpoints(nic)
    if not endpoints and not missing:
        return None
    out = []
    for port in ports:
        paths = [p for ep in endpoints for p in endpoint_paths(net, ep, int(port))]
        paths += [
            PathDepth(f"NIC {_short(m)}", FAMILY, (), None, 0, (),
                      f"network interface {_short(m)} not collected")
            for m in missing
        ]
        out.append(combine(int(port), paths))
    return tuple(out)


def endpoint_paths(net: AzureNetwork, ep: Endpoint, port: int) -> list[PathDepth]:
    """Every candidate path from the internet to ``tcp/port`` on one IP configuration."""
    where = _ipc(net, ep)
    internet = internet_source()
    address, standard = _address_layer(net, ep, where)
    layers = [address, *nsg_layers(net, ep, internet, port)]
    pip_id = ep.ipconfig.get("public_ip_id")
    pip = net.public_ips.get(pip_id or "")
    entry = (
        f"public IP {pip.name if pip else _short(pip_id)}"
        if pip_id
        else f"a public IP associated with {where}"
    )
    layers += _secure_by_default(net, ep, port, standard, entry)
    paths = [_path(f"public IP {where}", layers)]
    for lb, kind, rule in net.lb_rules(ep):
        if not net.frontend_ip(lb, rule.get("frontend_ids") or ()):
            continue  # an internal frontend: no internet entry point
        rule_layer = _lb_rule_layer(lb, kind, rule, port)
        layers = [rule_layer, *nsg_layers(net, ep, internet, port)]
        layers += _secure_by_default(net, ep, port, standard_sku(lb), f"load balancer {lb.name}")
        via = f"load balancer {lb.name} {_kind(kind)} {rule.get('name')} -> {where}"
        paths.append(_path(via, layers))
    for fw in net.firewalls:
        rules, unknown = net.dnat_rules(fw)
        src = net.firewall_source(fw, ep)
        label = str(src.address) if src.address is not None else "Internet"
        source = Source(src, f"firewall {fw.name} ({label})", label)
        targeted = [r for r in rules if str(r.get("translated_address")) == str(ep.private_ip)]
        for rule in targeted:
            layers = [_dnat_layer(fw, rule, port), *nsg_layers(net, ep, source, port)]
            via = f"firewall {fw.name} DNAT rule {rule.get('name')} -> {where}"
            paths.append(_path(via, layers))
        if unknown:
            gap = Layer(("dnat-rule", fw.uid, "?"), "dnat-rule", fw.name, None, "", unknown,
                        "", unknown)
            layers = [gap, *nsg_layers(net, ep, source, port)]
            paths.append(_path(f"firewall {fw.name} DNAT -> {where}", layers))
    return paths


def _path(via: str, layers: Sequence[Layer]) -> PathDepth:
    """A path is open when every layer lets the traffic through, and each layer's flip opens
    it alone: the depth is the number of blocking layers. With unknown layers it is only
    bounded: at least the known blocking ones, at most all of them with the unknown ones."""
    blocking = frozenset(i for i, x in enumerate(layers) if x.blocking is True)
    if any(x.blocking is None for x in layers):
        return result(via, FAMILY, layers, None, len(blocking), frozenset())
    return result(via, FAMILY, layers, len(blocking), len(blocking), blocking)


def _kind(kind: str) -> str:
    return "inbound NAT rule" if kind == "inbound-nat" else "load-balancing rule"


# -- layers ---------------------------------------------------------------------------------------


def _address_layer(net: AzureNetwork, ep: Endpoint, where: str) -> tuple[Layer, bool | None]:
    """The ``public-address`` layer and whether the path's public IP is Standard SKU (None:
    unknown). An associated public IP would be Standard: Azure creates no other SKU."""
    key = ("public-address", str(ep.ipconfig.get("id") or where))
    pip_id = ep.ipconfig.get("public_ip_id")
    if not pip_id:
        change = f"associate a public IP address with {where}"
        return Layer(key, "public-address", where, True, "", "no public IP address", change), True
    pip = net.public_ips.get(pip_id)
    if pip is None:
        why = f"public IP {_short(pip_id)} not collected"
        return Layer(key, "public-address", where, None, "", why, "", why), None
    sku = str(pip.attr("sku") or "unknown")
    if not pip.attr("ip_address"):
        detail = f"public IP {pip.name} ({sku} SKU) has no address allocated"
        change = (
            f"allocate an address to public IP {pip.name} (starting the VM allocates a dynamic "
            "one)"
        )
        return Layer(key, "public-address", where, True, "", detail, change), standard_sku(pip)
    detail = f"public IP {pip.name} ({pip.attr('ip_address')}, {sku} SKU)"
    return Layer(key, "public-address", where, False, "", detail), standard_sku(pip)


def _secure_by_default(
    net: AzureNetwork, ep: Endpoint, port: int, standard: bool | None, entry: str
) -> list[Layer]:
    """Standard SKU entry points deliver nothing inbound while no NSG is associated with the
    subnet or the NIC: the missing NSG allow is then a layer of its own."""
    if standard is False or ep.nic_nsg:
        return []
    subnet = net.subnets.get(ep.subnet or "")
    unknown = None
    if subnet is None:
        unknown = f"subnet {_short(ep.subnet)} not collected"
    elif subnet.attr("nsg_id"):
        return []
    if standard is None:
        unknown = unknown or f"SKU of {entry} unknown"
    key = ("secure-by-default", ep.nic, str(ep.ipconfig.get("id")))
    detail = (
        f"{entry} is Standard SKU: it admits no inbound traffic while no NSG is associated "
        "with the subnet or the NIC (secure by default)"
    )
    change = (
        f"associate an NSG admitting tcp/{port} from Internet with subnet "
        f"{_short(ep.subnet)} or NIC {_short(ep.nic)}"
    )
    blocking = None if unknown else True
    return [Layer(key, "secure-by-default", _short(ep.nic), blocking, "", detail, change, unknown)]


def nsg_layers(net: AzureNetwork, ep: Endpoint, source: Source, port: int) -> list[Layer]:
    """The subnet's and the NIC's NSG as layers of a path whose NSGs see ``source``."""
    subnet = net.subnets.get(ep.subnet or "")
    if subnet is None:  # neither its NSG nor the VNet (VirtualNetwork matching) is known
        why = f"subnet {_short(ep.subnet)} not collected"
        out = [Layer(("nsg", "?subnet"), "subnet-nsg", "?", None, "", why, "", why)]
        if ep.nic_nsg:
            out.append(Layer(("nsg", ep.nic_nsg), "nic-nsg", _short(ep.nic_nsg), None, "", why,
                             "", why))
        return out
    levels: dict[str, list[str]] = {}
    for level, nsg_id in (("subnet-nsg", subnet.attr("nsg_id")), ("nic-nsg", ep.nic_nsg)):
        if nsg_id:
            levels.setdefault(str(nsg_id), []).append(level)
    dst = net.memo.get(("depth.target", ep.nic, str(ep.ipconfig.get("id"))))
    if dst is None:
        dst = net.memo[("depth.target", ep.nic, str(ep.ipconfig.get("id")))] = net.target(ep)
    out = []
    admissions: list[tuple[int, Admission]] = []
    for nsg_id, names in levels.items():
        kind = "+".join(names)
        nsg = net.nsgs.get(nsg_id)
        if nsg is None:
            why = f"NSG {_short(nsg_id)} not collected"
            out.append(Layer(("nsg", nsg_id), kind, _short(nsg_id), None, "", why, "", why))
        elif source.peer is INTERNET:
            admission = _admission(net, nsg, dst, port)
            admissions.append((len(out), admission))
            out.append(_internet_layer(net, nsg, kind, admission, source, dst, port))
        else:
            out.append(_nsg_layer(net, nsg, kind, source, dst, port))
    if len(admissions) == 2 and all(out[i].blocking is False for i, _ in admissions):
        (_, first), (i, second) = admissions
        both = (first.sure[0] & second.sure[0] & PUBLIC_SPACE[0],
                first.sure[1] & second.sure[1] & PUBLIC_SPACE[1])
        if not is_wide(both, first.family):
            layer = out[i]
            maybe = (first.maybe[0] & second.maybe[0], first.maybe[1] & second.maybe[1])
            detail = (
                f"admits tcp/{port} from {_public(second)}, but the subnet's NSG admits it only "
                f"from {_public(first)}: together only {describe(both, first.family)}"
            )
            if is_wide(maybe, first.family):
                why = "the overlap of the two NSG levels depends on uncollected service tags"
                out[i] = Layer(layer.key, layer.layer, layer.resource, None, layer.rule, detail,
                               "", why)
            else:
                nsg = net.nsgs[str(second.nsg)]
                change = (f"add an inbound rule to {nsg.name} allowing tcp/{port} from "
                          f"{source.token} ahead of every rule")
                out[i] = Layer(layer.key, layer.layer, layer.resource, True, layer.rule, detail,
                               change)
    return out


def _public(admission: Admission) -> str:
    return describe((admission.sure[0] & PUBLIC_SPACE[0], admission.sure[1] & PUBLIC_SPACE[1]),
                    admission.family)


def _admission(net: AzureNetwork, nsg: Asset, dst: Peer, port: int,
               skip: str | None = None) -> Admission:
    """:func:`internet_admission` of ``nsg`` (without the rule named ``skip``), memoized."""
    group, cuts = _variant(net, nsg, skip)
    key = ("depth.admission", nsg.uid, skip, dst, bisect.bisect_right(cuts, port))
    found: Admission | None = net.memo.get(key)
    if found is None:
        found = net.memo[key] = internet_admission(group, dst, port)
    return found


def _internet_layer(
    net: AzureNetwork, nsg: Asset, kind: str, admission: Admission, source: Source, dst: Peer,
    port: int,
) -> Layer:
    """An NSG level for internet clients: blocking unless it admits a wide set of them."""
    key, name = ("nsg", nsg.uid), nsg.name
    if is_wide(admission.sure, admission.family):
        rule = admission.allow_rule
        text = describe_rule(rule) if rule else "no rule matches"
        return Layer(key, kind, name, False, text, f"admits tcp/{port} from {source.text}")
    rule = admission.deny_rule or {}
    text = describe_rule(rule) if rule else "no rule matches"
    admitted = _public(admission)
    rules = admission.allow_names
    named = f" (rule{'s' if len(rules) > 1 else ''} {', '.join(rules)})" if rules else ""
    detail = (f"admits tcp/{port} only from {admitted}{named}" if admitted != "none"
              else f"denies tcp/{port} from {source.text}")
    if is_wide(admission.maybe, admission.family):
        why = (f"{name} admits tcp/{port} from service tags whose ranges are not collected "
               "(a wide range of internet clients or not)")
        return Layer(key, kind, name, None, text, detail, "", why)
    return Layer(key, kind, name, True, text, detail,
                 _internet_change(net, nsg, rule, source, dst, port))


def _internet_change(
    net: AzureNetwork, nsg: Asset, rule: Mapping[str, Any], source: Source, dst: Peer, port: int
) -> str:
    allow = f"allowing tcp/{port} from {source.token}"
    priority, name = rule.get("priority"), rule.get("name")
    if not rule or rule.get("default"):
        return f"add an inbound rule to {nsg.name} {allow} (any priority 100-4096)"
    rest = _admission(net, nsg, dst, port, skip=str(name))
    if is_wide(rest.sure, rest.family) and rest.allow_rule:
        return _delete_change(nsg, rule, rest.allow_rule, source, port)
    ahead = {
        "name": "flip", "priority": float(priority or 0) - 0.5, "access": "allow",
        "direction": "inbound", "protocol": "*", "source_prefixes": ["Internet"],
        "source_asg_ids": [], "source_ports": ["*"], "destination_prefixes": ["*"],
        "destination_asg_ids": [], "destination_ports": [str(port)],
    }
    variant = _with_rules(nsg, [*(nsg.attr("rules") or ()), ahead])
    if not is_wide(internet_admission(variant, dst, port).sure, flow_family(dst)):
        return f"add an inbound rule to {nsg.name} {allow} ahead of every rule"
    return _precede_change(nsg, rule, source, port)


def _nsg_layer(
    net: AzureNetwork, nsg: Asset, kind: str, source: Source, dst: Peer, port: int
) -> Layer:
    decision = _decide(net, nsg, source.peer, dst, port)
    rule = decision.rule or {}
    text = describe_rule(rule) if rule else "no rule matches"
    name = nsg.name
    if decision.allowed:
        detail = f"admits tcp/{port} from {source.text}"
        return Layer(("nsg", nsg.uid), kind, name, False, text, detail)
    detail = f"denies tcp/{port} from {source.text}"
    change = _nsg_change(net, nsg, rule, source, dst, port)
    return Layer(("nsg", nsg.uid), kind, name, True, text, detail, change)


def _decide(
    net: AzureNetwork, nsg: Asset, src: Peer, dst: Peer, port: int, skip: str | None = None
) -> Decision:
    """:func:`nsg_decision` (inbound, without the rule named ``skip``), memoized per NSG on
    what it can tell apart: which rules' destination side matches ``dst``, and which piece of
    the port range (cut at every rule's port boundaries) holds ``port``."""
    group, cuts = _variant(net, nsg, skip)
    side_key = ("depth.sides", nsg.uid, skip, dst.address, dst.virtual_network, dst.asgs)
    sides = net.memo.get(side_key)
    if sides is None:
        sides = net.memo[side_key] = tuple(
            side_matches(r.get("destination_prefixes") or (),
                         r.get("destination_asg_ids") or (), dst)
            for r in ordered_rules(group)
        )
    key = ("depth.nsg", nsg.uid, skip, src, sides, bisect.bisect_right(cuts, port))
    found: Decision | None = net.memo.get(key)
    if found is None:
        found = net.memo[key] = nsg_decision(group, "inbound", src, dst, port)
    return found


def _variant(net: AzureNetwork, nsg: Asset, skip: str | None) -> tuple[Asset, list[int]]:
    """``nsg`` without the rule named ``skip``, and its rules' port boundaries (memoized)."""
    key = ("depth.variant", nsg.uid, skip)
    found: tuple[Asset, list[int]] | None = net.memo.get(key)
    if found is None:
        group = nsg if skip is None else _with_rules(
            nsg, [r for r in nsg.attr("rules") or () if r.get("name") != skip])
        cuts = sorted({
            b for r in ordered_rules(group)
            for lo, hi in parse_ports(r.get("destination_ports") or ("*",)) for b in (lo, hi + 1)
        })
        found = net.memo[key] = (group, cuts)
    return found


def describe_rule(rule: Mapping[str, Any]) -> str:
    """``deny-admin, priority 100: deny tcp/22,3389 from Internet``."""
    default = ", default" if rule.get("default") else ""
    proto = str(rule.get("protocol") or "*").lower()
    proto = "any" if proto in ("*", "any") else proto
    ports = ",".join(str(p) for p in rule.get("destination_ports") or ("*",))
    sources = [*(rule.get("source_prefixes") or ()),
               *(f"ASG {_short(a)}" for a in rule.get("source_asg_ids") or ())]
    return (
        f"{rule.get('name')}, priority {rule.get('priority')}{default}: {rule.get('access')} "
        f"{proto}/{ports} from {', '.join(sources) or '*'}"
    )


def _nsg_change(
    net: AzureNetwork, nsg: Asset, rule: Mapping[str, Any], source: Source, dst: Peer, port: int
) -> str:
    """The flip of a blocking NSG: one edit of its rules after which the first rule matching
    the source on ``tcp/port`` allows it."""
    if not rule or rule.get("default"):
        allow = f"allowing tcp/{port} from {source.token}"
        return f"add an inbound rule to {nsg.name} {allow} (any priority 100-4096)"
    rest = _decide(net, nsg, source.peer, dst, port, skip=str(rule.get("name")))
    if rest.allowed and rest.rule:
        return _delete_change(nsg, rule, rest.rule, source, port)
    return _precede_change(nsg, rule, source, port)


def _delete_change(
    nsg: Asset, rule: Mapping[str, Any], behind: Mapping[str, Any], source: Source, port: int
) -> str:
    """Delete the blocking ``rule``: the allow rule ``behind`` it then admits the source."""
    return (
        f"delete rule {rule.get('name')} (priority {rule.get('priority')}) from {nsg.name}: rule "
        f"{behind.get('name')} (priority {behind.get('priority')}) behind it admits "
        f"tcp/{port} from {source.token}"
    )


def _precede_change(nsg: Asset, rule: Mapping[str, Any], source: Source, port: int) -> str:
    """Allow the source ahead of the blocking ``rule``: a new rule at a lower priority number, or
    the rule itself rewritten when it already has the lowest one (100)."""
    priority, name = rule.get("priority"), rule.get("name")
    if int(priority or 0) <= 100:
        return (
            f"rewrite rule {name} of {nsg.name} (priority {priority}: no rule can precede it) "
            f"as an allow for tcp/{port} from {source.token}"
        )
    return (
        f"add an inbound rule to {nsg.name} allowing tcp/{port} from {source.token} at a "
        f"priority ahead of {name} (below {priority})"
    )


def _with_rules(nsg: Asset, rules: list[Mapping[str, Any]]) -> Asset:
    return Asset(nsg.uid, nsg.provider, nsg.type, nsg.account, nsg.region, nsg.name, nsg.tags,
                 {**nsg.attrs, "rules": rules})


def _lb_rule_layer(lb: Asset, kind: str, rule: Mapping[str, Any], port: int) -> Layer:
    name = rule.get("name")
    text = (
        f"{_kind(kind)} {name}: frontend {rule.get('protocol')}/{rule.get('frontend_port')} "
        f"-> backend port {rule.get('backend_port')}"
    )
    key = ("lb-rule", lb.uid, kind, str(name))
    if lb_delivers(rule, port):
        return Layer(key, "lb-rule", lb.name, False, text, f"delivers tcp/{port}")
    change = f"set the backend port of {_kind(kind)} {name} on {lb.name} to {port} (tcp)"
    detail = f"delivers backend port {rule.get('backend_port')} only, not tcp/{port}"
    return Layer(key, "lb-rule", lb.name, True, text, detail, change)


def _dnat_layer(fw: Asset, rule: Mapping[str, Any], port: int) -> Layer:
    name = rule.get("name")
    text = (
        f"{rule.get('collection')}/{name}: {','.join(rule.get('protocols') or ())} "
        f"{','.join(rule.get('destination_addresses') or ())}:"
        f"{','.join(rule.get('destination_ports') or ())} -> {rule.get('translated_address')}:"
        f"{rule.get('translated_port')} from {','.join(rule.get('source_addresses') or ())}"
    )
    key = ("dnat-rule", fw.uid, str(rule.get("collection")), str(name))
    problems = dnat_blocks(rule, port)
    if not problems:
        return Layer(key, "dnat-rule", fw.name, False, text, f"translates to tcp/{port}")
    change = (
        f"edit DNAT rule {name} of firewall {fw.name} to translate tcp/{port} from any "
        "source (*)"
    )
    return Layer(key, "dnat-rule", fw.name, True, text, "; ".join(problems), change)


__all__ = ["NSG_LAYERS", "Source", "describe_rule", "endpoint_paths", "nsg_layers", "vm_depths"]
