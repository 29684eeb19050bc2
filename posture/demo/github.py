"""``posture demo github``: the loopback fake of the GitHub REST API (:mod:`~.github_fake`)
serving the recorded organisation ``acme``, scanned by the real GitHub collector (PyGithub), and
audited together with the GCP demo's projects (:mod:`posture.demo.gcp`) so that the CI-to-cloud
join has a cloud to reach.

What the recorded organisation shows on purpose: two-factor not required, workflow tokens that
write by default, every action allowed; ``acme/web`` with no branch protection, an unprotected
production environment and long-lived cloud keys in its Actions secrets; ``acme/payments-api``
whose default branch is protected by rulesets (not classic protection) and whose production
environment requires reviewers; an archived ``acme/legacy-billing``; a fork; a Dependabot
listing switched off (a 403 that says so: a known "off", not a gap), a 403 for a missing
permission (INCONCLUSIVE) and a secondary rate limit the client waits out. In ``acme-prod``
(GCP), a workload identity pool provider without a condition lets ``acme/web``'s workflows —
pull requests included — act as Owner of the project (direct resource access), while the
provider restricted to ``acme/payments-api``'s production environment leads to Editor behind
that environment's reviewers.
"""

from __future__ import annotations

from collections.abc import Callable

from posture.demo.github_fake import TOKEN, serving
from posture.model import Inventory

DEMO_ORG = "acme"


def scan(progress: Callable[[str], None] | None = None) -> Inventory:
    """Start the fake on 127.0.0.1, collect the demo organisation through it, stop it."""
    from posture.collectors.github.clients import GithubTarget
    from posture.collectors.github.collector import collect

    with serving() as fake:
        target = GithubTarget(orgs=(DEMO_ORG,), api_url=fake.api_url, token=TOKEN,
                              web_host="github.com", seconds_between_requests=0.0,
                              retry_backoff_factor=0.01)
        return collect(target, progress=progress)
