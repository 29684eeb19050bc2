"""The retry policy every collector shares (``posture.collectors.retry``): full jitter below an
exponential ceiling, ``Retry-After`` as a floor, and the three bounds (attempts, short attempts
for a connection that cannot be made, the time budget of a call)."""

from __future__ import annotations

import email.utils

import pytest

from posture.collectors.retry import (
    PERMANENT,
    Backoff,
    Failure,
    call_with_retries,
    retry_after,
)

POLICY = Backoff(attempts=6, base=0.1, throttle_base=1.0, cap=2.0, budget=10.0, short_attempts=3)
FAULT = Failure(transient=True)


@pytest.mark.parametrize(("attempt", "failure", "ceiling"), [
    (1, FAULT, 0.1), (2, FAULT, 0.2), (3, FAULT, 0.4), (6, FAULT, 2.0),  # capped
    (1, Failure(True, throttled=True), 1.0), (2, Failure(True, throttled=True), 2.0),
])
def test_full_jitter_below_an_exponential_ceiling(
    attempt: int, failure: Failure, ceiling: float,
) -> None:
    assert POLICY.wait(attempt, failure, rand=lambda: 0.0) == 0.0
    assert POLICY.wait(attempt, failure, rand=lambda: 1.0) == pytest.approx(ceiling)
    assert POLICY.wait(attempt, failure, rand=lambda: 0.5) == pytest.approx(ceiling / 2)


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    asked = Failure(True, retry_after=3.0)
    assert POLICY.wait(1, asked, rand=lambda: 1.0) == 3.0
    assert POLICY.next_wait(1, asked, elapsed=0.0) == 3.0
    assert POLICY.next_wait(1, asked, elapsed=7.5) is None  # would end past the budget


def test_the_bounds_of_a_call() -> None:
    one = lambda: 1.0  # noqa: E731
    assert POLICY.next_wait(5, FAULT, 0.0, rand=one) == pytest.approx(1.6)
    assert POLICY.next_wait(6, FAULT, 0.0, rand=one) is None  # attempts
    assert POLICY.next_wait(2, FAULT, 0.0, rand=one, attempts=2) is None  # AWS_MAX_ATTEMPTS
    assert POLICY.next_wait(2, Failure(True, short=True), 0.0, rand=one) == pytest.approx(0.2)
    assert POLICY.next_wait(3, Failure(True, short=True), 0.0, rand=one) is None
    assert POLICY.next_wait(4, FAULT, 9.5, rand=one) is None  # budget
    assert POLICY.next_wait(1, PERMANENT, 0.0) is None


def test_call_with_retries_repeats_until_answered_and_raises_the_last_failure() -> None:
    slept: list[float] = []
    answers = iter([OSError("reset"), OSError("reset"), "answer"])

    def call() -> str:
        item = next(answers)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retries(call, lambda _: FAULT, POLICY, sleep=slept.append) == "answer"
    assert len(slept) == 2

    def denied() -> str:
        raise PermissionError("denied")

    with pytest.raises(PermissionError):
        call_with_retries(denied, lambda _: PERMANENT, POLICY, sleep=slept.append)
    assert len(slept) == 2
    with pytest.raises(OSError, match="down"):
        call_with_retries(lambda: (_ for _ in ()).throw(OSError("down")), lambda _: FAULT,
                          POLICY, sleep=slept.append)
    assert len(slept) == 2 + POLICY.attempts - 1


def test_retry_after_headers() -> None:
    now = 1_700_000_000.0
    in_a_minute = email.utils.formatdate(now + 60, usegmt=True)
    assert retry_after({"Retry-After": "3"}) == 3.0
    assert retry_after({"retry-after": "0.5"}) == 0.5
    assert retry_after({"Retry-After": in_a_minute}, now=now) == pytest.approx(60.0)
    assert retry_after({"Retry-After": email.utils.formatdate(now - 60, usegmt=True)},
                       now=now) == 0.0
    assert retry_after({"x-amz-retry-after": "1500"}) == 1.5
    assert retry_after({"x-ms-retry-after-ms": "250"}) == 0.25
    assert retry_after({"Retry-After": "-4"}) == 0.0
    for unreadable in ({"Retry-After": "soon"}, {"Retry-After": "nan"}, {}, None):
        assert retry_after(unreadable) is None
