"""Destinations: where a run's findings go beyond the report files, over the network.

``--security-hub`` imports the AWS findings into AWS Security Hub
(:mod:`posture.destinations.security_hub`); ``--notify URL`` posts the new failures since the
previous recorded scan as a Slack-compatible message (:mod:`posture.destinations.notify`).
Both run after the reports are written, so a destination that fails never costs a report.
"""

from __future__ import annotations

from posture.errors import PostureError


class DestinationError(PostureError):
    """A destination cannot take the findings at all (Security Hub not enabled, access denied,
    no credentials); the reports are written already."""
