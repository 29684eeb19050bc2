"""A failed detail call on one resource never turns another resource's FAIL into PASS (GCP).

End to end: the real Google clients collect ``acme-prod`` from the loopback fake, with the
members of the instance group ``workers`` refused; a passthrough network load balancer forwards
internet clients on tcp/22 to that group. ``worker-1`` (its external address removed here, so
only the load-balancer path leaves it one firewall layer deep) is in the group. Without the
group's members, which instances the load balancer reaches is unknown: ``worker-1``'s defense
depth must not read PASS from its direct path alone - it is INCONCLUSIVE and names the failed
call.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support.checks import run_one
from support.gcp_collect import collect_denied

from posture.demo.gcp_fake import load_routes
from posture.model import Finding, Inventory, Status

DEPTH = "gcp.network.sensitive_ports_defense_in_depth"
ADMIN = "gcp.network.admin_ports_not_internet_reachable"
LIST = ("POST /compute/v1/projects/acme-prod/zones/us-central1-b/instanceGroups/workers/"
        "listInstances")
OPERATION = "instanceGroups.listInstances"
INSTANCES = "GET /compute/v1/projects/acme-prod/aggregated/instances"


def _routes() -> dict[str, Any]:
    """The fixtures' routes, ``worker-1`` without an external address."""
    routes = load_routes()
    listing = copy.deepcopy(routes[INSTANCES])
    for page in listing["__pages__"]:
        for zone in page.get("items", {}).values():
            for inst in zone.get("instances", ()):
                if inst["name"] == "worker-1":
                    for nic in inst.get("networkInterfaces", ()):
                        nic.pop("accessConfigs", None)
    return {**routes, INSTANCES: listing}


@pytest.fixture(scope="module")
def intact() -> Inventory:
    return collect_denied(routes=_routes())


@pytest.fixture(scope="module")
def broken() -> Inventory:
    return collect_denied(LIST, routes=_routes())


def _of(inv: Inventory, check_id: str, name: str) -> Finding:
    (found,) = [f for f in run_one(check_id, inv) if f.resource_name == name]
    return found


def test_the_worker_fails_its_depth_when_every_call_succeeds(intact: Inventory) -> None:
    assert intact.errors == ()
    found = _of(intact, DEPTH, "worker-1")
    assert found.status == Status.FAIL
    assert "load balancer" in found.message or "worker-ssh-nlb" in str(found.evidence)


def test_unlisted_group_members_leave_the_worker_inconclusive(broken: Inventory) -> None:
    assert {e.operation for e in broken.errors} == {OPERATION}

    found = _of(broken, DEPTH, "worker-1")

    assert found.status == Status.INCONCLUSIVE, found.message
    assert OPERATION in found.message


def test_instances_the_group_cannot_hold_keep_their_verdicts(
    intact: Inventory, broken: Inventory
) -> None:
    """The instances of another zone than the group's (web-1, app-1) cannot be its members:
    web-1's CRITICAL FAIL and app-1's PASS are unchanged. (Every instance of the group's zone
    and network may be a member: those are INCONCLUSIVE where they would pass.)"""
    elsewhere = {i.uid for i in intact.of("compute.googleapis.com/Instance")
                 if i.region != "us-central1-b"}
    assert {intact.get(u).name for u in elsewhere} >= {"web-1", "app-1"}  # type: ignore[union-attr]
    for check_id in (ADMIN, DEPTH):
        before = {f.resource_name: f.status for f in run_one(check_id, intact)
                  if f.resource_uid in elsewhere}
        after = {f.resource_name: f.status for f in run_one(check_id, broken)
                 if f.resource_name in before}
        assert after == before
    assert _of(broken, ADMIN, "web-1").status == Status.FAIL
