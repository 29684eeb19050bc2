"""GCP vocabulary: asset type names (one definition for the collectors, the graph adapter, the
identity graph and the checks) and small pure helpers over IAM bindings and labels (attrs in
docs/gcp-assets.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from posture.model import Asset

PROJECT = "cloudresourcemanager.googleapis.com/Project"
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


def label_matches(labels: Mapping[str, str], selectors: Sequence[str]) -> str | None:
    """The first ``key=value`` (or bare ``key``) selector that the labels satisfy."""
    for sel in selectors:
        key, eq, value = sel.partition("=")
        if key in labels and (not eq or labels[key].lower() == value.lower()):
            return sel
    return None
