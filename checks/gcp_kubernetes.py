"""GKE: who reaches the Kubernetes API server, legacy authorisation, node identity and pods'
access to it, secrets encryption, network policy, logging, shielded and private nodes, and the
Kubernetes version's end of standard support."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.gcp import GKE_CLUSTER, PROJECT, default_compute_sa_of, grants
from posture.graph.depth import depth_evidence
from posture.graph.gcp.gke import control_plane
from posture.graph.paths import Reach
from posture.lifecycle import product
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import scan_time

LISTING = f"{GKE_CLUSTER}#listing"
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ENCRYPTED = ("ENCRYPTED", "ALL_OBJECTS_ENCRYPTION_ENABLED")


def _pools(cluster: Asset) -> list[dict[str, Any]]:
    return list(cluster.attr("node_pools") or ())


@check("gcp.kubernetes.control_plane_not_public", Severity.HIGH, (Principle.DEFENSE_IN_DEPTH,),
       reads={LISTING}, params={"google_cloud_severity": "medium"})
def control_plane_not_public(ctx: CheckContext) -> Iterator[Result]:
    """GKE API servers are not reachable from the internet

    The Kubernetes API server authenticates every request, but an endpoint any address can reach
    is one leaked kubeconfig, token or API-server vulnerability away from the cluster. Decided by
    the public endpoint and the authorized networks (judged as firewall sources: a /8 worth of
    public addresses is the internet); evidence has the defense depth (the two settings are the
    layers). Authorized networks that admit every Google Cloud public address (any VM of any
    customer) fail at google_cloud_severity. A private endpoint reachable from peered networks
    only is not internet exposure.

    Remediation: Disable the public endpoint (private endpoint, reached through a bastion, IAP or
    Connect Gateway), or enable authorized networks listing only your egress ranges (`gcloud
    container clusters update C --enable-master-authorized-networks
    --master-authorized-networks=203.0.113.0/28`); turn off access from Google Cloud public IPs.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        cp = control_plane(cluster)
        evidence: dict[str, Any] = {"state": cp.state.value, "public_endpoint": cp.public_endpoint,
                                    "authorized_networks": cluster.attr("authorized_networks"),
                                    "google_cloud_public_ips": cp.google_cloud}
        if cp.depth is not None:
            evidence.update(depth_evidence(cp.depth))
        evidence.update(cp.evidence())
        if cp.state is Reach.UNKNOWN:
            yield ctx.unknown(cluster, cp.why, **evidence)
        elif cp.state is Reach.EXPOSED:
            yield ctx.fail(cluster, f"the Kubernetes API server of {cluster.name} is reachable "
                           f"from the internet: {cp.why}", **evidence)
        elif cp.google_cloud:
            yield ctx.fail_at(Severity.parse(str(ctx.param("google_cloud_severity"))), cluster,
                              f"the Kubernetes API server of {cluster.name} is reachable from "
                              f"every Google Cloud public address (any customer's VM): {cp.why}",
                              **evidence)
        else:
            yield ctx.passed(cluster, f"not reachable from the internet: {cp.why}", **evidence)


@check("gcp.kubernetes.private_nodes_enabled", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
       reads={LISTING})
def private_nodes_enabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE nodes have no external IP addresses

    Nodes with external addresses are one firewall rule away from the internet (the instance
    exposure checks judge the rules themselves); private nodes reach the internet through Cloud
    NAT only.

    Remediation: Create node pools with private nodes (`gcloud container node-pools update P
    --enable-private-nodes`, or the cluster's default) and give them egress through Cloud NAT.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        public = sorted(str(p["name"]) for p in _pools(cluster) if not p.get("private_nodes"))
        if public:
            yield ctx.fail(cluster, f"node pool(s) {', '.join(public)} give their nodes external "
                           "IP addresses", public_node_pools=public)
        else:
            yield ctx.passed(cluster, "every node pool has private nodes")


@check("gcp.kubernetes.secrets_encrypted_with_kms", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={LISTING})
def secrets_encrypted_with_kms(ctx: CheckContext) -> Iterator[Result]:
    """GKE encrypts Kubernetes Secrets in etcd with a Cloud KMS key

    Without application-layer secrets encryption, Secrets are protected by Google's storage
    encryption only: anyone with access to an etcd backup or the control plane's storage reads
    them. A customer key adds a layer you control (revocation, rotation, access logs).

    Remediation: Enable application-layer secrets encryption: `gcloud container clusters update C
    --database-encryption-key=projects/P/locations/L/keyRings/R/cryptoKeys/K`.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        state, key = cluster.attr("secrets_encryption_state"), cluster.attr("secrets_kms_key")
        if state in ENCRYPTED and key:
            yield ctx.passed(cluster, f"Secrets encrypted with {key}", kms_key=key)
        else:
            yield ctx.fail(cluster, f"application-layer secrets encryption is {state}: Secrets "
                           "in etcd are not encrypted with a customer key", state=state)


@check("gcp.kubernetes.legacy_authorization_disabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE,), reads={LISTING})
def legacy_authorization_disabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE clusters use neither legacy ABAC nor static client credentials

    Legacy ABAC grants broad static permissions outside RBAC; a client certificate or a basic-auth
    password issued at creation is a credential that never expires and cannot be revoked without
    rotating the cluster's CA. Google Groups for RBAC is reported as evidence.

    Remediation: Disable legacy ABAC (`gcloud container clusters update C --no-enable-legacy-
    authorization`), rotate credentials to stop issuing the client certificate, and grant access
    through IAM and RBAC (with Google Groups for RBAC).
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        legacy = [what for what, attr in (("legacy ABAC", "legacy_abac"),
                                          ("a client certificate", "client_certificate"),
                                          ("basic authentication", "basic_auth"))
                  if cluster.attr(attr)]
        groups = cluster.attr("google_groups_rbac")
        if legacy:
            yield ctx.fail(cluster, f"legacy authorisation in use: {', '.join(legacy)}",
                           legacy=legacy, google_groups_rbac=groups)
        else:
            yield ctx.passed(cluster, "RBAC and IAM only (no legacy ABAC, client certificate or "
                             "basic authentication)", google_groups_rbac=groups)


@check("gcp.kubernetes.workload_identity_enabled", Severity.MEDIUM,
       (Principle.LEAST_PRIVILEGE,), reads={LISTING})
def workload_identity_enabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE pods cannot use their node's service account

    Without Workload Identity (a workload pool, and node pools serving the GKE metadata server),
    every pod can fetch the node service account's token from the metadata server, and the
    legacy metadata endpoints expose the node's bootstrap credentials.

    Remediation: Enable Workload Identity on the cluster (`--workload-pool=P.svc.id.goog`) and
    on each node pool (`gcloud container node-pools update N --workload-metadata=GKE_METADATA`),
    and keep disable-legacy-endpoints=true.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        pool = cluster.attr("workload_pool")
        exposed = sorted(str(p["name"]) for p in _pools(cluster)
                         if p.get("workload_metadata_mode") != "GKE_METADATA"
                         and not cluster.attr("autopilot"))
        legacy = sorted(str(p["name"]) for p in _pools(cluster)
                        if p.get("legacy_endpoints_disabled") is False)
        why = ([] if pool else ["no workload pool"]) + (
            [f"node pool(s) {', '.join(exposed)} serve the node's metadata to pods"] if exposed
            else []) + ([f"legacy metadata endpoints on {', '.join(legacy)}"] if legacy else [])
        if why:
            yield ctx.fail(cluster, f"pods can obtain the node's credentials: {'; '.join(why)}",
                           workload_pool=pool, metadata_pools=exposed, legacy_endpoint_pools=legacy)
        else:
            yield ctx.passed(cluster, f"Workload Identity ({pool}) on every node pool",
                             workload_pool=pool)


@check("gcp.kubernetes.node_default_service_account_restricted", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE,), reads={LISTING, f"{PROJECT}#iam_policy"},
       params={"narrow_scope_severity": "low"})
def node_default_service_account_restricted(ctx: CheckContext) -> Iterator[Result]:
    """GKE nodes do not run as the default compute service account with full API access

    Nodes run as their pool's service account; the default compute account holds Editor on its
    project unless that grant was removed. With the cloud-platform scope, any process that
    reaches the node's credentials holds the account's roles on every API. Narrower scopes (the
    legacy defaults) limit the token, not the role: narrow_scope_severity.

    Remediation: Run node pools as a dedicated least-privilege service account
    (roles/container.defaultNodeServiceAccount) and keep Workload Identity on.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        default = default_compute_sa_of(ctx.inventory, cluster.account)
        broad: list[str] = []
        narrow: list[str] = []
        for p in _pools(cluster):
            if p.get("service_account") not in ("default", default):
                continue
            full = FULL_SCOPE in (p.get("oauth_scopes") or ())
            (broad if full else narrow).append(str(p["name"]))
        editor = _holds_editor(ctx, cluster.account, default)
        role = f" (which holds {editor} on {cluster.account})" if editor else ""
        if broad:
            yield ctx.fail(cluster, f"node pool(s) {', '.join(broad)} run as the default compute "
                           f"service account{role} with the cloud-platform scope",
                           pools=broad, basic_role=editor)
        elif narrow:
            yield ctx.fail_at(Severity.parse(str(ctx.param("narrow_scope_severity"))), cluster,
                              f"node pool(s) {', '.join(narrow)} run as the default compute "
                              f"service account{role}, with narrower scopes", pools=narrow,
                              basic_role=editor)
        else:
            yield ctx.passed(cluster, "every node pool runs as a dedicated service account")


def _holds_editor(ctx: CheckContext, project_id: str, email: str | None) -> str | None:
    for project in ctx.inventory.of(PROJECT):
        if project.account == project_id and email:
            for role, member, cond in grants(project.attr("iam_bindings")):
                if member == f"serviceAccount:{email}" and role in ("roles/owner",
                                                                    "roles/editor") and not cond:
                    return role
    return None


@check("gcp.kubernetes.network_policy_enabled", Severity.MEDIUM,
       (Principle.SEGREGATION, Principle.DEFENSE_IN_DEPTH), reads={LISTING})
def network_policy_enabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE clusters enforce Kubernetes network policies

    Without enforcement every pod reaches every other pod and service in the cluster: one
    compromised workload reaches the databases and control services of all. Enforced by GKE
    Dataplane V2 (ADVANCED_DATAPATH) or the Calico network policy add-on.

    Remediation: Use Dataplane V2 for new clusters, or enable network policy enforcement (`gcloud
    container clusters update C --enable-network-policy`), then write default-deny policies.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        datapath = cluster.attr("datapath_provider")
        if datapath == "ADVANCED_DATAPATH":
            yield ctx.passed(cluster, "Dataplane V2 enforces network policies")
        elif cluster.attr("network_policy"):
            yield ctx.passed(cluster, "the network policy add-on (Calico) is enabled")
        else:
            yield ctx.fail(cluster, "network policies are not enforced (no Dataplane V2, no "
                           "network policy add-on): every pod reaches every other",
                           datapath_provider=datapath)


@check("gcp.kubernetes.logging_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={LISTING})
def logging_enabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE clusters send system and control-plane logs to Cloud Logging

    Kubernetes Admin Activity audit logs are always written, but without cluster logging the
    node, system-component and workload logs an investigation needs are lost; control-plane
    component logs (API server, scheduler, controller manager) are reported as evidence.

    Remediation: Enable Cloud Logging for system components and workloads, and the API server
    logs: `gcloud container clusters update C --logging=SYSTEM,WORKLOAD,API_SERVER`.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        service, parts = cluster.attr("logging_service"), list(cluster.attr("logging_components")
                                                              or ())
        control = "APISERVER" in parts
        if service in (None, "", "none") or not parts:
            yield ctx.fail(cluster, "cluster logging is off: no system or workload logs",
                           logging_service=service, components=parts)
        else:
            note = "" if control else "; API server logs are not enabled"
            yield ctx.passed(cluster, f"logging {', '.join(parts)}{note}",
                             components=parts, control_plane_logs=control)


@check("gcp.kubernetes.shielded_nodes_enabled", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
       reads={LISTING})
def shielded_nodes_enabled(ctx: CheckContext) -> Iterator[Result]:
    """GKE clusters run Shielded GKE nodes with secure boot

    Shielded nodes prove their identity to the control plane (a compromised pod cannot
    impersonate a node with stolen bootstrap credentials); secure boot and integrity monitoring
    catch boot-level rootkits.

    Remediation: `gcloud container clusters update C --enable-shielded-nodes`; create node pools
    with `--shielded-secure-boot --shielded-integrity-monitoring`.
    """
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        unsafe = sorted(str(p["name"]) for p in _pools(cluster)
                        if not (p.get("secure_boot") and p.get("integrity_monitoring")))
        if not cluster.attr("shielded_nodes"):
            yield ctx.fail(cluster, "Shielded GKE nodes are disabled", pools_without=unsafe)
        elif unsafe:
            yield ctx.fail_at(Severity.LOW, cluster, f"node pool(s) {', '.join(unsafe)} run "
                              "without secure boot or integrity monitoring", pools_without=unsafe)
        else:
            yield ctx.passed(cluster, "Shielded GKE nodes with secure boot and integrity "
                             "monitoring")


def minor(version: Any) -> str | None:
    """``1.29.15-gke.1026000`` → ``1.29``."""
    parts = str(version or "").split(".")
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 and parts[1].isdigit() else None


@check("gcp.kubernetes.version_supported", Severity.HIGH, (Principle.PATCHING,),
       reads={LISTING})
def version_supported(ctx: CheckContext) -> Iterator[Result]:
    """GKE control planes and node pools run a minor version in standard support

    Past its end of standard support a minor version gets no security patches (unless enrolled in
    the paid Extended channel) and GKE upgrades it on its own schedule. Dates come from
    checks/lifecycle/gcp.toml (GKE release schedule); a version not in the table is unknown,
    never assumed supported. The release channel is reported as evidence.

    Remediation: Upgrade the control plane and node pools to a supported minor version, and
    enroll the cluster in a release channel (Regular or Stable) so it stays supported.
    """
    table, now = product("gcp", "gke_minor"), scan_time(ctx.inventory)
    for cluster in ctx.inventory.of(GKE_CLUSTER):
        versions = {"control plane": cluster.attr("current_master_version")}
        versions.update({f"node pool {p['name']}": p.get("version") for p in _pools(cluster)})
        channel = cluster.attr("release_channel")
        past, unknown = [], []
        for part, version in versions.items():
            end = table.end_of(minor(version) or "")
            if end is None:
                unknown.append(f"{part} {version}")
            elif end < now.date():
                past.append(f"{part} {version} (since {end.isoformat()})")
        evidence = {"versions": versions, "release_channel": channel, "source": table.source()}
        if past:
            yield ctx.fail(cluster, f"past the end of standard support: {'; '.join(past)}",
                           **evidence)
        elif unknown:
            yield ctx.unknown(cluster, f"end of support unknown for {', '.join(unknown)} (not in "
                              f"the table, {table.source()})", **evidence)
        else:
            ends = [table.end_of(minor(v) or "") for v in versions.values()]
            first = min(e for e in ends if e is not None)
            yield ctx.passed(cluster, f"in standard support until {first.isoformat()} "
                             f"(channel {channel})", **evidence)

