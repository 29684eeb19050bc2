"""KMS keys: no key scheduled for deletion is still in use, no key policy open to the world."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.kms import key_index, resolve
from posture.model import Asset, Inventory, Principle, Severity
from posture.registry import check
from posture.values import as_list, statements

KMS_KEY = "AWS::KMS::Key"

# (asset type, attribute holding a key reference) — a list attribute is searched per item
KEY_REFERENCES: tuple[tuple[str, str], ...] = (
    ("AWS::EC2::Volume", "kms_key_id"),
    ("AWS::EC2::Snapshot", "kms_key_id"),
    ("AWS::EC2::EbsEncryptionByDefault", "kms_key_id"),
    ("AWS::RDS::DBInstance", "kms_key_id"),
    ("AWS::RDS::DBCluster", "kms_key_id"),
    ("AWS::RDS::DBSnapshot", "kms_key_id"),
    ("AWS::RDS::DBClusterSnapshot", "kms_key_id"),
    ("AWS::EFS::FileSystem", "kms_key_id"),
    ("AWS::DynamoDB::Table", "kms_key_arn"),
    ("AWS::SecretsManager::Secret", "kms_key_id"),
    ("AWS::CloudTrail::Trail", "kms_key_id"),
    ("AWS::Lambda::Function", "kms_key_arn"),
    ("AWS::S3::Bucket", "encryption"),
)
# the listings (or facets) those references come from
REFERENCE_READS = frozenset(
    {
        "AWS::EC2::Volume",
        "AWS::EC2::Snapshot#listing",
        "AWS::EC2::EbsEncryptionByDefault",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBSnapshot#listing",
        "AWS::RDS::DBClusterSnapshot#listing",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
        "AWS::SecretsManager::Secret#listing",
        "AWS::CloudTrail::Trail#listing",
        "AWS::Lambda::Function",
        "AWS::S3::Bucket#encryption",
    }
)
# condition keys that confine a wildcard principal to known accounts, organisations or sources
CONFINING_KEYS = frozenset(
    {
        "kms:calleraccount",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:principalarn",
        "aws:userid",
    }
)


def _references(inventory: Inventory) -> dict[str, list[str]]:
    """key uid -> uids of the resources that name it."""
    keys = key_index(inventory)
    found: dict[str, set[str]] = {}
    for type_, attr in KEY_REFERENCES:
        for asset in inventory.of(type_):
            value = asset.attr(attr)
            refs = (
                [r.get("kms_master_key_id") for r in value if isinstance(r, Mapping)]
                if isinstance(value, list)
                else [value]
            )
            for ref in refs:
                key = resolve(keys, asset.account, asset.region, ref)
                if key is not None:
                    found.setdefault(key.uid, set()).add(asset.uid)
    return {k: sorted(v) for k, v in found.items()}


@check("aws.kms.pending_deletion_key_unreferenced", Severity.HIGH, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{KMS_KEY}#listing", f"{KMS_KEY}#aliases", *REFERENCE_READS})
def pending_deletion_key_unreferenced(ctx: CheckContext) -> Iterator[Result]:
    """No KMS key scheduled for deletion still protects a resource

    Once the waiting period ends the key material is gone and everything encrypted under it
    (volumes, snapshots, databases, secrets, trail logs) can never be decrypted again. References
    are matched by key ARN, key id and alias.

    Remediation: Cancel the deletion (`aws kms cancel-key-deletion --key-id <id>`) until every
    resource listed has been re-encrypted with another key; deleting the key makes their data
    unrecoverable.
    """
    refs = ctx.derived("aws.kms.references", _references)
    for key in ctx.inventory.of(KMS_KEY):
        if key.attr("key_state") != "PendingDeletion":
            continue
        users = refs.get(key.uid, [])
        evidence = {"deletion_date": key.attr("deletion_date"), "referenced_by": users}
        if users:
            yield ctx.fail(
                key,
                f"key is scheduled for deletion on {key.attr('deletion_date')} "
                f"but still protects {len(users)} resource(s)",
                **evidence,
            )
        else:
            yield ctx.passed(
                key, "key is scheduled for deletion and no collected resource uses it", **evidence
            )


def _wildcard(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in as_list(principal.get("AWS"))
    return False


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    condition = statement.get("Condition") or {}
    if not isinstance(condition, Mapping):
        return {"?"}
    return {
        str(k).lower() for block in condition.values() if isinstance(block, Mapping) for k in block
    }


def public_statements(policy: Any) -> tuple[list[Any], list[Any]]:
    """(open to anyone, open to anyone unless an undecidable condition holds)."""
    open_, conditional = [], []
    for st in statements(policy):
        if st.get("Effect") != "Allow" or not _wildcard(st.get("Principal")):
            continue
        keys = _condition_keys(st)
        if not keys:
            open_.append(st.get("Sid") or st.get("Action"))
        elif not keys & CONFINING_KEYS:
            conditional.append(st.get("Sid") or st.get("Action"))
    return open_, conditional


@check("aws.kms.key_policy_not_public", Severity.CRITICAL,
       (Principle.ENCRYPTION_AT_REST, Principle.LEAST_PRIVILEGE), reads={f"{KMS_KEY}#policy"})
def key_policy_not_public(ctx: CheckContext) -> Iterator[Result]:
    """KMS key policies do not grant access to everyone

    A key policy statement that allows any principal without a confining condition lets every AWS
    account use the key (decrypt, re-encrypt, create grants). Wildcard grants confined by account,
    organisation or source conditions (as the AWS-managed keys' policies are) pass; other
    conditions cannot be decided and are INCONCLUSIVE.

    Remediation: Replace the wildcard principal (`*` or `{AWS: *}`) with the account or roles that
    need the key, or confine it with `kms:CallerAccount` / `aws:PrincipalOrgID`.
    """
    for key in ctx.inventory.of(KMS_KEY):
        yield _policy_verdict(ctx, key)


def _policy_verdict(ctx: CheckContext, key: Asset) -> Result:
    policy = key.attr("policy")
    if policy is None:
        return ctx.unknown(key, "key policy unknown")
    open_, conditional = public_statements(policy)
    if open_:
        return ctx.fail(key, "key policy allows any principal without conditions", statements=open_)
    if conditional:
        return ctx.unknown(
            key,
            "key policy allows any principal under conditions that cannot "
            "be decided from the inventory",
            statements=conditional,
        )
    return ctx.passed(key, "key policy grants no unconfined wildcard principal")
