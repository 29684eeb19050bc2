"""Auditability on Azure: activity log exported, key vault and SQL activity logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

SUBSCRIPTION = "Microsoft.Resources/subscriptions"
VAULT = "Microsoft.KeyVault/vaults"
SQL_SERVER = "Microsoft.Sql/servers"


def _exporting(settings: list[dict[str, Any]], wanted: set[str]) -> list[dict[str, Any]]:
    """Settings with a destination that capture one of ``wanted`` categories (lower-case)."""
    return [
        s
        for s in settings
        if s.get("has_destination")
        and wanted & {str(c).lower() for c in s.get("enabled_log_categories") or ()}
    ]


@check(
    id="azure.audit.activity_log_exported",
    title="The subscription activity log is exported by a diagnostic setting",
    severity=Severity.HIGH,
    principles=(Principle.AUDITABLE,),
    reads={f"{SUBSCRIPTION}#diagnostic_settings"},
    remediation=(
        "Create a subscription diagnostic setting that sends at least the Administrative, "
        "Security, Alert and Policy categories to a Log Analytics workspace or storage account."
    ),
    rationale=(
        "The activity log keeps 90 days only; exporting it keeps control-plane evidence for "
        "investigations and audits."
    ),
    params={"required_categories": ("Administrative", "Security", "Alert", "Policy")},
)
def activity_log_exported(ctx: CheckContext) -> Iterator[Result]:
    required = {c.lower() for c in ctx.param("required_categories")}
    for sub in ctx.inventory.of(SUBSCRIPTION):
        settings = sub.attr("activity_log_diagnostic_settings")
        if settings is None:
            yield ctx.unknown(sub, "activity log diagnostic settings not collected")
            continue
        exporting = [s for s in settings if s.get("has_destination")]
        covered = {str(c).lower() for s in exporting for c in s.get("enabled_log_categories") or ()}
        missing = sorted(required - covered)
        if not exporting:
            yield ctx.fail(sub, "no diagnostic setting exports the activity log")
        elif missing:
            yield ctx.fail(
                sub, f"the activity log export misses {', '.join(missing)}", settings=exporting
            )
        else:
            yield ctx.passed(
                sub, f"activity log exported by {exporting[0]['name']}", settings=exporting
            )


@check(
    id="azure.audit.keyvault_logging_enabled",
    title="Key vault audit events are sent to a log destination",
    severity=Severity.MEDIUM,
    principles=(Principle.AUDITABLE, Principle.SECRETS),
    reads={f"{VAULT}#diagnostic_settings"},
    remediation="Add a diagnostic setting sending the AuditEvent category (or the audit group).",
    rationale="Without AuditEvent logs nobody can tell who read or used a secret or key.",
)
def keyvault_logging_enabled(ctx: CheckContext) -> Iterator[Result]:
    for vault in ctx.inventory.of(VAULT):
        settings = vault.attr("diagnostic_settings")
        if settings is None:
            yield ctx.unknown(vault, "diagnostic settings not collected")
            continue
        found = _exporting(settings, {"auditevent", "audit", "alllogs"})
        if found:
            yield ctx.passed(vault, f"audit events exported by {found[0]['name']}", settings=found)
        else:
            yield ctx.fail(
                vault, "no diagnostic setting exports the vault's audit events", settings=settings
            )


@check(
    id="azure.audit.sql_auditing_enabled",
    title="Azure SQL servers have auditing on",
    severity=Severity.MEDIUM,
    principles=(Principle.AUDITABLE,),
    reads={f"{SQL_SERVER}#auditing"},
    remediation="Turn on server auditing to a Log Analytics workspace or storage account.",
    rationale="Server auditing records logins and queries on every database of the server.",
)
def sql_auditing_enabled(ctx: CheckContext) -> Iterator[Result]:
    for server in ctx.inventory.of(SQL_SERVER):
        auditing = server.attr("auditing")
        if auditing is None:
            yield ctx.unknown(server, "auditing settings not collected")
        elif auditing.get("state") == "Enabled":
            yield ctx.passed(server, "auditing is on", auditing=auditing)
        else:
            yield ctx.fail(
                server, f"auditing is {auditing.get('state') or 'off'}", auditing=auditing
            )
