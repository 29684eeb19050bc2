"""The two halves of an attack path and their join, the same for every cloud.

*Network half*: whether the wide internet reaches the host on some tcp port (the exposure
checks' definition: a complete path for at least a /8 of IPv4 or a /16 of IPv6 clients), with
the exposed ports as ranges and the paths as evidence. *Identity half*: what the identity the
host runs as can do - administrator (a definite path), administrator under a condition the
inventory cannot decide, broad power short of administrator of the account (Azure: Contributor,
or administrator of one resource group; graded by the check), one change away (latent
escalation), unknown (not collected), or none of these - with the path to administrator as
hops. A *gate* is what keeps a process on the host from using the identity's power although the
identity has it (EC2: the instance metadata service turned off; GCP: access scopes narrower than
the role; Azure: none - the instance metadata service cannot be turned off per VM).

The joined path, for the report's diagram, is the network hops up to the host (the replies'
hops left out: they are in the network evidence), a ``port`` hop, then the identity hops; each
hop says its ``layer`` (``network`` or ``identity``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from posture.model import Asset

HOST_KINDS = ("asset", "Instance", "instance")
MAX_PATHS = 10  # network paths kept as evidence (one per exposed port range, family, interface)


class Reached(StrEnum):
    """The network half."""

    EXPOSED = "exposed"  # the wide internet reaches some tcp port
    UNDECIDED = "undecided"  # it may: some verdict depends on what the inventory cannot decide
    CLOSED = "not exposed"


class Power(StrEnum):
    """The identity half."""

    ADMIN = "admin"  # a definite path to administrator
    CONDITIONAL = "conditional"  # a path that depends on an undecidable condition
    BROAD = "broad"  # decided power short of administrator of the account (``grade`` says which)
    LATENT = "latent"  # one change away (a technique waiting for its counterpart)
    LATENT_CONDITIONAL = "latent, conditional"
    UNKNOWN = "unknown"  # the identity or its policies were not collected
    NONE = "none"  # no identity, or one that is none of the above


@dataclass(frozen=True, slots=True)
class NetworkHalf:
    state: Reached
    ports: str = "none"  # the exposed ports, e.g. "tcp/22, 443"
    paths: tuple[Mapping[str, Any], ...] = ()  # the exposure checks' path evidence
    hops: tuple[Mapping[str, Any], ...] = ()  # the first path's hops
    port: str = ""  # the port of the first path (the joined path's port hop)
    summary: str = ""  # the first path in one line
    why: str = ""  # undecided: what cannot be decided; closed: why not reachable
    fix: str = ""  # the change that breaks this half (for the first path)
    evidence: Mapping[str, Any] = field(default_factory=dict)  # narrow, latent, undecided...


@dataclass(frozen=True, slots=True)
class IdentityHalf:
    state: Power
    principal: str | None = None  # the identity's uid (role ARN, service-account email)
    label: str = ""  # "role ops-admin", "service account app@p.iam.gserviceaccount.com"
    text: str = ""  # the identity path in one line, or why it has no power
    hops: tuple[Mapping[str, Any], ...] = ()  # identity -> ... -> administrator
    evidence: Mapping[str, Any] = field(default_factory=dict)  # steps with their statements
    gate: str = ""  # what keeps the host from using the power ("" = nothing)
    fix: str = ""  # the change that breaks this half
    grade: str = ""  # BROAD: which broad power (the check's ``<grade>_severity`` grades it)


@dataclass(frozen=True, slots=True)
class AttackPath:
    host: Asset
    network: NetworkHalf
    identity: IdentityHalf

    def hops(self) -> list[dict[str, Any]]:
        return joined_hops(self.network.hops, self.network.port, self.identity.hops)

    def summary(self) -> str:
        """``internet -> tcp/22 -> legacy-jumphost -> role ops-admin -> administrator``."""
        parts = ["internet", self.network.port or self.network.ports, self.host.name]
        parts += [" ".join(str(h.get(k) or "") for k in ("kind", "id")).strip()
                  for h in self.identity.hops]
        return " -> ".join(p for p in parts if p)

    def evidence(self) -> dict[str, Any]:
        """Both halves: the joined path, the network paths and the identity steps."""
        out: dict[str, Any] = {
            "attack_path": self.hops(),
            "attack_summary": self.summary(),
            "exposed_ports": self.network.ports,
            "paths": list(self.network.paths[:MAX_PATHS]),
            "identity": {
                "principal": self.identity.principal,
                "label": self.identity.label,
                "state": self.identity.state.value,
                "path": self.identity.text,
                **self.identity.evidence,
            },
        }
        if len(self.network.paths) > MAX_PATHS:
            out["more_paths"] = len(self.network.paths) - MAX_PATHS
        if self.identity.gate:
            out["gate"] = self.identity.gate
        out.update(self.network.evidence)
        return out


def joined_hops(
    network: Sequence[Mapping[str, Any]], port: str, identity: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Network hops up to the host (replies left out), a ``port`` hop in front of the host's
    interface, then the identity hops."""
    hops = [dict(h) for h in network if "return" not in str(h.get("kind", ""))]
    end = max((n for n, h in enumerate(hops) if h.get("kind") in HOST_KINDS), default=None)
    if end is not None:
        hops = hops[: end + 1]
        at = end - 1 if end > 0 and hops[end - 1].get("kind") == "interface" else end
        if port:
            hops.insert(at, {"kind": "port", "id": port})
    out = [{**h, "layer": "network"} for h in hops]
    out += [{**h, "layer": "identity"} for h in identity]
    return out


__all__ = [
    "HOST_KINDS",
    "MAX_PATHS",
    "AttackPath",
    "IdentityHalf",
    "NetworkHalf",
    "Power",
    "Reached",
    "joined_hops",
]
