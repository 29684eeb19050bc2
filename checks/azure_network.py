"""Defense in depth on Azure: admin and database ports not reachable from the internet, admin
access only through Azure Bastion, and data services not open to public networks.

The port checks use the NSG path evaluator of :mod:`posture.checks._azure_reach`: a VM is
reported as exposed only when an internet entry point (public IP, public load balancer rule,
firewall DNAT) delivers the port and both NSG levels admit an arbitrary internet client. An NSG
rule open to the internet without such an entry point is latent: the VM passes and the message
says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from posture.checks._azure_reach import NETWORK_READS, AzureNetwork, PathState, Verdict

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
SQL_SERVER = "Microsoft.Sql/servers"
VAULT = "Microsoft.KeyVault/vaults"


def _net(ctx: CheckContext) -> AzureNetwork:
    return ctx.derived("azure.network.reach", AzureNetwork)


def _judge(ctx: CheckContext, vm: Asset, verdicts: Sequence[Verdict], what: str) -> Result:
    exposed = [v for v in verdicts if v.state is PathState.EXPOSED]
    if exposed:
        ports = "/".join(str(p) for p in sorted({v.port for v in exposed}))
        entries = sorted({str(p["entry"]) for v in exposed for p in v.paths})
        return ctx.fail(
            vm,
            f"{what} reachable from the internet on tcp/{ports} through {', '.join(entries)}",
            paths=[p for v in exposed for p in v.paths],
        )
    undecided = [v for v in verdicts if v.state is PathState.UNKNOWN]
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
            f"internet clients on tcp/{ports}, but {latent[0].detail} (latent)",
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


@check(
    id="azure.network.admin_ports_not_internet_reachable",
    title="Administrative ports of Azure VMs are not reachable from the internet",
    severity=Severity.CRITICAL,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    remediation=(
        "Remove NSG rules that admit SSH/RDP/WinRM from Internet, * or 0.0.0.0/0 (subnet and NIC "
        "level), remove instance public IPs and load balancer NAT rules to admin ports, and reach "
        "VMs through Azure Bastion or just-in-time VM access."
    ),
    rationale=(
        "SSH, RDP and WinRM exposed to the internet are brute-forced within minutes. Reported "
        "only when a complete path exists: an entry point (public IP, public load balancer, "
        "firewall DNAT) and both NSG levels in priority order."
    ),
    params={"admin_ports": (22, 3389, 5985, 5986)},
)
def admin_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    yield from _vm_results(ctx, ctx.param("admin_ports"), "administrative ports")


@check(
    id="azure.network.db_ports_not_internet_reachable",
    title="Database ports of Azure VMs are not reachable from the internet",
    severity=Severity.CRITICAL,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    remediation=(
        "Keep database VMs without public IPs or public load balancer rules, and admit database "
        "ports in the NSGs only from the application tier (an ASG or its subnet)."
    ),
    rationale=(
        "A database listener reachable from the internet exposes data to credential stuffing "
        "and to exploits of the engine itself."
    ),
    params={
        "db_ports": (1433, 1521, 3306, 5432, 5984, 6379, 9042, 9200, 11211, 27017),
    },
)
def db_ports_not_internet_reachable(ctx: CheckContext) -> Iterator[Result]:
    yield from _vm_results(ctx, ctx.param("db_ports"), "database ports")


@check(
    id="azure.network.admin_access_only_from_bastion",
    title="Administrative ports of Azure VMs admit only the Azure Bastion subnet",
    severity=Severity.HIGH,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads=NETWORK_READS,
    remediation=(
        "Deploy Azure Bastion in an AzureBastionSubnet and admit SSH/RDP in the NSGs only from "
        "that subnet's prefix; deny admin ports from VirtualNetwork and other sources."
    ),
    rationale=(
        "With the Bastion pattern, every administrative session passes an authenticated, logged "
        "gateway. The NSG path of both levels is evaluated for the internet and for every "
        "subnet and NIC of the VNet and its connected peers."
    ),
    params={"admin_ports": (22, 3389)},
)
def admin_access_only_from_bastion(ctx: CheckContext) -> Iterator[Result]:
    net = _net(ctx)
    for vm, endpoints in net.hosts():
        others: list[dict[str, object]] = []
        via_bastion: list[str] = []
        unknown = None
        for ep in endpoints:
            for port in ctx.param("admin_ports"):
                sources, why = net.admitted_sources(ep, int(port))
                unknown = unknown or why
                for src in sources:
                    if src["bastion"]:
                        via_bastion.append(str(src["source"]))
                    else:
                        others.append({**src, "port": int(port)})
        if others:
            names = list(dict.fromkeys(str(o["source"]) for o in others))
            yield ctx.fail(
                vm,
                f"admin ports admit {len(names)} source(s) other than the Bastion "
                f"subnet: {', '.join(names[:4])}{' ...' if len(names) > 4 else ''}",
                sources=others[:20],
            )
        elif unknown:
            yield ctx.unknown(vm, f"cannot evaluate the NSG path: {unknown}")
        elif via_bastion:
            yield ctx.passed(
                vm, "admin ports admit only the Bastion subnet", sources=sorted(set(via_bastion))
            )
        else:
            yield ctx.passed(vm, "admin ports admit no source")


@check(
    id="azure.network.storage_blob_public_access_disabled",
    title="Storage accounts do not allow anonymous public blob access",
    severity=Severity.HIGH,
    principles=(Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE),
    reads={STORAGE_ACCOUNT},
    remediation="Set 'Allow Blob anonymous access' to Disabled (allowBlobPublicAccess=false).",
    rationale=(
        "With anonymous access allowed, any container set to public serves its blobs to anyone. "
        "An account that never set the property (null) permits anonymous access."
    ),
)
def storage_blob_public_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        value = account.attr("allow_blob_public_access")
        if value is False:
            yield ctx.passed(account, "anonymous blob access is disallowed")
        else:
            state = "not set (permitted by default)" if value is None else "allowed"
            yield ctx.fail(
                account, f"anonymous blob access is {state}", allow_blob_public_access=value
            )


@check(
    id="azure.network.sql_public_network_access_disabled",
    title="Azure SQL servers disable public network access",
    severity=Severity.HIGH,
    principles=(Principle.DEFENSE_IN_DEPTH,),
    reads={f"{SQL_SERVER}#listing"},
    remediation="Set publicNetworkAccess to Disabled and connect through private endpoints.",
    rationale=(
        "A public endpoint makes the server's firewall rules the only barrier between the "
        "internet and the database login."
    ),
)
def sql_public_network_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    for server in ctx.inventory.of(SQL_SERVER):
        value = server.attr("public_network_access")
        if value == "Disabled":
            yield ctx.passed(server, "public network access is disabled")
        elif value is None:
            yield ctx.unknown(server, "public network access setting not reported")
        else:
            yield ctx.fail(server, f"public network access is {value}", public_network_access=value)


@check(
    id="azure.network.keyvault_network_restricted",
    title="Key vaults are not open to all networks",
    severity=Severity.MEDIUM,
    principles=(Principle.DEFENSE_IN_DEPTH, Principle.SECRETS),
    reads={f"{VAULT}#listing"},
    remediation=(
        "Disable public network access and use private endpoints, or set the firewall's default "
        "action to Deny with explicit IP and VNet rules."
    ),
    rationale=(
        "A vault reachable from every network relies on authentication alone; a network "
        "restriction limits stolen credentials to the networks allowed."
    ),
)
def keyvault_network_restricted(ctx: CheckContext) -> Iterator[Result]:
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
