"""Defense in depth on Azure: admin and database ports not reachable from the internet, no
latent exposure, admin access only through Azure Bastion, and data services not open to public
networks (Azure SQL's public endpoint: :mod:`posture.checks.azure_network_sql`).

The port checks use the NSG path evaluator of :mod:`posture.graph.azure.reach`: a VM is
reported as exposed only when an internet entry point (public IP, public load balancer rule,
firewall DNAT) delivers the port and both NSG levels together admit a wide range of internet
clients (at least a /8 of public IPv4 addresses: the address sets both admit). An NSG
path open to the internet without such an entry point is latent: the CRITICAL checks pass the VM
and say so, and ``azure.network.no_latent_sensitive_port_exposure`` (MEDIUM) reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from posture.engine import CheckContext, Result
from posture.graph.azure.reach import NETWORK_READS, AzureNetwork, EndpointVerdict, Reach
from posture.graph.lateral import Offence, by_subject, group_evidence, group_message
from posture.model import Asset, Principle, Severity
from posture.net import ADMIN_PORTS
from posture.net import DATABASE_PORTS as DB_PORTS
from posture.registry import check

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
VAULT = "Microsoft.KeyVault/vaults"
LATENT_CHECK = "azure.network.no_latent_sensitive_port_exposure"
ENV_PARAMS = {
    "environment_tag_keys": ("Environment", "environment", "env", "Env", "Stage"),
    "production_values": ("prod", "production", "prd"),
}


def _net(ctx: CheckContext) -> AzureNetwork:
    return ctx.derived("azure.network.reach", AzureNetwork)


def _judge(ctx: CheckContext, vm: Asset, verdicts: Sequence[EndpointVerdict], what: str) -> Result:
    exposed = [v for v in verdicts if v.state is Reach.EXPOSED]
    if exposed:
        ports = "/".join(str(p) for p in sorted({v.port for v in exposed}))
        entries = sorted({str(p["entry"]) for v in exposed for p in v.paths})
        return ctx.fail(
            vm,
            f"{what} reachable from the internet on tcp/{ports} through {', '.join(entries)}",
            paths=[p for v in exposed for p in v.paths],
            depth=0,  # defense depth (azure.network.sensitive_ports_defense_in_depth): exposed
        )
    undecided = [v for v in verdicts if v.state is Reach.UNKNOWN]
    if undecided:
        return ctx.unknown(
            vm,
            f"cannot decide whether {what} are reachable from the internet: {undecided[0].detail}",
            undecided=[v.evidence() for v in undecided],
        )
    if not verdicts:
        return ctx.passed(vm, f"{what} not reachable: the VM has no network interface")
    latent = [v for v in verdicts if v.latent]
    if latent:
        ports = "/".join(str(p) for p in sorted({v.port for v in latent}))
        return ctx.passed(
            vm,
            f"{what} not reachable from the internet: the NSGs admit "
            f"internet clients on tcp/{ports}, but {latent[0].detail} (latent, see "
            f"{LATENT_CHECK})",
            latent=[v.evidence() for v in latent],
        )
    details = list(dict.fromkeys(v.detail for v in verdicts))
    return ctx.passed(
        vm,
        f"{what} not reachable from the internet: " + "; ".join(details[:3]),
        blocked=[v.evidence() for v in verdicts if v.paths][:10],
    )


def _vm_results(ctx: CheckContext, ports: Sequence[int], what: str) -> Iterator[Result]:
    net = _net(ctx)
    for vm, endpoints in net.hosts():
        verdicts = [net.internet_exposure(ep, int(p)) for ep in endpoints for p in ports]
        yield _judge(ctx, vm, verdicts, what)


@check("azure.network.admin_ports_not_internet_reachable", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads=NETWORK_READS, params={"admin_ports": ADMIN_PORTS})
def admin_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Administrative ports of Azure VMs are not reachable from the internet

    SSH, RDP and WinRM exposed to the internet are brute-forced within minutes. Reported only when
    a complete path exists: an entry point (public IP, public load balancer, firewall DNAT) and
    both NSG levels in priority order.

    Remediation: Remove NSG rules that admit SSH/RDP/WinRM from Internet, * or 0.0.0.0/0 (subnet
    and NIC level), remove instance public IPs and load balancer NAT rules to admin ports, and
    reach VMs through Azure Bastion or just-in-time VM access.
    """
    yield from _vm_results(ctx, ctx.param("admin_ports"), "administrative ports")


@check("azure.network.db_ports_not_internet_reachable", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads=NETWORK_READS, params={"db_ports": DB_PORTS})
def db_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    """Database ports of Azure VMs are not reachable from the internet

    A database listener reachable from the internet exposes data to credential stuffing and to
    exploits of the engine itself.

    Remediation: Keep database VMs without public IPs or public load balancer rules, and admit
    database ports in the NSGs only from the application tier (an ASG or its subnet).
    """
    yield from _vm_results(ctx, ctx.param("db_ports"), "database ports")


@check(LATENT_CHECK, Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,), reads=NETWORK_READS,
       params={"admin_ports": ADMIN_PORTS, "db_ports": DB_PORTS})
def no_latent_sensitive_port_exposure(ctx: CheckContext) -> Iterator[Result]:
    """No NSG admits the internet to administrative or database ports of Azure VMs that are not
    reachable today

    Latent exposure: both NSG levels, in priority order, admit a wide range of internet clients (at
    least a /8 of public addresses) on an administrative or database port, and the only missing
    layer is an internet entry point (an instance public IP, a public load balancer rule or inbound
    NAT rule, an Azure Firewall DNAT rule). Adding any of them exposes the port at once. Real
    exposures are reported by the CRITICAL checks, never here; a rule shadowed by a higher-priority
    deny or denied at the other NSG level is not latent exposure.

    Remediation: Remove the Internet / * / 0.0.0.0/0 source from the NSG rule on the sensitive port
    even though the VM has no internet entry point today: admit the AzureBastionSubnet for
    administration and the application tier's ASG or subnet for databases.
    """
    net = _net(ctx)
    ports = sorted({*map(int, ctx.param("admin_ports")), *map(int, ctx.param("db_ports"))})
    for vm, endpoints in net.hosts():
        yield _latent(ctx, vm, [net.internet_exposure(ep, p) for ep in endpoints for p in ports])


def _latent(ctx: CheckContext, vm: Asset, verdicts: Sequence[EndpointVerdict]) -> Result:
    exposed = sorted({v.port for v in verdicts if v.state is Reach.EXPOSED})
    hidden = [
        v for v in verdicts if v.latent and v.state is Reach.BLOCKED and v.port not in exposed
    ]
    undecided = [
        v
        for v in verdicts
        if v.state is Reach.UNKNOWN and (v.latent or not v.nsg_known) and v.port not in exposed
    ]
    if hidden:
        ports = "/".join(str(p) for p in sorted({v.port for v in hidden}))
        layers = {_rule_key(layer): layer for v in hidden for layer in v.admitted_by}
        rules = [_rule_text(layers[key]) for key in sorted(layers)]
        return ctx.fail(
            vm,
            f"NSG rule(s) {', '.join(rules)} admit internet clients on tcp/{ports}; the missing "
            f"layer is an internet entry point: {_missing(hidden[0], ports)} (adding one exposes "
            "the port at once)",
            latent=[v.evidence() for v in hidden],
        )
    if undecided:
        return ctx.unknown(
            vm,
            f"cannot decide whether the NSG paths open to the internet are latent or exposed: "
            f"{undecided[0].detail}",
            undecided=[v.evidence() for v in undecided],
        )
    if exposed:
        return ctx.passed(
            vm,
            f"no latent exposure (real exposure on tcp/{'/'.join(map(str, exposed))} is "
            "reported by the CRITICAL checks)",
        )
    return ctx.passed(vm, "no NSG path admits internet clients to a sensitive port")


def _rule_key(layer: Mapping[str, Any]) -> tuple[int, str, int, str]:
    order = 0 if layer.get("layer") == "subnet" else 1
    return (order, str(layer.get("nsg")), int(layer.get("priority") or 0), str(layer.get("rule")))


def _rule_text(layer: Mapping[str, Any]) -> str:
    nsg = str(layer.get("nsg") or "").rsplit("/", 1)[-1]
    return f"{nsg}/{layer.get('rule')} ({layer.get('layer')}, priority {layer.get('priority')})"


def _missing(verdict: EndpointVerdict, ports: str) -> str:
    if verdict.paths:  # an entry point exists but its own path is blocked (a firewall DNAT)
        path = verdict.paths[0]
        name = str(path.get("via")).rsplit("/", 1)[-1]
        return f"the only one, {path.get('entry')} {name}, is blocked ({verdict.detail})"
    return (
        "no public IP address, public load balancer rule, inbound NAT rule or firewall DNAT "
        f"delivers tcp/{ports} to the VM"
    )


@check("azure.network.admin_access_only_from_bastion", Severity.HIGH, (Principle.DEFENSE_IN_DEPTH,),
       reads=NETWORK_READS, params={"admin_ports": (22, 3389), **ENV_PARAMS})
def admin_access_only_from_bastion(ctx: CheckContext) -> Iterator[Result]:
    """Administrative ports of Azure VMs admit only the Azure Bastion subnet

    With the Bastion pattern, every administrative session passes an authenticated, logged gateway.
    Both NSG levels are evaluated for the internet (through an entry point) and for every subnet
    and NIC of the VNet and its connected peers. Reported once per NSG whose rule admits a
    non-Bastion source (the finding's subject is the NSG - the first level filtering the flow, the
    subnet's before the NIC's - or the subnet when neither level has one; the affected VMs are
    listed), naming the rule, Azure's default rule as AllowVnetInBound (priority 65000, default
    rule of every NSG), and graded by where the sources come from: HIGH when a source is the
    internet, a VM the exposure checks would call internet-exposed on any TCP port (one hop away),
    a VM or subnet of another environment (environment tags: the VM's, else its VNet's; production
    vs non-production) or of a peered VNet not known to be of the same environment; LOW when only
    VMs and subnets of the same VNet or environment, none exposed, reach it: lateral movement
    inside one tier (the default AllowVnetInBound admits the whole VNet), not a bypass of the
    bastion. VMs reached only from the Bastion subnet (or from nothing) pass, each on its own; a VM
    whose sources are undecidable (an NSG not collected, service tags whose ranges are not
    collected) is inconclusive.

    Remediation: Deploy Azure Bastion in an AzureBastionSubnet and admit SSH/RDP in the NSGs only
    from that subnet's prefix, with a deny of the admin ports from VirtualNetwork (and any) ahead
    of the default AllowVnetInBound; start with the HIGH findings (internet, internet-exposed VMs,
    peered networks of other environments).
    """
    from posture.graph.azure.lateral import offences

    net = _net(ctx)
    ports = ctx.param("admin_ports")
    keys, prod = ctx.param("environment_tag_keys"), ctx.param("production_values")
    found: list[Offence] = []
    clean: list[tuple[Asset, list[str], list[str], bool]] = []
    undecided: dict[str, list[str]] = {}
    for vm, endpoints in net.hosts():
        mine, unknown, via_bastion = offences(net, vm, endpoints, ports, keys, prod)
        found += mine
        undecided[vm.uid] = unknown
        if not mine:
            clean.append((vm, unknown, via_bastion, bool(endpoints)))
    for group in by_subject(found):
        subject = ctx.inventory.get(group.subject)
        assert subject is not None  # an NSG (or subnet) of this inventory
        yield ctx.fail_at(
            group.severity,
            subject,
            group_message(group, "SSH/RDP", "VM(s)"),
            **group_evidence(group, undecided),
        )
    for vm, unknown, via_bastion, has_nic in clean:
        if unknown:
            yield ctx.unknown(vm, f"cannot evaluate the NSG path: {unknown[0]}", undecided=unknown)
        elif via_bastion:
            yield ctx.passed(vm, "admin ports admit only the Bastion subnet", sources=via_bastion)
        elif has_nic:
            yield ctx.passed(vm, "admin ports admit no source")
        else:
            yield ctx.passed(vm, "admin ports admit no source: the VM has no network interface")


@check("azure.network.storage_blob_public_access_disabled", Severity.HIGH,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={STORAGE_ACCOUNT})
def storage_blob_public_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts do not allow anonymous public blob access

    With anonymous access allowed, any container set to public serves its blobs to anyone. An
    account that never set the property (null) permits anonymous access.

    Remediation: Set 'Allow Blob anonymous access' to Disabled (allowBlobPublicAccess=false).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        value = account.attr("allow_blob_public_access")
        if value is False:
            yield ctx.passed(account, "anonymous blob access is disallowed")
        else:
            state = "not set (permitted by default)" if value is None else "allowed"
            yield ctx.fail(
                account, f"anonymous blob access is {state}", allow_blob_public_access=value
            )


@check("azure.network.keyvault_network_restricted", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.SECRETS), reads={f"{VAULT}#listing"})
def keyvault_network_restricted(ctx: CheckContext) -> Iterator[Result]:
    """Key vaults are not open to all networks

    A vault reachable from every network relies on authentication alone; a network restriction
    limits stolen credentials to the networks allowed.

    Remediation: Disable public network access and use private endpoints, or set the firewall's
    default action to Deny with explicit IP and VNet rules.
    """
    for vault in ctx.inventory.of(VAULT):
        public, action = vault.attr("public_network_access"), vault.attr("network_default_action")
        evidence = {
            "public_network_access": public,
            "network_default_action": action,
            "private_endpoints": vault.attr("private_endpoint_count"),
        }
        if public == "Disabled":
            yield ctx.passed(vault, "public network access is disabled", **evidence)
        elif action == "Deny":
            yield ctx.passed(vault, "firewall default action is Deny", **evidence)
        else:
            yield ctx.fail(vault, "the vault accepts connections from all networks", **evidence)
