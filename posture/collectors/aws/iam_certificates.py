"""IAM server certificates (global; attrs as in ``docs/aws-assets.md``). Only their metadata is
read: the certificate body and chain are not."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, pick
from posture.model import GLOBAL, Asset

SERVER_CERTIFICATE = "AWS::IAM::ServerCertificate"

PERMISSIONS: tuple[str, ...] = ("iam:ListServerCertificates",)


def collect(scope: RegionScope) -> list[Asset]:
    certs = scope.paginate(
        "iam", "ListServerCertificates", "ServerCertificateMetadataList", (SERVER_CERTIFICATE,)
    )
    return [normalize_server_certificate(scope, c) for c in certs or []]


def normalize_server_certificate(scope: RegionScope, cert: Payload) -> Asset:
    arn = str(cert["Arn"])
    attrs = {
        "arn": arn,
        **pick(cert, certificate_name="ServerCertificateName",
               certificate_id="ServerCertificateId", path="Path", upload_date="UploadDate",
               not_after="Expiration"),
    }
    name = str(cert.get("ServerCertificateName") or arn)
    return scope.asset(arn, SERVER_CERTIFICATE, name, attrs, raw=cert, region=GLOBAL)
