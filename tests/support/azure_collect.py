"""Collecting Azure with the real SDK clients from the loopback HTTPS fake of ARM and Graph
(:class:`~posture.demo.azure_fake.FakeArm`), signed in with a service principal it accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azure.identity import ClientSecretCredential

from posture.collectors.azure.base import AzureTarget
from posture.collectors.azure.collector import collect
from posture.demo.azure_fake import FakeArm
from posture.model import Inventory

from .azure import TENANT


def fake_credential(fake: FakeArm) -> ClientSecretCredential:
    """A service principal of ``TENANT`` signing in at the fake's own Entra ID endpoint."""
    return ClientSecretCredential(TENANT, "client-id", "secret", authority=fake.base,
                                  disable_instance_discovery=True,
                                  connection_verify=str(fake.ca))


def collect_fake(fake: FakeArm, retries: int = 0, **target: Any) -> Inventory:
    """Collect from ``fake`` (ARM; Graph too with ``graph_endpoint=fake.base``); ``retries``
    retries of a throttled or failed call, 10 ms apart; ``target``: more AzureTarget fields."""
    return collect(AzureTarget(arm_endpoint=fake.base, ca_bundle=str(fake.ca),
                               retry_total=retries, retry_backoff_factor=0.01, **target),
                   credential=fake_credential(fake))


def collect_fresh(tls: Path, graph: bool = False) -> Inventory:
    """Collect ARM (and Graph, with ``graph``) from a fresh fake whose throw-away CA is in
    ``tls``, stopped once collected (a module's shared read-only estate)."""
    with FakeArm(tls) as fake:
        return collect_fake(fake, graph_endpoint=fake.base if graph else None)


def names(inv: Inventory, type_: str) -> set[str]:
    """The names of ``inv``'s assets of ``type_``."""
    return {a.name for a in inv.of(type_)}
