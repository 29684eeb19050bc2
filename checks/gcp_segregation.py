"""Segregation on GCP: no VPC peering between production and non-production networks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from posture.engine import CheckContext, Result
from posture.gcp import NETWORK, PROJECT
from posture.model import Asset, Principle, Severity
from posture.registry import check

PROD, NONPROD = "production", "non-production"


def environment(
    project: Asset | None, keys: Sequence[str], prod_values: Sequence[str]
) -> tuple[str | None, str | None]:
    """(environment, label that decided it) of a project from its labels."""
    if project is None:
        return None, None
    labels: Mapping[str, str] = project.attr("labels") or project.tags or {}
    prod = {v.lower() for v in prod_values}
    for key in keys:
        value = labels.get(key)
        if value:
            return (PROD if value.lower() in prod else NONPROD), f"{key}={value}"
    return None, None


def _project_of(path: str | None) -> str | None:
    parts = (path or "").split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "projects" else None


@check(
    "gcp.segregation.no_prod_nonprod_peering", Severity.HIGH, (Principle.SEGREGATION,),
    reads={NETWORK, f"{PROJECT}#listing"},
    params={
        "environment_label_keys": ("env", "environment", "stage"),
        "production_values": ("prod", "production", "prd"),
    },
)
def no_prod_nonprod_peering(ctx: CheckContext) -> Iterator[Result]:
    """No VPC peering connects production and non-production networks

    An active peering routes every subnet of one network to the other, so a compromise of the
    weaker environment reaches production. Environments come from project labels (a network belongs
    to its project); an unlabelled or unscanned peer project makes the verdict inconclusive. Only
    ACTIVE peerings carry traffic.

    Remediation: Delete the peering; give non-production what it needs through Private Service
    Connect endpoints or a controlled data copy instead.
    """
    keys, prod = ctx.param("environment_label_keys"), ctx.param("production_values")
    projects = {p.attr("project_id"): p for p in ctx.inventory.of(PROJECT)}

    def env(path: str | None) -> dict[str, Any]:
        project = _project_of(path)
        kind, label = environment(projects.get(project), keys, prod)
        return {
            "network": path,
            "project": project,
            "environment": kind or "unknown",
            "label": label,
        }

    for net in ctx.inventory.of(NETWORK):
        active = [p for p in net.attr("peerings") or () if p.get("state") == "ACTIVE"]
        if not active:
            yield ctx.passed(net, "no active peering")
            continue
        mine = env(net.attr("path"))
        crossing, unknown = [], []
        for peering in active:
            other = env(peering.get("network"))
            pair = {"peering": peering.get("name"), "local": mine, "peer": other}
            kinds = {mine["environment"], other["environment"]}
            if kinds == {PROD, NONPROD}:
                crossing.append(pair)
            elif "unknown" in kinds:
                unknown.append(pair)
        if crossing:
            names = ", ".join(str(c["peering"]) for c in crossing)
            yield ctx.fail(
                net, f"peering {names} connects production and non-production", paths=crossing
            )
        elif unknown:
            yield ctx.unknown(
                net,
                "environment of a peered network unknown (unlabelled or unscanned project)",
                peerings=unknown,
            )
        else:
            yield ctx.passed(net, "peerings stay within one environment", local=mine)
