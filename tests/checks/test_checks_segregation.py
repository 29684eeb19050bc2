"""aws.segregation.no_prod_nonprod_peering: peering and peering routes across environments."""

from __future__ import annotations

from typing import Any

import pytest
from support.aws import ACCOUNT, asset, aws_arn, collection_error, inventory
from support.cases import named
from support.checks import by_uid, only, run_one

from posture.model import Asset, Status

CHECK = "aws.segregation.no_prod_nonprod_peering"
R = "us-east-1"
PCX_UID = aws_arn("ec2", "vpc-peering-connection/pcx-1")


def vpc(id_: str, cidr: str, **tags: str) -> Asset:
    return asset("AWS::EC2::VPC", aws_arn("ec2", f"vpc/{id_}"), tags=tags, vpc_id=id_,
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
    return asset("AWS::EC2::RouteTable", aws_arn("ec2", f"route-table/{id_}"),
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


@pytest.mark.parametrize(("assets", "expected"), named(CASES))
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


RT_UID = aws_arn("ec2", "route-table/rtb-a")


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


# -- environments from the organisation (OU, then account name) ---------------------------------


def _cross_account_peering(accepter_account: str) -> Asset:
    return asset("AWS::EC2::VPCPeeringConnection", PCX_UID, peering_id="pcx-1", status="active",
                 requester_vpc_id="vpc-a", requester_account=ACCOUNT, requester_region=R,
                 accepter_vpc_id="vpc-x", accepter_account=accepter_account, accepter_region=R)


def test_peer_in_another_account_is_classified_by_its_ou() -> None:
    """vpc-x lives in SIBLING, outside this snapshot: its OU "Prod" makes it production, so a
    peering from a dev-tagged VPC crosses environments (standalone it was inconclusive)."""
    from support.org import SIBLING, organization

    assets = (vpc("vpc-a", "10.0.0.0/16", Environment="dev"), _cross_account_peering(SIBLING))
    standalone = only(run_one("aws.segregation.no_prod_nonprod_peering", inventory(*assets)))
    assert standalone.status is Status.INCONCLUSIVE
    found = only(run_one("aws.segregation.no_prod_nonprod_peering",
                         inventory(*assets, organization())))
    assert found.status is Status.FAIL
    assert "production vpc-x (OU=Prod)" in found.message
    assert found.evidence["accepter"] == {"vpc_id": "vpc-x", "environment": "production",
                                          "tag": "OU=Prod"}


def test_own_vpc_without_tag_takes_the_accounts_ou_and_a_tag_wins_over_it() -> None:
    """This account sits in OU Sandbox (non-production): an untagged VPC is non-production, but
    a VPC tagged Environment=prod stays production (the tag is more specific)."""
    from support.org import SIBLING, organization

    untagged = (vpc("vpc-a", "10.0.0.0/16"), _cross_account_peering(SIBLING), organization())
    assert only(run_one("aws.segregation.no_prod_nonprod_peering",
                        inventory(*untagged))).status is Status.FAIL
    tagged = (vpc("vpc-a", "10.0.0.0/16", Environment="prod"), _cross_account_peering(SIBLING),
              organization())
    passed = only(run_one("aws.segregation.no_prod_nonprod_peering", inventory(*tagged)))
    assert passed.status is Status.PASS
    assert passed.message == "peering connects two production VPCs"


def test_ou_that_names_no_environment_falls_back_to_the_account_name() -> None:
    from support.org import MANAGEMENT, organization

    org = organization()
    accounts = [*org.attrs["accounts"],
                {"id": "555566667777", "name": "payments-staging", "status": "ACTIVE",
                 "ou_path": ["Root", "Workloads"]},
                {"id": "888899990000", "name": "shared-services", "status": "ACTIVE",
                 "ou_path": ["Root", "Infrastructure"]}]
    org = asset(org.type, org.uid, name=org.name, region="global", account=MANAGEMENT,
                **{**org.attrs, "accounts": accounts})
    prod_vpc = vpc("vpc-a", "10.0.0.0/16", Environment="prod")
    staging = only(run_one("aws.segregation.no_prod_nonprod_peering",
                           inventory(prod_vpc, _cross_account_peering("555566667777"), org)))
    assert staging.status is Status.FAIL
    assert "(account name=payments-staging)" in staging.message
    neither = only(run_one("aws.segregation.no_prod_nonprod_peering",
                           inventory(prod_vpc, _cross_account_peering("888899990000"), org)))
    assert neither.status is Status.INCONCLUSIVE
