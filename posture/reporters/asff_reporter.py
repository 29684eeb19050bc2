"""``findings.asff.json``: the AWS findings in the AWS Security Finding Format, for Security Hub.

One JSON array (keys sorted, indent 2, trailing newline) of ASFF ``2018-10-08`` findings, one per
AWS finding, in the engine's order: the documents ``--security-hub`` imports with
``BatchImportFindings`` (:mod:`posture.destinations.security_hub`), byte for byte.

Only AWS findings are written. Security Hub accepts a finding of the default (custom
integration) product only from the account it is about (``AwsAccountId`` must be the calling
AWS account), so an Azure subscription's or a GCP project's finding has no account to be
imported into; pinning it on some AWS account would misplace it. The other formats carry them.

Mapping (posture → ASFF):

=================  ========================================================================
identity           ``Id``: the OCSF finding uid (:func:`~posture.reporters.ocsf_reporter.
                   finding_uid`: check id, resource uid, account; stable across scans, so a
                   re-import updates the finding); ``ProductArn``: the account's custom
                   integration ``arn:aws:securityhub:<home>:<account>:product/<account>/
                   default``; ``GeneratorId``: the check id
home region        :func:`home_region`: ``us-east-1`` when scanned (or nothing but global
                   resources was), else the first scanned region: one Security Hub region per
                   run, whatever the resource's region (``Resources[].Region``)
status             ``Compliance.Status``: PASS PASSED · FAIL and EXCEPTED FAILED ·
                   INCONCLUSIVE WARNING · ERROR NOT_AVAILABLE; ``Workflow.Status`` (read by
                   Security Hub only when it creates the finding): PASS RESOLVED · EXCEPTED
                   SUPPRESSED (an accepted risk) · else NEW; ``RecordState`` ACTIVE
severity           ``Severity.Label`` the check's severity (INFORMATIONAL for a PASS, as
                   Security Hub's own controls do), ``Original`` the posture name; repeated in
                   ``FindingProviderFields``, the fields a provider may update later
check              ``Title``, ``Description`` (the message), ``Remediation.Recommendation.Text``,
                   ``Types``: ``Software and Configuration Checks/Industry and Regulatory
                   Standards/<framework>`` per mapped framework, ``Compliance.
                   RelatedRequirements``: ``FRAMEWORK:CONTROL`` (at most 32)
resource           ``Resources[0]``: ``Id`` the resource uid, ``Type`` the ASFF type of its
                   AWS type (:data:`RESOURCE_TYPES`; ``AwsAccount`` for account settings,
                   else ``Other``), ``Region`` (none for a global resource), ``Details.Other``:
                   the provider's type name and the resource's name
time               ``CreatedAt`` = ``UpdatedAt`` = ``LastObservedAt``: the snapshot's
                   collection time, never the wall clock
provenance         ``ProductFields``: ``ProviderName`` posture, ``ProviderVersion``, the check
                   id, posture status and severity, region, scan id and snapshot SHA-256
=================  ========================================================================

Evidence is not copied (Security Hub caps a finding at 240 KB); ``findings.json`` holds it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from posture.errors import ReportError
from posture.model import GLOBAL, Finding, Provider, ScanMeta, Severity, Status
from posture.reporters.base import OutputFormat, Report, collected_at
from posture.reporters.ocsf_reporter import dumps, finding_uid

SCHEMA_VERSION = "2018-10-08"
PROVIDER_NAME = "posture"  # ProductFields.ProviderName: how --security-hub finds its own
ID_PREFIX = "posture-"  # every Id starts so (finding_uid)
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX, REQUIREMENTS_MAX = 256, 1024, 512, 32

COMPLIANCE: dict[Status, str] = {
    Status.PASS: "PASSED",
    Status.FAIL: "FAILED",
    Status.EXCEPTED: "FAILED",
    Status.INCONCLUSIVE: "WARNING",
    Status.ERROR: "NOT_AVAILABLE",
}
WORKFLOW: dict[Status, str] = {Status.PASS: "RESOLVED", Status.EXCEPTED: "SUPPRESSED"}
LABEL: dict[Severity, str] = {
    Severity.INFO: "INFORMATIONAL",
    Severity.LOW: "LOW",
    Severity.MEDIUM: "MEDIUM",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}
# the provider's type name → the ASFF resource type (the ones ASFF defines; others are Other)
RESOURCE_TYPES: dict[str, str] = {
    "AWS::ApiGateway::RestApi": "AwsApiGatewayRestApi",
    "AWS::ApiGateway::Stage": "AwsApiGatewayStage",
    "AWS::ApiGatewayV2::Api": "AwsApiGatewayV2Api",
    "AWS::ApiGatewayV2::Stage": "AwsApiGatewayV2Stage",
    "AWS::CertificateManager::Certificate": "AwsCertificateManagerCertificate",
    "AWS::CloudFront::Distribution": "AwsCloudFrontDistribution",
    "AWS::CloudTrail::Trail": "AwsCloudTrailTrail",
    "AWS::DynamoDB::Table": "AwsDynamoDbTable",
    "AWS::EC2::Instance": "AwsEc2Instance",
    "AWS::EC2::NetworkAcl": "AwsEc2NetworkAcl",
    "AWS::EC2::NetworkInterface": "AwsEc2NetworkInterface",
    "AWS::EC2::RouteTable": "AwsEc2RouteTable",
    "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
    "AWS::EC2::Volume": "AwsEc2Volume",
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::VPCPeeringConnection": "AwsEc2VpcPeeringConnection",
    "AWS::ECR::Repository": "AwsEcrRepository",
    "AWS::ECS::TaskDefinition": "AwsEcsTaskDefinition",
    "AWS::EKS::Cluster": "AwsEksCluster",
    "AWS::ElastiCache::CacheCluster": "AwsElastiCacheCacheCluster",
    "AWS::ElastiCache::ReplicationGroup": "AwsElastiCacheReplicationGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "AwsElbv2LoadBalancer",
    "AWS::IAM::Group": "AwsIamGroup",
    "AWS::IAM::ManagedPolicy": "AwsIamPolicy",
    "AWS::IAM::Policy": "AwsIamPolicy",
    "AWS::IAM::Role": "AwsIamRole",
    "AWS::IAM::User": "AwsIamUser",
    "AWS::KMS::Key": "AwsKmsKey",
    "AWS::Lambda::Function": "AwsLambdaFunction",
    "AWS::OpenSearchService::Domain": "AwsOpenSearchServiceDomain",
    "AWS::RDS::DBCluster": "AwsRdsDbCluster",
    "AWS::RDS::DBClusterSnapshot": "AwsRdsDbClusterSnapshot",
    "AWS::RDS::DBInstance": "AwsRdsDbInstance",
    "AWS::RDS::DBSnapshot": "AwsRdsDbSnapshot",
    "AWS::Redshift::Cluster": "AwsRedshiftCluster",
    "AWS::S3::AccountPublicAccessBlock": "AwsS3AccountPublicAccessBlock",
    "AWS::S3::Bucket": "AwsS3Bucket",
    "AWS::SNS::Topic": "AwsSnsTopic",
    "AWS::SQS::Queue": "AwsSqsQueue",
    "AWS::SecretsManager::Secret": "AwsSecretsManagerSecret",
}
# settings of the account itself: Security Hub's own account-level controls use AwsAccount
ACCOUNT_TYPES = frozenset({
    "posture::Account", "AWS::IAM::AccountSummary", "AWS::IAM::CredentialReport",
    "AWS::IAM::PasswordPolicy", "AWS::IAM::RootUser", "AWS::EC2::EbsEncryptionByDefault",
    "AWS::Inspector2::AccountStatus",
})
_ACCOUNT_ID = re.compile(r"\d{12}")


def home_region(meta: ScanMeta) -> str:
    """The Security Hub region of a run: ``us-east-1`` if it was scanned (or no region but
    global was), else the first scanned region in name order."""
    regions = sorted(r for r in meta.regions if r != GLOBAL)
    if not regions or "us-east-1" in regions:
        return "us-east-1"
    return regions[0]


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def product_arn(region: str, account: str) -> str:
    """The ARN of an account's custom integration (the default product) in ``region``."""
    return f"arn:{partition(region)}:securityhub:{region}:{account}:product/{account}/default"


def importable(f: Finding) -> bool:
    """An AWS finding of an AWS account: the findings ASFF carries."""
    return f.provider is Provider.AWS and bool(_ACCOUNT_ID.fullmatch(f.account))


def timestamp(when: dt.datetime) -> str:
    """``2026-01-01T00:02:30.000Z``: ASFF's ISO 8601 form, in UTC."""
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _clip(text: str, limit: int) -> str:
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _resource(f: Finding) -> dict[str, Any]:
    kind = "AwsAccount" if f.resource_type in ACCOUNT_TYPES else \
        RESOURCE_TYPES.get(f.resource_type, "Other")
    other = {"posture/resource_type": _clip(f.resource_type, 1024)}
    if f.resource_name:
        other["posture/resource_name"] = _clip(f.resource_name, 1024)
    resource: dict[str, Any] = {"Type": kind, "Id": f.resource_uid, "Partition": "aws",
                                "Details": {"Other": other}}
    if f.region and f.region != GLOBAL:
        resource["Region"] = f.region
        resource["Partition"] = partition(f.region)
    return resource


def _types(f: Finding) -> list[str]:
    if not f.controls:
        return ["Software and Configuration Checks/AWS Security Best Practices"]
    return [f"Software and Configuration Checks/Industry and Regulatory Standards/{fw}"
            for fw in sorted(f.controls)]


def _severity(f: Finding) -> dict[str, str]:
    label = "INFORMATIONAL" if f.status is Status.PASS else LABEL[f.severity]
    return {"Label": label, "Original": f.severity.label}


def document(f: Finding, meta: ScanMeta, sha256: str | None, uid: str, home: str,
             when: str) -> dict[str, Any]:
    """The ASFF finding of one AWS finding, observed at ``when`` (an ASFF timestamp)."""
    requirements = [f"{fw}:{c}" for fw in sorted(f.controls) for c in f.controls[fw]]
    fields = {
        "ProviderName": PROVIDER_NAME,
        "ProviderVersion": meta.tool_version,
        "posture/check_id": f.check_id,
        "posture/status": f.status.value,
        "posture/severity": f.severity.label,
        "posture/region": f.region,
        "posture/scan_id": meta.scan_id,
    }
    if sha256:
        fields["posture/snapshot_sha256"] = sha256
    doc: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": uid,
        "ProductArn": product_arn(home, f.account),
        "GeneratorId": f.check_id,
        "AwsAccountId": f.account,
        "Types": _types(f),
        "CreatedAt": when,
        "UpdatedAt": when,
        "LastObservedAt": when,
        "Severity": _severity(f),
        "Title": _clip(f.title or f.check_id, TITLE_MAX),
        "Description": _clip(f.message, DESCRIPTION_MAX),
        "Resources": [_resource(f)],
        "Compliance": {"Status": COMPLIANCE[f.status]},
        "Workflow": {"Status": WORKFLOW.get(f.status, "NEW")},
        "RecordState": "ACTIVE",
        "ProductFields": fields,
        "FindingProviderFields": {"Severity": _severity(f), "Types": _types(f)},
    }
    if requirements:
        doc["Compliance"]["RelatedRequirements"] = requirements[:REQUIREMENTS_MAX]
    if f.remediation:
        doc["Remediation"] = {"Recommendation": {"Text": _clip(f.remediation,
                                                               RECOMMENDATION_MAX)}}
    return doc


def documents(report: Report) -> list[dict[str, Any]]:
    """One ASFF finding per AWS finding (:func:`importable`), in the report's order; the
    ``Id`` of the n-th finding of one check on one resource is the OCSF event's uid."""
    chosen = [f for f in report.findings if importable(f)]
    if not chosen:
        return []
    meta = report.inventory_meta
    stamp = collected_at(report)
    if stamp is None:
        raise ReportError(f"cannot write ASFF findings: scan {meta.scan_id} has no valid "
                          f"collection time (finished_at {meta.finished_at!r})")
    when = timestamp(stamp)
    home = home_region(meta)
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in report.findings:  # repeats are counted as the OCSF reporter counts them
        key = (f.check_id, f.resource_uid, f.account)
        if importable(f):
            uid = finding_uid(*key, repeat=seen[key])
            out.append(document(f, meta, report.snapshot_sha256, uid, home, when))
        seen[key] += 1
    return out


class AsffReporter:
    format = OutputFormat.ASFF
    filename = "findings.asff.json"

    def render(self, report: Report) -> bytes:
        return dumps(documents(report))
