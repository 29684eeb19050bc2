"""An organisation run into the reporters: the merged run's :class:`Report`, with the
organisation's account names, OU paths and statuses (``findings.json`` and ``findings.csv``
rows gain ``account_name`` and ``ou``; the HTML gains the per-account table)."""

from __future__ import annotations

import dataclasses

from posture.org.manifest import Manifest
from posture.org.plan import ou_text
from posture.org.run import OrgResult
from posture.pipeline import AuditRun
from posture.registry import Framework
from posture.reporters.base import AccountView, OrgView, Report


def org_view(manifest: Manifest) -> OrgView:
    return OrgView(
        id=manifest.organization_id,
        management_account_id=manifest.management_account_id,
        accounts=tuple(
            AccountView(a.id, a.name, ou_text(a.ou_path), a.status.value, a.reason)
            for a in manifest.accounts
        ),
    )


def report_of(run: AuditRun, result: OrgResult, frameworks: tuple[Framework, ...]) -> Report:
    """The report of a merged organisation run."""
    return dataclasses.replace(Report.of(run, frameworks), organization=org_view(result.manifest))
