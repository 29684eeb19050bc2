"""Azure Kubernetes Service: who reaches the API server, how users sign in and are authorised,
the Kubernetes version against AKS's support calendar (checks/lifecycle/azure.toml), network
policy, secrets encryption with a customer key, control-plane audit logs, Defender's sensor and
public node addresses. Container registries are judged in azure_kubernetes_registry.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from posture.checks.azure_patching import PRICINGS, plans_by_account

from posture.engine import CheckContext, Result
from posture.graph.azure.aks import aks_control_plane, private_scope
from posture.graph.azure.allowlist import admitted
from posture.graph.azure.reach import AzureNetwork
from posture.graph.depth import depth_evidence
from posture.graph.paths import Reach
from posture.lifecycle import product
from posture.model import Principle, Severity
from posture.registry import check
from posture.values import scan_time

CLUSTER = "Microsoft.ContainerService/managedClusters"
AUDIT_CATEGORIES = {"kube-audit", "kube-audit-admin", "audit", "alllogs"}
POLICY_ENGINES = {"azure", "calico", "cilium"}


@check("azure.kubernetes.aks_api_server_not_public", Severity.CRITICAL,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{CLUSTER}#listing"})
def aks_api_server_not_public(ctx: CheckContext) -> Iterator[Result]:
    """AKS API servers are private or admit only authorized IP ranges

    A public API server without authorized IP ranges answers every address on the internet:
    its authentication is the only barrier, and with local accounts enabled one leaked
    cluster-admin certificate is enough from anywhere (CRITICAL; HIGH with local accounts
    disabled). Authorized ranges that add up to a /8 of public addresses count as open. A
    private cluster has no public endpoint (a public FQDN only resolves to its private address);
    the finding names the VNets that reach its private endpoint (the nodes' VNet and its
    peers). Evidence has the path (internet range, authorized IP ranges, endpoint, API server)
    and the defense depth (the private-cluster switch and the ranges are the layers).

    Remediation: Make the cluster private (API Server VNet Integration or a private cluster),
    or set apiServerAccessProfile.authorizedIPRanges to the addresses of your administrators
    and CI runners (`az aks update --api-server-authorized-ip-ranges <cidrs>`).
    """
    net = ctx.derived("azure.network.reach", AzureNetwork)
    for cluster in ctx.inventory.of(CLUSTER):
        ranges = list(cluster.attr("authorized_ip_ranges") or ())
        local = not cluster.attr("local_accounts_disabled")
        cp = aks_control_plane(net, cluster)
        evidence = {"private_cluster": cluster.attr("private_cluster"), "fqdn":
                    cluster.attr("fqdn"), "authorized_ip_ranges": ranges,
                    "local_accounts_disabled": not local, "state": cp.state.value,
                    **(depth_evidence(cp.depth) if cp.depth else {}), **cp.evidence()}
        if cluster.attr("private_cluster"):
            yield ctx.passed(cluster, "private cluster: the API server has only a private "
                             "endpoint in the cluster's virtual network",
                             private_endpoint=private_scope(net, cluster), **evidence)
            continue
        allowed = admitted(ranges or ["Any"])
        if cp.state is not Reach.EXPOSED:
            yield ctx.passed(cluster, f"the public API server admits only {allowed.count:,} "
                             f"public address(es): {allowed.describe()}", **evidence)
            continue
        why = ("no authorized IP ranges" if not ranges
               else f"authorized ranges {', '.join(ranges[:4])} admit {allowed.count:,} "
                    "public addresses")
        creds = ("; local accounts are enabled, so a leaked cluster-admin certificate works "
                 "from anywhere" if local else "; only Entra ID sign-in stands in the way")
        yield ctx.fail_at(Severity.CRITICAL if local else Severity.HIGH, cluster,
                          f"the API server {cluster.attr('fqdn')} is reachable from the whole "
                          f"internet ({why}){creds}", **evidence)


@check("azure.kubernetes.aks_local_accounts_disabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={f"{CLUSTER}#listing"})
def aks_local_accounts_disabled(ctx: CheckContext) -> Iterator[Result]:
    """AKS clusters have local accounts disabled

    With local accounts, anyone allowed listClusterAdminCredential (Contributor included) gets
    a static cluster-admin client certificate that bypasses Entra ID, its MFA and conditional
    access, names no person in the audit log and stays valid until the cluster certificates are
    rotated.

    Remediation: Enable Entra ID integration, then disable local accounts (`az aks update
    --disable-local-accounts`) and rotate the cluster certificates to void issued ones.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        if cluster.attr("local_accounts_disabled"):
            yield ctx.passed(cluster, "local accounts are disabled: only Entra ID identities "
                             "sign in")
        else:
            yield ctx.fail(cluster, "local accounts are enabled: listClusterAdminCredential "
                           "hands out a static cluster-admin certificate outside Entra ID",
                           entra_integration=cluster.attr("entra_integration"))


@check("azure.kubernetes.aks_entra_rbac_enabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.MFA), reads={f"{CLUSTER}#listing"})
def aks_entra_rbac_enabled(ctx: CheckContext) -> Iterator[Result]:
    """AKS clusters authenticate with Entra ID and authorise with RBAC

    Without Kubernetes RBAC every authenticated identity is cluster administrator (HIGH);
    without Entra ID integration users hold cluster certificates instead of Entra identities,
    out of reach of group membership, MFA and conditional access (MEDIUM). Azure RBAC for
    Kubernetes or RBAC bindings of Entra groups both pass.

    Remediation: Enable AKS-managed Entra ID integration (`az aks update --enable-aad
    --aad-admin-group-object-ids <group>`), preferably with Azure RBAC for Kubernetes
    authorization (`--enable-azure-rbac`); RBAC cannot be enabled on an existing cluster without
    it: recreate clusters that run with enableRBAC false.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        evidence = {"rbac_enabled": cluster.attr("rbac_enabled"), "entra_integration":
                    cluster.attr("entra_integration"), "azure_rbac": cluster.attr("azure_rbac")}
        if cluster.attr("rbac_enabled") is False:
            yield ctx.fail(cluster, "Kubernetes RBAC is off: every authenticated identity is "
                           "cluster administrator", **evidence)
        elif cluster.attr("rbac_enabled") is None:
            yield ctx.unknown(cluster, "whether Kubernetes RBAC is on was not reported",
                              **evidence)
        elif not cluster.attr("entra_integration"):
            yield ctx.fail_at(Severity.MEDIUM, cluster, "no Entra ID integration: users sign "
                              "in with cluster certificates, outside Entra ID groups, MFA and "
                              "conditional access", **evidence)
        elif cluster.attr("azure_rbac"):
            yield ctx.passed(cluster, "Entra ID sign-in with Azure RBAC for Kubernetes "
                             "authorization", **evidence)
        else:
            yield ctx.passed(cluster, "Entra ID sign-in; authorization by Kubernetes RBAC "
                             "bindings", **evidence)


def _end_of_support(minor: str, lts: bool) -> tuple[dt.date | None, str]:
    """The end of support of a minor version and the calendar it comes from."""
    if lts:
        table = product("azure", "aks_kubernetes_lts")
        if table.end_of(minor) is not None:
            return table.end_of(minor), table.source()
    table = product("azure", "aks_kubernetes")
    return table.end_of(minor), table.source()


def _minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in minor.split("."))


@check("azure.kubernetes.aks_version_supported", Severity.HIGH,
       (Principle.PATCHING,), reads={f"{CLUSTER}#listing"})
def aks_version_supported(ctx: CheckContext) -> Iterator[Result]:
    """AKS clusters run a Kubernetes version AKS still supports

    Past its end of life a minor version gets no Kubernetes security fixes from AKS ("platform
    support" only). Judged on the oldest of the control plane and every node pool (node pools
    may lag the control plane), with the LTS calendar for clusters on the AKS Long Term Support
    plan, from the dated table in checks/lifecycle/azure.toml; a version the table does not
    list is INCONCLUSIVE, never supported.

    Remediation: Upgrade the control plane and then every node pool to a supported minor
    version (`az aks upgrade`), and set an auto-upgrade channel (patch or stable) so the cluster
    keeps up; where upgrades must wait, move the cluster to the Premium tier with Long Term
    Support.
    """
    today = scan_time(ctx.inventory).date()
    for cluster in ctx.inventory.of(CLUSTER):
        lts = cluster.attr("support_plan") == "AKSLongTermSupport"
        parts = [("control plane", cluster.attr("kubernetes_minor"))] + [
            (f"node pool {p.get('name')}", p.get("minor")) for p in
            cluster.attr("node_pools") or ()]
        known = [(w, m) for w, m in parts if m]
        if not cluster.attr("kubernetes_minor"):
            yield ctx.unknown(cluster, "its Kubernetes version was not reported")
            continue
        where, minor = min(known, key=lambda p: _minor_key(str(p[1])))
        end, source = _end_of_support(str(minor), lts)
        evidence = {"versions": {w: m for w, m in known}, "oldest": minor, "support_plan":
                    cluster.attr("support_plan"), "end_of_support": end and end.isoformat(),
                    "source": source}
        plan = " (Long Term Support)" if lts else ""
        if end is None:
            yield ctx.unknown(cluster, f"Kubernetes {minor} ({where}) is not in the AKS "
                              f"calendar posture knows ({source}): support unknown", **evidence)
        elif end < today:
            yield ctx.fail(cluster, f"Kubernetes {minor} ({where}) is past AKS end of "
                           f"support{plan} since {end.isoformat()}: no Kubernetes security "
                           "fixes", **evidence)
        else:
            yield ctx.passed(cluster, f"Kubernetes {minor} ({where}, the oldest) is supported"
                             f"{plan} until {end.isoformat()}", **evidence)


@check("azure.kubernetes.aks_network_policy_enabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.SEGREGATION), reads={f"{CLUSTER}#listing"})
def aks_network_policy_enabled(ctx: CheckContext) -> Iterator[Result]:
    """AKS clusters enforce Kubernetes network policies

    Without a network policy engine (Azure, Calico or Cilium) every pod reaches every other pod
    and service in the cluster, so one compromised workload moves laterally unhindered.

    Remediation: Enable a network policy engine (`az aks update --network-policy cilium` or
    azure/calico), then add default-deny NetworkPolicies per namespace.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        engine = str(cluster.attr("network_policy") or "none").lower()
        if engine in POLICY_ENGINES:
            yield ctx.passed(cluster, f"network policies are enforced by {engine}",
                             network_policy=engine)
        else:
            yield ctx.fail(cluster, "no network policy engine: every pod reaches every other "
                           "pod and service in the cluster", network_policy=engine,
                           network_plugin=cluster.attr("network_plugin"))


@check("azure.kubernetes.aks_secrets_encrypted_with_kms", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={f"{CLUSTER}#listing"})
def aks_secrets_encrypted_with_kms(ctx: CheckContext) -> Iterator[Result]:
    """AKS encrypts Kubernetes secrets in etcd with a customer key (KMS)

    etcd is encrypted at rest by the platform; with the Key Vault KMS plugin the secrets are
    also encrypted with a key you control, whose access you can audit and revoke.

    Remediation: Enable KMS etcd encryption with a Key Vault key (`az aks update
    --enable-azure-keyvault-kms --azure-keyvault-kms-key-id <key id>`), then rewrite existing
    secrets so they are encrypted with it.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        if cluster.attr("kms_enabled"):
            yield ctx.passed(cluster, "secrets are encrypted with a Key Vault key (KMS)",
                             kms_key_id=cluster.attr("kms_key_id"))
        else:
            yield ctx.fail(cluster, "secrets in etcd are encrypted only with platform-managed "
                           "keys (no KMS key)")


@check("azure.kubernetes.aks_audit_logging_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={CLUSTER})
def aks_audit_logging_enabled(ctx: CheckContext) -> Iterator[Result]:
    """AKS control-plane audit logs are exported

    The Kubernetes audit log (diagnostic categories kube-audit or kube-audit-admin, or the
    audit / allLogs groups) is the only record of who read secrets, exec'd into pods or changed
    RBAC; without a diagnostic setting sending it to a destination it is not kept.

    Remediation: Add a diagnostic setting on the cluster that sends kube-audit-admin (or
    kube-audit) to a Log Analytics workspace or storage account.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        settings = cluster.attr("diagnostic_settings")
        if settings is None:
            yield ctx.unknown(cluster, "its diagnostic settings were not read")
            continue
        sending = [s for s in settings if s.get("has_destination") and AUDIT_CATEGORIES & {
            str(c).lower() for c in s.get("enabled_log_categories") or ()}]
        if sending:
            cats = sorted({c for s in sending for c in s["enabled_log_categories"]
                           if str(c).lower() in AUDIT_CATEGORIES})
            yield ctx.passed(cluster, f"audit logs ({', '.join(cats)}) are exported by "
                             f"diagnostic setting {sending[0].get('name')}",
                             diagnostic_settings=settings)
        elif settings:
            yield ctx.fail(cluster, f"none of its {len(settings)} diagnostic setting(s) exports "
                           "the Kubernetes audit log", diagnostic_settings=settings)
        else:
            yield ctx.fail(cluster, "the cluster has no diagnostic setting: the Kubernetes audit "
                           "log is not kept", diagnostic_settings=settings)


@check("azure.kubernetes.aks_defender_sensor_enabled", Severity.MEDIUM,
       (Principle.AUDITABLE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{CLUSTER}#listing", PRICINGS})
def aks_defender_sensor_enabled(ctx: CheckContext) -> Iterator[Result]:
    """AKS clusters run the Defender for Containers sensor

    The sensor (securityProfile.defender) feeds runtime threat detection on the nodes and pods;
    it does nothing while the subscription's Defender for Containers plan is off, so a cluster
    with the profile set in a subscription without the plan fails too.

    Remediation: Turn on Defender for Containers for the subscription with its sensor component
    (or `az aks update --enable-defender`).
    """
    plans = plans_by_account(ctx.inventory)
    for cluster in ctx.inventory.of(CLUSTER):
        plan = (plans.get(cluster.account) or {}).get("Containers") or {}
        evidence = {"sensor": cluster.attr("defender_enabled"), "plan": plan or None}
        if not cluster.attr("defender_enabled"):
            yield ctx.fail(cluster, "the Defender sensor is off: no runtime threat detection "
                           "on the cluster", **evidence)
        elif plan.get("enabled") is False:
            yield ctx.fail(cluster, "the Defender sensor profile is set but Defender for "
                           "Containers is off in the subscription: nothing analyses it",
                           **evidence)
        else:
            yield ctx.passed(cluster, "the Defender sensor is on", **evidence)


@check("azure.kubernetes.aks_nodes_no_public_ip", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{CLUSTER}#listing"})
def aks_nodes_no_public_ip(ctx: CheckContext) -> Iterator[Result]:
    """AKS node pools give their nodes no public IP addresses

    A node with its own public address (enableNodePublicIP) can be reached from the internet
    around the cluster's load balancers, wherever its NSG admits traffic.

    Remediation: Recreate the node pool without node public IPs (the setting cannot be changed
    in place) and reach nodes through the cluster's private network.
    """
    for cluster in ctx.inventory.of(CLUSTER):
        public = [str(p.get("name")) for p in cluster.attr("node_pools") or ()
                  if p.get("public_ip")]
        if public:
            yield ctx.fail(cluster, f"node pool(s) {', '.join(public)} give every node a public "
                           "IP address", node_pools=public)
        else:
            yield ctx.passed(cluster, "no node pool assigns public IP addresses to nodes")

