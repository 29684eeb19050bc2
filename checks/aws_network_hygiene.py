"""Security-group hygiene the benchmarks ask for, independent of today's paths: the default
security group of every VPC carries no rules (CIS AWS 5.4)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
ENI = "AWS::EC2::NetworkInterface"


@check("aws.network.default_security_group_restricts_all", Severity.LOW,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={SECURITY_GROUP, ENI})
def default_security_group_restricts_all(ctx: CheckContext) -> Iterator[Result]:
    """The default security group of every VPC restricts all traffic

    Every VPC's `default` group allows all traffic among its members and all egress; resources
    launched without a group land in it, so a forgotten instance silently joins a flat network with
    everything else placed there. With no rules, a resource that lands in it can talk to nothing
    until it is given a real group.

    Remediation: Remove every inbound and outbound rule from the VPC's `default` group (it cannot
    be deleted) and give resources purpose-made groups instead; move the interfaces listed in the
    evidence off it first.
    """
    members: dict[str, list[str]] = {}
    for eni in ctx.inventory.of(ENI):
        for group in eni.attr("security_group_ids") or ():
            members.setdefault(str(group), []).append(str(eni.attr("eni_id") or eni.uid))
    for sg in ctx.inventory.of(SECURITY_GROUP):
        if sg.attr("group_name") != "default":
            continue
        ingress, egress = sg.attr("ingress"), sg.attr("egress")
        used_by = sorted(members.get(str(sg.attr("group_id")), []))
        evidence = {"vpc_id": sg.attr("vpc_id"), "interfaces": used_by[:20],
                    "interface_count": len(used_by)}
        if ingress is None or egress is None:
            yield ctx.unknown(sg, "rules of the default security group unknown", **evidence)
        elif ingress or egress:
            yield ctx.fail(
                sg,
                f"default security group of {sg.attr('vpc_id')} has {len(ingress)} inbound and "
                f"{len(egress)} outbound rule(s)"
                + (f"; {len(used_by)} interface(s) use it" if used_by else ""),
                ingress=ingress, egress=egress, **evidence,
            )
        else:
            yield ctx.passed(sg, "default security group has no rules", **evidence)
