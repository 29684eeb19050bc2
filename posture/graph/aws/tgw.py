"""Transit-gateway routing: does a TGW carry traffic from one VPC to another, for which addresses.

AWS semantics: traffic a VPC route sends to a transit gateway enters through the source VPC's
attachment; the attachment's *associated* route table decides (longest-prefix match; a static
route beats a propagated one for the same prefix; blackhole routes drop) which attachment it
leaves by; it is delivered to that attachment's VPC. An attachment with no associated table,
or not live (deleted, rejected, pending acceptance...), carries nothing. Propagated routes are
the propagating VPC attachments' CIDRs; the collector stores both the listed routes and the
table's propagations, and the propagated CIDRs are installed here from the VPCs' address space
when the listing leaves them out.

When a gateway's route tables are not in the inventory (shared from another account, or not
readable) the graph falls back to "attached VPCs route to each other" and says so in the path:
a path is then reported rather than hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from posture.graph.core import Hop, Route, lpm
from posture.graph.intervals import IntervalSet, cidr_span
from posture.model import Asset, Inventory

ATTACHMENT = "AWS::EC2::TransitGatewayAttachment"
ROUTE_TABLE = "AWS::EC2::TransitGatewayRouteTable"
_LIVE_ATTACHMENT = frozenset({"available", "modifying", "pending"})

Pieces = list[tuple[IntervalSet, tuple[Hop, ...]]]


def _route(fam_span: tuple[int, IntervalSet], cidr: str, kind: str, target: str,
           ref: dict[str, Any]) -> Route:
    fam, span = fam_span
    prefixlen = int(cidr.split("/")[1]) if "/" in cidr else (32 if fam == 4 else 128)
    return Route(fam, span, prefixlen, kind, target, True, ref)


class TgwIndex:
    """The transit gateways of one inventory; ``deliver`` answers one routing question."""

    def __init__(self, inventory: Inventory, vpc_cidrs: Callable[[str], Iterable[str]]) -> None:
        self.vpc_cidrs = vpc_cidrs
        self.attachments: dict[str, Asset] = {}
        self.by_vpc: dict[tuple[str, str], Asset] = {}
        for a in inventory.of(ATTACHMENT):
            att_id = str(a.attr("attachment_id"))
            self.attachments[att_id] = a
            if a.attr("vpc_id") and a.attr("state") in _LIVE_ATTACHMENT:
                key = (str(a.attr("transit_gateway_id")), str(a.attr("vpc_id")))
                self.by_vpc.setdefault(key, a)
        self.tables: dict[str, Asset] = {}
        self.gateways: set[str] = set()
        for t in inventory.of(ROUTE_TABLE):
            self.tables[str(t.attr("route_table_id"))] = t
            self.gateways.add(str(t.attr("transit_gateway_id")))
        self._routes: dict[str, list[Route] | None] = {}

    def visible(self, tgw_id: str) -> bool:
        """Whether this gateway's route tables (and so its routing) are in the inventory."""
        return tgw_id in self.gateways

    def routes(self, rt_id: str) -> list[Route] | None:
        """The table's routes, static first; None when they could not be read."""
        if rt_id in self._routes:
            return self._routes[rt_id]
        table = self.tables.get(rt_id)
        listed = None if table is None else table.attr("routes")
        found: list[Route] | None = None
        if listed is not None and table is not None:
            found = []
            seen: set[tuple[str, str]] = set()
            for r in sorted(listed, key=lambda r: r.get("type") != "static"):
                cidr = str(r.get("destination"))
                span = cidr_span(cidr) if r.get("destination_kind") != "prefix_list" else None
                if span is None:
                    continue
                targets = list(r.get("attachment_ids") or ())
                blackhole = r.get("state") == "blackhole" or not targets
                kind, target = ("blackhole", "") if blackhole else ("attachment", targets[0])
                ref = {"transit_gateway_route_table": rt_id, "destination": cidr,
                       "type": r.get("type"), "state": r.get("state"), "attachment": target}
                found.append(_route(span, cidr, kind, target, ref))
                seen.add((cidr, target))
            for att_id in table.attr("propagations") or ():
                att = self.attachments.get(str(att_id))
                if att is None or not att.attr("vpc_id"):
                    continue
                for cidr in self.vpc_cidrs(str(att.attr("vpc_id"))):
                    span = cidr_span(cidr)
                    if span is None or (cidr, str(att_id)) in seen:
                        continue
                    ref = {"transit_gateway_route_table": rt_id, "destination": cidr,
                           "type": "propagated", "state": "active", "attachment": str(att_id)}
                    found.append(_route(span, cidr, "attachment", str(att_id), ref))
        self._routes[rt_id] = found
        return found

    def deliver(
        self,
        tgw_id: str,
        src_vpc: str | None,
        dst_vpc: str | None,
        family: int,
        piece: IntervalSet,
        attached_fallback: Iterable[str],
    ) -> Pieces:
        """The parts of ``piece`` the gateway delivers from ``src_vpc`` into ``dst_vpc``."""
        if dst_vpc is None or src_vpc is None:
            return []
        source = self.by_vpc.get((tgw_id, src_vpc))
        rt_id = None if source is None else source.attr("route_table_id")
        routes = self.routes(str(rt_id)) if rt_id else None
        if not self.visible(tgw_id) or (rt_id and routes is None):
            if dst_vpc not in set(attached_fallback):
                return []
            why = (
                "route tables not in the inventory (shared from another account?)"
                if not self.visible(tgw_id)
                else f"routes of {rt_id} could not be read"
            )
            return [(piece, (Hop("transit-gateway", tgw_id, f"{why}: assumed to route "
                                 "between attachments"),))]
        if source is None or routes is None:
            return []  # not attached (live), or attached without an associated route table
        out: Pieces = []
        for sub, route in lpm(routes, family, piece):
            if route is None or route.target_kind != "attachment":
                continue
            target = self.attachments.get(route.target_id)
            if (
                target is None
                or target.attr("vpc_id") != dst_vpc
                or target.attr("state") not in _LIVE_ATTACHMENT
            ):
                continue
            detail = (
                f"{source.attr('attachment_id')} -> {rt_id}: {route.ref.get('destination')} -> "
                f"{route.target_id} ({route.ref.get('type')})"
            )
            out.append((sub, (Hop("transit-gateway", tgw_id, detail, route.ref),)))
        return out
