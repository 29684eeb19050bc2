"""The organisation-wide phase: a production VPC in one account peered with a development VPC
in another. Neither account alone can follow the path (the other side's routes and security
groups are not in its snapshot); the merged projections of the two can, and the organisation
verdict replaces the provisional per-account one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.aws import ACCOUNT, asset
from support.aws_net import (
    SEGREGATION,
    SSH_WORLD,
    arn,
    peered_side,
)
from support.checks import catalogue, run_one
from support.model import inventory_of, scan_meta
from support.org import SIBLING, organization

from posture.model import Asset, Finding, Inventory, Provider, Status
from posture.org.crossaccount import (
    cross_account_links,
    organization_checks,
    organization_findings,
    overlay,
    projected_types,
    projection,
)

PROD, DEV = ACCOUNT, SIBLING  # the organisation builder puts ACCOUNT in Sandbox, SIBLING in Prod
PEERING_CHECK = "aws.segregation.no_prod_nonprod_peering"


def _peering(account: str, status: str = "active") -> Asset:
    return asset("AWS::EC2::VPCPeeringConnection",
                 f"arn:aws:ec2:us-east-1:{account}:vpc-peering-connection/pcx-1",
                 account=account, peering_id="pcx-1", status=status,
                 requester_vpc_id="vpc-p", requester_account=PROD,
                 accepter_vpc_id="vpc-d", accepter_account=DEV)


def _moved(assets: list[Asset], account: str) -> list[Asset]:
    """The same builders' assets, owned by ``account`` (uids carry the account id)."""
    return [replace(a, account=account, uid=a.uid.replace(ACCOUNT, account)) for a in assets]


def _account(account: str, assets: list[Asset]) -> Inventory:
    meta = scan_meta(Provider.AWS, (account,), ("us-east-1",))
    return inventory_of(meta, (*assets, organization()))


def _estate(dev_ingress: Any = SSH_WORLD, status: str = "active") -> tuple[Inventory, Inventory]:
    prod = peered_side("vpc-p", "p", "10.0.1.0/24", "10.1.0.0/16", (), "production")
    dev = peered_side("vpc-d", "d", "10.1.1.0/24", "10.0.0.0/16", dev_ingress, "dev")
    return (_account(PROD, [*prod, _peering(PROD, status)]),
            _account(DEV, [*_moved(dev, DEV), _peering(DEV, status)]))


def _organization_verdicts(*accounts: Inventory) -> tuple[Finding, ...]:
    checks = organization_checks(catalogue(), [SEGREGATION, PEERING_CHECK])
    types = projected_types(checks)
    return organization_findings(catalogue(), checks, accounts[0].meta,
                                 [projection(a, types) for a in accounts], ())


def test_segregation_checks_are_organization_wide_and_project_the_network() -> None:
    checks = organization_checks(catalogue(), [SEGREGATION, PEERING_CHECK, "aws.iam.root_mfa"])
    assert {c.spec.id for c in checks} == {SEGREGATION, PEERING_CHECK}
    types = projected_types(checks)
    assert {"AWS::EC2::VPC", "AWS::EC2::SecurityGroup", "AWS::EC2::RouteTable",
            "AWS::EC2::VPCPeeringConnection"} <= types
    assert not any("#" in t for t in types)


def test_only_accounts_with_a_cross_account_link_are_projected() -> None:
    prod, dev = _estate()
    assert cross_account_links(prod) == (DEV,)
    assert cross_account_links(dev) == (PROD,)
    types = projected_types(organization_checks(catalogue(), [SEGREGATION]))
    assert projection(prod, types)
    alone = _account(PROD, peered_side("vpc-p", "p", "10.0.1.0/24", "10.1.0.0/16", (),
                                       "production"))
    assert cross_account_links(alone) == ()
    assert projection(alone, types) == ()
    deleted, _ = _estate(status="deleted")
    assert projection(deleted, types) == ()


def test_one_account_alone_cannot_decide_the_cross_account_path() -> None:
    prod, _ = _estate()
    [finding] = [f for f in run_one(SEGREGATION, prod) if f.resource_uid == arn("vpc", "vpc-p")]
    assert finding.status is Status.INCONCLUSIVE
    assert "not in this snapshot" in finding.message


def test_the_organization_phase_follows_the_path_into_the_other_account() -> None:
    prod, dev = _estate()
    verdicts = {f.resource_uid: f for f in _organization_verdicts(prod, dev)
                if f.check_id == SEGREGATION}
    finding = verdicts[arn("vpc", "vpc-p")]
    assert finding.status is Status.FAIL, finding.message
    assert "network path between production vpc-p and non-production vpc-d" in finding.message
    hops = [h["kind"] for h in finding.evidence["paths"][0]["hops"]]
    assert "vpc-peering" in hops


def test_a_closed_security_group_on_the_other_side_passes_in_the_organization() -> None:
    """The trap: peering and routes exist both ways, but the dev side admits nothing from prod
    and prod admits nothing: no traffic flows, so no FAIL (a rule-matching tool flags it)."""
    prod, dev = _estate(dev_ingress=())
    verdicts = {f.resource_uid: f for f in _organization_verdicts(prod, dev)
                if f.check_id == SEGREGATION}
    assert verdicts[arn("vpc", "vpc-p")].status is Status.PASS


def test_organization_verdict_replaces_the_per_account_one() -> None:
    prod, dev = _estate()
    per_account = [*run_one(SEGREGATION, prod), *run_one(SEGREGATION, dev)]
    org = _organization_verdicts(prod, dev)
    merged = overlay(per_account, [f for f in org if f.check_id == SEGREGATION])
    vpc_p = [f for f in merged if f.resource_uid == arn("vpc", "vpc-p")]
    assert [f.status for f in vpc_p] == [Status.FAIL]
    assert len({(f.check_id, f.resource_uid) for f in merged}) == len(merged)
