"""Retries of idempotent reads: one policy, per call, on every cloud.

Every call a collector makes is a read, so every call may be repeated. What :class:`Backoff`
guarantees for each call on its own (never for a client as a whole: botocore's standard mode keeps
one retry quota per client, which a bad minute of 5xx drains for every later call of that client):

- exponential backoff with full jitter: before attempt ``n + 1`` the call waits a uniformly random
  time in ``[0, min(cap, scale * 2**(n - 1))]``, ``scale`` being ``base`` after a fault and
  ``throttle_base`` after the service said it is throttling;
- the service's ``Retry-After`` (seconds or an HTTP date; ``x-amz-retry-after`` and
  ``retry-after-ms`` in milliseconds) is a floor for that wait;
- bounded: at most ``attempts`` attempts, and no retry whose wait would end more than ``budget``
  seconds after the call started. A failure that is not the service's own transient answer - a
  connection that cannot be made at all, or an HTTP error without the provider's error document
  (an endpoint that is not the service, or something broken in between) - gets
  ``short_attempts``: a wrong endpoint answers in seconds, not minutes.

Only the caller knows what a failure means; it describes each one as a :class:`Failure`. The
providers' glue lives beside their collectors (``aws/retries.py``, ``gcp/retries.py``, the Azure
and GitHub client options).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")
LOG = logging.getLogger("posture.collectors.retry")


@dataclass(frozen=True, slots=True)
class Failure:
    """What one failed attempt says about the next one."""

    transient: bool  # worth another attempt (5xx, throttling, a dropped connection, a timeout)
    throttled: bool = False  # the service asked to slow down
    short: bool = False  # not the service's own answer: counts against ``short_attempts``
    retry_after: float | None = None  # seconds the service asked to wait


PERMANENT = Failure(transient=False)


@dataclass(frozen=True, slots=True)
class Backoff:
    """The retry policy of one call (see the module docstring); injected, never global."""

    attempts: int = 20
    base: float = 0.05
    throttle_base: float = 0.5
    cap: float = 10.0
    budget: float = 120.0
    short_attempts: int = 4

    def wait(self, attempt: int, failure: Failure, rand: Callable[[], float] = random.random
             ) -> float:
        """The jittered wait after failed attempt ``attempt`` (1-based), at least the
        service's ``Retry-After``."""
        scale = self.throttle_base if failure.throttled else self.base
        delay = rand() * min(self.cap, scale * 2.0 ** (attempt - 1))
        return delay if failure.retry_after is None else max(delay, failure.retry_after)

    def next_wait(
        self, attempt: int, failure: Failure, elapsed: float,
        rand: Callable[[], float] = random.random, attempts: int | None = None,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None``: give up. ``elapsed``:
        seconds since the call started; ``attempts`` overrides :attr:`attempts` (a user's
        ``AWS_MAX_ATTEMPTS``)."""
        if not failure.transient:
            return None
        limit = attempts or self.attempts
        if failure.short:
            limit = min(limit, self.short_attempts)
        if attempt >= limit:
            return None
        delay = self.wait(attempt, failure, rand)
        return None if elapsed + delay > self.budget else delay


DEFAULT_BACKOFF = Backoff()
"""The policy of a scan that names none (an immutable value)."""


def call_with_retries(
    fn: Callable[[], T],
    classify: Callable[[BaseException], Failure],
    backoff: Backoff,
    what: str = "call",
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, repeated under ``backoff`` while ``classify`` calls its failure transient; the
    last failure is raised as it came."""
    started = time.monotonic()
    attempt = 1
    while True:
        try:
            return fn()
        except Exception as exc:
            delay = backoff.next_wait(attempt, classify(exc), time.monotonic() - started)
            if delay is None:
                raise
            LOG.debug("%s: attempt %d failed (%s), retrying in %.2fs", what, attempt,
                      type(exc).__name__, delay)
        sleep(delay)
        attempt += 1


def retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """The wait a response asks for, in seconds: ``Retry-After`` (delta-seconds or an HTTP
    date), ``x-amz-retry-after`` or ``retry-after-ms`` / ``x-ms-retry-after-ms`` (milliseconds);
    ``None`` when it asks for none (or says something unreadable)."""
    if not headers:
        return None
    lower = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    for name in ("x-amz-retry-after", "retry-after-ms", "x-ms-retry-after-ms"):
        millis = _number(lower.get(name))
        if millis is not None:
            return millis / 1000.0
    value = lower.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        return None
    return max(0.0, number)
