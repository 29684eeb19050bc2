"""GCP attack paths: internet → port → Compute Engine instance → service account → project
Owner/Editor.

Any process on an instance can fetch an access token for the instance's service account from
the metadata server; the token carries the instance's *access scopes*, and an API call needs
both the IAM permission and a scope that covers the API. So:

- **identity half**: the service account holds ``roles/owner`` or ``roles/editor`` on a project
  (unconditionally: admin; under an IAM condition: conditional), or reaches an account that
  does by impersonation (:func:`posture.iam.gcp.build_impersonation_graph`: certain steps
  admin, possible ones conditional). The default compute service account is named as such. A
  project whose IAM policy could not be read leaves the account's power unknown.
- **scopes**: ``cloud-platform`` lets the token use every role. ``compute`` (read-write) lets
  it create an instance running as the same account with ``cloud-platform`` (Owner and Editor
  hold ``iam.serviceAccounts.actAs`` on the project's accounts): one more step, the same power.
  Narrower scopes (the defaults: storage read-only, logging, monitoring, ...) keep the token from
  the administrative APIs: that is the *gate* - the role is still there, one change of scopes
  away (the instance must be stopped to change them; nothing on it can).
- **network half**: every tcp port the wide internet reaches (:mod:`posture.graph.gcp.served`,
  the exposure checks' verdict on every port range).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from posture.attack.path import AttackPath, IdentityHalf, NetworkHalf, Power, Reached
from posture.gcp import PROJECT, default_compute_sa, grants
from posture.graph.gcp.exposure import PATH_READS, Estate
from posture.graph.gcp.served import served_ports
from posture.iam.gcp import BASIC_ADMIN, ImpersonationGraph, ImpersonationPath
from posture.model import Asset, Inventory

AUTH = "https://www.googleapis.com/auth/"
FULL_SCOPE = f"{AUTH}cloud-platform"
COMPUTE_SCOPE = f"{AUTH}compute"
READS = PATH_READS | {PROJECT, f"{PROJECT}#iam_policy"}
_RELEVANT = (Power.ADMIN, Power.CONDITIONAL, Power.UNKNOWN)


def scope_names(scopes: Sequence[str]) -> list[str]:
    return [s.removeprefix(AUTH) for s in scopes]


@dataclass
class GcpAttack:
    """The join of one run's GCP network estate and impersonation graph."""

    est: Estate
    graph: ImpersonationGraph
    projects: dict[str, Asset] = field(default_factory=dict)
    _paths: dict[str, list[ImpersonationPath]] | None = None

    @classmethod
    def of(cls, inv: Inventory, est: Estate, graph: ImpersonationGraph) -> GcpAttack:
        projects = {str(p.attr("project_id") or p.account): p for p in inv.of(PROJECT)}
        return cls(est, graph, projects)

    def path(self, instance: Asset) -> AttackPath:
        identity = self.identity(instance)
        if identity.state in _RELEVANT:
            network = self.network(instance)
        else:
            network = NetworkHalf(Reached.CLOSED, why="not evaluated: the identity has no power")
        return AttackPath(instance, network, identity)

    # -- the identity half ---------------------------------------------------------------------

    def _impersonation(self, member: str) -> list[ImpersonationPath]:
        if self._paths is None:
            self._paths = {}
            for p in self.graph.paths_to_admin():
                self._paths.setdefault(p.principal, []).append(p)
        return self._paths.get(member, [])

    def identity(self, instance: Asset) -> IdentityHalf:
        emails = list(instance.attr("service_accounts") or ())
        if not emails:
            return IdentityHalf(Power.NONE, text="the instance runs without a service account")
        email = emails[0]
        member = f"serviceAccount:{email}"
        own = self.projects.get(instance.account)
        default = own is not None and default_compute_sa(own) == email
        label = f"{'default compute ' if default else ''}service account {email}"
        scopes = list(instance.attr("scopes") or ())
        base: dict[str, Any] = {"service_account": email, "default_compute_service_account":
                                default, "scopes": scope_names(scopes)}
        first = {"kind": "service account", "id": email,
                 "rule": "default compute service account" if default else "instance identity"}
        held: list[tuple[str, str]] = []
        conditional: list[tuple[str, str]] = []
        unknown: list[str] = []
        for pid, project in sorted(self.projects.items()):
            bindings = project.attr("iam_bindings")
            if bindings is None:
                unknown.append(pid)
            for role, who, cond in grants(bindings):
                if who == member and role in BASIC_ADMIN:
                    (conditional if cond else held).append((pid, role))
        paths = self._impersonation(member)
        certain = [p for p in paths if p.certain]
        gate, via = _scope_gate(scopes, email)
        hops: list[dict[str, Any]] = [first, *via]
        if held:
            pid, role = held[0]
            hops.append(_admin_hop(pid, role))
            text = f"{email} holds {', '.join(f'{r} on {p}' for p, r in held)}"
            return IdentityHalf(Power.ADMIN, email, label, text, tuple(hops),
                                {**base, "admin_roles": [{"project": p, "role": r}
                                                         for p, r in held]},
                                gate, f"remove {role} from {email} on {pid} (grant the roles the "
                                "workload needs)")
        if certain:
            p = certain[0]
            return IdentityHalf(Power.ADMIN, email, label, _path_text(p),
                                (*hops, *_impersonation_hops(p)),
                                {**base, "impersonation": p.evidence()}, gate,
                                f"remove {p.steps[0].role} of {email} on "
                                f"{p.steps[0].granted_on}")
        if conditional or paths:
            what = [f"{r} on {p} under a condition" for p, r in conditional]
            what += [_path_text(p) for p in paths]
            return IdentityHalf(Power.CONDITIONAL, email, label, "; ".join(what), tuple(hops),
                                {**base, "conditional_roles": [{"project": p, "role": r}
                                                               for p, r in conditional],
                                 "possible": [p.evidence() for p in paths]}, gate)
        if unknown:
            return IdentityHalf(Power.UNKNOWN, email, label,
                                f"the IAM policy of project {', '.join(unknown)} could not be read",
                                evidence=base)
        return IdentityHalf(Power.NONE, email, label,
                            f"{email} holds no basic admin role and reaches none by impersonation",
                            evidence=base)

    # -- the network half ----------------------------------------------------------------------

    def network(self, instance: Asset) -> NetworkHalf:
        served = served_ports(self.est, instance)
        rep = served.exposure
        if rep.exposed:
            first = rep.exposed[0]
            port = int(str(first["port"]))
            span = next(((lo, hi) for lo, hi in served.ranges if lo <= port <= hi), (port, port))
            ptext = f"tcp/{span[0]}" if span[0] == span[1] else f"tcp/{span[0]}-{span[1]}"
            return NetworkHalf(Reached.EXPOSED, served.text(), tuple(rep.exposed),
                               tuple(first.get("path") or ()), ptext,
                               fix=_network_fix(first, ptext),
                               evidence={"possible": rep.possible} if rep.possible else {})
        if rep.unknown_networks:
            names = ", ".join(sorted(set(rep.unknown_networks)))
            return NetworkHalf(Reached.UNDECIDED,
                               why=f"the firewall policies of network {names} could not be read",
                               evidence={"possible": rep.possible})
        if rep.possible:
            reasons = sorted({r for e in rep.possible for r in e.get("undecided") or ()})
            return NetworkHalf(Reached.UNDECIDED, served.text("possible"),
                               why="; ".join(reasons), evidence={"possible": rep.possible})
        evidence: dict[str, Any] = {}
        why = "no firewall path admits the wide internet"
        if rep.narrow:
            evidence["allow_listed"] = rep.narrow[:5]
            why = "reachable only from allow-listed ranges"
        if rep.latent:
            evidence["latent"] = rep.latent[:5]
            why = "the firewall admits the internet, but the instance has no external address"
        if not any(n.get("has_external_ipv4") or n.get("has_external_ipv6")
                   for n in instance.attr("network_interfaces") or ()) and not rep.latent:
            why = "no external address and no external load balancer reaches it"
        return NetworkHalf(Reached.CLOSED, why=why, evidence=evidence)


def _network_fix(e: dict[str, Any], port: str) -> str:
    frontend = e.get("frontend")
    if isinstance(frontend, dict):
        return (f"stop forwarding {port} to the instance from external forwarding rule "
                f"{frontend.get('forwarding_rule')}")
    rule = next((str(h["rule"]) for h in e.get("path") or () if h.get("rule")), "")
    where = f" ({rule})" if rule else ""
    return f"narrow the firewall rule admitting {port} from the internet{where}, or drop the " \
        "external address"


def _scope_gate(scopes: Sequence[str], email: str) -> tuple[str, list[dict[str, Any]]]:
    """(gate, extra hops) of the instance's access scopes."""
    if FULL_SCOPE in scopes:
        return "", []
    if COMPUTE_SCOPE in scopes:
        return "", [{"kind": "instance", "id": "a new instance", "rule":
                     f"compute scope: create one as {email} with the cloud-platform scope"}]
    names = ", ".join(scope_names(scopes)) or "none"
    return (f"the instance's access scopes ({names}) leave out cloud-platform: its token cannot "
            "use the role's administrative permissions"), []


def _path_text(p: ImpersonationPath) -> str:
    steps = " -> ".join(f"{s.service_account} ({s.role} on {s.granted_on})" for s in p.steps)
    who = p.principal.removeprefix("serviceAccount:")
    return f"{who} -> {steps}: {p.admin_role} on {p.project}"


def _impersonation_hops(p: ImpersonationPath) -> list[dict[str, Any]]:
    hops: list[dict[str, Any]] = [
        {"kind": "service account", "id": s.service_account, "rule": s.role} for s in p.steps
    ]
    hops.append(_admin_hop(p.project, p.admin_role))
    return hops


def _admin_hop(project: str, role: str) -> dict[str, Any]:
    return {"kind": "administrator of", "id": f"project {project}", "rule": role}


__all__ = ["COMPUTE_SCOPE", "FULL_SCOPE", "READS", "GcpAttack", "scope_names"]
