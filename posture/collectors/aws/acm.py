"""ACM certificates of one region with their validity and use (attrs as in
``docs/aws-assets.md``)."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, pick
from posture.model import Asset

CERTIFICATE = "AWS::CertificateManager::Certificate"

PERMISSIONS: tuple[str, ...] = ("acm:ListCertificates", "acm:DescribeCertificate")


def collect(scope: RegionScope) -> list[Asset]:
    # without Includes, ListCertificates leaves out RSA > 2048 and EC keys
    listed = scope.paginate(
        "acm",
        "ListCertificates",
        "CertificateSummaryList",
        (CERTIFICATE,),
        Includes={
            "keyTypes": [
                "RSA_1024",
                "RSA_2048",
                "RSA_3072",
                "RSA_4096",
                "EC_prime256v1",
                "EC_secp384r1",
                "EC_secp521r1",
            ]
        },
    )
    ordered = sorted(listed or [], key=lambda c: str(c["CertificateArn"]))
    details = parallel_map(lambda c: fetch_certificate(scope, str(c["CertificateArn"])), ordered)
    return [normalize_certificate(scope, s, d) for s, d in zip(ordered, details, strict=True)]


def fetch_certificate(scope: RegionScope, arn: str) -> Payload | None:
    resp = scope.call(
        "acm", "DescribeCertificate", (f"{CERTIFICATE}#details",), arn, CertificateArn=arn
    )
    return None if resp is None else dict(resp.get("Certificate") or {})


def normalize_certificate(scope: RegionScope, summary: Payload, detail: Payload | None) -> Asset:
    """The summary has the validity dates too; ``detail`` (null if DescribeCertificate failed)
    adds who uses the certificate."""
    cert = {**summary, **(detail or {})}
    arn = str(cert["CertificateArn"])
    attrs = {
        "arn": arn,
        **pick(cert, domain_name="DomainName", status="Status", type="Type",
               not_before="NotBefore", not_after="NotAfter"),
        "in_use_by": None if detail is None else sorted(cert.get("InUseBy") or []),
        "in_use": cert.get("InUse") if detail is None else bool(cert.get("InUseBy")),
        "renewal_eligibility": cert.get("RenewalEligibility"),
    }
    return scope.asset(arn, CERTIFICATE, str(cert.get("DomainName") or arn), attrs, raw=cert)
