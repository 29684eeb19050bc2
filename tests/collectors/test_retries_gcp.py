"""The GCP collector under injected faults: a fault proxy (``support.fault_proxy``) between the
real Google clients and the loopback fake of the Google APIs drops connections, resets them, or
answers 503 / 429 with ``Retry-After`` in Google's error shape.

Every call is retried on its own, transport errors included (``posture.collectors.gcp.retries``):
GAPIC and storage calls through their ``retry=``, discovery calls through the request class.
api_core's ``Retry`` with posture's old predicate (429 and 5xx only) let a dropped connection
end the call; the tests show both."""

from __future__ import annotations

import re

import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.auth.credentials import AnonymousCredentials
from support.fault_proxy import Fault, FaultProxy, Schedule, fault_proxy, google_error, only
from support.gcp_collect import collect_fake, fake_target

from posture.collectors.gcp.base import Clients
from posture.demo.gcp_fake import FakeGoogle
from posture.model import Inventory

PROJECT = "GET /v3/projects/acme-prod"  # resource manager (GAPIC, REST transport, requests)
ACCOUNTS = "GET /v1/projects/acme-prod/serviceAccounts"  # IAM (discovery client, httplib2)


def _clients(base: str) -> Clients:
    return Clients(target=fake_target(base, "acme-prod"), credentials=AnonymousCredentials())


def _errors(inventory: Inventory) -> set[tuple[str, ...]]:
    return {(e.account, e.service, e.operation, e.code, e.resource_uid or "")
            for e in inventory.errors}


def test_at_30_percent_dropped_connections_no_call_is_lost(gcp_fake: FakeGoogle) -> None:
    clean = collect_fake(gcp_fake.base)
    dropped = Schedule({Fault.DROP: 0.2, Fault.RESET: 0.1})
    with fault_proxy(gcp_fake.base, google_error, dropped) as proxy:
        faulted = collect_fake(proxy.base)

    assert len(proxy.faults()) > 30
    assert {r.fault for r in proxy.faults()} == {Fault.DROP, Fault.RESET}
    # google-cloud-storage reads a bucket's metadata in a background thread for its tracing
    # attributes (best effort, not posture's call): that read may be given up
    assert [op for op in proxy.given_up() if not re.fullmatch(r"GET /storage/v1/b/[^/]+", op)
            ] == []
    assert _errors(faulted) == _errors(clean)
    assert {a.uid: a.attrs for a in faulted.assets} == {a.uid: a.attrs for a in clean.assets}


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.RESET])
def test_a_dropped_connection_ended_a_call_under_the_old_predicate(
    gcp_fake: FakeGoogle, fault: Fault,
) -> None:
    """The defect, reproduced: api_core's ``Retry`` on 429 and 5xx alone lets the transport
    error through; posture's retry tries again."""
    old = gretry.Retry(predicate=gretry.if_exception_type(
        gexc.TooManyRequests, gexc.ServiceUnavailable, gexc.InternalServerError,
        gexc.BadGateway, gexc.GatewayTimeout), initial=0.01, timeout=5)
    once = Schedule({fault: 1.0}, match=only(PROJECT), first=1)
    with fault_proxy(gcp_fake.base, google_error, once) as proxy:
        projects = _clients(proxy.base).projects()
        with pytest.raises(requests.exceptions.ConnectionError):
            projects.get_project(name="projects/acme-prod", retry=old)
    with fault_proxy(gcp_fake.base, google_error, once) as proxy:
        clients = _clients(proxy.base)
        project = clients.projects().get_project(name="projects/acme-prod", retry=clients.retry)
    assert project.project_id == "acme-prod"
    assert [r.fault for r in proxy.records] == [fault, None]


def _waited(proxy: FaultProxy, operation: str) -> float:
    first, second = next(rs for rs in proxy.calls().values() if rs[0].operation == operation)[:2]
    assert first.fault is not None and second.fault is None
    return second.received - first.answered


@pytest.mark.parametrize("fault", [Fault.UNAVAILABLE, Fault.THROTTLE])
def test_retry_after_is_honoured_by_gapic_and_discovery_calls(
    gcp_fake: FakeGoogle, fault: Fault,
) -> None:
    """A 503 or 429 asking for one second: the next attempt comes no sooner (the backoff alone
    would wait at most 0.2 s)."""
    once = Schedule({fault: 1.0}, match=only(PROJECT, ACCOUNTS), first=1, retry_after="1")
    with fault_proxy(gcp_fake.base, google_error, once) as proxy:
        clients = _clients(proxy.base)
        clients.projects().get_project(name="projects/acme-prod", retry=clients.retry)
        accounts = clients.discovery("iam", "v1").projects().serviceAccounts()
        assert accounts.list(name="projects/acme-prod").execute()["accounts"]
    assert 0.95 <= _waited(proxy, PROJECT) < 5
    assert 0.95 <= _waited(proxy, ACCOUNTS) < 5


def test_a_connection_dropped_every_time_is_a_collection_error(gcp_fake: FakeGoogle) -> None:
    """Retries are bounded: a call whose every attempt is dropped is recorded, and the rest of
    the project is collected."""
    always = Schedule({Fault.DROP: 1.0}, match=only(ACCOUNTS))
    with fault_proxy(gcp_fake.base, google_error, always) as proxy:
        inv = collect_fake(proxy.base, "acme-prod")
    sent = [r for r in proxy.records if r.operation == ACCOUNTS]
    attempts = fake_target(proxy.base).backoff.attempts
    # httplib2 sends a request again at once when its connection closed without an answer
    # (it takes that for a stale keep-alive connection): at most two requests per attempt
    assert attempts <= len(sent) <= 2 * attempts
    failed = [e for e in inv.errors if e.operation == "serviceAccounts.list"]
    assert [(e.service, e.code) for e in failed] == [("iam", "RemoteDisconnected")]
    assert inv.of("compute.googleapis.com/Firewall")
