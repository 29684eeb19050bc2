"""Google calls retried per call under posture's :class:`~posture.collectors.retry.Backoff`.

Two client families, one policy:

- GAPIC clients (google-cloud-compute, resource manager, KMS) and google-cloud-storage accept any
  decorator as ``retry=``: :class:`GoogleRetry` is one. api_core's own ``Retry`` retried only the
  exception types it was given (429 and 5xx): a dropped connection or a timeout of the REST
  transport (``requests``) ended the call at once.
- Discovery clients (IAM, Cloud SQL, org policy, the platform APIs) run each request through
  :func:`request_builder`'s ``HttpRequest``, whose ``execute`` repeats the request under the
  backoff; googleapiclient's own ``num_retries`` (its fixed 1-2-4... second backoff, no
  ``Retry-After``) is not used.

:func:`failure` says what a failed attempt means: 429, 500, 502, 503, 504 and a 403 that says
"rate limit" are transient (throttled for 429 and rate limits), with the answer's
``Retry-After``; so are dropped connections, resets, read timeouts and truncated answers of
``requests``, ``httplib2`` and ``http.client``, and a token refresh that google-auth marks
retryable. A connection that cannot be made (refused, unresolvable, TLS, connect timeout) and an
HTTP error without Google's error document are short failures.
"""

from __future__ import annotations

import functools
import http.client
import json
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from posture.collectors.retry import PERMANENT, Backoff, Failure, call_with_retries, retry_after

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded",
                                "RATE_LIMIT_EXCEEDED"})


@dataclass(frozen=True, slots=True)
class GoogleRetry:
    """A ``retry=`` for GAPIC and google-cloud-storage calls: the call (each page of a listing)
    repeated under ``backoff`` while :func:`failure` calls it transient."""

    backoff: Backoff

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        what = getattr(func, "__name__", "call")

        @functools.wraps(func)
        def retried(*args: Any, **kwargs: Any) -> T:
            return call_with_retries(lambda: func(*args, **kwargs), failure, self.backoff, what)

        return retried


@functools.cache
def _request_class() -> type[Any]:
    from googleapiclient.http import HttpRequest

    class RetryingRequest(HttpRequest):
        """A discovery request whose ``execute`` repeats it under the client's backoff."""

        def __init__(self, *args: Any, backoff: Backoff, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.backoff = backoff

        def execute(self, http: Any = None, num_retries: int = 0) -> Any:
            send = super().execute
            return call_with_retries(lambda: send(http=http, num_retries=0), failure,
                                     self.backoff, str(self.methodId))

    return RetryingRequest


def request_builder(backoff: Backoff) -> Callable[..., Any]:
    """The ``requestBuilder`` of ``discovery.build`` for requests retried under ``backoff``."""
    cls: Callable[..., Any] = _request_class()
    return functools.partial(cls, backoff=backoff)


def failure(exc: BaseException) -> Failure:
    """What a failed Google call says about trying again (module docstring)."""
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        return _answered(int(exc.resp.status), exc.content, exc.resp)
    if isinstance(exc, gexc.GoogleAPICallError):
        response = getattr(exc, "response", None)
        status = exc.code if isinstance(exc.code, int) else None
        return _answered(status, getattr(response, "content", None),
                         getattr(response, "headers", None))
    if isinstance(exc, auth_exc.RefreshError):
        return Failure(bool(getattr(exc, "retryable", False)))
    if _cannot_connect(exc):
        return Failure(True, short=True)
    if _transport_fault(exc):
        return Failure(True)
    return PERMANENT


def _answered(status: int | None, content: Any, headers: Mapping[str, str] | None) -> Failure:
    error = _error_document(content)
    reasons = {str(e.get("reason")) for e in error.get("errors") or () if isinstance(e, dict)}
    rate_limited = bool(reasons & RATE_LIMIT_REASONS)
    if status not in TRANSIENT_STATUS and not (status == 403 and rate_limited):
        return PERMANENT
    return Failure(True, throttled=status == 429 or rate_limited, short=not error,
                   retry_after=retry_after(headers))


def _error_document(content: Any) -> dict[str, Any]:
    """Google's ``{"error": {...}}`` of an answer, ``{}`` when it has none."""
    try:
        body = json.loads(content) if content else None
    except (TypeError, ValueError):
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (causes, contexts, urllib3's ``reason``, a first argument)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None),
                 *(item.args[:1] if item.args else ())]


def _cannot_connect(exc: BaseException) -> bool:
    import httplib2
    import requests
    import urllib3.exceptions

    never_connected = (ConnectionRefusedError, socket.gaierror, ssl.SSLCertVerificationError,
                       urllib3.exceptions.ConnectTimeoutError, requests.exceptions.ConnectTimeout,
                       httplib2.ServerNotFoundError)
    return any(isinstance(e, never_connected) for e in _chain(exc))


def _transport_fault(exc: BaseException) -> bool:
    import requests

    faults = (ConnectionError, TimeoutError, http.client.HTTPException, auth_exc.TransportError,
              requests.exceptions.ConnectionError, requests.exceptions.Timeout,
              requests.exceptions.ChunkedEncodingError)
    return isinstance(exc, faults)
