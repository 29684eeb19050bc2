"""Azure network reachability: NSG semantics as pure functions, and the internet paths to a NIC.

The verdict states are the shared :class:`posture.graph.paths.Reach`; the pieces:

* :mod:`posture.graph.azure.nsg` - NSG semantics as pure functions (``nsg_decision``,
  ``inbound``: subnet NSG then NIC NSG, ``outbound``: NIC then subnet).
* :class:`AzureNetwork` - indexes one inventory and answers
  :meth:`~AzureNetwork.internet_exposure` (is ``tcp/port`` of a NIC IP configuration reachable
  from an arbitrary internet client, through which entry point) and
  :meth:`~AzureNetwork.admitted_sources` (which sources an NSG path admits, for the Bastion
  pattern).

Matching: ``*``/``Any``/``0.0.0.0/0``, the service tags ``Internet``, ``VirtualNetwork`` (the
VNet's address space plus connected peerings' spaces) and ``AzureLoadBalancer``
(168.63.129.16), CIDRs and addresses, application security groups, port ranges and lists.
Internet clients are a set of addresses (:func:`~posture.graph.azure.nsg.internet_reach`):
each NSG level's inbound walk, by priority and first match per address, admits some public
addresses; a port is open to the internet when the addresses both levels admit are wide
(at least 2^24 public IPv4 or 2^112 global IPv6 addresses), so a deny of a partial range ahead
of an allow from ``*``/``Internet`` leaves the rest of the internet in, and narrow or disjoint
allow-lists at the two levels do not add up to exposure. Service tags other than ``Internet``,
``VirtualNetwork`` and ``AzureLoadBalancer`` are ranges that are not collected: the verdict is
unknown only when their contents could change it. Clients choose their source port, so an allow
rule restricted to source ports still admits them and such a deny rule never stops them.

Entry points from the internet: an instance-level public IP on the IP configuration (NSGs see
the private address), a public load balancer's rule or inbound NAT rule whose backend port is
the port, and Azure Firewall DNAT rules (classic, its policy's and the policy's ancestors')
translating to the NIC's address and port (the firewall SNATs, so NSGs see the firewall's
private address as the source).
Standard SKU public IPs and load balancers are secure by default: with no NSG at either level
they deliver no inbound traffic (Basic SKU, or an unknown SKU, is open without an NSG).

Latent exposure (:attr:`EndpointVerdict.latent`): at least one NSG is present and both levels
admit a wide set of internet clients, but no entry point delivers the port. The NSG layers that
admit it are in :attr:`EndpointVerdict.admitted_by`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from posture.graph.azure.nsg import (
    INTERNET,
    IPNet,
    Peer,
    allowed,
    inbound,
    internet_reach,
    net_of,
    prefix_matches,
)
from posture.graph.paths import Reach
from posture.model import Asset, Inventory

VM = "Microsoft.Compute/virtualMachines"
NIC = "Microsoft.Network/networkInterfaces"
NSG = "Microsoft.Network/networkSecurityGroups"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
VNET = "Microsoft.Network/virtualNetworks"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
PUBLIC_IP = "Microsoft.Network/publicIPAddresses"
LOAD_BALANCER = "Microsoft.Network/loadBalancers"
FIREWALL = "Microsoft.Network/azureFirewalls"
FIREWALL_POLICY = "Microsoft.Network/firewallPolicies"
NETWORK_READS = frozenset(
    {VM, NIC, NSG, SUBNET, VNET, PEERING, PUBLIC_IP, LOAD_BALANCER, FIREWALL, FIREWALL_POLICY}
)



@dataclass(frozen=True, slots=True)
class Endpoint:
    """One IP configuration of a NIC: where it sits and what filters it."""

    nic: str
    ipconfig: Mapping[str, Any]
    subnet: str | None
    nic_nsg: str | None

    @property
    def private_ip(self) -> str | None:
        return self.ipconfig.get("private_ip")


@dataclass(frozen=True, slots=True)
class EndpointVerdict:
    state: Reach
    port: int
    detail: str
    paths: tuple[Mapping[str, Any], ...] = ()
    latent: bool = False  # the NSGs admit internet clients, but no entry point delivers the port
    admitted_by: tuple[Mapping[str, Any], ...] = ()  # the NSG layers that admit them (latent)
    nsg_known: bool = True  # False: an NSG of the path was not collected

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "protocol": "tcp",
            "port": self.port,
            "state": self.state.value,
            "detail": self.detail,
            "paths": list(self.paths),
        }
        if self.latent:
            out["admitted_by"] = list(self.admitted_by)
        return out


@dataclass
class _Entry:
    kind: str  # public-ip | load-balancer | firewall-dnat
    via: str
    public_ip: str | None
    source: Peer
    extra: dict[str, Any] = field(default_factory=dict)
    secure_by_default: bool = False  # Standard SKU: closed to inbound traffic without an NSG


class AzureNetwork:
    """Indexes of one inventory's Azure network assets."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.nsgs = {a.uid: a for a in inventory.of(NSG)}
        self.subnets = {a.uid: a for a in inventory.of(SUBNET)}
        self.vnets = {a.uid: a for a in inventory.of(VNET)}
        self.nics = {a.uid: a for a in inventory.of(NIC)}
        self.public_ips = {a.uid: a for a in inventory.of(PUBLIC_IP)}
        self.lbs = inventory.of(LOAD_BALANCER)
        self.firewalls = inventory.of(FIREWALL)
        self.policies = {a.uid: a for a in inventory.of(FIREWALL_POLICY)}
        self.peerings: dict[str, list[Asset]] = {}
        self.memo: dict[Any, Any] = {}  # derived views (defense depth) keyed by their inputs
        for p in inventory.of(PEERING):
            self.peerings.setdefault(str(p.attr("vnet_id")), []).append(p)

    # -- hosts -------------------------------------------------------------------------------

    def hosts(self) -> list[tuple[Asset, list[Endpoint]]]:
        """Virtual machines with the IP configurations of their NICs (missing NICs: none)."""
        out = []
        for vm in self.inventory.of(VM):
            endpoints = []
            for nic_id in vm.attr("nic_ids") or ():
                nic = self.nics.get(nic_id)
                if nic is not None:
                    endpoints += self.endpoints(nic)
            out.append((vm, endpoints))
        return out

    def endpoints(self, nic: Asset) -> list[Endpoint]:
        return [
            Endpoint(nic.uid, cfg, cfg.get("subnet_id"), nic.attr("nsg_id"))
            for cfg in nic.attr("ip_configurations") or ()
        ]

    # -- NSG layers --------------------------------------------------------------------------

    def layers(self, ep: Endpoint) -> tuple[Asset | None, Asset | None, str | None]:
        """(subnet NSG, NIC NSG, why unknown)."""
        subnet = self.subnets.get(ep.subnet or "")
        if subnet is None:
            return None, None, f"subnet {ep.subnet} not collected"
        subnet_nsg_id, nic_nsg_id = subnet.attr("nsg_id"), ep.nic_nsg
        subnet_nsg = self.nsgs.get(subnet_nsg_id) if subnet_nsg_id else None
        nic_nsg = self.nsgs.get(nic_nsg_id) if nic_nsg_id else None
        for wanted, found in ((subnet_nsg_id, subnet_nsg), (nic_nsg_id, nic_nsg)):
            if wanted and found is None:
                return None, None, f"NSG {wanted} not collected"
        return subnet_nsg, nic_nsg, None

    def vnet_space(self, subnet_id: str | None) -> list[IPNet]:
        """The VNet's own prefixes plus connected peerings' remote prefixes."""
        subnet = self.subnets.get(subnet_id or "")
        vnet_id = subnet.attr("vnet_id") if subnet else None
        vnet = self.vnets.get(vnet_id or "")
        prefixes = list(vnet.attr("address_prefixes") or ()) if vnet else []
        for p in self.peerings.get(str(vnet_id), ()):
            if str(p.attr("peering_state")).lower() == "connected":
                prefixes += p.attr("remote_address_prefixes") or ()
        return [n for n in (net_of(str(x)) for x in prefixes) if n is not None]

    def peer_at(
        self, address: str, space: Sequence[IPNet], asgs: Iterable[str] = (), label: str = ""
    ) -> Peer:
        ip = ipaddress.ip_address(address)
        in_vnet = any(ip.version == n.version and ip in n for n in space)
        return Peer(
            ip,
            internet=not in_vnet and ip.is_global,
            virtual_network=in_vnet,
            asgs=frozenset(asgs),
            label=label or address,
        )

    def target(self, ep: Endpoint) -> Peer:
        space = self.vnet_space(ep.subnet)
        return self.peer_at(
            str(ep.private_ip or "0.0.0.0"), space, ep.ipconfig.get("asg_ids") or (), label=ep.nic
        )

    # -- internet exposure -------------------------------------------------------------------

    def entries(self, ep: Endpoint, port: int) -> tuple[list[_Entry], list[str]]:
        """The internet entry points that deliver ``tcp/port`` to ``ep``, and unknowns."""
        entries: list[_Entry] = []
        unknown: list[str] = []
        pip_id = ep.ipconfig.get("public_ip_id")
        if pip_id:
            pip = self.public_ips.get(pip_id)
            if pip is None:
                unknown.append(f"public IP {pip_id} not collected")
            elif pip.attr("ip_address"):
                entries.append(
                    _Entry(
                        "public-ip",
                        pip.uid,
                        pip.attr("ip_address"),
                        INTERNET,
                        secure_by_default=standard_sku(pip),
                    )
                )
        entries += self._lb_entries(ep, port, unknown)
        entries += self._dnat_entries(ep, port)
        return entries, unknown

    def frontend_ip(self, lb: Asset, frontend_ids: Sequence[str]) -> str | None:
        for fe in lb.attr("frontends") or ():
            if fe.get("id") in frontend_ids and fe.get("public_ip_id"):
                pip = self.public_ips.get(fe["public_ip_id"])
                return (
                    str(pip.attr("ip_address"))
                    if pip and pip.attr("ip_address")
                    else fe["public_ip_id"]
                )
        return None

    def lb_rules(self, ep: Endpoint) -> list[tuple[Asset, str, Mapping[str, Any]]]:
        """(load balancer, ``rule`` | ``inbound-nat``, rule) of every load-balancing rule and
        inbound NAT rule that sends traffic to ``ep``, whatever its ports and frontend."""
        pools = set(ep.ipconfig.get("lb_backend_pool_ids") or ())
        nat_ids = set(ep.ipconfig.get("lb_nat_rule_ids") or ())
        out: list[tuple[Asset, str, Mapping[str, Any]]] = []
        for lb in self.lbs:
            out += [
                (lb, "rule", r)
                for r in lb.attr("rules") or ()
                if pools & set(r.get("backend_pool_ids") or ())
            ]
            out += [
                (lb, "inbound-nat", r)
                for r in lb.attr("inbound_nat_rules") or ()
                if r.get("id") in nat_ids
                or r.get("backend_ip_configuration_id") == ep.ipconfig.get("id")
                or pools & set(r.get("backend_pool_ids") or ())
            ]
        return out

    def _lb_entries(self, ep: Endpoint, port: int, unknown: list[str]) -> list[_Entry]:
        out = []
        for lb, kind, rule in self.lb_rules(ep):
            if not lb_delivers(rule, port):
                continue
            public = self.frontend_ip(lb, rule.get("frontend_ids") or ())
            if public:
                out.append(
                    _Entry(
                        "load-balancer",
                        lb.uid,
                        public,
                        INTERNET,
                        {
                            "lb_rule": rule.get("name"),
                            "lb_rule_kind": kind,
                            "frontend_port": rule.get("frontend_port"),
                        },
                        secure_by_default=standard_sku(lb),
                    )
                )
        return out

    def dnat_rules(self, fw: Asset) -> tuple[list[Mapping[str, Any]], str | None]:
        """The DNAT rules of ``fw``: its classic rules, its policy's and the policy's ancestors'
        (``base_policy_id``: a child policy inherits its parent's rules); and why some are
        unknown (a policy in the chain, or its rules, not collected)."""
        rules = list(fw.attr("nat_rules") or ())
        unknown = None
        seen: set[str] = set()
        policy_id = fw.attr("firewall_policy_id")
        while policy_id and policy_id not in seen:
            seen.add(policy_id)
            policy = self.policies.get(policy_id)
            if policy is None or policy.attr("nat_rules") is None:
                name = policy_id.rsplit("/", 1)[-1]
                unknown = unknown or f"DNAT rules of firewall policy {name} not collected"
                break
            rules += policy.attr("nat_rules")
            policy_id = policy.attr("base_policy_id")
        return rules, unknown

    def firewall_source(self, fw: Asset, ep: Endpoint) -> Peer:
        """The source NSGs see for traffic a firewall DNATs to ``ep``: its private address."""
        sources = fw.attr("private_ips") or ()
        if not sources:
            return INTERNET
        return self.peer_at(sources[0], self.vnet_space(ep.subnet), label=fw.name)

    def _dnat_entries(self, ep: Endpoint, port: int) -> list[_Entry]:
        out = []
        for fw in self.firewalls:
            for rule in self.dnat_rules(fw)[0]:
                if str(rule.get("translated_address")) != str(ep.private_ip):
                    continue
                if dnat_blocks(rule, port):
                    continue
                out.append(
                    _Entry(
                        "firewall-dnat",
                        fw.uid,
                        ", ".join(rule.get("destination_addresses") or ()),
                        self.firewall_source(fw, ep),
                        {
                            "dnat_rule": rule.get("name"),
                            "frontend_port": ",".join(rule.get("destination_ports") or ()),
                        },
                    )
                )
        return out

    def internet_exposure(self, ep: Endpoint, port: int) -> EndpointVerdict:
        subnet_nsg, nic_nsg, why = self.layers(ep)
        if why:
            return EndpointVerdict(Reach.UNKNOWN, port, why, nsg_known=False)
        dst = self.target(ep)
        reach = internet_reach(subnet_nsg, nic_nsg, dst, port)
        direct = reach.chain()
        filtered = reach.subnet.nsg is not None or reach.nic.nsg is not None
        latent = filtered and reach.open is True
        admitted = tuple(d.evidence(layer) for layer, d in direct if d.nsg) if latent else ()
        entries, unknown = self.entries(ep, port)
        exposed: list[dict[str, Any]] = []
        blocked: list[dict[str, Any]] = []
        for entry in entries:
            if entry.source is INTERNET:
                chain = direct
                ok = reach.open is True
                if reach.open is None and not (entry.secure_by_default and not filtered):
                    unknown.append(
                        f"whether the NSGs admit a wide range of internet clients on tcp/{port} "
                        "depends on service tags whose ranges are not collected"
                    )
            else:  # the firewall's private address
                chain = inbound(subnet_nsg, nic_nsg, entry.source, dst, port)
                ok = entry.kind == "firewall-dnat" and allowed(chain)
            path: dict[str, Any] = {
                "entry": entry.kind,
                "via": entry.via,
                "public_ip": entry.public_ip,
                "port": port,
                "nic": ep.nic,
                "ip_configuration": ep.ipconfig.get("name"),
                "private_ip": ep.private_ip,
                **entry.extra,
                "nsg_layers": [d.evidence(layer) for layer, d in chain],
            }
            if entry.source is INTERNET and filtered:
                path["internet_sources_admitted"] = reach.admitted_text()
            closed = entry.secure_by_default and not filtered
            if closed:
                path["blocked_by"] = (
                    f"Standard SKU {entry.kind} {entry.via.rsplit('/', 1)[-1]} admits no inbound "
                    "traffic without an NSG (secure by default)"
                )
            (exposed if ok and not closed else blocked).append(path)
        if exposed:
            return EndpointVerdict(
                Reach.EXPOSED, port, f"reachable through {exposed[0]['entry']}", tuple(exposed)
            )
        if unknown:
            return EndpointVerdict(
                Reach.UNKNOWN, port, unknown[0], tuple(blocked), latent, admitted
            )
        if blocked:
            return EndpointVerdict(
                Reach.BLOCKED,
                port,
                _blocked_detail(blocked[0]),
                tuple(blocked),
                latent,
                admitted,
            )
        return EndpointVerdict(
            Reach.BLOCKED,
            port,
            "no public IP, public load balancer rule, inbound NAT rule or firewall DNAT "
            "delivers the port (private only)",
            (),
            latent,
            admitted,
        )

    # -- sources admitted (Bastion pattern) --------------------------------------------------

    def admitted_sources(self, ep: Endpoint, port: int) -> tuple[list[dict[str, Any]], str | None]:
        """Sources whose ``tcp/port`` flow to ``ep`` both NSG levels admit: the internet, every
        subnet of the VNet and connected peers, and every NIC IP configuration in them."""
        subnet_nsg, nic_nsg, why = self.layers(ep)
        if why:
            return [], why
        space = self.vnet_space(ep.subnet)
        dst = self.target(ep)
        out = []
        for src, meta in self.candidate_sources(ep, space):
            chain = inbound(subnet_nsg, nic_nsg, src, dst, port)
            if allowed(chain):
                out.append({**meta, "nsg_layers": [d.evidence(layer) for layer, d in chain]})
        return out, None

    def candidate_sources(
        self, ep: Endpoint, space: Sequence[IPNet]
    ) -> list[tuple[Peer, dict[str, Any]]]:
        """Who may send to ``ep``: the internet, one address of every other subnet in ``space``
        (the VNet and its connected peers) and every NIC IP configuration in it; each with
        ``source`` (its label), ``subnet`` or ``nic`` (uid) and ``bastion`` (in the
        AzureBastionSubnet)."""
        out: list[tuple[Peer, dict[str, Any]]] = [
            (INTERNET, {"source": "Internet", "bastion": False})
        ]
        config = ep.ipconfig.get("id")
        for subnet_id, config_id, peer, meta in self._space_sources(space):
            if (subnet_id is not None and subnet_id == ep.subnet) or (
                subnet_id is None and config_id == config
            ):
                continue
            out.append((peer, meta))
        return out

    def _space_sources(
        self, space: Sequence[IPNet]
    ) -> list[tuple[str | None, Any, Peer, dict[str, Any]]]:
        """Every subnet (one address) and NIC IP configuration in ``space``, with the subnet uid
        (subnets) or the IP configuration's id (NICs) that :meth:`candidate_sources` leaves out
        for the endpoint they belong to; memoized per ``space`` (the same for every endpoint of
        a VNet)."""
        memo: dict[Any, list[tuple[str | None, Any, Peer, dict[str, Any]]]] = (
            self.memo.setdefault("reach.space_sources", {})
        )
        key = tuple(space)
        found = memo.get(key)
        if found is not None:
            return found
        out: list[tuple[str | None, Any, Peer, dict[str, Any]]] = []
        for subnet in self.subnets.values():
            for prefix in subnet.attr("address_prefixes") or ():
                net = net_of(str(prefix))
                if net is None or not any(
                    net.version == s.version and net.subnet_of(s)  # type: ignore[arg-type]
                    for s in space
                ):
                    continue
                host = (
                    next(net.hosts(), net.network_address)
                    if net.num_addresses > 2
                    else net.network_address
                )
                out.append(
                    (
                        subnet.uid,
                        None,
                        self.peer_at(str(host), space, label=subnet.name),
                        {
                            "source": f"subnet {subnet.name} ({prefix})",
                            "subnet": subnet.uid,
                            "bastion": bool(subnet.attr("is_bastion_subnet")),
                        },
                    )
                )
        for nic in self.nics.values():
            for cfg in nic.attr("ip_configurations") or ():
                if not cfg.get("private_ip"):
                    continue
                home = self.subnets.get(cfg.get("subnet_id") or "")
                peer = self.peer_at(str(cfg["private_ip"]), space, cfg.get("asg_ids") or ())
                if peer.virtual_network:
                    out.append(
                        (
                            None,
                            cfg.get("id"),
                            peer,
                            {
                                "source": f"{nic.name} ({cfg['private_ip']})",
                                "nic": nic.uid,
                                "bastion": bool(home and home.attr("is_bastion_subnet")),
                            },
                        )
                    )
        memo[key] = out
        return out


def lb_delivers(rule: Mapping[str, Any], port: int) -> bool:
    """Whether a load-balancing or inbound NAT rule delivers ``tcp/port`` to its backends
    (backend port 0: HA ports, every port)."""
    return rule.get("backend_port") in (port, 0) and rule.get("protocol") in ("tcp", "all")


def dnat_blocks(rule: Mapping[str, Any], port: int) -> list[str]:
    """What keeps a DNAT rule (translating to the right address) from delivering ``tcp/port``
    from any internet client: empty when it delivers."""
    out = []
    if str(rule.get("translated_port")) != str(port):
        out.append(f"translates to port {rule.get('translated_port')}")
    if not ({"tcp", "any"} & set(rule.get("protocols") or ())):
        out.append(f"protocols {', '.join(rule.get('protocols') or ()) or 'none'}")
    if not any(prefix_matches(str(s), INTERNET) for s in rule.get("source_addresses") or ()):
        out.append(f"sources {', '.join(rule.get('source_addresses') or ()) or 'none'}")
    return out


def standard_sku(asset: Asset) -> bool:
    """Standard SKU public IPs and load balancers are closed to inbound traffic without an NSG."""
    return str(asset.attr("sku") or "").lower().startswith("standard")  # Standard, StandardV2


def _blocked_detail(path: Mapping[str, Any]) -> str:
    if path.get("blocked_by"):
        return str(path["blocked_by"])
    admitted = path.get("internet_sources_admitted")
    only = f"; admitted only from {admitted}" if admitted and admitted != "none" else ""
    for layer in path["nsg_layers"]:
        if layer.get("access") == "deny":
            return (
                f"{layer['layer']} NSG {layer['nsg'].rsplit('/', 1)[-1]} denies it "
                f"(rule {layer['rule']}, priority {layer['priority']}){only}"
            )
    if only:
        return f"not open to a wide range of internet clients{only}"
    return "admitted only from specific source ranges, not from any internet client"
