"""aws.segregation.no_prod_nonprod_peering: peering and peering routes across environments."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, collection_error, inventory
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

CHECK = "aws.segregation.no_prod_nonprod_peering"
R = "us-east-1"
PCX_UID = f"arn:aws:ec2:{R}:{ACCOUNT}:vpc-peering-connection/pcx-1"


def vpc(id_: str, cidr: str, **tags: str) -> Asset:
    return asset("AWS::EC2::VPC", f"arn:aws:ec2:{R}:{ACCOUNT}:vpc/{id_}", tags=tags, vpc_id=id_,
                 cidr_blocks=[cidr], ipv6_cidr_blocks=[], is_default=False)


def peering(a: str = "vpc-a", b: str = "vpc-b", status: str = "active",
            id_: str = "pcx-1", region: str = R) -> Asset:
    return asset("AWS::EC2::VPCPeeringConnection",
                 f"arn:aws:ec2:{region}:{ACCOUNT}:vpc-peering-connection/{id_}", region=region,
                 peering_id=id_, status=status, requester_vpc_id=a, requester_account=ACCOUNT,
                 requester_region=R, accepter_vpc_id=b, accepter_account=ACCOUNT,
                 accepter_region=R)


def table(id_: str, vpc_id: str, dest: str, pcx: str = "pcx-1",
          state: str = "active") -> Asset:
    routes = [{"destination": dest, "destination_kind": "ipv4", "target_kind": "pcx",
               "target_id": pcx, "state": state}]
    return asset("AWS::EC2::RouteTable", f"arn:aws:ec2:{R}:{ACCOUNT}:route-table/{id_}",
                 route_table_id=id_, vpc_id=vpc_id, main=True, subnet_ids=[], routes=routes)


PROD = vpc("vpc-a", "10.0.0.0/16", Environment="Production")
DEV = vpc("vpc-b", "10.1.0.0/16", env="dev")
STAGING = vpc("vpc-b", "10.1.0.0/16", Stage="staging")
PROD2 = vpc("vpc-b", "10.1.0.0/16", Env="PRD")
UNTAGGED = vpc("vpc-b", "10.1.0.0/16", Name="mystery")

CASES = [
    ("prod-to-dev", (PROD, DEV, peering()), Status.FAIL),
    ("prod-to-staging-by-stage-tag", (PROD, STAGING, peering()), Status.FAIL),
    ("prod-to-prod-case-insensitive", (PROD, PROD2, peering()), Status.PASS),
    ("dev-to-staging", (vpc("vpc-a", "10.0.0.0/16", env="dev"), STAGING, peering()),
     Status.PASS),
    ("prod-to-untagged", (PROD, UNTAGGED, peering()), Status.INCONCLUSIVE),
    ("prod-to-other-account", (PROD, peering(b="vpc-elsewhere")), Status.INCONCLUSIVE),
    ("prod-to-dev-pending", (PROD, DEV, peering(status="pending-acceptance")), Status.PASS),
]


@pytest.mark.parametrize(("assets", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_peering(assets: tuple[Asset, ...], expected: Status) -> None:
    finding = only(run_one(CHECK, inventory(*assets)))
    assert finding.status == expected, finding.message


def test_fail_evidence_names_both_sides_and_routes() -> None:
    inv = inventory(PROD, DEV, peering(), table("rtb-a", "vpc-a", "10.1.0.0/16"))
    finding = by_uid(run_one(CHECK, inv))[PCX_UID]
    assert finding.evidence["requester"] == {"vpc_id": "vpc-a", "environment": "production",
                                             "tag": "Environment=Production"}
    assert finding.evidence["accepter"]["environment"] == "non-production"
    assert finding.evidence["routes"][0]["route_table"] == "rtb-a"


def test_deleted_peering_is_not_judged() -> None:
    assert run_one(CHECK, inventory(PROD, DEV, peering(status="deleted"))) == []


def test_inter_region_peering_seen_twice_is_one_finding() -> None:
    inv = inventory(PROD, DEV, peering(), peering(region="eu-west-1"))
    assert only(run_one(CHECK, inv)).status == Status.FAIL


def test_custom_tag_keys_and_values() -> None:
    inv = inventory(vpc("vpc-a", "10.0.0.0/16", tier="live"),
                    vpc("vpc-b", "10.1.0.0/16", tier="test"), peering())
    assert only(run_one(CHECK, inv)).status == Status.INCONCLUSIVE
    finding = only(run_one(CHECK, inv, environment_tag_keys=("tier",),
                           production_values=("live",)))
    assert finding.status == Status.FAIL


RT_UID = f"arn:aws:ec2:{R}:{ACCOUNT}:route-table/rtb-a"


@pytest.mark.parametrize(("assets", "expected"), [
    ((PROD, DEV, table("rtb-a", "vpc-a", "10.1.0.0/16", "pcx-9")), Status.FAIL),
    ((PROD, PROD2, table("rtb-a", "vpc-a", "10.1.4.0/24", "pcx-9")), Status.PASS),
    ((PROD, table("rtb-a", "vpc-a", "172.31.0.0/16", "pcx-9")), Status.INCONCLUSIVE),
    ((PROD, DEV, table("rtb-a", "vpc-a", "10.1.0.0/16", "pcx-9", "blackhole")), None),
], ids=["route-to-dev", "route-to-prod", "route-to-unknown-vpc", "blackhole-route-ignored"])
def test_routes_through_uncollected_peerings(assets: tuple[Asset, ...],
                                             expected: Status | None) -> None:
    findings = run_one(CHECK, inventory(*assets))
    if expected is None:
        assert findings == []
    else:
        assert by_uid(findings)[RT_UID].status == expected


def test_peering_listing_gap_still_finds_crossing_routes() -> None:
    gap = collection_error("ec2", "DescribeVpcPeeringConnections",
                           ("AWS::EC2::VPCPeeringConnection",))
    inv = inventory(PROD, DEV, table("rtb-a", "vpc-a", "10.1.0.0/16"), errors=(gap,))
    findings = by_uid(run_one(CHECK, inv))
    assert findings[RT_UID].status == Status.FAIL
    assert any(f.status == Status.INCONCLUSIVE for f in findings.values())


def test_passing_peering_is_inconclusive_when_vpcs_were_not_all_listed() -> None:
    gap = collection_error("ec2", "DescribeVpcs", ("AWS::EC2::VPC",))
    inv: Any = inventory(PROD, PROD2, peering(), errors=(gap,))
    assert by_uid(run_one(CHECK, inv))[PCX_UID].status == Status.INCONCLUSIVE
