"""Managed data services on GCP: public BigQuery datasets, customer-managed keys on datasets and
Cloud SQL (every resource by default, or the labelled ones), Secret Manager public bindings
(value readers vs metadata) and rotation; each PASS, FAIL and not collected."""

from __future__ import annotations

from support.gcp import gasset, gcp_error, results, statuses
from support.gcp_platforms import WEB_SA, bindings, dataset, secret, with_attrs

from posture.gcp import BQ_DATASET, SECRET, SQL_INSTANCE
from posture.model import Asset, Severity, Status

PUBLIC = "gcp.data.bigquery_dataset_not_public"
KEY = "projects/acme-test/locations/us/keyRings/r/cryptoKeys/k"


def test_public_dataset_entries() -> None:
    found = results(
        PUBLIC, dataset("private"),
        dataset("readers", access=[{"role": "READER", "member": "allAuthenticatedUsers",
                                    "condition": None}]),
        dataset("writers", access=[{"role": "WRITER", "member": "allUsers", "condition": None}]),
        # trap: the project's readers are a special group, not the public
        dataset("project", access=[{"role": "READER", "member": "projectReaders",
                                    "condition": None}]))
    assert {n: f.status for n, f in found.items()} == {
        "private": Status.PASS, "readers": Status.FAIL, "writers": Status.FAIL,
        "project": Status.PASS}
    assert found["writers"].message == "public access: allUsers (WRITER)"
    assert found["readers"].severity == Severity.CRITICAL


def test_dataset_details_not_read() -> None:
    ds = with_attrs(dataset("unread", cmek=None, details_read=False), access=None)
    gap = gcp_error("bigquery", "datasets.get", (f"{BQ_DATASET}#details",), resource_uid=ds.uid)
    for check_id in (PUBLIC, "gcp.data.bigquery_dataset_cmek"):
        assert statuses(check_id, ds, errors=(gap,)) == {"unread": Status.INCONCLUSIVE}
    listing = gcp_error("bigquery", "datasets.list", (BQ_DATASET,))
    assert {f.status for f in results(PUBLIC, errors=(listing,)).values()} == {
        Status.INCONCLUSIVE}


CMEK = "gcp.data.bigquery_dataset_cmek"


def test_dataset_cmek_everywhere_or_by_label() -> None:
    found = results(CMEK, dataset("keyed", key=KEY), dataset("plain"))
    assert {n: f.status for n, f in found.items()} == {"keyed": Status.PASS,
                                                       "plain": Status.FAIL}
    assert found["plain"].message == ("encrypted with a Google-managed key; a customer-managed "
                                      "key is required for every dataset")
    labelled = results(CMEK, dataset("plain"), dataset("secret", labels={"data": "restricted"}),
                       required_for_labels=("data=restricted",))
    assert {n: f.status for n, f in labelled.items()} == {"plain": Status.PASS,
                                                          "secret": Status.FAIL}


SQL = "gcp.data.sql_cmek"


def sql(name: str, key: str | None) -> Asset:
    return gasset(SQL_INSTANCE, f"//cloudsql.googleapis.com/projects/acme-test/instances/{name}",
                  region="us-central1", instance_name=name, kms_key_name=key)


def test_sql_cmek() -> None:
    found = results(SQL, sql("keyed", KEY), sql("plain", None))
    assert {n: f.status for n, f in found.items()} == {"keyed": Status.PASS,
                                                       "plain": Status.FAIL}
    assert found["keyed"].message == f"encrypted with the customer-managed key {KEY}"
    gap = gcp_error("sqladmin", "instances.list", (SQL_INSTANCE,))
    assert {f.status for f in results(SQL, sql("keyed", KEY), errors=(gap,)).values()} == {
        Status.INCONCLUSIVE}


SECRET_PUBLIC = "gcp.data.secret_not_public"


def test_public_secret_value_readers_and_metadata_viewers() -> None:
    found = results(
        SECRET_PUBLIC, secret("private", iam=bindings(("roles/secretmanager.secretAccessor",
                                                       WEB_SA))),
        secret("readable", iam=bindings(("roles/secretmanager.secretAccessor",
                                         "allAuthenticatedUsers"))),
        secret("listed", iam=bindings(("roles/secretmanager.viewer", "allUsers"))),
        secret("unread", iam=None, iam_bindings=None))
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "private": (Status.PASS, Severity.CRITICAL), "readable": (Status.FAIL, Severity.CRITICAL),
        "listed": (Status.FAIL, Severity.MEDIUM), "unread": (Status.INCONCLUSIVE,
                                                             Severity.CRITICAL)}
    assert found["readable"].message == ("anyone with a Google account can read its value: "
                                         "allAuthenticatedUsers "
                                         "(roles/secretmanager.secretAccessor)")


ROTATION = "gcp.data.secret_rotation_configured"


def test_secret_rotation() -> None:
    found = results(ROTATION, secret("monthly"), secret("never", rotation_days=None),
                    secret("yearly", rotation_days=365))
    assert {n: f.status for n, f in found.items()} == {
        "monthly": Status.PASS, "never": Status.FAIL, "yearly": Status.FAIL}
    assert found["yearly"].message == "rotates every 365 days (> 90)"
    assert found["never"].evidence["replication"] == "automatic"
    gap = gcp_error("secretmanager", "secrets.list", (SECRET,))
    assert {f.status for f in results(ROTATION, secret("monthly"), errors=(gap,)).values()} == {
        Status.INCONCLUSIVE}
