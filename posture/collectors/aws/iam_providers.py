"""IAM identity providers (global; attrs as in ``docs/aws-assets.md``): SAML providers (a
workforce identity provider, or the ``AWSSSO_…`` provider IAM Identity Center creates in every
account it provisions) and OpenID Connect providers (workforce or workload federation: GitHub
Actions, EKS service accounts, …), with the client ids, thumbprints and issuer URL of each."""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, tag_map
from posture.model import GLOBAL, Asset

SAML_PROVIDER = "AWS::IAM::SAMLProvider"
OIDC_PROVIDER = "AWS::IAM::OIDCProvider"
SSO_PREFIX = "AWSSSO_"  # the SAML provider IAM Identity Center manages in each account

PERMISSIONS: tuple[str, ...] = (
    "iam:ListSAMLProviders",
    "iam:ListOpenIDConnectProviders",
    "iam:GetOpenIDConnectProvider",
)


def collect(scope: RegionScope) -> list[Asset]:
    saml = scope.paginate("iam", "ListSAMLProviders", "SAMLProviderList", (SAML_PROVIDER,))
    oidc = scope.paginate("iam", "ListOpenIDConnectProviders", "OpenIDConnectProviderList",
                          (OIDC_PROVIDER,))
    arns = sorted(str(p["Arn"]) for p in oidc or [])
    details = parallel_map(lambda arn: fetch_oidc(scope, arn), arns)
    out = [normalize_saml(scope, p) for p in sorted(saml or [], key=lambda p: str(p["Arn"]))]
    return out + [normalize_oidc(scope, d) for d in details]


def fetch_oidc(scope: RegionScope, arn: str) -> Payload:
    detail = scope.call("iam", "GetOpenIDConnectProvider", (f"{OIDC_PROVIDER}#detail",), arn,
                        OpenIDConnectProviderArn=arn)
    return {"arn": arn, "detail": detail}


def normalize_saml(scope: RegionScope, provider: Payload) -> Asset:
    arn = str(provider["Arn"])
    name = arn.rsplit("/", 1)[-1]
    attrs = {
        "arn": arn,
        "provider_name": name,
        "identity_center": name.startswith(SSO_PREFIX),
        "valid_until": provider.get("ValidUntil"),
        "create_date": provider.get("CreateDate"),
    }
    return scope.asset(arn, SAML_PROVIDER, name, attrs, raw=provider, region=GLOBAL)


def normalize_oidc(scope: RegionScope, payload: Payload) -> Asset:
    arn = str(payload["arn"])
    detail = payload["detail"]
    url = arn.split(":oidc-provider/", 1)[-1]
    attrs = {
        "arn": arn,
        "url": url,
        "client_ids": None if detail is None else sorted(detail.get("ClientIDList") or []),
        "thumbprints": None if detail is None else sorted(detail.get("ThumbprintList") or []),
        "create_date": None if detail is None else detail.get("CreateDate"),
    }
    tags = tag_map((detail or {}).get("Tags"))
    return scope.asset(arn, OIDC_PROVIDER, url, attrs, raw=detail or {}, tags=tags,
                       region=GLOBAL)
