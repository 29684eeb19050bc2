"""BigQuery (v2, discovery client): the project's datasets, each read in full (``datasets.get``:
the listing carries neither access entries nor encryption) for its access entries and default
customer-managed key.

Access entries are normalized to ``{role, member}`` with IAM-style members: ``iamMember`` as
given (``allUsers``, ``allAuthenticatedUsers``, ``principal://...``), ``userByEmail`` →
``user:``, ``groupByEmail`` → ``group:``, ``domain`` → ``domain:``, ``specialGroup`` as itself
(``allAuthenticatedUsers``, ``projectReaders``, ...), authorised views, routines and datasets as
``view:`` / ``routine:`` / ``dataset:`` with their ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from posture.collectors.gcp.base import ProjectScope, parallel_map
from posture.collectors.gcp.listing import get, listing
from posture.gcp import BQ_DATASET
from posture.model import Asset

SERVICE = "bigquery"
PERMISSIONS = ("bigquery.datasets.get",)
_KINDS = (("iamMember", ""), ("userByEmail", "user:"), ("groupByEmail", "group:"),
          ("domain", "domain:"), ("specialGroup", ""))


def uid(project: str, dataset: str) -> str:
    return f"//bigquery.googleapis.com/projects/{project}/datasets/{dataset}"


def _datasets(scope: ProjectScope) -> Any:
    return scope.clients.discovery("bigquery", "v2", "bigquery/v2/").datasets()


def collect(scope: ProjectScope) -> list[Asset]:
    found = listing(scope, lambda: _datasets(scope), "datasets", service=SERVICE,
                    operation="datasets.list", asset_types=(BQ_DATASET,),
                    projectId=scope.project, all=True)

    def one(item: dict[str, Any]) -> Asset:
        ref = item.get("datasetReference") or {}
        dataset = str(ref.get("datasetId"))
        full = get(scope, lambda: _datasets(scope).get(projectId=scope.project,
                                                       datasetId=dataset),
                   service=SERVICE, operation="datasets.get",
                   asset_types=(f"{BQ_DATASET}#details",),
                   region=str(item.get("location") or "global").lower(),
                   resource_uid=uid(scope.project, dataset))
        return normalize_dataset(scope, item, full)

    return parallel_map(one, found.found)


def member_of(entry: Mapping[str, Any]) -> str:
    for key, prefix in _KINDS:
        if entry.get(key):
            return f"{prefix}{entry[key]}"
    for key in ("view", "routine"):
        if entry.get(key):
            ref = entry[key]
            name = ref.get("tableId") or ref.get("routineId")
            return f"{key}:{ref.get('projectId')}.{ref.get('datasetId')}.{name}"
    if entry.get("dataset"):
        ref = (entry["dataset"].get("dataset") or {})
        return f"dataset:{ref.get('projectId')}.{ref.get('datasetId')}"
    return "unknown"


def access_entries(dataset: Mapping[str, Any]) -> list[dict[str, Any]]:
    return sorted(({"role": e.get("role"), "member": member_of(e),
                    "condition": (e.get("condition") or {}).get("expression")}
                   for e in dataset.get("access") or ()),
                  key=lambda e: (str(e["role"]), e["member"]))


def normalize_dataset(scope: ProjectScope, item: Mapping[str, Any],
                      full: Mapping[str, Any] | None) -> Asset:
    """``access`` and ``cmek`` are null when ``datasets.get`` failed."""
    ref = item.get("datasetReference") or {}
    dataset = str(ref.get("datasetId"))
    source = full if full is not None else item
    key = ((full or {}).get("defaultEncryptionConfiguration") or {}).get("kmsKeyName") or None
    attrs = {
        "dataset_id": dataset,
        "location": source.get("location"),
        "access": None if full is None else access_entries(full),
        "default_kms_key": key,
        "cmek": None if full is None else bool(key),
        "default_table_expiration_ms": source.get("defaultTableExpirationMs"),
        "creation_time": source.get("creationTime"),
        "details_read": full is not None,
    }
    return scope.asset(uid(scope.project, dataset), BQ_DATASET, dataset, attrs, source,
                       region=str(source.get("location") or "global").lower(),
                       tags=source.get("labels") or {})
