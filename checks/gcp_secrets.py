"""Secrets on GCP: no plaintext secrets in Compute Engine instance metadata.

Plaintext secrets are found by the collector (detect-secrets over every metadata value:
``startup-script``, ``user-data``, ``ssh-keys``, any custom key); the inventory holds only the
detector's verdicts (metadata key, line, type, keyed fingerprint), so a finding can name the
secret without ever containing it.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.checks._shared import PLAINTEXT_RATIONALE, plaintext_secrets

from posture.engine import CheckContext, Result
from posture.gcp import INSTANCE
from posture.model import Principle, Severity
from posture.registry import check


@check(
    "gcp.secrets.instance_metadata_no_plaintext_secrets", Severity.HIGH, (Principle.SECRETS,),
    reads={f"{INSTANCE}#listing"},
    rationale=PLAINTEXT_RATIONALE + " Instance metadata (startup scripts included) is readable "
    "with compute.instances.get by every project viewer, and by any process on the VM from the "
    "metadata server.",
)
def instance_metadata_no_plaintext_secrets(ctx: CheckContext) -> Iterator[Result]:
    """Compute Engine instance metadata holds no plaintext secrets

    Remediation: Remove the secret from the instance metadata (gcloud compute instances
    remove-metadata, or a new template), rotate the exposed credential, and have the startup script
    read it at boot from Secret Manager with the instance's service account.
    """
    for instance in ctx.inventory.of(INSTANCE):
        yield plaintext_secrets(
            ctx, instance, "metadata_secrets", "instance metadata", key_label="key"
        )
