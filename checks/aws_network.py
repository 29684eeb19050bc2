"""Defense in depth: administrative and database ports are not reachable from the internet.

These checks use the interim path test of :mod:`posture.checks._aws_reach` (public address,
internet-gateway route, network ACL both ways, security group). A host is only reported as
exposed when every layer of a real path lets an internet client through; a host whose security
group is open but which no internet client can reach passes, and the message names the layer
that blocks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from posture.checks._aws_reach import NETWORK_READS, Iface, Network, PathState, Verdict

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

RDS_INSTANCE = "AWS::RDS::DBInstance"
FAMILIES = (4, 6)
_LAYER_ORDER = ("address", "route", "nacl-inbound", "nacl-outbound", "security-group")


def _net(ctx: CheckContext) -> Network:
    return ctx.derived("aws.network.interim_paths", Network)


def _judge(ctx: CheckContext, subject: Asset, verdicts: Sequence[Verdict], what: str,
           **extra: object) -> Result:
    """One result for a host from its per-(interface, family, port) verdicts."""
    exposed = [v for v in verdicts if v.state is PathState.EXPOSED]
    if exposed:
        ports = "/".join(str(p) for p in sorted({v.port for v in exposed}))
        return ctx.fail(subject, f"{what} reachable from the internet on tcp/{ports}",
                        paths=[v.evidence() for v in exposed], **extra)
    undecided = [v for v in verdicts if v.state is PathState.UNKNOWN]
    if undecided:
        return ctx.unknown(subject, f"cannot decide whether {what} are reachable from the "
                           f"internet: {undecided[0].detail}",
                           undecided=[v.evidence() for v in undecided], **extra)
    latent = [v for v in verdicts if v.sg_open]
    if latent:
        first = latent[0]
        groups = sorted({str(r["security_group"]) for v in latent for r in v.sg_rules})
        ports = "/".join(str(p) for p in sorted({v.port for v in latent}))
        return ctx.passed(subject, f"{what} not reachable from the internet: "
                          f"{', '.join(groups)} admit(s) tcp/{ports} from the internet, "
                          f"but {first.detail}",
                          blocked=[v.evidence() for v in latent], **extra)
    return ctx.passed(subject, f"{what} not reachable from the internet: {_summary(verdicts)}",
                      **extra)


def _summary(verdicts: Sequence[Verdict]) -> str:
    details = sorted({(_LAYER_ORDER.index(v.layer), v.detail) for v in verdicts
                      if v.layer in _LAYER_ORDER})
    if all(v.layer == "address" for v in verdicts):
        return "no public IPv4 or IPv6 address"
    texts = list(dict.fromkeys(d for _, d in details if not d.startswith("no public IPv")))
    return "; ".join(texts[:3]) + ("; ..." if len(texts) > 3 else "")


def _host_results(ctx: CheckContext, ports: Sequence[int], what: str) -> Iterator[Result]:
    net = _net(ctx)
    for host, ifaces in net.hosts(ctx.inventory):
        verdicts = [net.evaluate(i, fam, int(p)) for i in ifaces for fam in FAMILIES for p in ports]
        yield _judge(ctx, host, verdicts, what, state=host.attr("state") or host.attr("status"))


@check(
    id="aws.network.admin_ports_not_internet_reachable",
    title="Administrative ports are not reachable from the internet",
    severity=Severity.CRITICAL,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    remediation=(
        "Remove internet ingress (0.0.0.0/0, ::/0) on administrative ports from the security "
        "group; reach hosts through SSM Session Manager, EC2 Instance Connect Endpoint or a "
        "bastion with a narrow source range, and keep them in private subnets."
    ),
    rationale=(
        "SSH, RDP and WinRM exposed to the internet are brute-forced within minutes and are a "
        "common initial-access vector. Reported only when a complete path exists: public "
        "address, internet-gateway route, network ACL in both directions and security group."
    ),
    params={"admin_ports": (22, 3389, 5985, 5986)},
)
def admin_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    yield from _host_results(ctx, ctx.param("admin_ports"), "administrative ports")


@check(
    id="aws.network.db_ports_not_internet_reachable",
    title="Database ports are not reachable from the internet",
    severity=Severity.CRITICAL,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS | {RDS_INSTANCE},
    remediation=(
        "Move databases to private subnets, turn off 'publicly accessible' on RDS instances, and "
        "allow database ports only from the application tier's security group."
    ),
    rationale=(
        "A database listener reachable from the internet exposes data to credential stuffing "
        "and to exploits of the engine itself. EC2 hosts are tested on the configured database "
        "ports, RDS instances on their own port."
    ),
    params={
        "db_ports": (1433, 1521, 3306, 5432, 5439, 5984, 6379, 8086, 9042, 9200, 9300, 11211,
                     27017, 27018),
    },
)
def db_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    yield from _host_results(ctx, ctx.param("db_ports"), "database ports")
    net = _net(ctx)
    for db in ctx.inventory.of(RDS_INSTANCE):
        yield _rds_result(ctx, net, db)


def _rds_result(ctx: CheckContext, net: Network, db: Asset) -> Result:
    public, port = db.attr("publicly_accessible"), db.attr("port")
    subnets = sorted(db.attr("subnet_ids") or ())
    if public is False:
        return ctx.passed(db, "database not reachable from the internet: not publicly accessible",
                          publicly_accessible=False)
    if public is None or port is None or not subnets:
        return ctx.unknown(db, "cannot decide whether the database is reachable from the "
                           "internet: publicly_accessible, port or subnets unknown",
                           publicly_accessible=public, port=port, subnet_ids=subnets)
    address = db.attr("endpoint_address") or "publicly accessible"
    sgs = tuple(db.attr("security_group_ids") or ())
    verdicts = [net.evaluate(Iface(None, s, db.attr("vpc_id"), (address,), (), sgs), 4, int(port))
                for s in subnets]
    exposed = [v for v in verdicts if v.state is PathState.EXPOSED]
    if exposed and len(exposed) < len(verdicts):
        return ctx.unknown(db, f"database reachable from the internet on tcp/{port} only if it "
                           "runs in one of its subnets with an internet path "
                           f"({', '.join(str(v.path.get('subnet')) for v in exposed)})",
                           paths=[v.evidence() for v in verdicts], publicly_accessible=True)
    return _judge(ctx, db, verdicts, "database port", publicly_accessible=True)
