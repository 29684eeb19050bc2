"""``posture demo gcp``: the loopback fake of the Google REST endpoints
(:mod:`posture.demo.gcp_fake`) serving two recorded projects with deliberate misconfigurations,
scanned by the real GCP collector (the google-cloud clients, anonymous credentials) over HTTP.

The recorded estate keeps its faults on purpose: one 429 (retried by the clients) and a 403 on
Cloud SQL in ``acme-dev``, whose checks therefore come out INCONCLUSIVE rather than PASS.
Identity faults too: ``web-1`` opts out of its project's OS Login, ``acme-prod`` asks no second
factor, keeps a 400-day-old service-account key without the key-creation policy, and leaves a
standing Owner beside the Privileged Access Manager entitlement that offers it (a second
entitlement lasts 24 hours without approval); an "expires" condition there tests a resource
name. In ``acme-dev`` the PAM API is disabled (a 403 ``SERVICE_DISABLED``: no entitlements, no
error).
"""

from __future__ import annotations

from collections.abc import Callable

from posture.demo.gcp_fake import serving
from posture.model import Inventory

DEMO_PROJECTS = ("acme-prod", "acme-dev")


def scan(progress: Callable[[str], None] | None = None) -> Inventory:
    """Start the fake on 127.0.0.1, collect the demo projects through it, stop it."""
    from posture.collectors.gcp.collector import GcpTarget, collect

    with serving() as fake:
        target = GcpTarget(
            projects=DEMO_PROJECTS, api_endpoint=fake.base, anonymous=True, retry_initial=0.05
        )
        return collect(target, progress=progress)
