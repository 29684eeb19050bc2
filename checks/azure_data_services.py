"""Managed data services on Azure: PostgreSQL and MySQL flexible servers (public endpoint and
firewall, judged like Azure SQL's in azure_network_sql.py; TLS server parameters; customer key;
backups) and Cosmos DB accounts (firewall, key authentication, customer key, TLS).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.checks.azure_network_sql import SqlFirewall
from posture.checks.azure_transit import tls_version

from posture.engine import CheckContext, Result
from posture.graph.azure.allowlist import admitted
from posture.model import Asset, Principle, Severity
from posture.registry import check

POSTGRES = "Microsoft.DBforPostgreSQL/flexibleServers"
MYSQL = "Microsoft.DBforMySQL/flexibleServers"
COSMOS = "Microsoft.DocumentDB/databaseAccounts"
ENGINES = {"postgresql": "PostgreSQL", "mysql": "MySQL"}
AZURE_DATACENTERS = "0.0.0.0"


def servers(ctx: CheckContext) -> Iterator[Asset]:
    for type_ in (POSTGRES, MYSQL):
        yield from ctx.inventory.of(type_)


def _span(rule: Mapping[str, Any]) -> str:
    return f"{rule.get('name')} ({rule.get('start_ip')}-{rule.get('end_ip')})"


def _firewalls(ctx: CheckContext) -> Iterator[tuple[Asset, SqlFirewall] | Result]:
    """Every flexible server with its firewall when the rules decide, else the settled finding."""
    for server in servers(ctx):
        settled = _settled(ctx, server)
        yield settled or (server, SqlFirewall.of(server.attr("firewall_rules")))


def _settled(ctx: CheckContext, server: Asset) -> Result | None:
    """The finding when the firewall rules decide nothing: PASS without a public endpoint
    (VNet-integrated, or public network access Disabled), INCONCLUSIVE when the setting or the
    rules are unknown; None when the rules decide."""
    access = server.attr("public_network_access")
    if server.attr("delegated_subnet_id"):
        return ctx.passed(server, "private access (VNet integration): the server has no public "
                          "endpoint", delegated_subnet_id=server.attr("delegated_subnet_id"))
    if access == "Disabled":
        return ctx.passed(server, "public network access is disabled: only private endpoints "
                          "reach the server", public_network_access=access)
    if access != "Enabled":
        return ctx.unknown(server, f"public network access is {access!r}, a value posture "
                           "does not evaluate", public_network_access=access)
    if server.attr("firewall_rules") is None:
        return ctx.unknown(server, "public network access is Enabled and the firewall rules "
                           "were not read")
    return None


NETWORK_READS = {f"{t}#{f}" for t in (POSTGRES, MYSQL) for f in ("listing", "firewall_rules")}
TLS_READS = {f"{t}#{f}" for t in (POSTGRES, MYSQL) for f in ("listing", "parameters")}


@check("azure.data.flexible_server_not_open_to_internet", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads=NETWORK_READS, params={"max_prefix_len": 8})
def flexible_server_not_open_to_internet(ctx: CheckContext) -> Iterator[Result]:
    """PostgreSQL and MySQL flexible servers are not open to the internet

    With public network access Enabled the server firewall is the only barrier between the
    internet and the database login; rules that admit a /`max_prefix_len` (default /8) worth of
    public IPv4 addresses, alone or together (0.0.0.0-255.255.255.255 above all), expose it to
    credential stuffing and engine exploits. A VNet-integrated server or one with public access
    Disabled has no public endpoint.

    Remediation: Disable public network access and connect through private endpoints or VNet
    integration; if the public endpoint must stay, replace wide firewall rules with the specific
    public addresses of the clients.
    """
    wide = 2 ** (32 - int(ctx.param("max_prefix_len")))
    for found in _firewalls(ctx):
        if isinstance(found, Result):
            yield found
            continue
        server, fw = found
        evidence = {"public_addresses_admitted": fw.public_addresses,
                    "firewall_rules": list(fw.ranges)}
        engine = ENGINES.get(str(server.attr("engine")), "database")
        if fw.public_addresses >= wide:
            named = [r for r in fw.ranges if SqlFirewall.of([r]).public_addresses >= wide]
            named = named or list(fw.ranges)
            yield ctx.fail(server, f"firewall rule(s) {', '.join(_span(r) for r in named[:4])} "
                           f"admit {fw.public_addresses:,} public IPv4 addresses: the "
                           f"{engine} login is reachable from the internet", **evidence)
        else:
            yield ctx.passed(server, f"public network access is Enabled, but the firewall "
                             f"admits only {fw.public_addresses:,} public address(es)",
                             **evidence)


@check("azure.data.flexible_server_allow_azure_services_disabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads=NETWORK_READS)
def flexible_server_allow_azure_services_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Flexible servers do not admit every Azure service

    The firewall rule 0.0.0.0-0.0.0.0 ('Allow public access from any Azure service within Azure
    to this server') admits connections from any Azure resource of any customer's subscription:
    anyone who runs code in Azure reaches the login. Not an internet exposure, reported apart.

    Remediation: Delete the 0.0.0.0-0.0.0.0 firewall rule (turn off 'Allow public access from
    any Azure service') and admit your own resources through private endpoints, VNet
    integration or their specific addresses.
    """
    for found in _firewalls(ctx):
        if isinstance(found, Result):
            yield found
            continue
        server, fw = found
        if fw.azure_services:
            yield ctx.fail(server, f"firewall rule {_span(fw.azure_services[0])} admits every "
                           "Azure resource, of any subscription or tenant",
                           azure_services_rules=list(fw.azure_services))
        else:
            yield ctx.passed(server, "no 0.0.0.0-0.0.0.0 rule: Azure services are not admitted "
                             "as a whole")


@check("azure.data.flexible_server_tls12_enforced", Severity.HIGH,
       (Principle.ENCRYPTION_IN_TRANSIT,), reads=TLS_READS)
def flexible_server_tls12_enforced(ctx: CheckContext) -> Iterator[Result]:
    """Flexible servers require TLS 1.2 or later for every connection

    require_secure_transport off admits unencrypted connections; a TLS parameter accepting TLS
    1.0 or 1.1 (PostgreSQL ssl_min_protocol_version, MySQL tls_version) admits deprecated
    protocols (RFC 8996). Judged by protocol version.

    Remediation: Set require_secure_transport to ON and ssl_min_protocol_version to TLSv1.2
    (PostgreSQL) or tls_version to TLSv1.2,TLSv1.3 (MySQL) in the server parameters.
    """
    for server in servers(ctx):
        secure, minimum = server.attr("require_secure_transport"), server.attr("min_tls_version")
        evidence = {"require_secure_transport": secure, "tls_parameter":
                    server.attr("tls_parameter")}
        if secure is False:
            yield ctx.fail(server, "unencrypted connections are accepted "
                           "(require_secure_transport is off)", **evidence)
        elif secure is None or minimum is None:
            yield ctx.unknown(server, "its TLS server parameters were not read", **evidence)
        elif (tls_version(minimum) or (0, 0)) < (1, 2):
            yield ctx.fail(server, f"TLS {minimum} is accepted ({server.attr('tls_parameter')})",
                           **evidence)
        else:
            yield ctx.passed(server, f"TLS is required, {minimum} or later", **evidence)


def _customer_key(ctx: CheckContext, asset: Asset, key_uri: Any, known: bool) -> Result:
    if key_uri:
        return ctx.passed(asset, "data is encrypted with a customer-managed key",
                          key_uri=key_uri)
    if not known:
        return ctx.unknown(asset, "its encryption key source was not reported")
    return ctx.fail(asset, "data is encrypted with a Microsoft-managed key only (no "
                    "customer-managed key to audit or revoke)")


@check("azure.data.flexible_server_customer_managed_key", Severity.LOW,
       (Principle.ENCRYPTION_AT_REST,), reads={f"{POSTGRES}#listing", f"{MYSQL}#listing"})
def flexible_server_customer_managed_key(ctx: CheckContext) -> Iterator[Result]:
    """Flexible servers encrypt data with a customer-managed key

    Data at rest is always encrypted; with a customer-managed key (dataEncryption type
    AzureKeyVault) its use is logged in your Key Vault and revoking the key makes the data
    unreadable. LOW: a key-ownership control on top of encryption that is always on.

    Remediation: Create the server with data encryption by a customer-managed key in Key Vault
    (set at creation; restore into a new server to change it).
    """
    for server in servers(ctx):
        kind = server.attr("data_encryption")
        uri = server.attr("cmk_key_uri") or ("key vault" if kind == "AzureKeyVault" else None)
        yield _customer_key(ctx, server, uri, kind is not None)


@check("azure.data.flexible_server_backups_retained", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{POSTGRES}#listing", f"{MYSQL}#listing"},
       params={"min_retention_days": 14})
def flexible_server_backups_retained(ctx: CheckContext) -> Iterator[Result]:
    """Flexible server backups are retained long enough and geo-redundant

    Backups kept fewer than `min_retention_days` (default 14) days may not reach back past a
    corruption or an attacker's deletion noticed late (MEDIUM); backups kept in the server's
    region only are lost with it (geo-redundant backup off, LOW).

    Remediation: Raise the backup retention (up to 35 days) and create servers with
    geo-redundant backup (set at creation: restore into a new server to enable it).
    """
    floor = int(ctx.param("min_retention_days"))
    for server in servers(ctx):
        days, geo = server.attr("backup_retention_days"), server.attr("geo_redundant_backup")
        evidence = {"backup_retention_days": days, "geo_redundant_backup": geo}
        if days is None:
            yield ctx.unknown(server, "its backup retention was not reported", **evidence)
        elif int(days) < floor:
            where = "" if geo == "Enabled" else ", in the server's region only"
            yield ctx.fail(server, f"backups are kept {days} days (fewer than {floor}){where}",
                           **evidence)
        elif geo != "Enabled":
            yield ctx.fail_at(Severity.LOW, server, f"backups are kept {days} days but only in "
                              "the server's region (geo-redundant backup off)", **evidence)
        else:
            yield ctx.passed(server, f"backups are kept {days} days, geo-redundant", **evidence)


@check("azure.data.cosmos_not_open_to_internet", Severity.HIGH, (Principle.DEFENSE_IN_DEPTH,),
       reads={f"{COSMOS}#listing"})
def cosmos_not_open_to_internet(ctx: CheckContext) -> Iterator[Result]:
    """Cosmos DB accounts are not open to all networks

    An account with public network access, no IP rules and no virtual network filter accepts
    every network (HIGH), as do IP rules adding up to a /8 of public addresses; the IP rule
    0.0.0.0 admits every Azure datacenter, any customer's resources included (MEDIUM). Private
    endpoints only, or specific ranges and subnets, pass.

    Remediation: Disable public network access and use private endpoints, or select networks:
    specific IP ranges and virtual network rules, without 'Accept connections from within public
    Azure datacenters' (IP rule 0.0.0.0).
    """
    for account in ctx.inventory.of(COSMOS):
        access = account.attr("public_network_access")
        rules = list(account.attr("ip_rules") or ())
        evidence = {"public_network_access": access, "ip_rules": rules, "vnet_filter_enabled":
                    account.attr("vnet_filter_enabled")}
        if access == "Disabled":
            yield ctx.passed(account, "public network access is disabled: private endpoints "
                             "only", **evidence)
            continue
        if access not in (None, "Enabled"):
            yield ctx.unknown(account, f"public network access is {access!r}, a value posture "
                              "does not evaluate", **evidence)
            continue
        found = admitted(r for r in rules if r != AZURE_DATACENTERS)
        if not rules and not account.attr("vnet_filter_enabled"):
            yield ctx.fail(account, "the account accepts all networks (no IP rule, no virtual "
                           "network filter)", **evidence)
        elif found.wide:
            yield ctx.fail(account, f"IP rules admit {found.count:,} public addresses: the "
                           "account is reachable from the internet", **evidence)
        elif AZURE_DATACENTERS in rules:
            yield ctx.fail_at(Severity.MEDIUM, account, "IP rule 0.0.0.0 accepts connections "
                              "from every Azure datacenter, any customer's resources included",
                              **evidence)
        else:
            yield ctx.passed(account, f"only selected networks: {found.count:,} public "
                             f"address(es) and {len(account.attr('vnet_rule_subnet_ids') or ())}"
                             " subnet(s)", **evidence)


@check("azure.data.cosmos_local_auth_disabled", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={f"{COSMOS}#listing"})
def cosmos_local_auth_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Cosmos DB accounts accept only Entra ID authentication (keys disabled)

    The account keys are standing bearer secrets with full data access, readable by every
    holder of listKeys and named by no identity in the logs; with local authentication disabled
    only Entra ID identities with data-plane roles get in.

    Remediation: Give clients Cosmos DB data-plane role assignments through Entra ID, then set
    disableLocalAuth to true on the account.
    """
    for account in ctx.inventory.of(COSMOS):
        if account.attr("local_auth_disabled"):
            yield ctx.passed(account, "key authentication is disabled: Entra ID only")
        else:
            yield ctx.fail(account, "the account keys authorise data access (local "
                           "authentication is enabled)")


@check("azure.data.cosmos_customer_managed_key", Severity.LOW, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{COSMOS}#listing"})
def cosmos_customer_managed_key(ctx: CheckContext) -> Iterator[Result]:
    """Cosmos DB accounts encrypt data with a customer-managed key

    Data at rest is always encrypted by the service; a customer-managed key (keyVaultKeyUri)
    makes its use auditable and revocable in your Key Vault. LOW, as for flexible servers.

    Remediation: Configure a customer-managed key from Key Vault on the account (new accounts at
    creation; existing ones through the account's encryption settings).
    """
    for account in ctx.inventory.of(COSMOS):
        yield _customer_key(ctx, account, account.attr("cmk_key_uri"), True)


@check("azure.data.cosmos_min_tls12", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={f"{COSMOS}#listing"})
def cosmos_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    """Cosmos DB accounts accept only TLS 1.2 or later

    The account's minimalTlsVersion (Tls, Tls11, Tls12) is the oldest protocol its endpoints
    accept; TLS 1.0 and 1.1 are deprecated (RFC 8996).

    Remediation: Set the account's minimum TLS version to 1.2 (minimalTlsVersion Tls12).
    """
    for account in ctx.inventory.of(COSMOS):
        value = account.attr("min_tls_version")
        raw = account.attr("minimal_tls_version")
        if value is None:
            yield ctx.unknown(account, "its minimum TLS version was not reported",
                              minimal_tls_version=raw)
        elif (tls_version(value) or (0, 0)) < (1, 2):
            yield ctx.fail(account, f"TLS {value} is accepted (minimalTlsVersion {raw})",
                           minimal_tls_version=raw)
        else:
            yield ctx.passed(account, f"minimum TLS version {value}", minimal_tls_version=raw)
