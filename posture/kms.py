"""KMS key lookup shared by the checks: a key can be named by ARN, key id, alias name or alias
ARN; resolve any of them to the key asset of the same account and region."""

from __future__ import annotations

from posture.model import Asset, Inventory

KMS_KEY = "AWS::KMS::Key"


def key_index(inventory: Inventory) -> dict[tuple[str, str, str], Asset]:
    """(account, region, reference) -> key, for every way a resource may name the key."""
    index: dict[tuple[str, str, str], Asset] = {}
    for key in inventory.of(KMS_KEY):
        names = {key.uid, str(key.attr("arn") or ""), str(key.attr("key_id") or "")}
        for alias in key.attr("aliases") or []:
            names.add(str(alias))
            names.add(f"arn:aws:kms:{key.region}:{key.account}:{alias}")
        for name in names - {""}:
            index[(key.account, key.region, name)] = key
    return index


def resolve(
    index: dict[tuple[str, str, str], Asset], account: str, region: str, reference: str | None
) -> Asset | None:
    """The key a resource refers to (an ARN names its own account and region)."""
    if not reference:
        return None
    ref = str(reference)
    if ref.startswith("arn:"):
        parts = ref.split(":", 5)
        if len(parts) == 6:
            account, region = parts[4], parts[3]
    return index.get((account, region, ref))


def aws_managed_alias(reference: str | None) -> bool:
    """``alias/aws/<service>`` (or its ARN) names an AWS-managed key."""
    return bool(reference) and "alias/aws/" in str(reference)
