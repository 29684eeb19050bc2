"""Segregation of production from non-production VPCs through peering and transit gateways
(route tables, propagations, static and blackhole routes, attachments)."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import inventory
from support.aws_net import SEGREGATION, SSH_WORLD, arn, ec2, peered_side, status
from support.checks import by_uid, run_one

from posture.model import Asset, Inventory, Status

# -- segregation through peering and transit gateway -------------------------------------------


def two_vpcs(
    kind: str = "pcx",
    status_: str = "active",
    dev_ingress: Any = SSH_WORLD,
    prod_env: str = "production",
    tgw: tuple[Asset, ...] = (),
) -> Inventory:
    pcx = ec2("VPCPeeringConnection", "pcx-1", status=status_, requester_vpc_id="vpc-p",
              accepter_vpc_id="vpc-d")
    return inventory(
        *peered_side("vpc-p", "p", "10.0.1.0/24", "10.1.0.0/16", (), prod_env, kind),
        *peered_side("vpc-d", "d", "10.1.1.0/24", "10.0.0.0/16", dev_ingress, "dev", kind),
        pcx,
        *tgw,
    )


PROD_VPC = arn("vpc", "vpc-p")


@pytest.mark.parametrize("kind", ["pcx", "tgw"])
def test_prod_reaches_dev_through_peering_or_tgw(kind: str) -> None:
    finding = status(SEGREGATION, two_vpcs(kind), PROD_VPC)
    assert finding.status == Status.FAIL, finding.message
    hops = [h["kind"] for h in finding.evidence["paths"][0]["hops"]]
    assert ("vpc-peering" if kind == "pcx" else "transit-gateway") in hops


def tgw_attachment(att: str, vpc: str, table: str | None, state: str = "available") -> Asset:
    return ec2("TransitGatewayAttachment", att, transit_gateway_id="tgw-1", resource_type="vpc",
               resource_id=vpc, vpc_id=vpc, state=state, route_table_id=table)


def tgw_table(
    table: str, routes: list[dict[str, Any]] | None, propagations: tuple[str, ...] = ()
) -> Asset:
    return ec2("TransitGatewayRouteTable", table, transit_gateway_id="tgw-1", state="available",
               routes=routes, associations=[], propagations=list(propagations))


def tgw_route(cidr: str, att: str | None, type_: str = "static") -> dict[str, Any]:
    return {
        "destination": cidr,
        "destination_kind": "cidr",
        "type": type_,
        "state": "active" if att else "blackhole",
        "attachment_ids": [att] if att else [],
    }


ATTACHED = (tgw_attachment("att-p", "vpc-p", "tgw-rtb-p"), tgw_attachment("att-d", "vpc-d",
                                                                        "tgw-rtb-d"))


def test_shared_tgw_route_table_with_propagation_is_a_path() -> None:
    tables = (
        tgw_attachment("att-p", "vpc-p", "tgw-rtb-all"),
        tgw_attachment("att-d", "vpc-d", "tgw-rtb-all"),
        tgw_table("tgw-rtb-all", [], propagations=("att-p", "att-d")),
    )
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.FAIL, finding.message
    details = [h["detail"] for h in finding.evidence["paths"][0]["hops"]
               if h["kind"] == "transit-gateway"]
    assert any("tgw-rtb-all" in d and "propagated" in d for d in details), details


def test_isolated_tgw_route_tables_are_no_path() -> None:
    # both VPCs route 10.x/16 to the TGW, but each attachment's table knows only its own VPC
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [], propagations=("att-p",)),
        tgw_table("tgw-rtb-d", [], propagations=("att-d",)),
    )
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.PASS, finding.message


def test_tgw_static_blackhole_beats_propagated_route() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", None)], propagations=("att-d",)),
        tgw_table("tgw-rtb-d", [], propagations=("att-p",)),
    )
    # dev -> prod is routed, but prod's replies to dev hit the blackhole: no working path
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_tgw_static_routes_both_ways_are_a_path() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", "att-d")]),
        tgw_table("tgw-rtb-d", [tgw_route("10.0.0.0/8", "att-p")]),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.FAIL


def test_tgw_one_way_route_is_no_path() -> None:
    tables = (
        *ATTACHED,
        tgw_table("tgw-rtb-p", [tgw_route("10.1.0.0/16", "att-d")]),
        tgw_table("tgw-rtb-d", []),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_tgw_attachment_pending_acceptance_carries_nothing() -> None:
    tables = (
        tgw_attachment("att-p", "vpc-p", "tgw-rtb-all"),
        tgw_attachment("att-d", "vpc-d", "tgw-rtb-all", state="pendingAcceptance"),
        tgw_table("tgw-rtb-all", [], propagations=("att-p", "att-d")),
    )
    assert status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC).status == Status.PASS


def test_unreadable_tgw_routes_assume_a_path_and_say_so() -> None:
    tables = (*ATTACHED, tgw_table("tgw-rtb-p", None), tgw_table("tgw-rtb-d", None))
    finding = status(SEGREGATION, two_vpcs("tgw", tgw=tables), PROD_VPC)
    assert finding.status == Status.FAIL
    details = [h["detail"] for h in finding.evidence["paths"][0]["hops"]
               if h["kind"] == "transit-gateway"]
    assert any("could not be read" in d for d in details), details


def test_inactive_peering_is_no_path() -> None:
    finding = status(SEGREGATION, two_vpcs(status_="pending-acceptance"), PROD_VPC)
    assert finding.status == Status.PASS


def test_filters_blocking_both_ways_pass_with_routes_named() -> None:
    finding = status(SEGREGATION, two_vpcs(dev_ingress=()), PROD_VPC)
    assert finding.status == Status.PASS and "routes to other VPCs exist" in finding.message


def test_prod_to_prod_is_not_judged_as_crossing() -> None:
    inv = two_vpcs(prod_env="production")
    dev = by_uid(run_one(SEGREGATION, inv))
    assert arn("vpc", "vpc-d") not in dev
