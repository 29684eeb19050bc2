"""AWS attack paths: internet → port → EC2 instance → instance profile → role → administrator.

An instance names its instance profile (``iam_instance_profile_arn``), the profile its role
(``AWS::IAM::InstanceProfile`` ``role_arns``); any process on the instance can fetch that role's
credentials from the instance metadata service (IMDSv2 stops SSRF, not a compromised process).

- **identity half**: the role's shortest path to administrator in the identity graph
  (:meth:`posture.iam.graph.IdentityGraph.admin_path`: an admin policy, or an escalation chain),
  conditional when an edge depends on an undecidable condition; else its latent escalation
  (:mod:`posture.iam.latent`: one change away). A role that does not trust
  ``ec2.amazonaws.com`` gives the instance no credentials (no power). A profile or role that is
  not in the inventory, or a role whose policies are incompletely known, is *unknown*. An
  instance whose metadata service is turned off (``http_endpoint`` disabled) cannot fetch the
  credentials: that is the *gate*, one change away.
- **network half**: every tcp port the wide internet reaches on the instance, directly or
  through an internet-facing load balancer (:mod:`posture.graph.aws.served`, the exposure
  checks' verdict on every port range).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.attack.path import AttackPath, IdentityHalf, NetworkHalf, Power, Reached
from posture.graph.aws.exposure import READS as NETWORK_READS
from posture.graph.aws.reach import INSTANCE, AwsReach, Host
from posture.graph.aws.served import served_ports
from posture.graph.ports import ranges_text
from posture.iam.aws import IDENTITY_READS
from posture.iam.escalation import ADMIN, Edge, trust_policy, trusted_services
from posture.iam.graph import IdentityGraph
from posture.iam.latent import LatentAnalysis, LatentEscalation
from posture.model import Asset, Inventory

INSTANCE_PROFILE = "AWS::IAM::InstanceProfile"
EC2 = "ec2.amazonaws.com"
READS = NETWORK_READS | IDENTITY_READS | {INSTANCE_PROFILE}
_RELEVANT = (Power.ADMIN, Power.CONDITIONAL, Power.LATENT, Power.LATENT_CONDITIONAL, Power.UNKNOWN)


@dataclass
class AwsAttack:
    """The join of one run's reachability and identity graphs (built once per run)."""

    reach: AwsReach
    graph: IdentityGraph
    latent: LatentAnalysis
    profiles: dict[str, Asset] = field(default_factory=dict)
    unlisted: bool = False  # the instance-profile listing failed

    @classmethod
    def of(cls, reach: AwsReach, graph: IdentityGraph, latent: LatentAnalysis) -> AwsAttack:
        inv: Inventory = reach.inventory
        profiles = {str(p.attr("arn") or p.uid): p for p in inv.of(INSTANCE_PROFILE)}
        failed = any(e.affects_types((INSTANCE_PROFILE,)) for e in inv.errors)
        return cls(reach, graph, latent, profiles, failed)

    def hosts(self) -> Iterator[Host]:
        """The EC2 instances the reachability graph knows (not terminated)."""
        return (h for h in self.reach.hosts() if h.asset.type == INSTANCE)

    def path(self, host: Host) -> AttackPath:
        """Both halves; the network half is computed only when the identity could matter."""
        identity = self.identity(host.asset)
        if identity.state in _RELEVANT:
            network = self.network(host)
        else:
            network = NetworkHalf(Reached.CLOSED, why="not evaluated: the identity has no power")
        return AttackPath(host.asset, network, identity)

    # -- the identity half ---------------------------------------------------------------------

    def identity(self, instance: Asset) -> IdentityHalf:
        arn = instance.attr("iam_instance_profile_arn")
        if not arn:
            return IdentityHalf(Power.NONE, text="the instance has no instance profile")
        profile = self.profiles.get(str(arn))
        pname = str(arn).rsplit("/", 1)[-1]
        if profile is None or profile.attr("role_arns") is None:
            why = (
                "the instance profiles could not be listed (iam:ListInstanceProfiles)"
                if self.unlisted
                else f"instance profile {pname} is not in the inventory"
            )
            return IdentityHalf(Power.UNKNOWN, str(arn), f"instance profile {pname}", why,
                                evidence={"instance_profile": arn})
        roles = list(profile.attr("role_arns"))
        if not roles:
            return IdentityHalf(Power.NONE, str(arn), f"instance profile {pname}",
                                f"instance profile {pname} holds no role")
        role_arn = roles[0]
        base = {"instance_profile": arn, "role": role_arn}
        principal = self.graph.principal(role_arn)
        rname = role_arn.rsplit("/", 1)[-1]
        label = f"role {rname}"
        if principal is None:
            return IdentityHalf(Power.UNKNOWN, role_arn, label,
                                f"role {rname} of instance profile {pname} is not in the inventory",
                                evidence=base)
        if EC2 not in trusted_services(trust_policy(self.graph.evaluator, principal)):
            return IdentityHalf(Power.NONE, role_arn, label,
                                f"role {rname} does not trust {EC2}: the instance gets no "
                                "credentials for it", evidence=base)
        gate = ""
        if instance.attr("http_endpoint") == "disabled":
            gate = (
                "the instance metadata service is turned off (http_endpoint disabled): no process "
                f"on the host can fetch the credentials of role {rname}"
            )
        first = {"kind": "role", "id": rname, "rule": f"instance profile {pname}"}
        path = self.graph.admin_path(role_arn)
        if path is not None:
            return IdentityHalf(
                Power.CONDITIONAL if path.conditional else Power.ADMIN,
                role_arn,
                label,
                path.describe(self.graph.names()),
                (first, *self._edge_hops(path.edges)),
                {**base, "steps": path.steps(), "conditional": path.conditional},
                gate,
                _fix(rname, path.edges),
            )
        found = self.latent.escalation(role_arn)
        if found is not None:
            return self._latent(found, first, label, base, gate)
        if principal.unknown:
            return IdentityHalf(Power.UNKNOWN, role_arn, label,
                                f"the policies of role {rname} are incompletely known",
                                evidence={**base, "unknown": list(principal.unknown)})
        return IdentityHalf(Power.NONE, role_arn, label,
                            f"role {rname} has no path to administrator and no latent escalation",
                            evidence=base)

    def _edge_hops(self, edges: tuple[Edge, ...]) -> list[dict[str, Any]]:
        nodes = self.graph.graph.nodes
        out = []
        for e in edges:
            if e.target == ADMIN:
                out.append({"kind": "", "id": "administrator", "rule": e.technique})
            else:
                kind = str(nodes[e.target].get("kind", "")) if e.target in nodes else ""
                name = str(nodes[e.target].get("name", e.target)) if e.target in nodes else e.target
                out.append({"kind": kind, "id": name, "rule": e.technique})
        return out

    def _latent(self, found: LatentEscalation, first: Mapping[str, Any], label: str,
                base: Mapping[str, Any], gate: str) -> IdentityHalf:
        names = self.graph.names()
        cap = found.capabilities[0]
        hops = [first, *self._edge_hops(found.via)]
        hops += [{"kind": "missing", "id": cap.counterpart, "rule": cap.technique},
                 {"kind": "", "id": "administrator", "rule": cap.moment}]
        holder = names.get(found.holder, found.holder)
        text = f"{cap.missing}; {cap.moment}, {holder} becomes administrator through " + \
            cap.technique.replace("+", " + ")
        return IdentityHalf(
            Power.LATENT_CONDITIONAL if found.conditional else Power.LATENT,
            found.principal,
            label,
            text,
            tuple(hops),
            {**base, "latent": [c.evidence() for c in found.capabilities],
             "via": [e.evidence() for e in found.via], "conditional": found.conditional},
            gate,
            f"scope {cap.action} of role {label.split(' ', 1)[1]} to the resources it needs",
        )

    # -- the network half ----------------------------------------------------------------------

    def network(self, host: Host) -> NetworkHalf:
        served = served_ports(self.reach, host)
        exp = served.exposure
        if exp.exposed:
            first = exp.exposed[0]
            span = served.range_of(int(first["port"])) or (int(first["port"]),) * 2
            extra: dict[str, Any] = {"allow_listed": exp.narrow} if exp.narrow else {}
            port = ranges_text([span])
            return NetworkHalf(
                Reached.EXPOSED,
                served.text(),
                tuple(exp.exposed),
                tuple(first.get("hops") or ()),
                port,
                exp.summary,
                fix=_network_fix(first, port),
                evidence=extra,
            )
        if exp.unknown:
            return NetworkHalf(Reached.UNDECIDED, why=exp.unknown[0],
                               evidence={"undecided": sorted(set(exp.unknown))})
        evidence: dict[str, Any] = {}
        if exp.narrow:
            evidence["allow_listed"] = exp.narrow[:5]
        if exp.latent:
            evidence["latent"] = exp.latent[:5]
        reasons = "; ".join(exp.reasons[:3]) + ("; ..." if len(exp.reasons) > 3 else "")
        why = reasons or "no internet path"
        if exp.narrow:
            why = f"reachable only from allow-listed ranges ({exp.narrow[0]['clients']})"
        return NetworkHalf(Reached.CLOSED, why=why, evidence=evidence)


def _network_fix(path: Mapping[str, Any], port: str) -> str:
    if path.get("load_balancer"):
        return (f"stop forwarding {port} to the host from internet-facing load balancer "
                f"{path['load_balancer']} (listener {path.get('listener')})")
    groups = [str(h.get("id")) for h in path.get("hops") or () if h.get("kind") == "security-group"]
    where = f" in security group {groups[0]}" if groups else ""
    return f"remove the rule admitting {port} from the internet{where}, or the public address"


def _fix(role: str, edges: tuple[Edge, ...]) -> str:
    if len(edges) == 1 and edges[0].technique == "admin-policy":
        return f"replace the administrator policy of role {role} with what the workload needs"
    return f"break the path of role {role} to administrator ({edges[0].technique})"


__all__ = ["EC2", "INSTANCE_PROFILE", "READS", "AwsAttack"]
