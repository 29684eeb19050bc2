"""Instance metadata with the real google-cloud-compute client against the loopback fake: known
settings kept, every key listed, every value scanned for secrets and redacted from ``raw``."""

from __future__ import annotations

import json
import logging

import pytest
from support.gcp_collect import collect_fake

from posture.collectors.gcp.compute import normalize_metadata
from posture.collectors.secrets import REDACTED, fingerprint
from posture.demo.gcp_fake import FakeGoogle
from posture.model import Inventory

C = "//compute.googleapis.com/projects/acme-prod/zones"
PLANTED = "Hq3nW7sK1vB5xZ8c"  # app-1's startup-script in fixtures/gcp/acme-prod/compute.json
INSTANCES_LOGGER = "google.cloud.compute_v1.services.instances.transports.rest"


@pytest.fixture(scope="module")
def inv(gcp_fake: FakeGoogle) -> Inventory:
    return collect_fake(gcp_fake.base)


def _instance(inv: Inventory, zone: str, name: str) -> dict[str, object]:
    asset = inv.get(f"{C}/{zone}/instances/{name}")
    assert asset is not None
    return {k: asset.attr(k) for k in ("metadata", "metadata_keys", "metadata_secrets")}


def test_a_startup_script_secret_is_a_verdict_not_a_value(inv: Inventory) -> None:
    assert _instance(inv, "us-central1-a", "app-1") == {
        "metadata": {"enable-oslogin": "TRUE"},
        "metadata_keys": ["enable-oslogin", "startup-script"],
        "metadata_secrets": [
            {
                "key": "startup-script",
                "type": "Secret Keyword",
                "line": 3,
                "fingerprint": fingerprint(PLANTED, "acme-prod"),
            }
        ],
    }


def test_public_ssh_keys_and_clean_scripts_pass_and_custom_values_are_not_kept(
    inv: Inventory,
) -> None:
    assert _instance(inv, "us-central1-a", "web-1") == {
        "metadata": {"enable-oslogin": "FALSE"},  # a known setting; `team` is custom
        "metadata_keys": ["enable-oslogin", "ssh-keys", "startup-script", "team"],
        "metadata_secrets": [],
    }
    assert _instance(inv, "us-central1-b", "db-1")["metadata"] == {"enable-oslogin": "TRUE"}


def test_an_instance_without_items_has_no_keys_and_no_secrets(inv: Inventory) -> None:
    dev = {a.name: a for a in inv.of("compute.googleapis.com/Instance") if a.account == "acme-dev"}
    assert {n: (a.attr("metadata_keys"), a.attr("metadata_secrets")) for n, a in dev.items()} == {
        "ci-1": ([], []),
        "pg-dev-1": ([], []),
        "report-1": ([], []),
        "jump-1": (["block-project-ssh-keys"], []),
        "mongo-1": ([], []),
        "cache-1": ([], []),
    }
    assert dev["jump-1"].attr("metadata") == {"block-project-ssh-keys": "TRUE"}


def test_raw_keeps_the_keys_and_redacts_every_value(inv: Inventory) -> None:
    for asset in inv.of("compute.googleapis.com/Instance"):
        items = (asset.raw.get("metadata") or {}).get("items") or []
        assert {i["value"] for i in items} <= {REDACTED}, asset.name
    app = inv.get(f"{C}/us-central1-a/instances/app-1")
    assert app is not None
    assert [i["key"] for i in app.raw["metadata"]["items"]] == ["startup-script", "enable-oslogin"]
    assert PLANTED not in json.dumps([a.raw for a in inv.assets])
    assert PLANTED not in json.dumps([dict(a.attrs) for a in inv.assets])


def test_metadata_not_in_the_payload_is_unknown_not_empty() -> None:
    assert normalize_metadata(None, "p") == {
        "metadata": {},
        "metadata_keys": None,
        "metadata_secrets": None,
    }
    assert normalize_metadata({"kind": "compute#metadata"}, "p")["metadata_secrets"] == []


def test_a_flagged_setting_is_not_kept_verbatim() -> None:
    got = normalize_metadata(
        {"items": [{"key": "enable-oslogin", "value": "AKIAIOSFODNN7EXAMPLE"}]}, "p"
    )
    assert got["metadata"] == {} and got["metadata_keys"] == ["enable-oslogin"]
    assert {h["type"] for h in got["metadata_secrets"]} == {"AWS Access Key"}


def test_the_instances_transport_cannot_log_response_bodies(inv: Inventory) -> None:
    logger = logging.getLogger(INSTANCES_LOGGER)
    record = logger.makeRecord(
        logger.name, logging.DEBUG, __file__, 1, "Received response for aggregated_list", (),
        None, extra={"httpResponse": {"payload": PLANTED}},
    )
    assert not logger.filter(record)  # dropped before any handler sees it
