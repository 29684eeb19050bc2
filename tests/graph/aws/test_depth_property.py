"""Property: the defense depth of every (host, port) agrees with brute force on random estates,
and the port-range sweep of a sensitive host agrees with the depth of every port inside.

Hypothesis generates the small estates of ``support.aws_estates`` (random route tables with
blackholes and more specific routes, NACLs with denies, security groups with CIDR, prefix-list
and SG sources, interfaces with and without public IPv4/IPv6). For each host and sensitive port
the engine's depth ``d`` is compared with a brute force that *edits the inventory* - one flip
per layer, as docs/reachability.md defines them - and asks the packet-by-packet reference
evaluator (``support.reference``) whether a wide range of internet clients then gets
through:

* ``d == 0`` iff the unchanged estate is exposed;
* ``d == 1`` iff some single flip exposes it;
* ``d == 2`` iff no single flip but some pair does; ``d >= 3`` iff no pair does;

for tcp/22, tcp/5432 and udp/53. The sweep (:mod:`posture.graph.aws.depth_sweep`) cuts 1-65535
into pieces judged at their first port; each piece's depth must be the depth of its first, last
and middle port, and of both sides of every rule boundary inside it, computed on a fresh graph
(no memo shared with the sweep).

"Wide" is decided exactly: the address space is cut at every CIDR boundary in the estate, and
one client per piece is tried (the reference's answer is constant on each piece).
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable

from hypothesis import given
from support.aws_estates import PORT_RANGES, estates
from support.aws_net import entry, route
from support.flips import edited, least_flips
from support.properties import examples
from support.reference import NOT_PUBLIC_V4, Reference, is_public

from posture.graph.aws.depth import host_depth
from posture.graph.aws.reach import AwsReach
from posture.graph.depth import WIDE
from posture.model import Inventory

PORTS = (22, 5432)
CASES = (("tcp", 22), ("tcp", 5432), ("udp", 53))
# every port boundary a random estate's rules can have
BOUNDS = sorted({p for r in PORT_RANGES if r for p in (r[0], r[1] + 1)})
FLIPS = ("address4", "address6", "route", "acl-inbound", "acl-outbound", "security-group")
OPEN_ACL = [
    entry(0, "allow", cidr, egress) for egress in (False, True) for cidr in ("0.0.0.0/0", "::/0")
]
IGW = [route(dest, "igw", "igw-flip") for dest in ("0.0.0.0/0", "::/0")]


def flip(inv: Inventory, eni_id: str, layer: str, port: int, protocol: str = "tcp") -> Inventory:
    """The estate with one layer of ``eni_id``'s direct path opened, by editing assets."""
    ref = Reference(inv)
    eni = next(a.attrs for a in inv.of("AWS::EC2::NetworkInterface") if a.attrs["eni_id"] == eni_id)
    subnet = eni["subnet_id"]
    if layer == "address4":
        return edited(inv, lambda a: a.attr("eni_id") == eni_id,
                     lambda x: x.update(public_ips=x["public_ips"] or ["54.9.9.9"]))
    if layer == "address6":
        return edited(inv, lambda a: a.attr("eni_id") == eni_id,
                     lambda x: x.update(ipv6_addresses=[*x["ipv6_addresses"], "2600:ffff::9"]))
    if layer == "route":
        table = ref.table(subnet)["route_table_id"]
        return edited(
            inv,
            lambda a: a.attr("route_table_id") == table,
            lambda x: x.update(
                routes=[r for r in x["routes"] if r["target_kind"] == "local"] + IGW
            ),
        )
    if layer in ("acl-inbound", "acl-outbound"):
        acl = ref.acl(subnet)["network_acl_id"]
        egress = layer == "acl-outbound"
        opened = [e for e in OPEN_ACL if e["egress"] == egress]
        return edited(inv, lambda a: a.attr("network_acl_id") == acl,
                     lambda x: x.update(entries=opened + x["entries"]))
    group = eni["security_group_ids"][0]
    rules = [
        {
            "protocol": protocol,
            "from_port": port,
            "to_port": port,
            "source_kind": kind,
            "source": cidr,
            "source_account": None,
            "description": None,
        }
        for kind, cidr in (("cidr4", "0.0.0.0/0"), ("cidr6", "::/0"))
    ]
    return edited(inv, lambda a: a.attr("group_id") == group,
                 lambda x: x.update(ingress=[*x["ingress"], *rules]))


def _cidrs(inv: Inventory) -> Iterable[str]:
    yield from NOT_PUBLIC_V4
    yield from ("2000::/3", "0.0.0.0/0", "::/0")
    for a in inv.assets:
        for e in a.attr("entries") or ():
            yield e["cidr"] if isinstance(e, dict) else e
        for r in (a.attr("ingress") or []) + (a.attr("egress") or []):
            if r["source_kind"] in ("cidr4", "cidr6"):
                yield r["source"]
        for r in a.attr("routes") or ():
            if r["destination_kind"] != "prefix_list":
                yield r["destination"]


def pieces(inv: Inventory) -> dict[int, list[tuple[int, int]]]:
    """Per family: (first address, size) of every piece between two CIDR boundaries."""
    cuts: dict[int, set[int]] = {4: {0, 1 << 32}, 6: {0, 1 << 128}}
    for c in _cidrs(inv):
        n = ipaddress.ip_network(c, strict=False)
        cuts[n.version] |= {int(n.network_address), int(n.broadcast_address) + 1}
    out: dict[int, list[tuple[int, int]]] = {}
    for fam, points in cuts.items():
        ordered = sorted(points)
        spans = [(lo, hi - lo) for lo, hi in itertools.pairwise(ordered)]
        out[fam] = sorted(spans, key=lambda s: -s[1])  # widest first: decides early
    return out


def exposed(inv: Inventory, eni_id: str, port: int, protocol: str = "tcp") -> bool:
    """Whether a wide range of internet clients reaches protocol/port on the ENI (reference)."""
    ref = Reference(inv)
    eni = next(a.attrs for a in inv.of("AWS::EC2::NetworkInterface") if a.attrs["eni_id"] == eni_id)
    for fam, spans in pieces(inv).items():
        total = 0
        for lo, size in spans:
            ip = ipaddress.ip_address(lo) if fam == 4 else ipaddress.IPv6Address(lo)
            if is_public(ip) and ref.from_internet(eni, ip, protocol, port):
                total += size
                if total >= WIDE[fam]:
                    return True
    return False


def brute_depth(inv: Inventory, eni_id: str, port: int, protocol: str = "tcp") -> int:
    """0, 1 or 2 flips (the least that exposes the port), else 3 meaning "3 or more"."""
    return least_flips(
        inv,
        lambda x: exposed(x, eni_id, port, protocol),
        [lambda x, layer=layer: flip(x, eni_id, layer, port, protocol) for layer in FLIPS],
    )


EXAMPLES = examples(30)
"""The settings of every property test here."""


@EXAMPLES
@given(estates())
def test_depth_matches_brute_force_flips(inv: Inventory) -> None:
    reach = AwsReach(inv)
    for host in reach.hosts():
        eni_id = host.asset.attrs["eni_id"]
        for proto, port in CASES:
            d = host_depth(reach, host, port, protocol=proto)
            assert d.depth is not None, (eni_id, proto, port, d.unknown)
            want = brute_depth(inv, eni_id, port, proto)
            assert min(d.depth, 3) == want, (eni_id, proto, port, d.depth, want, d.best)
            if d.best is not None:
                assert len(d.best.changes) == d.depth


@EXAMPLES
@given(estates())
def test_direct_layers_intersect_to_the_engine_verdict(inv: Inventory) -> None:
    """Depth 0 on a direct path is exactly the exposure checks' verdict (same evaluation)."""
    from posture.graph.aws.depth_direct import direct
    from posture.graph.depth import wide

    reach = AwsReach(inv)
    for host in reach.hosts():
        key = host.interfaces[0].key
        for fam in (4, 6):
            for port in (*PORTS, 443):
                v = reach.internet(key, fam, "tcp", port)
                assert (direct(reach, key, fam, port).depth == 0) == wide(fam, v.reachable)


@EXAMPLES
@given(estates())
def test_sweep_pieces_have_the_depth_of_every_port_inside(inv: Inventory) -> None:
    from posture.graph.aws.depth_sweep import sweep

    reach = AwsReach(inv)
    for n, host in enumerate(reach.hosts()):
        for proto in ("tcp", "udp"):
            pieces = sweep(reach, host, proto, (22,))
            assert pieces[0].lo == 1 and pieces[-1].hi == 65535
            assert all(a.hi + 1 == b.lo for a, b in itertools.pairwise(pieces))
            for piece in pieces:
                got = (piece.depth.depth, piece.depth.at_least)
                # its ends, its middle, and both sides of every rule boundary of the estate
                inside = {b + d for b in BOUNDS for d in (-1, 0)} & set(
                    range(piece.lo, piece.hi + 1))
                for port in sorted({piece.lo, (piece.lo + piece.hi) // 2, piece.hi} | inside):
                    fresh = AwsReach(inv)
                    d = host_depth(fresh, fresh.hosts()[n], port, named=False, protocol=proto)
                    assert (d.depth, d.at_least) == got, (host.asset.name, proto, port, piece)
