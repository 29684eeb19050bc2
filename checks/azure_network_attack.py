"""Attack paths across network and identity on Azure: an internet-exposed VM whose managed
identity is Owner of the subscription (or can make itself Owner) is one compromised process away
from owning it.

The join lives in :mod:`posture.attack.azure` (VM → its managed identities → their active role
assignments, graded by :mod:`posture.iam.azure`; every tcp port the wide internet reaches); this
module judges it and words it (:func:`posture.checks._shared.attack_finding`).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import attack_finding

from posture.attack.azure import READS, AzureAttack
from posture.engine import CheckContext, Result
from posture.graph.azure.reach import AzureNetwork
from posture.iam.azure import RbacIndex
from posture.model import Principle, Severity
from posture.registry import check


def _attack(ctx: CheckContext) -> AzureAttack:
    net = ctx.derived("azure.network.reach", AzureNetwork)
    rbac = ctx.derived("azure.iam.rbac", RbacIndex)
    return ctx.derived("azure.attack", lambda inv: AzureAttack.of(inv, net, rbac))


@check("azure.network.no_exposed_host_with_admin_identity", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH), reads=READS,
       params={"contributor_severity": "high", "resource_group_severity": "medium"})
def no_exposed_host_with_admin_identity(ctx: CheckContext) -> Iterator[Result]:
    """No internet-exposed Azure VM runs with an Owner-equivalent managed identity

    Any process on a VM can fetch tokens for its managed identities from the instance metadata
    service, which cannot be turned off per VM: nothing gates them. Reported when the wide internet
    reaches some tcp port of the VM (the exposure checks' verdict on every port range: public IP,
    load-balancer rules, firewall DNAT, both NSG levels) and an identity holds, by an active role
    assignment at a subscription, management group or the root, Owner power - Owner, a custom '*',
    or a role that can assign itself Owner (User Access Administrator, RBAC Administrator,
    roleAssignments/write) - CRITICAL; Contributor power there (every action but access management:
    contributor_severity); Owner or Contributor power on a resource group only (administrator of
    that group, not of the subscription: resource_group_severity). A condition that is not decided,
    a role definition or role-assignment listing not collected, or a path that cannot be decided is
    INCONCLUSIVE; a VM that is not exposed, or without such an identity, passes.

    Remediation: Break either half of the path: give the VM's managed identities only the roles
    their workload needs, at the narrowest scope (never Owner, User Access Administrator or
    Contributor on the subscription), or take the VM off the internet (no public IP, load balancer
    rule or firewall DNAT to it; NSGs admitting only what must be public, behind an Application
    Gateway or load balancer).
    """
    attack = _attack(ctx)
    for vm, endpoints in attack.hosts():
        yield attack_finding(ctx, attack.path(vm, endpoints), "VM")
