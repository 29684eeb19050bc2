"""The per-asset defense-depth table of the HTML report (and the CSV ``depth`` cell).

A finding carries a depth when its evidence has ``depth``: an integer (the least number of
independent layer changes that would expose the asset's weakest sensitive port; 0 = exposed),
or None with ``depth_at_least`` (a lower bound) or with nothing (undecided). The defense-depth
check gives depths of 1 and more, the exposure checks give 0 on their failures. One row per
asset: the lowest depth any finding gives it, with the layers that make it up and the change
that would expose it. This module only shapes plain values; the template escapes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from posture.model import Finding, Status

UNDECIDED = "undecided"

# the layers of each cloud in its own terms: the table's introduction, and the words for the
# layer ids the depth checks name in ``changes``
LAYERS = {
    "aws": "public address, internet-gateway route, network ACL, security group, "
           "load-balancer forwarding",
    "azure": "public IP, load-balancer rule or inbound NAT rule, firewall DNAT, subnet NSG, "
             "NIC NSG",
    "gcp": "external IP address, route to the default internet gateway, hierarchical "
           "firewall policy, VPC firewall rule, load-balancer forwarding",
}
LAYER_WORDS = {
    # the depth checks' layer ids are read as they are (``subnet-nsg``, ``vpc-firewall``,
    # ``network-acl inbound``), but for a word that is another cloud's
    "azure": {"public-address": "public IP", "internet-gateway": "internet route"},
}


def provider_of(f: Finding) -> str:
    """The cloud of a finding, from its check id (``aws.network...``)."""
    return f.check_id.split(".", 1)[0]


def depth_of(evidence: Any, status: str = "") -> tuple[bool, int | None, int | None]:
    """(carries a depth, exact depth, lower bound) of a finding's evidence; a finding whose
    status is INCONCLUSIVE or ERROR (e.g. a pass not verified for a collection gap) carries
    an undecided depth whatever its evidence says."""
    if not isinstance(evidence, Mapping) or "depth" not in evidence:
        return False, None, None
    if status in (Status.INCONCLUSIVE.value, Status.ERROR.value):
        return True, None, None
    value, bound = evidence.get("depth"), evidence.get("depth_at_least")
    exact = value if isinstance(value, int) and not isinstance(value, bool) else None
    low = bound if isinstance(bound, int) and not isinstance(bound, bool) else None
    return True, exact, low


def depth_cell(evidence: Any, status: str = "") -> str:
    """The CSV ``depth`` cell: the depth, ``>=N`` for a lower bound, ``undecided``, or empty
    when the finding has no depth (not a defense-depth or exposure finding)."""
    has, exact, low = depth_of(evidence, status)
    if not has:
        return ""
    if exact is not None:
        return str(exact)
    return f">={low}" if low is not None else UNDECIDED


def _layer_text(layer: Any, provider: str) -> str:
    if not isinstance(layer, Mapping):
        return str(layer)
    name = str(layer.get("layer", "?"))
    name = LAYER_WORDS.get(provider, {}).get(name, name)
    head = f"{name} {layer.get('resource') or ''}".strip()
    rule = layer.get("rule") or layer.get("detail") or ""
    return f"{head}: {rule}" if rule else head


def _row(f: Finding) -> dict[str, Any] | None:
    has, exact, low = depth_of(f.evidence, f.status.value)
    if not has:
        return None
    ev = f.evidence
    listed = ev.get("changes")
    changes: list[Any] = listed if isinstance(listed, list) else []
    single = ev.get("single_change") if isinstance(ev.get("single_change"), Mapping) else None
    if exact is not None:
        text, rank = str(exact), exact
    elif low is not None:
        text, rank = f"≥ {low}", low
    else:
        text, rank = UNDECIDED, -1
    port = ev.get("port")
    paths = ev.get("paths")
    if port is None and isinstance(paths, list) and paths and isinstance(paths[0], Mapping):
        port = paths[0].get("port")  # an exposure finding: the port of its first path
    protocol = str(ev.get("protocol") or "tcp")
    ports = ev.get("port_range") if isinstance(ev.get("port_range"), str) else port
    why = ev.get("sensitive")
    return {
        "name": f.resource_name,
        "uid": f.resource_uid,
        "type": f.resource_type,
        "depth": text,
        "rank": rank,
        "bucket": "undecided" if rank < 0 else ("0" if rank == 0 else "1" if rank == 1 else "2+"),
        "status": f.status.value,
        "check_id": f.check_id,
        "port": f"{protocol}/{ports}" if isinstance(port, int) else "",
        # why the asset's ports are judged: "tagged Sensitivity=high", "private tier", ...
        "sensitive": ", ".join(map(str, why)) if isinstance(why, list) else "",
        "via": str(ev.get("via") or ""),
        "layers": [_layer_text(x, provider_of(f)) for x in changes],
        "change": str(single.get("change") or "") if single else "",
        "exposed": exact == 0,
    }


def depth_table(findings: Iterable[Finding]) -> dict[str, Any]:
    """Rows (one per asset, lowest depth first), per-type counts of depth 0, 1, 2+, and the
    layers counted, in the terms of the clouds the rows are on."""
    best: dict[str, dict[str, Any]] = {}
    clouds: set[str] = set()
    for f in findings:
        row = _row(f)
        if row is None:
            continue
        clouds.add(provider_of(f))
        have = best.get(row["uid"])
        if have is None:
            best[row["uid"]] = row
            continue
        have_checks = have.setdefault("checks", [have["check_id"]])
        # a decided depth beats an undecided one; otherwise the lower depth wins
        if (have["rank"] < 0 <= row["rank"]) or (0 <= row["rank"] < have["rank"]):
            row["checks"] = have_checks
            best[row["uid"]] = row
            have = row
        if row["check_id"] not in have_checks:
            have_checks.append(row["check_id"])
    rows = sorted(
        best.values(),
        key=lambda r: (r["rank"] < 0, r["rank"], r["type"], r["name"], r["uid"]),
    )
    for r in rows:
        r["checks"] = sorted(r.get("checks", [r["check_id"]]))
    types: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = types.setdefault(r["type"], {"0": 0, "1": 0, "2+": 0, "undecided": 0})
        counts[r["bucket"]] += 1
    known = [c for c in LAYERS if c in clouds] or ["aws"]
    layers = "; ".join(
        (f"{c.upper() if c != 'azure' else 'Azure'}: " if len(known) > 1 else "") + LAYERS[c]
        for c in known
    )
    return {"rows": rows, "types": dict(sorted(types.items())), "layers": layers}


__all__ = ["depth_cell", "depth_of", "depth_table"]
