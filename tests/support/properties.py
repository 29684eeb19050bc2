"""The settings every property test runs under."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def examples(n: int, *also_ignored: HealthCheck) -> settings:
    """Hypothesis settings: the same ``n`` examples on every run (derandomized), no deadline, and
    no health check on slow generation (nor on ``also_ignored``)."""
    return settings(derandomize=True, max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, *also_ignored])
