"""``posture permissions aws|azure|gcp``: the read-only permissions the scanner itself needs,
in the form each cloud's own tooling takes."""

from __future__ import annotations

import json
import sys


def permissions_aws() -> None:
    """Print the scanner's own least-privilege, read-only IAM policy (JSON)."""
    from posture.collectors.aws.collector import policy_document

    sys.stdout.write(json.dumps(policy_document(), indent=2) + "\n")


def permissions_azure() -> None:
    """Print the scanner's minimal read-only custom role definition (JSON for
    `az role definition create --role-definition`)."""
    from posture.collectors.azure.collector import role_definition

    sys.stdout.write(json.dumps(role_definition(), indent=2) + "\n")


def permissions_gcp() -> None:
    """Print the scanner's minimal custom role (YAML for `gcloud iam roles create --file`)."""
    from posture.collectors.gcp.collector import custom_role

    sys.stdout.write(custom_role())
