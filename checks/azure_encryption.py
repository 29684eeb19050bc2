"""Encryption at rest on Azure: SQL TDE, recoverable key vaults, keys with expiry and rotation."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

DATABASE = "Microsoft.Sql/servers/databases"
VAULT = "Microsoft.KeyVault/vaults"
KEY = "Microsoft.KeyVault/vaults/keys"


@check("azure.encryption.sql_tde_enabled", Severity.HIGH, (Principle.ENCRYPTION_AT_REST,),
       reads={DATABASE})
def sql_tde_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL databases have transparent data encryption on

    TDE encrypts data, log files and backups at rest. The master database is a system database
    whose encryption is managed by the service and is not judged.

    Remediation: Turn on transparent data encryption ('Data encryption') for the database.
    """
    for db in ctx.inventory.of(DATABASE):
        if db.attr("system_database"):
            continue
        state = db.attr("tde_state")
        if state == "Enabled":
            yield ctx.passed(db, "transparent data encryption is on")
        elif state is None:
            yield ctx.unknown(db, "transparent data encryption state unknown")
        else:
            yield ctx.fail(db, f"transparent data encryption is {state}", tde_state=state)


@check("azure.encryption.keyvault_purge_protection_enabled", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={f"{VAULT}#listing"})
def keyvault_purge_protection_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Key vaults have purge protection enabled

    Without purge protection a deleted vault or key can be purged before its retention ends,
    destroying every piece of data encrypted with it (a ransomware pattern).

    Remediation: Enable purge protection on the vault (it cannot be turned off afterwards).
    """
    for vault in ctx.inventory.of(VAULT):
        if vault.attr("purge_protection_enabled"):
            yield ctx.passed(vault, "purge protection is enabled")
        else:
            yield ctx.fail(vault, "purge protection is not enabled")


@check("azure.encryption.keyvault_soft_delete_enabled", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={f"{VAULT}#listing"})
def keyvault_soft_delete_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Key vaults have soft delete enabled

    Soft delete keeps deleted vaults and objects recoverable. A vault that does not report the
    property has Azure's default (on).

    Remediation: Enable soft delete (90-day retention); it is on by default for new vaults.
    """
    for vault in ctx.inventory.of(VAULT):
        value = vault.attr("soft_delete_enabled")
        days = vault.attr("soft_delete_retention_days")
        if value is False:
            yield ctx.fail(vault, "soft delete is disabled", soft_delete_enabled=False)
        else:
            note = "" if value else " (service default)"
            yield ctx.passed(vault, f"soft delete is enabled{note}, retention {days} days")


@check("azure.encryption.keyvault_key_expiry_set", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={KEY})
def keyvault_key_expiry_set(ctx: CheckContext) -> Iterator[Result]:
    """Key vault keys have an expiration date

    Keys without expiry stay valid forever, so a leaked key never stops working.

    Remediation: Set an expiration date on every key (and a rotation policy that renews it).
    """
    for key in ctx.inventory.of(KEY):
        if key.attr("enabled") is False:
            continue
        if key.attr("expires"):
            yield ctx.passed(key, f"expires {key.attr('expires')}")
        else:
            yield ctx.fail(key, "the key has no expiration date")


@check("azure.encryption.keyvault_key_rotation_enabled", Severity.MEDIUM,
       (Principle.ENCRYPTION_AT_REST, Principle.SECRETS), reads={KEY})
def keyvault_key_rotation_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Key vault keys rotate automatically

    Automatic rotation limits how much data one key version protects and how long a compromised
    version stays useful.

    Remediation: Add a rotation policy with a 'Rotate' lifetime action to the key.
    """
    for key in ctx.inventory.of(KEY):
        if key.attr("enabled") is False:
            continue
        if key.attr("auto_rotation_enabled"):
            yield ctx.passed(
                key,
                "a rotation policy rotates the key",
                rotation_policy=key.attr("rotation_policy"),
            )
        else:
            yield ctx.fail(
                key,
                "no rotation policy rotates the key",
                rotation_policy=key.attr("rotation_policy"),
            )
