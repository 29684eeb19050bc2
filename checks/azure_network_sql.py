"""Defense in depth on Azure SQL's public endpoint: public network access and the server firewall.

With public network access ``Disabled`` only private endpoints reach the server and its firewall
rules do not apply. With ``Enabled``, the server-level firewall decides who reaches the login:
an address range admits clients whose public address is in it, and the rule ``0.0.0.0``-
``0.0.0.0`` is ARM's encoding of "Allow Azure services and resources to access this server" —
not an address range: it admits connections that originate inside Azure, from any subscription
of any tenant, and no internet client. The two are separate findings of separate severity.

A rule set is *open to the internet* when the union of its ranges admits at least as many public
IPv4 addresses as a ``/max_prefix_len`` network (``/8``: 16.7 million, the same threshold as an
NSG source or a Cloud SQL authorized network). Private, loopback, link-local, shared (CGNAT),
multicast and reserved addresses are not counted: no internet client has them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.net import NON_PUBLIC_IPV4
from posture.registry import check

SQL_SERVER = "Microsoft.Sql/servers"
AZURE_SERVICES = ("0.0.0.0", "0.0.0.0")
_NOT_PUBLIC = tuple(ipaddress.IPv4Network(n) for n in NON_PUBLIC_IPV4)


@dataclass(frozen=True, slots=True)
class SqlFirewall:
    """A server's firewall rules as the SQL gateway reads them."""

    ranges: tuple[Mapping[str, Any], ...]  # ordinary address ranges
    azure_services: tuple[Mapping[str, Any], ...]  # 0.0.0.0-0.0.0.0 rules
    public_addresses: int  # public IPv4 addresses the union of the ranges admits

    @classmethod
    def of(cls, rules: Sequence[Mapping[str, Any]]) -> SqlFirewall:
        services = tuple(r for r in rules if _allows_azure_services(r))
        ranges = tuple(r for r in rules if not _allows_azure_services(r))
        return cls(ranges, services, public_count([n for r in ranges for n in _networks(r)]))


def _allows_azure_services(rule: Mapping[str, Any]) -> bool:
    return (str(rule.get("start_ip")), str(rule.get("end_ip"))) == AZURE_SERVICES


def _networks(rule: Mapping[str, Any]) -> list[ipaddress.IPv4Network]:
    try:
        start = ipaddress.IPv4Address(str(rule.get("start_ip")))
        end = ipaddress.IPv4Address(str(rule.get("end_ip")))
    except ValueError:
        return []  # not an IPv4 range: ARM rejects such rules; nothing is admitted
    if end < start:
        return []
    return list(ipaddress.summarize_address_range(start, end))


def public_count(networks: Sequence[ipaddress.IPv4Network]) -> int:
    """Public IPv4 addresses in the union of ``networks``."""
    total = 0
    for net in ipaddress.collapse_addresses(networks):
        total += net.num_addresses
        for private in _NOT_PUBLIC:
            if net.overlaps(private):
                total -= min(net.num_addresses, private.num_addresses)
    return total


def _span(rule: Mapping[str, Any]) -> str:
    return f"{rule.get('name')} ({rule.get('start_ip')}-{rule.get('end_ip')})"


def _settled_without_firewall(ctx: CheckContext, server: Asset) -> Result | None:
    """The finding when the firewall rules decide nothing, else None: PASS when public access is
    disabled (the rules do not apply), INCONCLUSIVE when they matter (public access on) but are
    unknown."""
    access = server.attr("public_network_access")
    if access == "Disabled":
        return _disabled(ctx, server)
    if access is None:
        return ctx.unknown(server, "public network access setting not reported")
    if access != "Enabled":
        return ctx.unknown(
            server, f"public network access is {access!r}, a value posture does not evaluate"
        )
    if server.attr("firewall_rules") is None:
        errors = [
            e.describe()
            for e in ctx.inventory.errors
            if e.resource_uid == server.uid
            and any(t.endswith("#firewall_rules") for t in e.asset_types)
        ]
        why = errors[0] if errors else "not collected"
        return ctx.unknown(
            server, f"public network access is Enabled and the firewall rules are unknown: {why}"
        )
    return None


def _disabled(ctx: CheckContext, server: Asset) -> Result:
    rules = server.attr("firewall_rules") or ()
    return ctx.passed(
        server,
        "public network access is disabled: only private endpoints reach the server"
        + (f" (its {len(rules)} firewall rule(s) do not apply)" if rules else ""),
        public_network_access="Disabled",
        firewall_rules=list(rules),
    )


@check("azure.network.sql_public_network_access_disabled", Severity.HIGH,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{SQL_SERVER}#listing"})
def sql_public_network_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL servers disable public network access

    A public endpoint makes the server's firewall rules the only barrier between the internet and
    the database login (CIS Azure 5.1.7). Whether those rules admit the internet today is judged by
    azure.network.sql_not_open_to_internet.

    Remediation: Set publicNetworkAccess to Disabled and connect through private endpoints.
    """
    for server in ctx.inventory.of(SQL_SERVER):
        value = server.attr("public_network_access")
        rules = server.attr("firewall_rules")
        if value == "Disabled":
            yield ctx.passed(server, "public network access is disabled")
        elif value is None:
            yield ctx.unknown(server, "public network access setting not reported")
        else:
            yield ctx.fail(
                server,
                f"public network access is {value}: the server firewall is the only barrier",
                public_network_access=value,
                firewall_rules=None if rules is None else list(rules),
            )


@check("azure.network.sql_not_open_to_internet", Severity.CRITICAL, (Principle.DEFENSE_IN_DEPTH,),
       reads={f"{SQL_SERVER}#listing"}, params={"max_prefix_len": 8})
def sql_not_open_to_internet(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL servers are not open to the internet through their public endpoint

    With public network access Enabled, the server firewall is the only barrier between the
    internet and the database login; a rule admitting the whole IPv4 space (or any range of /8 size
    or wider, alone or together) exposes the login to credential stuffing and engine exploits. With
    public network access Disabled the rules do not apply.

    Remediation: Set publicNetworkAccess to Disabled and connect through private endpoints; if the
    public endpoint must stay, replace wide firewall rules (0.0.0.0-255.255.255.255) with the
    specific public addresses of the clients that need it.
    """
    wide = 2 ** (32 - int(ctx.param("max_prefix_len")))
    for server in ctx.inventory.of(SQL_SERVER):
        settled = _settled_without_firewall(ctx, server)
        if settled is not None:
            yield settled
            continue
        fw = SqlFirewall.of(server.attr("firewall_rules"))
        evidence = {
            "public_network_access": "Enabled",
            "public_addresses_admitted": fw.public_addresses,
            "firewall_rules": list(fw.ranges),
        }
        if fw.public_addresses >= wide:
            alone = [r for r in fw.ranges if public_count(_networks(r)) >= wide]
            named = alone or list(fw.ranges)
            yield ctx.fail(
                server,
                f"public network access is Enabled and firewall rule(s) "
                f"{', '.join(_span(r) for r in named[:4])}{' ...' if len(named) > 4 else ''} "
                f"admit {fw.public_addresses:,} public IPv4 addresses: the database login is "
                "reachable from the internet",
                **evidence,
            )
        elif fw.ranges:
            yield ctx.passed(
                server,
                f"public network access is Enabled, but the firewall admits only "
                f"{fw.public_addresses:,} public address(es): "
                + ", ".join(_span(r) for r in fw.ranges[:4])
                + (" ..." if len(fw.ranges) > 4 else ""),
                **evidence,
            )
        else:
            yield ctx.passed(
                server,
                "public network access is Enabled, but no firewall rule admits an internet "
                "address range",
                **evidence,
            )


@check("azure.network.sql_allow_azure_services_disabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{SQL_SERVER}#listing"})
def sql_allow_azure_services_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL servers do not admit every Azure service ('Allow Azure services' is off)

    The firewall rule 0.0.0.0-0.0.0.0 admits every connection that originates inside Azure,
    including resources in other customers' subscriptions and tenants: anyone who can run a
    function or a VM in Azure reaches the login. It is not an internet exposure (internet clients
    stay blocked), so it is reported here and not as one. It does not apply with public network
    access Disabled.

    Remediation: Turn off 'Allow Azure services and resources to access this server' (delete the
    0.0.0.0-0.0.0.0 firewall rule AllowAllWindowsAzureIps); admit your own Azure resources through
    private endpoints, VNet service endpoint rules or their specific public addresses.
    """
    for server in ctx.inventory.of(SQL_SERVER):
        settled = _settled_without_firewall(ctx, server)
        if settled is not None:
            yield settled
            continue
        fw = SqlFirewall.of(server.attr("firewall_rules"))
        if fw.azure_services:
            yield ctx.fail(
                server,
                "'Allow Azure services and resources to access this server' is on (firewall rule "
                f"{', '.join(_span(r) for r in fw.azure_services)}): any resource in Azure, of "
                "any subscription or tenant, reaches the database login",
                public_network_access="Enabled",
                azure_services_rules=list(fw.azure_services),
            )
        else:
            yield ctx.passed(
                server,
                "'Allow Azure services' is off (no 0.0.0.0-0.0.0.0 firewall rule)",
                public_network_access="Enabled",
            )
