"""Defense in depth: what the internet really reaches, on the reachability graph.

A host is reported exposed only when a complete path lets a wide range of internet clients in
(directly, or through an internet-facing load balancer); the finding's evidence is that path,
with the rule that admitted every hop. A security-group rule that would expose a sensitive port
but has no path today is reported separately, at lower severity, naming the blocking layer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from posture.engine import CheckContext, Result
from posture.graph.aws.bastion import BASTION_NAME, designated
from posture.graph.aws.exposure import (
    READS,
    TCP,
    Exposure,
    host_lb,
    judge,
    latent_text,
    ports_text,
    reach_of,
)
from posture.graph.aws.reach import RDS_INSTANCE, AwsReach
from posture.graph.lateral import Offence, by_subject, group_evidence, group_message
from posture.model import Asset, Principle, Severity
from posture.net import ADMIN_PORTS
from posture.net import DATABASE_PORTS as DB_PORTS
from posture.registry import check

BASTION_TAGS = ("Role=bastion",)
ENV_PARAMS = {
    "environment_tag_keys": ("Environment", "env", "Env", "Stage"),
    "production_values": ("prod", "production", "prd"),
}
LATERAL_READS = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::VPCPeeringConnection",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::TransitGatewayRouteTable",
    }
)
BASTION_PARAMS = {
    "admin_ports": ADMIN_PORTS,
    "bastion_tags": BASTION_TAGS,
    "bastion_name_pattern": BASTION_NAME,
    "infer_bastions": True,
}
BASTION_RULE = (
    "Bastions are hosts tagged as such (parameter bastion_tags); members of a security group "
    "that private-tier hosts' administrative rules name as their only source; hosts whose Name "
    "matches bastion_name_pattern (bastion, jump, jumphost, jumpbox); or, with infer_bastions "
    "(default on), inferred: a host reachable from the internet on an administrative port (from "
    "any range, allow-listed or not) that reaches "
    "private-tier hosts (no public address) of a subnet on an administrative port, when it is "
    "the only such hop (no other internet-exposed admin host and no bastion recognised "
    "otherwise reaches that subnet's private hosts on an administrative port). The evidence "
    "says why a host was taken as the bastion."
)


def _reach(ctx: CheckContext) -> AwsReach:
    return ctx.derived("aws.reach", reach_of)


def _bastions(ctx: CheckContext, reach: AwsReach) -> dict[str, str]:
    from posture.graph.aws.bastion import bastions

    return bastions(
        reach,
        ctx.param("bastion_tags"),
        ctx.param("admin_ports"),
        ctx.param("infer_bastions"),
        str(ctx.param("bastion_name_pattern") or ""),
    )


def _verdict(ctx: CheckContext, subject: Asset, exp: Exposure, what: str, **extra: Any) -> Result:
    if exp.exposed:
        return ctx.fail(
            subject,
            f"{what} reachable from the internet on {ports_text(exp.ports)}; path: {exp.summary}",
            paths=exp.exposed,
            depth=0,  # defense depth (aws.network.sensitive_ports_defense_in_depth): exposed
            **extra,
        )
    if exp.unknown:
        return ctx.unknown(
            subject,
            f"cannot decide whether {what} are reachable from the internet: {exp.unknown[0]}",
            undecided=sorted(set(exp.unknown)),
            **extra,
        )
    evidence: dict[str, Any] = dict(extra)
    if exp.narrow:
        evidence["allow_listed"] = exp.narrow
    if exp.latent:
        evidence["latent"] = exp.latent
        return ctx.passed(
            subject,
            f"{what} not reachable from the internet: {latent_text(exp.latent)}",
            **evidence,
        )
    if exp.narrow:
        return ctx.passed(
            subject,
            f"{what} reachable only from allow-listed internet ranges ({exp.narrow[0]['clients']})",
            **evidence,
        )
    reasons = "; ".join(exp.reasons[:3]) + ("; ..." if len(exp.reasons) > 3 else "")
    return ctx.passed(
        subject,
        f"{what} not reachable from the internet" + (f": {reasons}" if reasons else ""),
        **evidence,
    )


def _hosts(
    ctx: CheckContext, ports: Sequence[int], what: str, skip_bastions: bool
) -> Iterator[Result]:
    reach = _reach(ctx)
    known = _bastions(ctx, reach) if skip_bastions else {}
    for host in reach.hosts():
        state = host.asset.attr("state") or host.asset.attr("status")
        why = known.get(host.asset.uid)
        if designated(why):
            # only a designated bastion (tag, security-group reference) is judged elsewhere; a
            # named or inferred one stays subject to this check: a guess never hides an exposure
            yield ctx.passed(
                host.asset,
                "designated bastion (judged by aws.network.bastion_not_open_to_internet)",
                state=state,
                bastion=why,
            )
            continue
        exp = judge(reach, host.asset, ports, host_lb(reach, host.asset), host.interfaces)
        extra = {"bastion": why} if why is not None else {}
        yield _verdict(ctx, host.asset, exp, what, state=state, **extra)


@check(
    "aws.network.admin_ports_not_internet_reachable",
    Severity.CRITICAL,
    (Principle.DEFENSE_IN_DEPTH,),
    reads=READS,
    rationale=(
        "SSH, RDP and WinRM exposed to the internet are brute-forced within minutes. Reported "
        "only when a complete path exists (public address or internet-facing load balancer, "
        "internet-gateway route, network ACLs both ways, security groups); the evidence is the "
        "path with the rule of every hop. Designated (tagged) bastions are judged by the bastion "
        "check instead; an inferred bastion is still judged here, so a guess never hides an "
        "exposure. "
    )
    + BASTION_RULE,
    params=BASTION_PARAMS,
)
def admin_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Administrative ports are not reachable from the internet except on a bastion

    Remediation: Remove internet ingress (0.0.0.0/0, ::/0) on administrative ports from the
    security group and from load-balancer listeners; reach hosts through SSM Session Manager, EC2
    Instance Connect Endpoint or a designated bastion, and keep them in private subnets.
    """
    yield from _hosts(ctx, ctx.param("admin_ports"), "administrative ports", True)


@check(
    "aws.network.db_ports_not_internet_reachable", Severity.CRITICAL, (Principle.DEFENSE_IN_DEPTH,),
    reads=READS | {RDS_INSTANCE},
    params={"db_ports": DB_PORTS},
)
def db_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Database and cache ports are not reachable from the internet

    A database or cache reachable from the internet exposes data to credential stuffing and to
    exploits of the engine itself. EC2 hosts are tested on the configured ports, RDS instances on
    their own port (publicly accessible, subnet-group routes, security groups).

    Remediation: Move databases to private subnets, turn off 'publicly accessible' on RDS
    instances, do not forward database ports from internet-facing load balancers, and allow
    database ports only from the application tier's security group.
    """
    yield from _hosts(ctx, ctx.param("db_ports"), "database ports", False)
    reach = _reach(ctx)
    for db in ctx.inventory.of(RDS_INSTANCE):
        yield _rds(ctx, reach, db)


def _rds(ctx: CheckContext, reach: AwsReach, db: Asset) -> Result:
    public, port = db.attr("publicly_accessible"), db.attr("port")
    subnets = sorted(db.attr("subnet_ids") or ())
    if public is None or port is None or not subnets:
        return ctx.unknown(
            db,
            "cannot decide whether the database is reachable from the "
            "internet: publicly_accessible, port or subnets unknown",
            publicly_accessible=public,
            port=port,
            subnet_ids=subnets,
        )
    if public is False:
        return ctx.passed(
            db,
            "database not reachable from the internet: not publicly accessible",
            publicly_accessible=False,
        )
    per_subnet = [judge(reach, db, (int(port),), (), (i,)) for i in reach.rds_interfaces(db)]
    exposed = [e for e in per_subnet if e.exposed]
    if exposed and len(exposed) < len(per_subnet):
        return ctx.unknown(
            db,
            f"database reachable from the internet on tcp/{port} only if it "
            "runs in one of its subnets with an internet path",
            paths=[p for e in exposed for p in e.exposed],
            publicly_accessible=True,
        )
    merged = Exposure()
    for e in per_subnet:
        merged.exposed += e.exposed
        merged.ports |= e.ports
        merged.summary = merged.summary or e.summary
        merged.unknown += e.unknown
        merged.latent += e.latent
        merged.narrow += e.narrow
    return _verdict(ctx, db, merged, "database port", publicly_accessible=True)


@check(
    "aws.network.bastion_not_open_to_internet", Severity.HIGH, (Principle.DEFENSE_IN_DEPTH,),
    reads=READS,
    rationale=(
        "A bastion is the one door into the private tier; open to 0.0.0.0/0 it is brute-forced "
        "like any other host. An inferred bastion open to 0.0.0.0/0 is a finding too; the "
        "evidence says why the host is a bastion. "
    )
    + BASTION_RULE,
    params=BASTION_PARAMS,
)
def bastion_not_open_to_internet(ctx: CheckContext) -> Iterator[Result]:
    """Bastion hosts accept administrative connections only from allow-listed ranges

    Remediation: Restrict the bastion's security group to the office or VPN ranges (or replace it
    with SSM Session Manager / EC2 Instance Connect Endpoint).
    """
    reach = _reach(ctx)
    known = _bastions(ctx, reach)
    for host in reach.hosts():
        why = known.get(host.asset.uid)
        if why is None:
            continue
        exp = judge(
            reach, host.asset, ctx.param("admin_ports"), host_lb(reach, host.asset), host.interfaces
        )
        yield _verdict(ctx, host.asset, exp, "bastion administrative ports", bastion=why)


@check(
    "aws.network.private_admin_only_via_bastion", Severity.HIGH, (Principle.DEFENSE_IN_DEPTH,),
    reads=READS | LATERAL_READS,
    rationale=(
        "Defense in depth needs the bastion to be the only administrative hop into the private "
        "tier. Reported once per security group whose rule admits a non-bastion source to an "
        "administrative port of a private host (the finding's subject is the security group, "
        "not the host; the affected hosts are listed), graded by where the sources come from: "
        "HIGH when a source is the internet through a load balancer, a host the exposure "
        "checks would call internet-exposed on any TCP port (one hop away), a host of another "
        "environment (environment tags: the host's, else its VPC's; production vs "
        "non-production) or of another network (peering, transit gateway) not known to be of "
        "the same environment; LOW when only private, not exposed hosts of the same subnet or "
        "environment reach it: lateral movement inside one tier, which needs a compromised "
        "host first, not a bypass of the bastion. Private hosts reached only from bastions (or "
        "from no other host) pass, each on its own; a host whose sources are undecidable (a "
        "filter or prefix list not collected) is inconclusive. "
    )
    + BASTION_RULE,
    params={**BASTION_PARAMS, **ENV_PARAMS},
)
def private_admin_only_via_bastion(ctx: CheckContext) -> Iterator[Result]:
    """Private hosts accept administrative connections only from bastions

    Remediation: Allow administrative ports on private hosts only from the bastion's security group
    (or use SSM Session Manager), not from VPC-wide ranges, other tiers or peered networks; start
    with the HIGH findings (internet, internet-exposed neighbours, other environments).
    """
    from posture.graph.aws.bastion import is_private
    from posture.graph.aws.lateral import offences

    reach = _reach(ctx)
    ports = ctx.param("admin_ports")
    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    known = _bastions(ctx, reach)
    found: list[Offence] = []
    clean: list[tuple[Asset, list[str]]] = []
    undecided: dict[str, list[str]] = {}
    for host in reach.hosts():
        if host.asset.uid in known or not is_private(reach, host):
            continue
        mine, unknown = offences(reach, host, ports, set(known), keys, prod)
        found += mine
        undecided[host.asset.uid] = unknown
        if not mine:
            clean.append((host.asset, unknown))
    for group in by_subject(found):
        subject = ctx.inventory.get(group.subject)
        assert subject is not None  # a security group (or host) of this inventory
        yield ctx.fail_at(
            group.severity,
            subject,
            group_message(group, "administrative connections", "private host(s)"),
            **group_evidence(group, undecided),
        )
    for asset, unknown in clean:
        if unknown:
            yield ctx.unknown(
                asset,
                f"cannot decide who reaches the administrative ports: {unknown[0]}",
                undecided=unknown,
            )
        else:
            yield ctx.passed(
                asset, "administrative ports reachable only from bastions (or from no other host)"
            )


@check(
    "aws.network.no_latent_sensitive_port_exposure", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
    reads=READS | {RDS_INSTANCE},
    params={"admin_ports": ADMIN_PORTS, "db_ports": DB_PORTS},
)
def no_latent_sensitive_port_exposure(ctx: CheckContext) -> Iterator[Result]:
    """No security group opens administrative or database ports to the internet

    Latent exposure: a security group admits an administrative or database port from the internet
    but no path exists today (private subnet, network ACL deny, no public address). It is one
    change away from a real exposure; real exposures are reported by the CRITICAL checks, never
    here.

    Remediation: Remove the 0.0.0.0/0 (::/0) rule on the sensitive port even though another layer
    blocks it today: a route, ACL or address change would expose the host at once.
    """
    reach = _reach(ctx)
    ports = tuple(sorted({*ctx.param("admin_ports"), *ctx.param("db_ports")}))
    for host in reach.hosts():
        yield _latent_result(ctx, host.asset, judge(reach, host.asset, ports, (), host.interfaces))
    for db in ctx.inventory.of(RDS_INSTANCE):
        if db.attr("port") is None:
            continue
        exp = judge(reach, db, (int(db.attr("port")),), (), reach.rds_interfaces(db))
        yield _latent_result(ctx, db, exp)


def _latent_result(ctx: CheckContext, subject: Asset, exp: Exposure) -> Result:
    latent = [x for x in exp.latent if int(x["port"]) not in exp.ports]
    if latent:
        return ctx.fail(subject, latent_text(latent), latent=latent)
    if exp.unknown and not exp.exposed:
        return ctx.unknown(subject, f"cannot decide: {exp.unknown[0]}")
    if exp.exposed:
        return ctx.passed(
            subject,
            "no latent exposure (real exposure on "
            f"{ports_text(exp.ports)} is reported by the CRITICAL checks)",
        )
    return ctx.passed(subject, "no security group admits a sensitive port from the internet")


__all__ = ["TCP"]
