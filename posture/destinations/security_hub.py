"""``--security-hub``: import a run's AWS findings into AWS Security Hub, and archive the ones
the run no longer produces.

What it guarantees:

- the documents imported are those of ``findings.asff.json``
  (:func:`posture.reporters.asff_reporter.documents`), so a finding keeps its ``Id`` from
  scan to scan and a re-import *updates* it (Security Hub keys a finding by ``ProductArn`` and
  ``Id``);
- only the calling account's findings are imported (``BatchImportFindings`` with the default
  product accepts nothing else), into the run's home region
  (:func:`~posture.reporters.asff_reporter.home_region`), 100 to a call;
- a finding Security Hub refuses, or a batch whose call fails, is named in
  :attr:`Imported.failed` and the other batches still go; nothing is dropped silently;
- before importing, the ACTIVE findings posture imported earlier into that product are read
  (``GetFindings``: ``ProductArn``, ``AwsAccountId``, ``RecordState`` ACTIVE, an ``Id``
  prefix ``posture-`` and ``ProductFields.ProviderName`` posture); those of the checks and
  regions this run covered that it did not produce again are re-imported with ``RecordState``
  ARCHIVED (a provider archives its own findings with ``BatchImportFindings``;
  ``BatchUpdateFindings`` is the customer's and cannot change ``RecordState``). A run of some
  checks or regions never archives the findings of the others;
- Security Hub not enabled in that account and region, refused access or missing credentials
  are a :class:`~posture.destinations.DestinationError` naming what to do.

Permissions: ``securityhub:DescribeHub``, ``securityhub:GetFindings``,
``securityhub:BatchImportFindings`` and ``sts:GetCallerIdentity`` (:data:`PERMISSIONS`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from posture.destinations import DestinationError
from posture.model import GLOBAL
from posture.reporters.asff_reporter import (
    ID_PREFIX,
    PROVIDER_NAME,
    home_region,
    importable,
    product_arn,
    timestamp,
)
from posture.reporters.asff_reporter import documents as asff_documents
from posture.reporters.base import Report, collected_at

BATCH = 100  # BatchImportFindings takes at most 100 findings a call
PERMISSIONS = (
    "securityhub:BatchImportFindings",
    "securityhub:DescribeHub",
    "securityhub:GetFindings",
    "sts:GetCallerIdentity",
)
# the fields a provider sends; what Security Hub adds on its own (ProcessedAt, Region,
# CompanyName, ProductName, Workflow changes of the customer...) is not sent back
_SENT = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types",
         "CreatedAt", "UpdatedAt", "LastObservedAt", "Severity", "Title", "Description",
         "Resources", "Compliance", "Remediation", "ProductFields", "FindingProviderFields")
NOT_ENABLED = frozenset({"InvalidAccessException", "InvalidAccess"})


@dataclass(frozen=True, slots=True)
class Failed:
    """A finding Security Hub did not take: its id, the error code and message."""

    id: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Imported:
    """What one ``--security-hub`` run did."""

    region: str
    account: str
    imported: int  # active findings imported (created or updated)
    archived: int  # earlier findings archived
    failed: tuple[Failed, ...] = ()
    skipped: int = 0  # findings not importable here: other accounts, other providers
    archive_error: str = ""  # the earlier findings could not be read: none archived


@dataclass(frozen=True, slots=True)
class Target:
    """Where to import: an AWS profile and endpoint (``None``: boto3's own configuration,
    ``AWS_PROFILE``, ``AWS_ENDPOINT_URL``); the region is the run's home region."""

    profile: str | None = None
    endpoint_url: str | None = None


def batches(items: Sequence[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def finding_filters(arn: str, account: str) -> dict[str, Any]:
    """The ``GetFindings`` filters of posture's active findings in one product and account."""
    return {
        "ProductArn": [{"Value": arn, "Comparison": "EQUALS"}],
        "AwsAccountId": [{"Value": account, "Comparison": "EQUALS"}],
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        "Id": [{"Value": ID_PREFIX, "Comparison": "PREFIX"}],
        "ProductFields": [{"Key": "ProviderName", "Value": PROVIDER_NAME,
                           "Comparison": "EQUALS"}],
    }


def _ours(doc: dict[str, Any], arn: str, account: str) -> bool:
    """The filters of :func:`finding_filters`, checked again on each finding returned."""
    fields = doc.get("ProductFields") or {}
    return (doc.get("ProductArn") == arn and doc.get("AwsAccountId") == account
            and doc.get("RecordState") == "ACTIVE" and str(doc.get("Id", "")).startswith(ID_PREFIX)
            and fields.get("ProviderName") == PROVIDER_NAME)


def stale(
    earlier: Iterable[dict[str, Any]],
    produced: Collection[str],
    checks: Collection[str],
    regions: Collection[str],
) -> list[dict[str, Any]]:
    """The earlier findings to archive: of a check that ran (``GeneratorId``) and a region that
    was scanned (``ProductFields["posture/region"]``, global always), not ``produced`` again."""
    covered = set(regions) | {GLOBAL}
    out = []
    for doc in earlier:
        region = (doc.get("ProductFields") or {}).get("posture/region")
        if (doc.get("Id") not in produced and doc.get("GeneratorId") in checks
                and region in covered):
            out.append(doc)
    return sorted(out, key=lambda d: str(d.get("Id")))


def archived(doc: dict[str, Any], when: str) -> dict[str, Any]:
    """An earlier finding as its provider archives it: the fields it sent, ``RecordState``
    ARCHIVED, updated ``when`` (this run's collection time)."""
    sent = {k: doc[k] for k in _SENT if k in doc}
    fields = {k: v for k, v in (sent.get("ProductFields") or {}).items()
              if not k.startswith("aws/")}  # Security Hub's own keys
    return {**sent, "ProductFields": fields, "UpdatedAt": when, "RecordState": "ARCHIVED"}


def _error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code", "ClientError")), str(err.get("Message", exc))
    return type(exc).__name__, str(exc)


def ensure_enabled(client: Any, account: str, region: str) -> None:
    """``DescribeHub``: a clear error when Security Hub is not enabled or not readable."""
    try:
        client.describe_hub()
    except (ClientError, BotoCoreError) as exc:
        code, message = _error(exc)
        if code in NOT_ENABLED:
            raise DestinationError(
                f"Security Hub is not enabled in account {account}, region {region} "
                f"({message}): enable it (aws securityhub enable-security-hub --region "
                f"{region}) or leave out --security-hub; the reports are written") from None
        raise DestinationError(f"Security Hub in {region}: DescribeHub failed: {code}: "
                               f"{message}; the reports are written") from None


def import_findings(client: Any, docs: Sequence[dict[str, Any]]) -> tuple[int, list[Failed]]:
    """``BatchImportFindings`` in batches; (findings taken, findings refused)."""
    taken, failed = 0, []
    for batch in batches(docs):
        try:
            answer = client.batch_import_findings(Findings=batch)
        except (ClientError, BotoCoreError) as exc:
            code, message = _error(exc)
            failed += [Failed(str(d["Id"]), code, message) for d in batch]
            continue
        taken += int(answer.get("SuccessCount", 0))
        failed += [Failed(str(f.get("Id", "")), str(f.get("ErrorCode", "")),
                          str(f.get("ErrorMessage", "")))
                   for f in answer.get("FailedFindings", [])]
    return taken, failed


def earlier_findings(client: Any, arn: str, account: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("get_findings").paginate(
        Filters=finding_filters(arn, account), PaginationConfig={"PageSize": 100})
    return [doc for page in pages for doc in page.get("Findings", []) if _ours(doc, arn, account)]


def publish(
    client: Any,
    docs: Sequence[dict[str, Any]],
    *,
    account: str,
    region: str,
    checks: Collection[str],
    regions: Collection[str],
    when: str,
) -> Imported:
    """Import ``docs`` (the calling ``account``'s, in ``region``) and archive the stale earlier
    findings of the ``checks`` and ``regions`` this run covered."""
    ensure_enabled(client, account, region)
    arn = product_arn(region, account)
    archive_error, earlier = "", []
    try:
        earlier = earlier_findings(client, arn, account)
    except (ClientError, BotoCoreError) as exc:
        code, message = _error(exc)
        archive_error = f"GetFindings failed: {code}: {message}"
    taken, failed = import_findings(client, docs)
    old = stale(earlier, {str(d["Id"]) for d in docs}, checks, regions) if when else []
    gone, refused = import_findings(client, [archived(d, when) for d in old])
    return Imported(region, account, taken, gone, tuple(failed + refused),
                    archive_error=archive_error)


def export(report: Report, checks: Collection[str], target: Target = Target()) -> Imported:
    """Import the AWS findings of ``report`` (a run of ``checks``) into Security Hub."""
    from posture.collectors.aws.base import ClientFactory
    from posture.collectors.aws.collector import AwsTarget, make_session

    meta = report.inventory_meta
    region = home_region(meta)
    docs = asff_documents(report)
    factory = ClientFactory(make_session(AwsTarget(profile=target.profile)),
                            endpoint_url=target.endpoint_url)
    try:
        account = str(factory.client("sts", region).get_caller_identity()["Account"])
    except NoCredentialsError:
        raise DestinationError("--security-hub: no AWS credentials found (set AWS_PROFILE or "
                               "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); the reports are "
                               "written") from None
    except (ClientError, BotoCoreError) as exc:
        code, message = _error(exc)
        raise DestinationError(f"--security-hub: cannot identify the AWS account: {code}: "
                               f"{message}; the reports are written") from None
    mine = [d for d in docs if d["AwsAccountId"] == account]
    skipped = sum(1 for f in report.findings if not importable(f)) + len(docs) - len(mine)
    stamp = collected_at(report)
    when = timestamp(stamp) if stamp is not None else ""  # none: nothing is archived
    result = publish(factory.client("securityhub", region), mine, account=account,
                     region=region, checks=checks,
                     regions=[r for r in meta.regions if r != GLOBAL], when=when)
    return Imported(result.region, result.account, result.imported, result.archived,
                    result.failed, skipped, result.archive_error)
