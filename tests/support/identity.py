"""Builders for the identity assets of IAM Identity Center, identity providers and the
credential report (attrs as in docs/aws-assets.md), for the aws.identity check tests."""

from __future__ import annotations

from typing import Any

from posture.model import Asset

from .aws import ACCOUNT, asset
from .iam import ARN

INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
ROOT_ARN = f"{ARN}:root"


def sso_instance() -> Asset:
    return asset("AWS::SSO::Instance", INSTANCE_ARN, region="global", arn=INSTANCE_ARN,
                 identity_store_id="d-0123456789", owner_account_id=ACCOUNT, status="ACTIVE",
                 home_region="us-east-1")


def saml_provider(name: str = "okta") -> Asset:
    uid = f"{ARN}:saml-provider/{name}"
    return asset("AWS::IAM::SAMLProvider", uid, region="global", arn=uid, provider_name=name,
                 identity_center=name.startswith("AWSSSO_"), valid_until=None, create_date=None)


def oidc_provider(url: str) -> Asset:
    uid = f"{ARN}:oidc-provider/{url}"
    return asset("AWS::IAM::OIDCProvider", uid, name=url, region="global", arn=uid, url=url,
                 client_ids=["sts.amazonaws.com"], thumbprints=[], create_date=None)


def assignment(name: str, kind: str = "GROUP", account: str = ACCOUNT) -> dict[str, Any]:
    return {"account_id": account, "principal_type": kind, "principal_id": f"id-{name}",
            "principal_name": name}


def permission_set(
    name: str,
    inline: dict[str, Any] | None = None,
    *,
    managed: tuple[str, ...] = (),
    customer: tuple[str, ...] = (),
    session: str | None = "PT1H",
    seconds: int | None = 3600,
    assignments: list[dict[str, Any]] | None = None,
    boundary_present: bool | None = False,
) -> Asset:
    uid = f"{INSTANCE_ARN}/ps-{name.lower()}"
    return asset("AWS::SSO::PermissionSet", uid, name=name, region="global", arn=uid,
                 permission_set_name=name, instance_arn=INSTANCE_ARN, session_duration=session,
                 session_seconds=seconds, aws_managed_policy_arns=list(managed),
                 customer_managed_policies=[{"name": c, "path": "/"} for c in customer],
                 inline_policy=inline, inline_policy_present=inline is not None,
                 permissions_boundary=None, permissions_boundary_present=boundary_present,
                 provisioned_account_ids=[ACCOUNT],
                 assignments=[] if assignments is None else assignments)


def root_user(
    *,
    in_report: bool | None = True,
    password_last_used: str | None = None,
    mfa_active: bool | None = True,
    virtual: tuple[str, ...] | list[str] | None = (),
    keys: list[dict[str, Any]] | None = None,
) -> Asset:
    return asset("AWS::IAM::RootUser", ROOT_ARN, name="root", region="global", arn=ROOT_ARN,
                 in_report=in_report, password_last_used=password_last_used,
                 mfa_active=mfa_active, mfa_type=None,
                 virtual_mfa_serials=None if virtual is None else list(virtual),
                 access_keys=keys or [])
