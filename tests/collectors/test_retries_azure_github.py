"""Retries of the Azure and GitHub collectors.

Azure: azure-core's ``RetryPolicy`` counts per request but caps status and read retries at 3
whatever ``retry_total`` says; posture's policy (``posture.collectors.azure.retries``) gives them
the whole ``retry_total``, jittered, within a budget, and a service that keeps failing is never
reported as a credential problem. Faults come from the HTTPS fake of ARM (``FakeArm.fail``).

GitHub: PyGithub's ``GithubRetry`` retries 5xx, secondary rate limits and connection errors per
request; through the fault proxy (``support.fault_proxy``: 500, 503 with ``Retry-After``,
secondary rate limits, dropped connections) a collection loses no call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import policies
from support.azure_collect import fake_credential
from support.fault_proxy import Fault, Schedule, fault_proxy, github_error
from support.github_collect import collect_fake as collect_github

from posture.collectors.azure.base import AzureTarget
from posture.collectors.azure.collector import collect as collect_azure
from posture.collectors.azure.graph import ArmRest, RestClient
from posture.collectors.github.clients import retry_class
from posture.demo.azure_fake import FakeArm
from posture.demo.github_fake import serving
from posture.errors import CollectorError
from posture.model import Inventory

SUB = "11111111-1111-1111-1111-111111111111"
ACCOUNTS = f"/subscriptions/{SUB}/providers/microsoft.storage/storageaccounts"


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[FakeArm]:
    with FakeArm(tmp_path) as fake:
        yield fake


def _target(fake: FakeArm) -> AzureTarget:
    """The fake with posture's default retry counts and budget, waits of milliseconds."""
    return AzureTarget(arm_endpoint=fake.base, ca_bundle=str(fake.ca),
                       retry_backoff_factor=0.001, retry_backoff_max=1)


def test_azure_five_500s_in_a_row_are_retried_past_azure_cores_status_cap(arm: FakeArm) -> None:
    target = _target(arm)
    url = f"{arm.base}{ACCOUNTS}?api-version=2023-05-01"
    stock = RestClient(fake_credential(arm), arm.base, target.scope, connection_verify=str(arm.ca),
                       retry=policies.RetryPolicy(retry_total=6, retry_backoff_factor=0.001))
    arm.fail(ACCOUNTS, 500, "InternalServerError", times=5)
    with pytest.raises(HttpResponseError):  # posture's old policy: a fourth 500 was final
        stock.pages(url)
    assert arm.paths().count(ACCOUNTS) == 4

    arm.fail(ACCOUNTS, 500, "InternalServerError", times=4)  # one left from above: five in a row
    rest = ArmRest(fake_credential(arm), SUB, **target.client_kwargs())
    assert len(rest.pages(url)) == 3


def test_azure_collection_survives_repeated_503s(arm: FakeArm) -> None:
    arm.fail(ACCOUNTS, 503, "ServiceUnavailable", times=6)
    inv = collect_azure(_target(arm), credential=fake_credential(arm))
    assert [e.describe() for e in inv.errors if e.service == "storage"] == []
    assert len(inv.of("Microsoft.Storage/storageAccounts")) == 3


def test_azure_service_that_keeps_failing_is_not_a_credential_problem(arm: FakeArm) -> None:
    arm.fail("/subscriptions", 503, "ServiceUnavailable", "The service is unavailable.")
    with pytest.raises(CollectorError) as exc:
        collect_azure(_target(arm), credential=fake_credential(arm))
    message = str(exc.value)
    assert "HTTP 503" in message and "not a credential problem" in message, message
    assert "rejected" not in message


def _keys(inventory: Inventory) -> tuple[set[str], set[tuple[str, ...]]]:
    return ({a.uid for a in inventory.assets},
            {(e.account, e.service, e.operation, e.code) for e in inventory.errors})


def test_github_collection_through_faults_loses_no_call() -> None:
    rates = {Fault.ERROR: 0.15, Fault.UNAVAILABLE: 0.05, Fault.THROTTLE: 0.05, Fault.DROP: 0.05}
    with serving() as fake:
        clean = collect_github(fake)
        with fault_proxy(fake.base, github_error, Schedule(rates, retry_after="0")) as proxy:
            faulted = collect_github(fake, api_url=proxy.base + fake.prefix)
    assert {r.fault for r in proxy.faults()} == set(rates)
    assert proxy.given_up() == []
    assert _keys(faulted) == _keys(clean)


def test_github_retry_waits_are_jittered_and_bounded() -> None:
    """Before the fifth attempt urllib3 would wait exactly 8 s (capped at 4 here) for every
    request that failed alike: posture's GithubRetry waits a random time below it."""
    policy = retry_class()(total=10, backoff_factor=1.0, backoff_max=4.0)
    waits = []
    for _ in range(200):
        attempt = policy
        for _n in range(4):
            attempt = attempt.increment(method="GET", url="/x", error=ConnectionError("reset"))
        waits.append(attempt.get_backoff_time())
    assert all(0 <= w <= 4.0 for w in waits)
    assert len({round(w, 3) for w in waits}) > 100  # spread, not one fixed wait
