"""Auditability on GCP: Cloud Audit Logs data-access logging for all services."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import PROJECT
from posture.model import Principle, Severity
from posture.registry import check

REQUIRED = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


@check(
    id="gcp.audit.data_access_logs_enabled",
    title="Data-access audit logs are enabled for all services without exemptions",
    severity=Severity.MEDIUM,
    principles=(Principle.AUDITABLE,),
    reads={f"{PROJECT}#iam_policy"},
    remediation=(
        "Add an audit config for allServices with ADMIN_READ, DATA_READ and DATA_WRITE and no "
        "exempted members to the project (or organisation) IAM policy."
    ),
    rationale=(
        "Admin-activity logs are always on, but reads and writes of data are logged only when "
        "configured; without them an incident cannot show who read what. Audit configs "
        "inherited from a folder or organisation are not read yet, so a project relying on "
        "them fails here."
    ),
)
def data_access_logs_enabled(ctx: CheckContext) -> Iterator[Result]:
    for project in ctx.inventory.of(PROJECT):
        configs = project.attr("audit_configs")
        if configs is None:
            yield ctx.unknown(project, "project IAM policy (audit configs) unknown")
            continue
        everything = next((c for c in configs if c.get("service") == "allServices"), None)
        types = dict((everything or {}).get("log_types") or {})
        missing = [t for t in REQUIRED if t not in types]
        exempted = {t: m for t, m in types.items() if m}
        if everything is None:
            yield ctx.fail(
                project,
                "no audit config for allServices",
                services=[c.get("service") for c in configs],
            )
        elif missing:
            yield ctx.fail(
                project,
                f"allServices does not log {', '.join(missing)}",
                log_types=sorted(types),
                missing=missing,
            )
        elif exempted:
            yield ctx.fail(
                project, "members are exempted from data-access logging", exempted=exempted
            )
        else:
            yield ctx.passed(
                project,
                "ADMIN_READ, DATA_READ and DATA_WRITE logged for all services",
                log_types=sorted(types),
            )
