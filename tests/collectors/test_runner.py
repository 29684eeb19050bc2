"""posture.collectors.runner, the runner every provider shares: an exception escaping a service
module becomes a collection error on that job's scope and the other jobs go on; assets and errors
come back in job order whatever order the jobs finish in, one asset per uid (the earlier job's);
a scope cuts long error messages."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from posture.collectors import runner
from posture.model import ALL, GLOBAL, Asset, Provider

PACKAGE = "fakecloud"


@dataclass
class AccountScope(runner.Scope):
    provider = Provider.AWS
    account: str

    @property
    def owner(self) -> str:
        return self.account


def _asset(scope: runner.Scope, uid: str, name: str) -> Asset:
    return scope.asset(uid, "Fake::Thing", name, {"n": name})


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``services(name=collect, ...)``: service modules ``fakecloud.<name>`` for this test."""
    monkeypatch.setitem(sys.modules, PACKAGE, types.ModuleType(PACKAGE))

    def install(**collectors: Callable[[runner.Scope], list[Asset]]) -> None:
        for name, collect in collectors.items():
            module = types.ModuleType(f"{PACKAGE}.{name}")
            module.collect = collect  # type: ignore[attr-defined]
            monkeypatch.setitem(sys.modules, f"{PACKAGE}.{name}", module)

    return install


def test_an_escaping_exception_is_recorded_on_its_scope_and_the_rest_goes_on(
    services: Callable[..., None],
) -> None:
    def boom(scope: runner.Scope) -> list[Asset]:
        raise RuntimeError("connection reset\ntraceback detail")

    services(
        first=lambda s: [_asset(s, "a", "a")],
        boom=boom,
        last=lambda s: [_asset(s, "b", "b")],
    )
    jobs = [runner.Job(name, AccountScope(account=f"acct-{name}"))
            for name in ("first", "boom", "last")]

    found = runner.run_jobs(PACKAGE, jobs, max_workers=3)

    assert [a.uid for a in found.assets] == ["a", "b"]
    (error,) = found.errors
    assert error == jobs[1].scope.errors[0]
    assert (error.provider, error.account, error.region) == (Provider.AWS, "acct-boom", GLOBAL)
    assert (error.service, error.operation, error.code) == ("boom", "collect", "RuntimeError")
    assert error.message == "connection reset"  # the first line only
    assert error.asset_types == (ALL,)
    assert jobs[0].scope.errors == jobs[2].scope.errors == []


def test_assets_and_errors_come_back_in_job_order_first_uid_wins(
    services: Callable[..., None],
) -> None:
    """The first job finishes last; still its assets come first and its copy of a shared uid is
    the one kept, and its error comes before the later job's."""
    later_done = threading.Event()

    def early(scope: runner.Scope) -> list[Asset]:
        assert later_done.wait(timeout=10), "the later job never finished"
        scope.record("early", "List", "Throttled", "slow down", ("Fake::Thing",))
        return [_asset(scope, "shared", "from-early"), _asset(scope, "e", "e")]

    def later(scope: runner.Scope) -> list[Asset]:
        scope.record("later", "List", "AccessDenied", "no", ("Fake::Thing",))
        return [_asset(scope, "l", "l"), _asset(scope, "shared", "from-later")]

    services(early=early, later=later)
    jobs = [runner.Job("early", AccountScope(account="one")),
            runner.Job("later", AccountScope(account="two"))]
    finished: list[str] = []

    def progress(label: str) -> None:
        finished.append(label)
        if label.startswith("later"):  # the later job has completed: let the first one finish
            later_done.set()

    found = runner.run_jobs(PACKAGE, jobs, max_workers=2, progress=progress)

    assert finished == ["later two", "early one"]  # completion order ...
    assert [(a.uid, a.name) for a in found.assets] == [  # ... is not the result's order
        ("shared", "from-early"), ("e", "e"), ("l", "l")]
    assert [(e.account, e.code) for e in found.errors] == [
        ("one", "Throttled"), ("two", "AccessDenied")]


def test_record_cuts_the_message_to_500_characters() -> None:
    scope = AccountScope(account="acct")
    scope.record("svc", "Get", "Boom", "x" * 499 + "yz" + "tail" * 100, ("Fake::Thing",),
                 region="eu-west-1", resource_uid="r-1")
    scope.record("svc", "Get", "Boom", "short", ("Fake::Thing",))

    long, short = scope.errors
    assert runner.MESSAGE_LIMIT == 500
    assert long.message == "x" * 499 + "y"
    assert (long.region, long.resource_uid, long.account) == ("eu-west-1", "r-1", "acct")
    assert (short.message, short.region) == ("short", GLOBAL)
