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


@check("azure.audit.activity_log_exported", Severity.HIGH, (Principle.AUDITABLE,),
       reads={f"{SUBSCRIPTION}#diagnostic_settings"},
       params={"required_categories": ("Administrative", "Security", "Alert", "Policy")})
def activity_log_exported(ctx: CheckContext) -> Iterator[Result]:
    """The subscription activity log is exported by a diagnostic setting

    The activity log keeps 90 days only; exporting it keeps control-plane evidence for
    investigations and audits.

    Remediation: Create a subscription diagnostic setting that sends at least the Administrative,
    Security, Alert and Policy categories to a Log Analytics workspace or storage account.
    """
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


@check("azure.audit.keyvault_logging_enabled", Severity.MEDIUM,
       (Principle.AUDITABLE, Principle.SECRETS), reads={f"{VAULT}#diagnostic_settings"})
def keyvault_logging_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Key vault audit events are sent to a log destination

    Without AuditEvent logs nobody can tell who read or used a secret or key.

    Remediation: Add a diagnostic setting sending the AuditEvent category (or the audit group).
    """
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


@check("azure.audit.sql_auditing_enabled", Severity.MEDIUM, (Principle.AUDITABLE,),
       reads={f"{SQL_SERVER}#auditing"})
def sql_auditing_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL servers have auditing on

    Server auditing records logins and queries on every database of the server.

    Remediation: Turn on server auditing to a Log Analytics workspace or storage account.
    """
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
