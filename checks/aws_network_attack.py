"""Attack paths across network and identity: an internet-exposed EC2 instance whose role is an
administrator (or one change from it) is one compromised process away from owning the account.

The join lives in :mod:`posture.attack.aws` (instance → instance profile → role, the identity
graph's admin path or latent escalation, every tcp port the wide internet reaches); this module
judges it and words it (:func:`posture.checks._shared.attack_finding`).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import attack_finding, identity

from posture.attack.aws import READS, AwsAttack
from posture.engine import CheckContext, Result
from posture.graph.aws.exposure import reach_of
from posture.iam.latent import LatentAnalysis
from posture.model import Principle, Severity
from posture.registry import check


def _attack(ctx: CheckContext) -> AwsAttack:
    reach = ctx.derived("aws.reach", reach_of)
    latent = ctx.derived("aws.identity.latent", lambda _: LatentAnalysis(identity(ctx)))
    return ctx.derived("aws.attack", lambda _: AwsAttack.of(reach, identity(ctx), latent))


@check("aws.network.no_exposed_host_with_admin_identity", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH), reads=READS,
       params={"latent_severity": "high", "gated_severity": "low"})
def no_exposed_host_with_admin_identity(ctx: CheckContext) -> Iterator[Result]:
    """No internet-exposed EC2 instance runs with an administrator role

    Any process on an EC2 instance can fetch its instance profile's credentials from the metadata
    service (IMDSv2 stops SSRF, not a compromised process). A web server on 443 with an
    administrator role is one exploit away from owning the account. Reported when the wide internet
    reaches some tcp port of the instance (the exposure checks' path, on every port, directly or
    through an internet-facing load balancer) and its role is administrator by policy or escalation
    (CRITICAL), or one change away from it (latent escalation: latent_severity); an instance whose
    metadata service is off cannot use its role (gated_severity). A conditional admin path, a role
    or profile not collected or a path that cannot be decided is INCONCLUSIVE; a host that is not
    exposed passes (the exposure and IAM checks still judge each half).

    Remediation: Break either half of the path: give the instance's role only what its workload
    needs (no administrator policy, no iam:PassRole/policy-writing escalation), or take the host
    off the internet (no public address or internet-facing load balancer target; security groups
    admitting only what must be public, behind a load balancer).
    """
    attack = _attack(ctx)
    for host in attack.hosts():
        yield attack_finding(ctx, attack.path(host), "instance")
