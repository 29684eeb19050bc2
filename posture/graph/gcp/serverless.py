"""Who can invoke a Cloud Run service or a Cloud Function from the internet without signing in.

Two independent settings decide it (Cloud Run "ingress" and "invoker" documentation):

- **who may invoke**: an IAM binding of an invoking role (``roles/run.invoker``,
  ``roles/cloudfunctions.invoker``, or a role that includes invocation) to ``allUsers`` or
  ``allAuthenticatedUsers`` (any Google account: not a boundary), or the service's invoker IAM
  check disabled (``invokerIamDisabled``), lets requests in without authentication; Identity-Aware
  Proxy on the service (``iapEnabled``) authenticates them first.
- **where requests may come from** (ingress): ``INGRESS_TRAFFIC_ALL`` / ``ALLOW_ALL`` accepts the
  internet on the service's URL; ``INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER`` /
  ``ALLOW_INTERNAL_AND_GCLB`` only internal traffic and external Application Load Balancers
  (serverless network endpoint groups, not collected: whether one exists is not known);
  ``INGRESS_TRAFFIC_INTERNAL_ONLY`` / ``ALLOW_INTERNAL_ONLY`` only the project's VPC networks,
  Shared VPC, VPC Service Controls perimeter and Google services of the project;
  ``INGRESS_TRAFFIC_NONE`` nothing.

Hence a public invoker behind internal-only ingress is *not* invocable from the internet: the
verdict is ``latent`` (one change of ingress away), as a firewall open to the world on a machine
without an external address. A 2nd gen function is served by a Cloud Run service, whose policy
and invoker setting decide (``run_service``); a 1st gen function's own policy decides, and an
event-triggered 1st gen function has no HTTP endpoint at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posture.gcp import PUBLIC_MEMBERS, RUN_SERVICE, grants
from posture.graph.paths import Reach
from posture.model import Asset, Inventory

INVOKING_ROLES = frozenset({
    "roles/run.invoker", "roles/run.servicesInvoker", "roles/run.developer", "roles/run.admin",
    "roles/cloudfunctions.invoker", "roles/cloudfunctions.developer",
    "roles/cloudfunctions.admin", "roles/owner", "roles/editor",
})
_INGRESS = {  # Cloud Run v2 and Cloud Functions names -> internet / load balancer / internal / none
    "INGRESS_TRAFFIC_ALL": "all", "ALLOW_ALL": "all",
    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER": "lb", "ALLOW_INTERNAL_AND_GCLB": "lb",
    "INGRESS_TRAFFIC_INTERNAL_ONLY": "internal", "ALLOW_INTERNAL_ONLY": "internal",
    "INGRESS_TRAFFIC_NONE": "none",
}


@dataclass(frozen=True, slots=True)
class Invocation:
    """The internet's unauthenticated reach to one service or function."""

    state: Reach  # exposed / latent / blocked / unknown
    why: str
    via_load_balancer: bool = False  # exposed only through an external Application LB
    unauthenticated: str | None = None  # who may invoke without signing in, in words
    public_grants: tuple[Mapping[str, Any], ...] = ()
    ingress: str | None = None
    decided_by: str | None = None  # the Cloud Run service deciding for a 2nd gen function


def _open_invoker(asset: Asset) -> tuple[str | None, list[dict[str, Any]]] | None:
    """(who may invoke without signing in, the public grants); None when the policy is unknown."""
    bindings = asset.attr("iam_bindings")
    if bindings is None:
        return None
    public = [{"role": r, "member": m, "condition": c} for r, m, c in grants(bindings)
              if m in PUBLIC_MEMBERS]
    invoking = [g for g in public if g["role"] in INVOKING_ROLES or not str(
        g["role"]).startswith("roles/")]
    if asset.attr("invoker_iam_disabled"):
        return "anyone (the invoker IAM check is disabled)", public
    if invoking and asset.attr("iap_enabled"):  # IAP signs requests in before they reach it
        return None, public
    if invoking:
        who = sorted({f"{g['member']} ({g['role']})" for g in invoking})
        return ", ".join(who), public
    return None, public


def invocation(asset: Asset, decider: Asset | None = None) -> Invocation:
    """The verdict on ``asset`` (a Cloud Run service or a function); ``decider`` is the Cloud Run
    service that serves a 2nd gen function (None when not collected)."""
    ingress = str(asset.attr("ingress") or "")
    if asset.attr("environment") == "GEN_1" and not asset.attr("http_trigger"):
        return Invocation(Reach.BLOCKED, "event-triggered: no HTTP endpoint", ingress=ingress)
    policy_holder = asset
    if asset.attr("environment") == "GEN_2":
        if decider is None:
            return Invocation(Reach.UNKNOWN, f"the Cloud Run service that serves it "
                              f"({asset.attr('run_service')}) was not collected", ingress=ingress)
        policy_holder = decider
    opened = _open_invoker(policy_holder)
    deciding = decider.name if policy_holder is decider and decider is not None else None
    if opened is None:
        return Invocation(Reach.UNKNOWN, "its IAM policy could not be read", ingress=ingress,
                          decided_by=deciding)
    who, public = opened
    kind = _INGRESS.get(ingress, "all")
    if asset.attr("default_uri_disabled") and kind == "all":
        kind = "lb"
    common: dict[str, Any] = {"public_grants": tuple(public), "ingress": ingress,
                              "decided_by": deciding, "unauthenticated": who}
    if who is None:
        why = "every request must be authenticated" + (
            " (Identity-Aware Proxy)" if policy_holder.attr("iap_enabled") else
            " (no public invoker)")
        return Invocation(Reach.BLOCKED, why, **common)
    if kind == "all":
        return Invocation(Reach.EXPOSED, f"ingress {ingress} admits the internet and {who} may "
                          "invoke it", **common)
    if kind == "lb":
        return Invocation(Reach.EXPOSED, f"{who} may invoke it; ingress {ingress} admits the "
                          "internet only through an external Application Load Balancer routing "
                          "to it (serverless network endpoint groups are not read), its own URL "
                          "refuses internet requests", via_load_balancer=True, **common)
    if kind == "none":
        return Invocation(Reach.BLOCKED, f"ingress {ingress} admits no request", **common)
    return Invocation(Reach.LATENT, f"ingress {ingress} admits only the project's VPC "
                      f"networks, its VPC Service Controls perimeter and Google services, though "
                      f"{who} may invoke it without authentication from there; one change of "
                      "ingress would open it to the internet", **common)


def run_services(inv: Inventory) -> dict[tuple[str, str], Asset]:
    """Cloud Run services by (project, ``region/name``): the deciders of 2nd gen functions."""
    return {(s.account, f"{s.region}/{s.name}"): s for s in inv.of(RUN_SERVICE)}
