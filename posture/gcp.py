"""GCP vocabulary: asset type names (one definition for the collectors, the graph adapter, the
identity graph and the checks) and small pure helpers over IAM bindings and labels (attrs in
docs/gcp-assets.md).

**Inheritance.** A project's effective IAM policy is the union of its own policy and those of its
ancestors (folders, then the organisation): a role granted on a folder is held on every project
below it, and an allow policy can only add (:func:`effective_grants`). Data Access audit configs
are inherited the same way: log types enabled on an ancestor are enabled on the project (they
cannot be disabled below) and members exempted anywhere above are exempted
(:func:`merged_audit`). :func:`lineage` walks ``parent`` from the project through the collected
``Folder`` / ``Organization`` assets and says what is missing (an ancestor not collected, a
policy that could not be read): a verdict that inheritance could still change is then not
claimed. A project without ``parent`` and with its metadata read is a project outside any
organisation (no ancestors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posture.model import Asset, Inventory

PROJECT = "cloudresourcemanager.googleapis.com/Project"
FOLDER = "cloudresourcemanager.googleapis.com/Folder"
ORGANIZATION = "cloudresourcemanager.googleapis.com/Organization"
NETWORK = "compute.googleapis.com/Network"
SUBNETWORK = "compute.googleapis.com/Subnetwork"
FIREWALL = "compute.googleapis.com/Firewall"
INSTANCE = "compute.googleapis.com/Instance"
HTTPS_PROXY = "compute.googleapis.com/TargetHttpsProxy"
SSL_PROXY = "compute.googleapis.com/TargetSslProxy"
SSL_POLICY = "compute.googleapis.com/SslPolicy"
FIREWALL_POLICY = "compute.googleapis.com/FirewallPolicy"
FORWARDING_RULE = "compute.googleapis.com/ForwardingRule"
GLOBAL_FORWARDING_RULE = "compute.googleapis.com/GlobalForwardingRule"
HTTP_PROXY = "compute.googleapis.com/TargetHttpProxy"
TCP_PROXY = "compute.googleapis.com/TargetTcpProxy"
URL_MAP = "compute.googleapis.com/UrlMap"
BACKEND_SERVICE = "compute.googleapis.com/BackendService"
TARGET_POOL = "compute.googleapis.com/TargetPool"
TARGET_INSTANCE = "compute.googleapis.com/TargetInstance"
INSTANCE_GROUP = "compute.googleapis.com/InstanceGroup"
CRYPTO_KEY = "cloudkms.googleapis.com/CryptoKey"
BUCKET = "storage.googleapis.com/Bucket"
ORG_POLICY = "orgpolicy.googleapis.com/Policy"
SQL_INSTANCE = "sqladmin.googleapis.com/Instance"
SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
SA_KEY = "iam.googleapis.com/ServiceAccountKey"
COMPUTE_PROJECT = "compute.googleapis.com/Project"  # the project's Compute Engine settings
PAM_ENTITLEMENT = "privilegedaccessmanager.googleapis.com/Entitlement"
# the platforms that run workloads, their patching and the managed data services (issue 18)
SERVICE_USAGE = "serviceusage.googleapis.com/Service"  # an API's enablement on a project
OS_INVENTORY = "osconfig.googleapis.com/Inventory"
VULNERABILITY_REPORT = "osconfig.googleapis.com/VulnerabilityReport"
PATCH_DEPLOYMENT = "osconfig.googleapis.com/PatchDeployment"
PATCH_JOB = "osconfig.googleapis.com/PatchJob"
IMAGE = "compute.googleapis.com/Image"  # a custom image of the project
AR_REPOSITORY = "artifactregistry.googleapis.com/Repository"
GKE_CLUSTER = "container.googleapis.com/Cluster"
RUN_SERVICE = "run.googleapis.com/Service"
FUNCTION = "cloudfunctions.googleapis.com/Function"
BQ_DATASET = "bigquery.googleapis.com/Dataset"
SECRET = "secretmanager.googleapis.com/Secret"
# the parts of an external load balancer between a forwarding rule and its instances
LB_PARTS = (
    HTTP_PROXY,
    HTTPS_PROXY,
    SSL_PROXY,
    TCP_PROXY,
    URL_MAP,
    BACKEND_SERVICE,
    TARGET_POOL,
    TARGET_INSTANCE,
)

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
HUMAN_PREFIXES = ("user:", "group:", "domain:")


def grants(bindings: Sequence[Mapping[str, Any]] | None) -> Iterator[tuple[str, str, Any]]:
    """(role, member, condition) for every member of every binding."""
    for b in bindings or ():
        for member in b.get("members") or ():
            yield str(b.get("role")), str(member), b.get("condition")


def public_grants(asset: Asset) -> list[dict[str, Any]]:
    return [
        {"role": role, "member": member, "condition": cond}
        for role, member, cond in grants(asset.attr("iam_bindings"))
        if member in PUBLIC_MEMBERS
    ]


def default_compute_sa(project: Asset) -> str | None:
    number = project.attr("project_number")
    return f"{number}-compute@developer.gserviceaccount.com" if number else None


def default_compute_sa_of(inv: Inventory, project_id: str) -> str | None:
    """The default compute service account of a collected project (None: number unknown)."""
    for p in inv.of(PROJECT):
        if p.account == project_id:
            return default_compute_sa(p)
    return None


def patch_targets(instance_filter: Mapping[str, Any], instance: Asset) -> bool:
    """Whether an OS Config patch deployment's instance filter (normalized: ``all``,
    ``group_labels``, ``zones``, ``instances`` as ``zone/name``, ``name_prefixes``) targets the
    instance. As the API documents it: ``all`` targets every instance of the project; otherwise
    an instance must satisfy every criterion given (labels AND zones AND ...), each criterion
    being met by any of its values (any label group, all of whose labels match)."""
    if instance_filter.get("all"):
        return True
    zone, name = str(instance.attr("zone") or instance.region), instance.name
    labels = instance.tags
    tests = []
    if instance_filter.get("group_labels"):
        tests.append(any(all(labels.get(k) == v for k, v in group.items())
                         for group in instance_filter["group_labels"]))
    if instance_filter.get("zones"):
        tests.append(zone in instance_filter["zones"])
    if instance_filter.get("instances"):
        tests.append(f"{zone}/{name}" in instance_filter["instances"])
    if instance_filter.get("name_prefixes"):
        tests.append(any(name.startswith(p) for p in instance_filter["name_prefixes"]))
    return bool(tests) and all(tests)


def label_matches(labels: Mapping[str, str], selectors: Sequence[str]) -> str | None:
    """The first ``key=value`` (or bare ``key``) selector that the labels satisfy."""
    for sel in selectors:
        key, eq, value = sel.partition("=")
        if key in labels and (not eq or labels[key].lower() == value.lower()):
            return sel
    return None


# -- the resource hierarchy -------------------------------------------------------------------


def ancestor_uid(name: str) -> str:
    """``folders/123`` / ``organizations/42`` → the asset uid."""
    return f"//cloudresourcemanager.googleapis.com/{name}"


def node_label(node: Asset) -> str:
    """``folders/123 (Prod)``: the resource name and, when known, its display name."""
    name = str(node.attr("resource_name") or "/".join(node.uid.rsplit("/", 2)[-2:]))
    shown = node.attr("display_name")
    return f"{name} ({shown})" if shown else name


@dataclass(frozen=True, slots=True)
class Lineage:
    """A project's ancestors as collected (nearest first) and what is not known about them."""

    nodes: tuple[Asset, ...]
    gaps: tuple[str, ...]  # why the inherited policies are not fully known

    @property
    def gap(self) -> str | None:
        return "; ".join(self.gaps) if self.gaps else None


def lineage(inv: Inventory, project: Asset) -> Lineage:
    nodes: list[Asset] = []
    gaps: list[str] = []
    parent = project.attr("parent")
    if parent is None and project.attr("state") is None:
        gaps.append("the project's parent is unknown (its metadata could not be read)")
    seen: set[str] = set()
    while parent and parent not in seen:
        seen.add(parent)
        node = inv.get(ancestor_uid(str(parent)))
        if node is None:
            gaps.append(f"{parent} (an ancestor) was not collected")
            break
        nodes.append(node)
        if node.attr("iam_bindings") is None:
            gaps.append(f"the IAM policy of {node_label(node)} could not be read")
        parent = node.attr("parent")
        if parent is None and node.type == FOLDER:
            gaps.append(f"the parent of {node_label(node)} is unknown")
    return Lineage(tuple(nodes), tuple(gaps))


@dataclass(frozen=True, slots=True)
class Grant:
    """One member's role in a project's effective policy, and where it was granted."""

    role: str
    member: str
    condition: Any
    source: str  # "project" or the ancestor's label (``folders/123 (Prod)``)

    @property
    def inherited(self) -> bool:
        return self.source != "project"

    def evidence(self) -> dict[str, Any]:
        out = {"role": self.role, "member": self.member, "condition": self.condition}
        if self.inherited:
            out["granted_on"] = self.source
            out["inherited"] = True
        return out


def effective_grants(inv: Inventory, project: Asset) -> tuple[Grant, ...] | None:
    """The project's own grants, then those of its collected ancestors (nearest first); None
    when the project's own policy is unknown. What :func:`lineage` reports missing is not here."""
    own = project.attr("iam_bindings")
    if own is None:
        return None
    out = [Grant(r, m, c, "project") for r, m, c in grants(own)]
    for node in lineage(inv, project).nodes:
        label = node_label(node)
        out += [Grant(r, m, c, label) for r, m, c in grants(node.attr("iam_bindings"))]
    return tuple(out)


def effective_bindings(inv: Inventory, project: Asset) -> list[dict[str, Any]] | None:
    """:func:`effective_grants` in the bindings shape (one member per binding), each with its
    ``granted_on`` (None for the project's own)."""
    found = effective_grants(inv, project)
    if found is None:
        return None
    return [
        {
            "role": g.role,
            "members": [g.member],
            "condition": g.condition,
            "granted_on": g.source if g.inherited else None,
        }
        for g in found
    ]


def merged_audit(inv: Inventory, project: Asset, service: str = "allServices") -> dict[str, Any]:
    """The ``service`` audit config in force on the project: ``{log_type: {"enabled_on":
    [sources], "exempted": {member: [sources]}}}`` over the project and its collected ancestors
    whose policy is known (``"project"`` for the project's own)."""
    merged: dict[str, dict[str, Any]] = {}
    pairs = [("project", project)] + [(node_label(n), n) for n in lineage(inv, project).nodes]
    for source, asset in pairs:
        for config in asset.attr("audit_configs") or ():
            if config.get("service") != service:
                continue
            for log_type, members in (config.get("log_types") or {}).items():
                entry = merged.setdefault(str(log_type), {"enabled_on": [], "exempted": {}})
                entry["enabled_on"].append(source)
                for m in members or ():
                    entry["exempted"].setdefault(str(m), []).append(source)
    return merged
