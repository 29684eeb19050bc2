"""Defense in depth on GCP: admin and database ports reachable from the internet, world-open
firewall rules, the default network's permissive rules, Cloud SQL exposure.

The path checks use :mod:`posture.graph.gcp.exposure`: an instance is reported as exposed
only when the firewall (hierarchical and network firewall policies, VPC rules, implied rules, in
the network's evaluation order) admits internet clients on the port *and* the interface has an
external IP *and* the network's routes send the replies to those clients to the internet gateway
(:mod:`posture.graph.gcp.route`), or when an external load balancer delivers the port to it
and the firewall admits the load balancer's sources (its proxies, or the clients of a
passthrough load balancer, whose replies need the route too). Internet clients count only as
the *wide* internet, as on AWS and Azure: those public addresses add up to at least a /8 of
IPv4 or a /16 of IPv6 (:data:`posture.graph.gcp.clients.WIDE`); a port reachable from narrow
allow-listed ranges only (an office /24) passes, naming them. Rules
shadowed by a deny that is evaluated first, disabled rules, egress rules, Identity-Aware Proxy
access and rules whose targets have no external IP are not exposure. A verdict that depends on
what the inventory cannot decide (secure-tag targets, FQDN sources, unread firewall policies,
Cloud Armor, unresolved load-balancer backends) is INCONCLUSIVE.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Any

from posture.checks._shared import gcp_estate as estate

from posture.engine import CheckContext, Result
from posture.gcp import FIREWALL, FIREWALL_POLICY, INSTANCE, NETWORK, SQL_INSTANCE
from posture.graph.gcp.exposure import PATH_READS, RuleReach, assess, rule_label, rule_reach, via_lb
from posture.graph.gcp.fw import VpcRule, ports_match, rule_is_world_open
from posture.graph.gcp.fwpolicy import policy_rules_of, world_sources
from posture.graph.gcp.lb import Unresolved
from posture.model import Asset, Principle, Severity
from posture.net import ADMIN_PORTS
from posture.net import DATABASE_PORTS as DB_PORTS
from posture.registry import check

_DEFAULT_RULES = (
    "default-allow-internal",
    "default-allow-ssh",
    "default-allow-rdp",
    "default-allow-icmp",
)


def _judge_instances(ctx: CheckContext, param: str, what: str) -> Iterator[Result]:
    """Every instance judged on the ports of parameter ``param``, then the load balancers whose
    backends could not be resolved."""
    ports = tuple(int(p) for p in ctx.param(param))
    for host in ctx.inventory.of(INSTANCE):
        yield judge(ctx, host, ports, what)
    yield from unresolved_results(ctx, ports, what)


@check("gcp.network.admin_ports_not_internet_reachable", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads=PATH_READS, params={"admin_ports": ADMIN_PORTS})
def admin_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Administrative ports of GCP instances are not reachable from the internet

    SSH and RDP exposed to the internet are brute-forced within minutes. Reported only when the
    firewall rules that win (priority, deny over allow) admit a wide range of internet clients (at
    least a /8 worth of public IPv4 addresses, or a /16 of IPv6), the interface has an external IP
    and a route sends their replies to the internet gateway; IAP-only access is the bastionless
    admin path, and a port reachable only from allow-listed ranges (an office /24) passes with the
    ranges named.

    Remediation: Remove 0.0.0.0/0 ingress on SSH/RDP/WinRM; admit only Identity-Aware Proxy
    (35.235.240.0/20) and connect with `gcloud compute ssh --tunnel-through-iap`, and drop external
    IPs from instances that do not serve the internet.
    """
    yield from _judge_instances(ctx, "admin_ports", "administrative ports")


@check(
    "gcp.network.db_ports_not_internet_reachable", Severity.CRITICAL, (Principle.DEFENSE_IN_DEPTH,),
    reads=PATH_READS,
    params={"db_ports": DB_PORTS},
)
def db_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Database ports of GCP instances are not reachable from the internet

    A database listener reachable from the internet exposes data to credential stuffing and engine
    exploits. Same path semantics as the admin-port check.

    Remediation: Remove internet ingress on database ports; admit them only from the application
    tier's network tags or service accounts, and remove the database hosts' external IPs.
    """
    yield from _judge_instances(ctx, "db_ports", "database ports")


@check(
    "gcp.network.no_latent_sensitive_port_exposure", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
    reads=PATH_READS,
    params={"admin_ports": ADMIN_PORTS, "db_ports": DB_PORTS},
)
def no_latent_sensitive_port_exposure(ctx: CheckContext) -> Iterator[Result]:
    """No firewall rule admits the internet to administrative or database ports of instances
    that are not reachable today

    Latent exposure: the winning firewall rules admit the wide internet (as in the CRITICAL checks:
    a /8 of IPv4, a /16 of IPv6) on an administrative or database port, and the only missing layer
    is the instance's external IP. Adding an access config (or a passthrough network load balancer,
    which keeps client addresses) exposes the port at once. Real exposures are reported by the
    CRITICAL checks, never here; IAP-only access and rules shadowed by a deny are not latent
    exposure.

    Remediation: Remove the 0.0.0.0/0 (::/0) source from the rule on the sensitive port even though
    the instance has no external IP today: admit Identity-Aware Proxy (35.235.240.0/20) for
    administration and the application tier's tags or service accounts for databases.
    """
    ports = sorted({*map(int, ctx.param("admin_ports")), *map(int, ctx.param("db_ports"))})
    est = estate(ctx)
    for host in ctx.inventory.of(INSTANCE):
        rep = assess(est, host, ports)
        exposed = set(rep.ports(rep.exposed))
        hidden = [e for e in rep.latent if int(str(e["port"])) not in exposed]
        maybe = [e for e in rep.latent_possible if int(str(e["port"])) not in exposed]
        if hidden:
            rules = sorted({_rule_name(e) for e in hidden})
            families = sorted({str(e["family"]).replace("ipv", "IPv") for e in hidden})
            yield ctx.fail(
                host,
                f"firewall rule(s) {', '.join(rules)} admit internet clients on "
                f"tcp/{'/'.join(map(str, rep.ports(hidden)))}; the only missing layer is an "
                f"external {'/'.join(families)} address (an access config or a passthrough "
                "load balancer would expose it)",
                latent=hidden,
                status=host.attr("status"),
            )
        elif rep.unknown_networks or maybe:
            why = (
                f"the firewall policies of network {', '.join(sorted(set(rep.unknown_networks)))}"
                " could not be read"
                if rep.unknown_networks
                else "; ".join(sorted({r for e in maybe for r in e.get("undecided") or ()}))
            )
            yield ctx.unknown(host, f"latent exposure not decided: {why}", possible=maybe)
        elif exposed:
            yield ctx.passed(
                host,
                "no latent exposure (real exposure on "
                f"tcp/{'/'.join(map(str, sorted(exposed)))} is reported by the CRITICAL checks)",
            )
        else:
            yield ctx.passed(
                host,
                "no firewall rule admits the wide internet (a /8 of IPv4, a /16 of IPv6) to a "
                "sensitive port",
            )


def _rule_name(evidence: dict[str, object]) -> str:
    rule = evidence.get("firewall_rule")
    if isinstance(rule, dict):
        policy_rule = f"{rule.get('firewall_policy')} rule {rule.get('priority')}"
        return str(rule.get("firewall") or policy_rule)
    return "an unknown policy"


@check("gcp.network.firewall_admin_ports_not_open_to_world", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={FIREWALL, FIREWALL_POLICY},
       params={"admin_ports": (22, 3389)})
def firewall_admin_ports_not_open_to_world(ctx: CheckContext) -> Iterator[Result]:
    """No enabled firewall rule admits SSH or RDP from 0.0.0.0/0

    Hygiene on the rule itself (CIS): even when no instance is reachable today, a world-open admin
    rule exposes the next instance that gets a matching tag and an external IP. VPC firewall rules
    and the rules of global and regional network firewall policies. A VPC rule fails at MEDIUM
    while some target is (or may be) reached through it, and at LOW when nothing is behind it
    today, saying why: shadowed by a higher-priority deny (named), no external address on its
    targets (the latent-exposure check reports those hosts at MEDIUM), a firewall policy deciding
    first, or no instance matching its targets; without the instances or their firewall chain it
    stays MEDIUM.

    Remediation: Narrow the rule's source ranges to Identity-Aware Proxy (35.235.240.0/20) or known
    administrative networks, or delete the rule.
    """
    ports = tuple(int(p) for p in ctx.param("admin_ports"))
    seen = not ctx.inventory.errors_affecting(PATH_READS)
    for fw in ctx.inventory.of(FIREWALL):
        rule = VpcRule.of(fw)
        open_ports = [p for p in ports if rule_is_world_open(rule, "tcp", p)]
        if open_ports:
            yield _world_open_rule(ctx, fw, rule, open_ports, seen)
        else:
            yield ctx.passed(
                fw,
                "rule does not admit admin ports from anywhere",
                disabled=rule.disabled,
                direction=rule.direction,
            )
    for policy in ctx.inventory.of(FIREWALL_POLICY):
        yield _policy_world_open(ctx, policy, ports)


def _world_open_rule(
    ctx: CheckContext, fw: Asset, rule: VpcRule, ports: Sequence[int], seen: bool
) -> Result:
    """MEDIUM while the rule exposes (or may expose) a target; LOW, saying why, when every
    target is kept from the internet today by something else (the latent check reports those
    hosts) or it has no target: the same fact is never reported twice at MEDIUM."""
    what = f"rule admits tcp/{'/'.join(map(str, ports))} from anywhere"
    evidence: dict[str, Any] = {"rule": rule.evidence(), "target_tags": list(rule.target_tags)}
    if not seen:  # the instances or their firewall chain were not all read: no context
        return ctx.fail(fw, what, **evidence)
    found = rule_reach(estate(ctx), rule, ctx.inventory.of(INSTANCE), ports)
    evidence["targets"] = list(found.targets)
    if not found.harmless_today:
        reached = found.exposing or found.undecided
        evidence.update(exposing=list(found.exposing), undecided=list(found.undecided))
        verb = "reaches" if found.exposing else "may reach"
        return ctx.fail(fw, f"{what}; the internet {verb} {_names(reached)} through it", **evidence)
    context = _context(found)
    evidence.update(
        latent=list(found.latent),
        shadowed={d: list(names) for d, names in found.shadowed},
        blocked=list(found.blocked),
    )
    return ctx.fail_at(Severity.LOW, fw, f"{what}, but {context}", **evidence)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")


def _context(found: RuleReach) -> str:
    """Why a world-open rule exposes nothing today, in words."""
    if not found.targets:
        return "no instance matches its targets today"
    parts = [f"shadowed by {deny} on {_names(names)}" for deny, names in found.shadowed]
    if found.latent:
        parts.append(f"no external address on {_names(found.latent)}")
    if found.blocked:
        parts.append(f"a firewall policy decides first on {_names(found.blocked)}")
    return "; ".join(parts) or "no target is reachable from the internet"


def _policy_world_open(ctx: CheckContext, policy: Asset, ports: Sequence[int]) -> Result:
    hits = []
    for rule in policy_rules_of(policy):
        if rule.disabled or rule.direction != "INGRESS" or rule.action != "allow":
            continue
        open_ports = [p for p in ports if ports_match(rule.protocols, "tcp", p)]
        if open_ports and world_sources(rule):
            hits.append({**rule.evidence(), "ports": open_ports})
    if hits:
        found = sorted({p for h in hits for p in h["ports"]})
        return ctx.fail(
            policy,
            f"policy rule(s) admit tcp/{'/'.join(map(str, found))} from anywhere",
            rules=hits,
        )
    return ctx.passed(policy, "no policy rule admits admin ports from anywhere")


@check("gcp.network.default_network_rules_not_permissive", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.SEGREGATION), reads={NETWORK, FIREWALL, INSTANCE})
def default_network_rules_not_permissive(ctx: CheckContext) -> Iterator[Result]:
    """The default network's permissive firewall rules are not in place

    The auto-created default network admits SSH, RDP and ICMP from anywhere and all internal
    traffic between every instance: no tiers, no segregation.

    Remediation: Move workloads to a custom-mode VPC with explicit rules and delete the default
    network, or at least delete default-allow-ssh, default-allow-rdp and default-allow-internal.
    """
    fws = ctx.inventory.of(FIREWALL)
    for net in ctx.inventory.of(NETWORK):
        if net.attr("network_name") != "default":
            continue
        path = net.attr("path")
        permissive = sorted(
            fw.name
            for fw in fws
            if fw.attr("network") == path
            and not fw.attr("disabled")
            and fw.attr("action") == "allow"
            and fw.attr("direction") == "INGRESS"
            and (fw.name in _DEFAULT_RULES or _world(fw.attr("source_ranges") or ()))
        )
        users = sorted(
            i.name
            for i in ctx.inventory.of(INSTANCE)
            if any(n.get("network") == path for n in i.attr("network_interfaces") or ())
        )
        if permissive:
            yield ctx.fail(
                net,
                f"default network has permissive rules {', '.join(permissive)}"
                f" ({len(users)} instance(s) attached)",
                rules=permissive,
                instances=users,
            )
        else:
            yield ctx.passed(
                net, "default network has none of the permissive rules", instances=users
            )


def _world(ranges: Sequence[str]) -> bool:
    return any(r in ("0.0.0.0/0", "::/0") for r in ranges)


@check("gcp.network.sql_no_public_authorized_networks", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads={SQL_INSTANCE}, params={"max_prefix_len": 8})
def sql_no_public_authorized_networks(ctx: CheckContext) -> Iterator[Result]:
    """Cloud SQL instances do not authorize 0.0.0.0/0 or other very broad networks

    An authorized network of 0.0.0.0/0 on a public IP lets anyone on the internet reach the
    database listener. Networks of prefix length up to the parameter count as 'everyone'.

    Remediation: Remove 0.0.0.0/0 from the instance's authorized networks; connect through the
    Cloud SQL Auth Proxy or private IP instead.
    """
    limit = int(ctx.param("max_prefix_len"))
    for db in ctx.inventory.of(SQL_INSTANCE):
        broad = [n for n in db.attr("authorized_networks") or () if _prefix(n) <= limit]
        if broad and db.attr("ipv4_enabled"):
            yield ctx.fail(
                db,
                f"public IP authorizes {', '.join(broad)}",
                authorized=broad,
                public_ips=db.attr("public_ips"),
            )
        elif broad:
            yield ctx.passed(
                db, f"authorizes {', '.join(broad)} but has no public IP", authorized=broad
            )
        else:
            yield ctx.passed(
                db, "no broad authorized network", authorized=db.attr("authorized_networks")
            )


def _prefix(cidr: str) -> int:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen
    except ValueError:
        return 128


@check("gcp.network.sql_no_public_ip", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
       reads={SQL_INSTANCE})
def sql_no_public_ip(ctx: CheckContext) -> Iterator[Result]:
    """Cloud SQL instances have no public IP address

    A public IP puts the database one firewall list (authorized networks) away from the internet;
    private IP keeps it behind the VPC's controls. With no authorized network and connector
    enforcement REQUIRED the address accepts only IAM-authorised connector connections: a LOW note,
    not a MEDIUM finding.

    Remediation: Give the instance a private IP (private services access) and disable its public
    IPv4 address; clients connect through the VPC or the Cloud SQL Auth Proxy.
    """
    for db in ctx.inventory.of(SQL_INSTANCE):
        public_ips = db.attr("public_ips")
        if db.attr("ipv4_enabled") and _connectors_only(db):
            yield ctx.fail_at(
                Severity.LOW,
                db,
                "instance has a public IPv4 address, but no authorized network and connector "
                "enforcement REQUIRED: it accepts only IAM-authorised Cloud SQL connector "
                "connections",
                public_ips=public_ips,
                connector_enforcement="REQUIRED",
            )
        elif db.attr("ipv4_enabled"):
            yield ctx.fail(db, "instance has a public IPv4 address", public_ips=public_ips)
        else:
            yield ctx.passed(db, "no public IP", private_network=db.attr("private_network"))


def _connectors_only(db: Asset) -> bool:
    """No authorized network and connector enforcement REQUIRED: direct connections to the
    public address are refused; only IAM-authorised Cloud SQL connectors get in."""
    return not db.attr("authorized_networks") and db.attr("connector_enforcement") == "REQUIRED"


def judge(ctx: CheckContext, host: Asset, ports: Sequence[int], what: str) -> Result:
    rep = assess(estate(ctx), host, ports)
    status = host.attr("status")
    if rep.exposed:
        lbs = via_lb(rep.exposed)
        policies = sorted(
            {
                rule_label(e["firewall_rule"])
                for e in rep.exposed
                if "frontend" not in e and "decided_by" in e and "firewall_rule" in e
            }
        )
        through = f" (through load balancer {', '.join(lbs)})" if lbs else ""
        if policies:
            through += f" (admitted by firewall policy {', '.join(policies)})"
        return ctx.fail(
            host,
            f"{what} reachable from the internet on tcp/"
            f"{'/'.join(map(str, rep.ports(rep.exposed)))}{through}",
            paths=rep.exposed,
            possible=rep.possible,
            status=status,
            depth=0,  # defense depth (gcp.network.sensitive_ports_defense_in_depth): exposed
        )
    if rep.unknown_networks:
        names = ", ".join(sorted(set(rep.unknown_networks)))
        return ctx.unknown(
            host,
            f"{what}: the firewall policies of network {names} could not be read "
            "(networks.getEffectiveFirewalls failed); exposure not decided",
            possible=rep.possible + rep.latent_possible,
            status=status,
        )
    if rep.possible:
        reasons = sorted({r for e in rep.possible for r in e.get("undecided") or ()})
        return ctx.unknown(
            host,
            f"{what} may be reachable from the internet on tcp/"
            f"{'/'.join(map(str, rep.ports(rep.possible)))}: {'; '.join(reasons)}",
            possible=rep.possible,
            status=status,
        )
    extra = {
        "latent": rep.latent,
        "iap": rep.iap,
        "shadowed": rep.shadowed,
        "load_balancer_blocked": rep.lb_blocked,
        "load_balancer_authenticated": rep.lb_authenticated,
        "unrouted": rep.unrouted,
        "allow_listed": rep.narrow,
        "status": status,
    }
    if rep.narrow:  # reachable, from allow-listed ranges (latent paths are in the evidence)
        ranges = ", ".join(dict.fromkeys(str(e["clients"]) for e in rep.narrow))
        lbs = via_lb(rep.narrow)
        through = f" (through load balancer {', '.join(lbs)})" if lbs else ""
        return ctx.passed(
            host,
            f"{what} reachable only from allow-listed internet ranges ({ranges}) on tcp/"
            f"{'/'.join(map(str, rep.ports(rep.narrow)))}{through}",
            **extra,
        )
    if rep.unrouted and not rep.latent:
        return ctx.passed(
            host,
            f"{what} not reachable from the internet: the firewall admits internet clients "
            f"on tcp/{'/'.join(map(str, rep.ports(rep.unrouted)))} but no route sends the "
            "replies to the internet gateway",
            **extra,
        )
    if rep.latent:
        return ctx.passed(
            host,
            f"{what} not reachable from the internet: the firewall admits "
            "internet clients but the instance has no external IP",
            **extra,
        )
    if rep.iap:
        return ctx.passed(
            host,
            f"{what} not reachable from the internet; reachable through "
            "Identity-Aware Proxy only (bastionless admin path)",
            **extra,
        )
    if rep.shadowed:
        denies = sorted({rule_label(r) for e in rep.shadowed for r in e["shadowed_by"]})
        return ctx.passed(
            host,
            f"{what} not reachable from the internet (firewall: deny rule(s) "
            f"{', '.join(denies)} take precedence over the allow rules)",
            **extra,
        )
    return ctx.passed(host, f"{what} not reachable from the internet (firewall)", **extra)


def unresolved_results(ctx: CheckContext, ports: Sequence[int], what: str) -> list[Result]:
    """INCONCLUSIVE for each load-balancer part whose receiving instances are unknown and that
    may carry one of ``ports``."""
    by_subject: dict[str, list[Unresolved]] = {}
    for u in estate(ctx).lb.unresolved:
        if u.relevant("tcp", tuple(int(p) for p in ports)):
            by_subject.setdefault(u.subject.uid, []).append(u)
    out = []
    for _uid, items in sorted(by_subject.items()):
        reasons = sorted({u.reason for u in items})
        out.append(
            ctx.unknown(
                items[0].subject,
                f"external load balancer may deliver {what} to instances that are not "
                f"resolved: {'; '.join(reasons)}",
                paths=[u.evidence() for u in items],
            )
        )
    return out
