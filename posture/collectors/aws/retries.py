"""botocore retries per call, under posture's :class:`~posture.collectors.retry.Backoff`.

botocore's standard and adaptive modes keep one retry quota per client (``RetryQuotaChecker``
in ``botocore/retries/standard.py``: 500 units, 5 per throttled retry, 14 per other retry, given
back only by successes), and posture shares one client per service and region between threads:
under sustained 5xx or dropped connections the quota runs dry and every later failure of that
client is final after a single attempt (``RetryQuotaReached``). :func:`install` replaces the
client's ``needs-retry`` handler with one that keeps no shared state - each call (each page of a
paginated listing) has its own attempts and time budget, stamped in the call's request context.

What is retried is botocore's own standard set (``StandardRetryConditions``: HTTP 500/502/503/504,
throttling codes and 429, modeled retryable errors, dropped connections and read timeouts,
``RequestTimeout``); a connection that cannot be made (refused, unresolvable, TLS, connect
timeout) or an HTTP error without an AWS error document counts as a short failure. A user's
``AWS_MAX_ATTEMPTS`` (or a profile's ``max_attempts``) still caps the attempts.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ConnectionError as ConnectError
from botocore.retries import standard

from posture.collectors.retry import Backoff, Failure, retry_after

STARTED = "posture_retry_started"
"""The request-context key of a call's start (``time.monotonic()``)."""

CREDENTIAL_CODES = frozenset({
    "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
    "UnrecognizedClientException", "InvalidAccessKeyId", "AccessDenied", "AuthFailure",
    "IncompleteSignature", "MissingAuthenticationToken",
})
"""Error codes that mean AWS refused the credentials themselves (the only answers of
``sts:GetCallerIdentity`` that are the credentials' fault)."""


class PerCallRetry:
    """A client's ``needs-retry`` handler: botocore's retry conditions, posture's backoff."""

    def __init__(self, backoff: Backoff, attempts: int | None = None) -> None:
        self.backoff = backoff
        self.attempts = attempts or backoff.attempts
        self._adapter = standard.RetryEventAdapter()
        self._conditions = standard.StandardRetryConditions(max_attempts=self.attempts)
        self._throttling = standard.ThrottlingErrorDetector(self._adapter)

    def stamp(self, context: dict[str, Any], **_: Any) -> None:
        """``before-call``: remember when the call started."""
        context[STARTED] = time.monotonic()

    def needs_retry(self, **kwargs: Any) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` (the answer stands)."""
        context = self._adapter.create_retry_context(**kwargs)
        if not self._conditions.is_retryable(context):
            self._adapter.adapt_retry_response_from_context(context)
            return None
        failure = self.failure(context)
        started = context.request_context.get(STARTED, time.monotonic())
        delay = self.backoff.next_wait(context.attempt_number, failure,
                                       time.monotonic() - started, attempts=self.attempts)
        if delay is None:
            context.add_retry_metadata(RetryBudgetSpent=True)
            self._adapter.adapt_retry_response_from_context(context)
        return delay

    def failure(self, context: Any) -> Failure:
        """A retryable attempt's :class:`Failure`."""
        http = context.http_response
        if http is None:
            return Failure(True, short=isinstance(context.caught_exception, ConnectError))
        code = context.get_error_code()
        foreign = http.status_code >= 500 and (not code or code == str(http.status_code))
        return Failure(True, throttled=self._throttling.is_throttling_error_from_context(context),
                       short=foreign, retry_after=retry_after(http.headers))


def install(client: Any, backoff: Backoff) -> Any:
    """Replace ``client``'s retry handler (botocore standard mode) with :class:`PerCallRetry`;
    returns the client."""
    name = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    handler = PerCallRetry(backoff, client.meta.config.retries.get("total_max_attempts"))
    events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
    events.register(f"needs-retry.{name}", handler.needs_retry,
                    unique_id=f"posture-retry-{name}")
    events.register_first(f"before-call.{name}", handler.stamp,
                          unique_id=f"posture-retry-stamp-{name}")
    return client


def attempts_made(response: dict[str, Any]) -> int:
    """How many attempts an answer (or a ``ClientError.response``) took."""
    return int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + 1
