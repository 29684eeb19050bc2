"""azure-core's retry policy, per request, with full jitter and every retry count set.

azure-core's ``RetryPolicy`` already keeps its counters per request (nothing shared between
calls) and retries what posture wants retried: 408, 429, 500, 502, 503, 504, any error answer
that carries ``Retry-After`` (whose wait it honours), connection errors (``retry_connect``) and
errors reading the answer (``retry_read``). Its defaults fall short in three ways, which
:func:`retry_policy` corrects:

- ``retry_status``, ``retry_read`` and ``retry_connect`` default to 3 whatever ``retry_total``
  says, so a fourth 5xx in a row ended the call however many retries were configured: status and
  read retries now get the whole ``retry_total``; connection errors (the request never left: a
  dead endpoint) keep :attr:`~posture.collectors.retry.Backoff.short_attempts`;
- the backoff has no jitter (``factor * 2**(n-1)``, and no wait at all before the first retry),
  so concurrent calls that failed together retry together: :class:`JitteredRetryPolicy` waits a
  uniformly random time below that;
- the total time of a request (``timeout``) defaults to seven days, and a ``Retry-After`` wait is
  unbounded: the total is the target's budget, and no single wait exceeds it.
"""

from __future__ import annotations

import random
from typing import Any

from azure.core.pipeline.policies import RetryPolicy

from posture.collectors.retry import DEFAULT_BACKOFF


class JitteredRetryPolicy(RetryPolicy):
    """azure-core's ``RetryPolicy`` with full jitter and waits bounded by the request's budget."""

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        errors = max(1, len(settings["history"]))
        ceiling = min(settings["max_backoff"], settings["backoff"] * 2 ** (errors - 1))
        return random.random() * ceiling

    def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        wait = self.get_backoff_time(settings)
        asked = self.get_retry_after(response) if response is not None else None
        if asked is not None:
            wait = max(wait, asked)
        if wait > 0:  # past the budget, the next try fails with azure-core's own timeout error
            transport.sleep(min(wait, float(settings["timeout"])))


def retry_policy(retry_total: int, backoff_factor: float, backoff_max: float,
                 budget: float) -> JitteredRetryPolicy:
    """The policy of every Azure client and credential-less REST client of a target."""
    return JitteredRetryPolicy(
        retry_total=retry_total,
        retry_status=retry_total,
        retry_read=retry_total,
        retry_connect=min(retry_total, DEFAULT_BACKOFF.short_attempts - 1),
        retry_backoff_factor=backoff_factor,
        retry_backoff_max=backoff_max,
        timeout=budget,
    )
