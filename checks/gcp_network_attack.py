"""Attack paths across network and identity on GCP: an internet-exposed instance running as a
service account with Owner or Editor on a project (directly or by impersonation), with an
access scope that lets its token use the role, is one compromised process away from owning
the project.

The join lives in :mod:`posture.attack.gcp`; this module judges it and words it
(:func:`posture.checks._shared.attack_finding`).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import attack_finding, gcp_estate

from posture.attack.gcp import READS, GcpAttack
from posture.engine import CheckContext, Result
from posture.gcp import INSTANCE
from posture.iam.gcp import build_impersonation_graph
from posture.model import Principle, Severity
from posture.registry import check


def _attack(ctx: CheckContext) -> GcpAttack:
    est = gcp_estate(ctx)
    graph = ctx.derived("gcp.iam.identity_graph", build_impersonation_graph)
    return ctx.derived("gcp.attack", lambda inv: GcpAttack.of(inv, est, graph))


@check("gcp.network.no_exposed_host_with_admin_identity", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH), reads=READS,
       params={"gated_severity": "low"})
def no_exposed_host_with_admin_identity(ctx: CheckContext) -> Iterator[Result]:
    """No internet-exposed GCP instance runs as an Owner or Editor service account

    Any process on an instance can fetch its service account's token from the metadata server.
    Reported when the wide internet reaches some tcp port of the instance (the exposure checks'
    verdict on every port, directly or through an external load balancer) and the account holds
    roles/owner or roles/editor on a project, or reaches an account that does by impersonation, and
    the instance's access scopes let the token use it: cloud-platform, or compute (the token can
    create an instance as the same account with cloud-platform). With narrower scopes (the
    defaults) the role is one change of scopes away: gated_severity. Conditional grants, unread IAM
    policies and undecidable paths are INCONCLUSIVE; an instance that is not exposed passes.

    Remediation: Break either half of the path: run the instance as a dedicated service account
    with the narrow roles its workload needs (never the default compute account with Editor), or
    take it off the internet (no external IP; firewall rules admitting only what must be public,
    behind a load balancer).
    """
    attack = _attack(ctx)
    for instance in ctx.inventory.of(INSTANCE):
        yield attack_finding(ctx, attack.path(instance), "instance")
