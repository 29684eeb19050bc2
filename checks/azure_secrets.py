"""Secrets on Azure: no plaintext secrets in VM user data or in VM extension settings.

Plaintext secrets are found by the collector (detect-secrets over the decoded user data and
every public setting of every extension); the inventory holds only the detector's verdicts
(extension, setting, line, type, keyed fingerprint), so a finding can name the secret without
ever containing it. User data and extensions are two checks: they are read by different calls
(a denied extension listing must not leave the user-data verdict undecided) and are fixed
differently.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import PLAINTEXT_RATIONALE, plaintext_secrets

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

VM = "Microsoft.Compute/virtualMachines"


@check(
    "azure.secrets.vm_user_data_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={f"{VM}#user_data"},
    rationale=PLAINTEXT_RATIONALE + " User data is returned to anyone with "
    "Microsoft.Compute/virtualMachines/read (GET with $expand=userData) and to any process on "
    "the VM from the instance metadata service. Custom data is never returned by ARM and is "
    "not judged.",
)
def vm_user_data_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """Azure VM user data holds no plaintext secrets

    Remediation: Replace the VM's user data with a version without the secret (az vm update
    --user-data), rotate the exposed credential, and have the VM read secrets at boot from Key
    Vault with its managed identity.
    """
    for vm in ctx.inventory.of(VM):
        yield plaintext_secrets(ctx, vm, "user_data_secrets", "user data")


@check(
    "azure.secrets.vm_extension_settings_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={f"{VM}#extensions"},
    rationale=PLAINTEXT_RATIONALE + " An extension's public settings (CustomScript "
    "commandToExecute, script, fileUris) are returned in clear text to anyone with "
    "Microsoft.Compute/virtualMachines/extensions/read and kept in the deployment history.",
)
def vm_extension_settings_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """Azure VM extensions keep no plaintext secrets in their public settings

    Remediation: Move the value into the extension's protectedSettings (encrypted, never returned
    by ARM) or a Key Vault reference (protectedSettingsFromKeyVault), or use a managed identity
    instead of a SAS token in fileUris; then rotate the exposed credential.
    """
    for vm in ctx.inventory.of(VM):
        yield plaintext_secrets(
            ctx, vm, "extension_secrets", "extension settings", key_label="setting"
        )
