"""Managed data services on GCP: BigQuery datasets (public access, customer-managed keys), Cloud
SQL (customer-managed keys) and Secret Manager (public bindings, rotation)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.gcp import BQ_DATASET, PUBLIC_MEMBERS, SECRET, SQL_INSTANCE, label_matches
from posture.gcp import public_grants as public_bindings
from posture.model import Asset, Principle, Severity
from posture.registry import check

_DAY = 86400
# roles that read a secret's value (the rest read metadata only)
SECRET_READERS = ("roles/secretmanager.secretAccessor", "roles/secretmanager.admin",
                  "roles/owner", "roles/editor")


@check("gcp.data.bigquery_dataset_not_public", Severity.CRITICAL, (Principle.LEAST_PRIVILEGE,),
       reads={BQ_DATASET})
def bigquery_dataset_not_public(ctx: CheckContext) -> Iterator[Result]:
    """BigQuery datasets are not accessible to allUsers or allAuthenticatedUsers

    An access entry for allUsers lets anyone on the internet query the dataset's tables (and the
    owner pays); allAuthenticatedUsers means any Google account, not your organisation.

    Remediation: Remove the allUsers / allAuthenticatedUsers entries from the dataset's
    permissions (`bq update --source=access.json PROJECT:DATASET`); share with groups or
    authorised views instead.
    """
    for ds in ctx.inventory.of(BQ_DATASET):
        access = ds.attr("access")
        if access is None:
            yield ctx.unknown(ds, "the dataset's access entries were not read")
            continue
        public = [e for e in access if e.get("member") in PUBLIC_MEMBERS]
        if public:
            what = ", ".join(sorted(f"{e['member']} ({e['role']})" for e in public))
            yield ctx.fail(ds, f"public access: {what}", public_access=public)
        else:
            yield ctx.passed(ds, "no public access entry")


def _cmek(ctx: CheckContext, asset: Asset, key: str | None, what: str) -> Result:
    selectors = tuple(ctx.param("required_for_labels"))
    why = label_matches(asset.tags, selectors) if selectors else "every " + what
    if key:
        return ctx.passed(asset, f"encrypted with the customer-managed key {key}", kms_key=key)
    if why is None:
        return ctx.passed(asset, "no customer-managed key required (no matching label)",
                          required_for_labels=list(selectors))
    return ctx.fail(asset, f"encrypted with a Google-managed key; a customer-managed key is "
                    f"required for {why}", required_by=why)


@check("gcp.data.bigquery_dataset_cmek", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
       reads={BQ_DATASET}, params={"required_for_labels": ()})
def bigquery_dataset_cmek(ctx: CheckContext) -> Iterator[Result]:
    """BigQuery datasets have a default customer-managed encryption key

    A default Cloud KMS key encrypts every new table of the dataset under a key you control
    (rotation, revocation, access logs). Required for every dataset by default (CIS); a list of
    label selectors (required_for_labels, e.g. data=restricted) narrows it. Tables created before
    the default was set keep their own encryption.

    Remediation: Set a default key (`bq update --default_kms_key=projects/P/locations/L/keyRings/
    R/cryptoKeys/K PROJECT:DATASET`) and re-create or copy existing tables with it.
    """
    for ds in ctx.inventory.of(BQ_DATASET):
        if ds.attr("cmek") is None:
            yield ctx.unknown(ds, "the dataset's encryption settings were not read")
        else:
            yield _cmek(ctx, ds, ds.attr("default_kms_key"), "dataset")


@check("gcp.data.sql_cmek", Severity.MEDIUM, (Principle.ENCRYPTION_AT_REST,),
       reads={f"{SQL_INSTANCE}#listing"}, params={"required_for_labels": ()})
def sql_cmek(ctx: CheckContext) -> Iterator[Result]:
    """Cloud SQL instances are encrypted with a customer-managed key

    A Cloud KMS key on the instance's disks and backups puts their encryption under a key you
    control; it can only be chosen when the instance is created. Required for every instance by
    default; required_for_labels (e.g. data=restricted) narrows it.

    Remediation: Create a new instance with `--disk-encryption-key=projects/P/locations/L/
    keyRings/R/cryptoKeys/K` and migrate the data (export/import or a replica).
    """
    for db in ctx.inventory.of(SQL_INSTANCE):
        yield _cmek(ctx, db, db.attr("kms_key_name"), "instance")


@check("gcp.data.secret_not_public", Severity.CRITICAL,
       (Principle.SECRETS, Principle.LEAST_PRIVILEGE), reads={f"{SECRET}#iam_policy"},
       params={"metadata_severity": "medium"})
def secret_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Secret Manager secrets are not shared with allUsers or allAuthenticatedUsers

    A role that reads versions (Secret Accessor, admin, basic roles) granted to allUsers or
    allAuthenticatedUsers hands the secret's value to anyone with a Google account. A public
    role that reads metadata only fails at metadata_severity.

    Remediation: Remove the public bindings from the secret's IAM policy and grant Secret
    Accessor to the service accounts that need it; rotate the secret.
    """
    for secret in ctx.inventory.of(SECRET):
        if secret.attr("iam_bindings") is None:
            yield ctx.unknown(secret, "the secret's IAM policy was not read")
            continue
        public = public_bindings(secret)
        readers = [g for g in public if g["role"] in SECRET_READERS
                   or not str(g["role"]).startswith("roles/")]
        roles = ", ".join(sorted({f"{g['member']} ({g['role']})" for g in public}))
        if readers:
            yield ctx.fail(secret, f"anyone with a Google account can read its value: {roles}",
                           public_bindings=public)
        elif public:
            yield ctx.fail_at(Severity.parse(str(ctx.param("metadata_severity"))), secret,
                              f"public binding(s) on its metadata: {roles}",
                              public_bindings=public)
        else:
            yield ctx.passed(secret, "no public IAM binding")


@check("gcp.data.secret_rotation_configured", Severity.MEDIUM,
       (Principle.SECRETS, Principle.JUST_IN_TIME), reads={f"{SECRET}#listing"},
       params={"max_rotation_days": 90})
def secret_rotation_configured(ctx: CheckContext) -> Iterator[Result]:
    """Secret Manager secrets have a rotation schedule of at most 90 days

    A rotation schedule makes Secret Manager notify the rotation function (Pub/Sub topics) on a
    fixed period; without one a leaked value stays valid until someone remembers. Replication
    and customer-managed keys are reported as evidence.

    Remediation: Set a rotation period and next rotation time with a Pub/Sub topic
    (`gcloud secrets update S --rotation-period=90d --next-rotation-time=... --topics=T`) and
    subscribe the rotation function.
    """
    limit = int(ctx.param("max_rotation_days"))
    for secret in ctx.inventory.of(SECRET):
        seconds = secret.attr("rotation_period_seconds")
        evidence = {"replication": secret.attr("replication"), "kms_keys": secret.attr("kms_keys"),
                    "topics": secret.attr("topics"), "expire_time": secret.attr("expire_time")}
        if seconds is None:
            yield ctx.fail(secret, "no rotation schedule", **evidence)
        elif seconds > limit * _DAY:
            yield ctx.fail(secret, f"rotates every {seconds // _DAY} days (> {limit})",
                           rotation_period_days=seconds // _DAY, **evidence)
        else:
            yield ctx.passed(secret, f"rotates every {seconds // _DAY} days",
                             rotation_period_days=seconds // _DAY, **evidence)
