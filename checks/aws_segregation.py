"""Segregation: no network path between production and non-production VPCs through peering."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.engine import CheckContext, Result
from posture.graph.aws.reach import NETWORK_READS
from posture.iam.scp import ORGANIZATION, organization
from posture.model import Asset, Principle, Severity
from posture.registry import check

VPC = "AWS::EC2::VPC"
PEERING = "AWS::EC2::VPCPeeringConnection"
TGW_ATTACHMENT = "AWS::EC2::TransitGatewayAttachment"
TGW_ROUTE_TABLE = "AWS::EC2::TransitGatewayRouteTable"
ROUTE_TABLE = "AWS::EC2::RouteTable"

PROD, NONPROD = "production", "non-production"
_GONE = {"deleted", "deleting", "rejected", "failed", "expired"}


_ENV_PARAMS = {
    "environment_tag_keys": ("Environment", "env", "Env", "Stage"),
    "production_values": ("prod", "production", "prd"),
    # OU and account-name words that mark non-production (a VPC tag needs no list: any
    # environment tag value that is not a production value is non-production)
    "nonproduction_values": ("dev", "development", "test", "testing", "qa", "staging", "stage",
                             "sandbox", "sandboxes", "nonprod", "non-prod", "non-production",
                             "uat"),
}


@dataclass(frozen=True, slots=True)
class Env:
    vpc_id: str | None
    kind: str | None  # PROD, NONPROD, or None when unknown
    tag: str | None  # "Key=Value" that decided it

    def evidence(self) -> dict[str, Any]:
        return {"vpc_id": self.vpc_id, "environment": self.kind or "unknown", "tag": self.tag}


def classify(vpc: Asset | None, vpc_id: str | None, keys: Sequence[str],
             prod_values: Sequence[str], account: Env | None = None) -> Env:
    """The environment of a VPC from the first environment tag found (values case-insensitive),
    else from its account's place in the organisation (``account``, see :func:`account_envs`)."""
    if vpc is not None:
        prod = {v.lower() for v in prod_values}
        for key in keys:
            value = vpc.tags.get(key)
            if value is not None and value.strip():
                kind = PROD if value.strip().lower() in prod else NONPROD
                return Env(vpc_id, kind, f"{key}={value}")
    if account is not None and account.kind is not None:
        return Env(vpc_id, account.kind, account.tag)
    return Env(vpc_id, None, None)


def account_envs(ctx: CheckContext) -> Callable[[str | None], Env | None]:
    """Account id -> its environment in the organisation, from the innermost OU whose name is a
    production or non-production value, else from a word of the account's name ("acme-prod");
    ``None`` outside an organisation run or for an account that says neither."""
    org = organization(ctx.inventory)
    prod = {v.lower() for v in ctx.param("production_values")}
    nonprod = {v.lower() for v in ctx.param("nonproduction_values")}

    def kind_of(word: str) -> str | None:
        w = word.strip().lower()
        return PROD if w in prod else NONPROD if w in nonprod else None

    def env(account: str | None) -> Env | None:
        entry = org.accounts.get(str(account)) if org is not None else None
        if entry is None:
            return None
        for ou in reversed([str(x) for x in entry.get("ou_path") or ()]):
            if (kind := kind_of(ou)) is not None:
                return Env(None, kind, f"OU={ou}")
        name = str(entry.get("name") or "")
        for word in re.split(r"[\s_.\-]+", name):
            if (kind := kind_of(word)) is not None:
                return Env(None, kind, f"account name={name}")
        return None

    return env


def _crosses(a: Env, b: Env) -> bool:
    return {a.kind, b.kind} == {PROD, NONPROD}


@check("aws.segregation.no_prod_nonprod_peering", Severity.HIGH, (Principle.SEGREGATION,),
       reads={VPC, PEERING, ROUTE_TABLE, ORGANIZATION}, params=_ENV_PARAMS, organization=True)
def no_prod_nonprod_peering(ctx: CheckContext) -> Iterator[Result]:
    """No VPC peering connects production and non-production networks

    A peering between production and non-production lets a compromise of the weaker environment
    reach production. Environments come from VPC tags, else (in an organisation) from the account's
    OU or account name; a VPC that none of these classifies makes the verdict inconclusive.

    Remediation: Delete the peering connection (and its routes); share what non-production needs
    through narrowly scoped endpoints (PrivateLink) or a controlled data copy instead.
    """
    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    vpcs = {v.attr("vpc_id"): v for v in ctx.inventory.of(VPC)}
    by_account = account_envs(ctx)

    def env(vpc_id: str | None, account: str | None = None) -> Env:
        vpc = vpcs.get(vpc_id)
        return classify(vpc, vpc_id, keys, prod, by_account(vpc.account if vpc else account))

    routes = _peering_routes(ctx.inventory.of(ROUTE_TABLE))
    peerings: dict[str, Asset] = {}
    for pcx in ctx.inventory.of(PEERING):
        peerings.setdefault(pcx.attr("peering_id"), pcx)
    for pcx_id, pcx in sorted(peerings.items()):
        status = pcx.attr("status")
        if status in _GONE:
            continue
        a = env(pcx.attr("requester_vpc_id"), pcx.attr("requester_account"))
        b = env(pcx.attr("accepter_vpc_id"), pcx.attr("accepter_account"))
        evidence = {"requester": a.evidence(), "accepter": b.evidence(), "status": status,
                    "routes": routes.get(pcx_id, [])}
        if status != "active":
            yield ctx.passed(pcx, f"peering is not active ({status})", **evidence)
        elif _crosses(a, b):
            yield ctx.fail(pcx, f"active peering connects {a.kind} {a.vpc_id} ({a.tag}) with "
                           f"{b.kind} {b.vpc_id} ({b.tag})", **evidence)
        elif a.kind is None or b.kind is None:
            unclassified = ", ".join(str(e.vpc_id) for e in (a, b) if e.kind is None)
            yield ctx.unknown(pcx, f"environment of {unclassified} unknown (no environment tag, "
                              "or VPC not in the scanned accounts)", **evidence)
        else:
            yield ctx.passed(pcx, f"peering connects two {a.kind} VPCs", **evidence)
    yield from _uncollected_peering_routes(ctx, routes, set(peerings), vpcs, env)


def _peering_routes(tables: Sequence[Asset]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rt in tables:
        for r in rt.attr("routes") or ():
            if r.get("target_kind") == "pcx" and r.get("target_id"):
                out.setdefault(r["target_id"], []).append({
                    "route_table": rt.attr("route_table_id"), "route_table_uid": rt.uid,
                    "vpc_id": rt.attr("vpc_id"), "destination": r.get("destination"),
                    "state": r.get("state")})
    return out


def _uncollected_peering_routes(ctx: CheckContext, routes: Mapping[str, list[dict[str, Any]]],
                                known: set[str], vpcs: Mapping[str, Asset],
                                env: Callable[[str | None], Env]) -> Iterator[Result]:
    """Active routes through peerings that were not collected: resolve the peer by CIDR."""
    per_table: dict[str, list[dict[str, Any]]] = {}
    for pcx_id, hops in routes.items():
        if pcx_id in known:
            continue
        for hop in hops:
            if hop["state"] == "active":
                per_table.setdefault(hop["route_table_uid"], []).append({**hop, "peering": pcx_id})
    for uid, hops in sorted(per_table.items()):
        table = ctx.inventory.get(uid)
        if table is None:
            continue
        crossing, unresolved = [], []
        for hop in hops:
            own = env(hop["vpc_id"])
            peers = [env(v) for v in _vpcs_in(hop["destination"], vpcs) if v != hop["vpc_id"]]
            if any(_crosses(own, p) for p in peers):
                crossing.append({**hop, "own": own.evidence(),
                                 "peers": [p.evidence() for p in peers]})
            elif own.kind is None or not peers or any(p.kind is None for p in peers):
                unresolved.append(hop)
        if crossing:
            yield ctx.fail(table, "routes through a VPC peering connect production and "
                           "non-production VPCs", routes=crossing)
        elif unresolved:
            yield ctx.unknown(table, "routes through VPC peering to a VPC whose environment is "
                              "unknown", routes=unresolved)
        else:
            yield ctx.passed(table, "peering routes stay within one environment", routes=hops)


def _vpcs_in(destination: Any, vpcs: Mapping[str, Asset]) -> list[str]:
    """VPCs whose CIDR blocks overlap a route destination."""
    try:
        dest = ipaddress.ip_network(str(destination), strict=False)
    except ValueError:
        return []
    found = []
    for vpc_id, vpc in sorted(vpcs.items()):
        for cidr in [*(vpc.attr("cidr_blocks") or ()), *(vpc.attr("ipv6_cidr_blocks") or ())]:
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                continue
            if net.version == dest.version and net.overlaps(dest):
                found.append(vpc_id)
                break
    return found


@check("aws.segregation.no_prod_nonprod_network_path", Severity.HIGH,
       (Principle.SEGREGATION, Principle.DEFENSE_IN_DEPTH),
       reads=NETWORK_READS | {VPC, PEERING, TGW_ATTACHMENT, TGW_ROUTE_TABLE, ORGANIZATION},
       params=_ENV_PARAMS, organization=True)
def no_prod_nonprod_network_path(ctx: CheckContext) -> Iterator[Result]:
    """No network path connects production and non-production hosts

    Peering or a transit gateway between environments is only a risk where traffic really flows:
    this check evaluates routes (both directions; through a transit gateway, the route table
    associated with the entering attachment, static before propagated, blackholes), network ACLs
    (with return traffic) and security groups between every pair of interface classes and reports
    the first working path with the rule of every hop. Environments come from VPC tags, else (in an
    organisation) from the account's OU or account name.

    Remediation: Remove the peering or transit-gateway routes between the environments, or at least
    deny the traffic in the network ACLs and security groups of both sides.
    """
    from posture.graph.aws.envpaths import connections, first_path
    from posture.graph.aws.exposure import reach_of

    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    reach = ctx.derived("aws.reach", reach_of)
    links = connections(reach)
    by_account = account_envs(ctx)
    for vpc_id, vpc in sorted(reach.vpcs.items()):
        own = classify(vpc, vpc_id, keys, prod, by_account(vpc.account))
        if own.kind != PROD:
            continue
        paths: list[dict[str, Any]] = []
        unknown: list[str] = []
        unclassified, unseen = [], []
        for other_id in sorted(links.get(vpc_id, ())):
            peer_vpc = reach.vpcs.get(other_id)
            if peer_vpc is None:
                unseen.append(other_id)
                continue
            other = classify(peer_vpc, other_id, keys, prod, by_account(peer_vpc.account))
            if other.kind is None:
                unclassified.append(other_id)
                continue
            if other.kind == PROD:
                continue
            for a, b in ((other_id, vpc_id), (vpc_id, other_id)):
                v = first_path(reach, a, b, unknown.append)
                if v is not None and v.path is not None:
                    paths.append({"from_vpc": a, "to_vpc": b, **v.path.to_dict()})
        if paths:
            first = paths[0]
            peer = first["from_vpc"] if first["from_vpc"] != vpc_id else first["to_vpc"]
            yield ctx.fail(vpc, f"network path between production {vpc_id} and non-production "
                           f"{peer}: {first['summary']}", environment=own.evidence(), paths=paths)
        elif unknown or unclassified or unseen:
            why = unknown[0] if unknown else (
                f"connected to {', '.join(map(str, unclassified))} whose environment is unknown"
                if unclassified else
                f"connected to {', '.join(map(str, unseen))}, not in this snapshot (another "
                "account's VPC: an organisation scan follows the path into it)")
            yield ctx.unknown(vpc, f"cannot decide segregation: {why}",
                              environment=own.evidence())
        elif links.get(vpc_id):
            yield ctx.passed(vpc, "routes to other VPCs exist, but no traffic between production "
                             "and non-production passes the routes, network ACLs and security "
                             "groups", environment=own.evidence(),
                             connected=sorted(map(str, links[vpc_id])))
        else:
            yield ctx.passed(vpc, "no peering or transit-gateway route to another VPC",
                             environment=own.evidence())
