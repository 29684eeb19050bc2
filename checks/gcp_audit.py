"""Auditability on GCP: Cloud Audit Logs data-access logging for all services."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import FOLDER, ORGANIZATION, PROJECT, lineage, merged_audit
from posture.model import Principle, Severity
from posture.registry import check

REQUIRED = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


@check("gcp.audit.data_access_logs_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{PROJECT}#iam_policy", f"{FOLDER}#iam_policy", f"{ORGANIZATION}#iam_policy"})
def data_access_logs_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Data-access audit logs are enabled for all services without exemptions

    Admin-activity logs are always on, but reads and writes of data are logged only when
    configured; without them an incident cannot show who read what. Audit configs are inherited: a
    log type enabled on a folder or the organisation is enabled on every project below it, and a
    member exempted there is exempted below. When an ancestor's policy could not be read, a project
    missing a log type is inconclusive, not failed, and a complete project is not claimed to pass
    (an ancestor may exempt members).

    Remediation: Add an audit config for allServices with ADMIN_READ, DATA_READ and DATA_WRITE and
    no exempted members to the organisation (or a folder, or the project) IAM policy.
    """
    for project in ctx.inventory.of(PROJECT):
        if project.attr("audit_configs") is None:
            yield ctx.unknown(project, "project IAM policy (audit configs) unknown")
            continue
        merged = merged_audit(ctx.inventory, project)
        gap = lineage(ctx.inventory, project).gap
        missing = [t for t in REQUIRED if t not in merged]
        enabled = {t: e["enabled_on"] for t, e in sorted(merged.items())}
        exempted = {
            t: {m: _where(src) for m, src in sorted(e["exempted"].items())}
            for t, e in sorted(merged.items())
            if e["exempted"]
        }
        inherited = sorted({s for srcs in enabled.values() for s in srcs if s != "project"})
        note = f" (inherited from {', '.join(inherited)})" if inherited else ""
        if not merged and not gap:
            yield ctx.fail(
                project,
                "no audit config for allServices",
                services=[c.get("service") for c in project.attr("audit_configs")],
            )
        elif missing and not gap:
            yield ctx.fail(
                project,
                f"allServices does not log {', '.join(missing)}{note}",
                log_types=sorted(merged),
                missing=missing,
                **({"enabled_on": enabled} if inherited else {}),
            )
        elif exempted:
            yield ctx.fail(
                project,
                "members are exempted from data-access logging: " + "; ".join(
                    f"{t}: {', '.join(f'{m} ({w})' for m, w in ms.items())}"
                    for t, ms in exempted.items()
                ),
                exempted={t: sorted(ms) for t, ms in exempted.items()},
                exempted_where=exempted,
            )
        elif missing:
            yield ctx.unknown(
                project,
                f"allServices does not log {', '.join(missing)} on what was read, but inherited "
                f"audit configs are unknown: {gap}",
                enabled_on=enabled,
                missing=missing,
            )
        elif gap:
            yield ctx.unknown(
                project,
                "ADMIN_READ, DATA_READ and DATA_WRITE logged for all services, but an ancestor "
                f"could exempt members: {gap}",
                enabled_on=enabled,
            )
        else:
            yield ctx.passed(
                project,
                f"ADMIN_READ, DATA_READ and DATA_WRITE logged for all services{note}",
                log_types=sorted(merged),
                **({"enabled_on": enabled} if inherited else {}),
            )


def _where(sources: list[str]) -> str:
    inherited = [s for s in sources if s != "project"]
    if not inherited:
        return "exempted on the project"
    return f"exempted on {', '.join(inherited)}, inherited"
