"""Data exposure: EBS and RDS snapshots are not public; S3 bucket ACLs grant nothing to the
public; the account's S3 Block Public Access guard rail is on."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result, Subject
from posture.model import GLOBAL, Asset, Principle, Severity
from posture.registry import check

EBS_SNAPSHOT = "AWS::EC2::Snapshot"
DB_SNAPSHOT = "AWS::RDS::DBSnapshot"
DB_CLUSTER_SNAPSHOT = "AWS::RDS::DBClusterSnapshot"

_RATIONALE = (
    "A public snapshot can be copied and restored by every AWS account in the world: it is a "
    "full copy of the disk or database, including deleted files, credentials and backups."
)


def _exposure(ctx: CheckContext, snap: Asset, who: str) -> Result:
    public, shared = snap.attr("public"), snap.attr("shared_with_accounts")
    if public is None:
        return ctx.unknown(snap, f"{who} permissions unknown")
    if public:
        return ctx.fail(
            snap,
            f"snapshot is public: any AWS account may {who.split()[0]} it",
            encrypted=snap.attr("encrypted"),
            shared_with_accounts=shared,
        )
    return ctx.passed(snap, "snapshot is not public", shared_with_accounts=shared)


@check("aws.data.ebs_snapshot_not_public", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{EBS_SNAPSHOT}#permissions"}, rationale=_RATIONALE)
def ebs_snapshot_not_public(ctx: CheckContext) -> Iterator[Result]:
    """EBS snapshots are not public

    Remediation: Remove the public permission (`aws ec2 modify-snapshot-attribute --snapshot-id
    <id> --attribute createVolumePermission --operation-type remove --group-names all`), share with
    named accounts only, and enable the account's EBS block public access.
    """
    for snap in ctx.inventory.of(EBS_SNAPSHOT):
        yield _exposure(ctx, snap, "create volume permissions")


@check("aws.data.rds_snapshot_not_public", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{DB_SNAPSHOT}#permissions", f"{DB_CLUSTER_SNAPSHOT}#permissions"},
       rationale=_RATIONALE + " Only manual snapshots can be shared; automated ones never are.")
def rds_snapshot_not_public(ctx: CheckContext) -> Iterator[Result]:
    """RDS DB and cluster snapshots are not public

    Remediation: Remove `all` from the snapshot's restore attribute (`aws rds
    modify-db-snapshot-attribute --attribute-name restore --values-to-remove all`) and share with
    named accounts only.
    """
    for snap in ctx.inventory.of(DB_SNAPSHOT, DB_CLUSTER_SNAPSHOT):
        yield _exposure(ctx, snap, "restore permissions")


# --- S3 bucket ACLs --------------------------------------------------------------------------

BUCKET = "AWS::S3::Bucket"
ACCOUNT_PAB = "AWS::S3::AccountPublicAccessBlock"
_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "every AWS account",
}


def _ignore_public_acls(bucket: Asset, account: Asset | None) -> bool | None:
    """Whether Block Public Access ignores public ACLs for the bucket (None: cannot tell)."""
    own = bucket.attr("public_access_block")
    acct = None if account is None else account.attr("public_access_block")
    if (own or {}).get("IgnorePublicAcls") or (acct or {}).get("IgnorePublicAcls"):
        return True
    if own is None or acct is None:
        return None
    return False


@check("aws.data.s3_bucket_acl_not_public", Severity.CRITICAL,
       (Principle.LEAST_PRIVILEGE, Principle.DEFENSE_IN_DEPTH),
       reads={f"{BUCKET}#acl", f"{BUCKET}#public_access_block", ACCOUNT_PAB})
def s3_bucket_acl_not_public(ctx: CheckContext) -> Iterator[Result]:
    """No S3 bucket ACL grants access to everyone or to every AWS account

    A bucket ACL grant to the AllUsers group opens the bucket to anyone on the internet, to
    AuthenticatedUsers to anyone with any AWS account: READ lists the objects, WRITE lets them
    plant objects, READ_ACP/WRITE_ACP expose and hand over the ACL itself. Block Public Access with
    IgnorePublicAcls (bucket or account) neutralises such grants; the S3 log-delivery group is not
    public. Object-level ACLs are not evaluated.

    Remediation: Remove the AllUsers / AuthenticatedUsers grants (`aws s3api put-bucket-acl
    --bucket <b> --acl private`), set Object Ownership to BucketOwnerEnforced (ACLs disabled), and
    turn on Block Public Access (IgnorePublicAcls) for the bucket and the account.
    """
    accounts = {a.account: a for a in ctx.inventory.of(ACCOUNT_PAB)}
    for bucket in ctx.inventory.of(BUCKET):
        grants = bucket.attr("acl_grants")
        if grants is None:
            yield ctx.unknown(bucket, "bucket ACL unknown")
            continue
        public = sorted(
            {f"{g.get('permission')} to {_PUBLIC_GROUPS[str(g.get('grantee'))]}" for g in grants
             if g.get("grantee_type") == "Group" and str(g.get("grantee")) in _PUBLIC_GROUPS}
        )
        if not public:
            yield ctx.passed(bucket, "bucket ACL grants nothing to the public", acl_grants=grants)
            continue
        ignored = _ignore_public_acls(bucket, accounts.get(bucket.account))
        evidence = {"public_grants": public, "acl_grants": grants}
        if ignored:
            yield ctx.passed(bucket, "bucket ACL is public but Block Public Access "
                             "(IgnorePublicAcls) neutralises it", **evidence)
        elif ignored is None:
            yield ctx.unknown(bucket, f"bucket ACL grants {', '.join(public)}; whether Block "
                              "Public Access ignores it is unknown", **evidence)
        else:
            yield ctx.fail(bucket, f"bucket ACL grants {', '.join(public)}", **evidence)


# --- S3 Block Public Access, account level ---------------------------------------------------

_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@check("aws.data.s3_account_block_public_access_enabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.LEAST_PRIVILEGE), reads={ACCOUNT_PAB})
def s3_account_block_public_access_enabled(ctx: CheckContext) -> Iterator[Result]:
    """S3 Block Public Access is on for the account (all four settings)

    The account-level settings override every bucket's: with all four on, no ACL or bucket policy
    that anyone writes later can make a bucket or object in the account public. It is a guard rail,
    not an exposure: a bucket that is public today is reported CRITICAL by the bucket ACL and
    resource-policy checks, which take these settings into account. Off, the account relies on
    every future bucket change being right, one change from a leak; hence MEDIUM. No account-level
    configuration (NoSuchPublicAccessBlockConfiguration) means all four are off.

    Remediation: Turn on all four settings for the account (`aws s3control put-public-access-block
    --account-id <acct> --public-access-block-configuration
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`),
    ideally from the organisation's baseline; serve public content through CloudFront with origin
    access control, which works with Block Public Access on.
    """
    seen: set[str] = set()
    for pab in ctx.inventory.of(ACCOUNT_PAB):
        seen.add(pab.account)
        flags = pab.attr("public_access_block")
        if flags is None:
            yield ctx.unknown(pab, "account-level Block Public Access settings unknown")
            continue
        off = [f for f in _PAB_FLAGS if not flags.get(f)]
        if not flags:
            yield ctx.fail(pab, "no account-level Block Public Access configuration: all four "
                           "settings are off", settings_off=off)
        elif off:
            yield ctx.fail(pab, f"account-level Block Public Access is off for {', '.join(off)}",
                           settings_off=off, public_access_block=flags)
        else:
            yield ctx.passed(pab, "all four account-level Block Public Access settings are on",
                             public_access_block=flags)
    for account in sorted(set(ctx.inventory.meta.accounts) - seen):
        uid = f"arn:aws:s3:::account/{account}/public-access-block"
        subject = Subject(uid, ACCOUNT_PAB, "account public access block", account, GLOBAL)
        yield ctx.unknown(subject, "account-level Block Public Access settings were not collected")
