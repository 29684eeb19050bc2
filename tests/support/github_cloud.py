"""Cloud snapshots holding identities that GitHub Actions can obtain (an IAM role trusting the
GitHub OIDC provider, an Azure identity with federated credentials, a GCP workload identity
pool granting a service account), for the CI-to-cloud join tests; and running a GitHub check
with cloud snapshots audited beside it."""

from __future__ import annotations

from typing import Any

from posture.engine import RunOptions, run
from posture.model import Asset, Finding, Inventory

from .aws import ACCOUNT, asset
from .aws import inventory as aws_inventory
from .azure import OWNER, RG, az, role_assignment
from .azure import inventory as azure_inventory
from .checks import catalogue
from .gcp import binding, gasset, ginventory, project
from .iam import ARN, allow, doc, role
from .identity import oidc_provider

ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"{ARN}:oidc-provider/{ISSUER}"
AZURE_PRINCIPAL = "c1d00000-0000-0000-0000-000000000001"
POOL = "projects/123/locations/global/workloadIdentityPools/github"


def run_joined(check_id: str, github: Inventory, *clouds: Inventory,
               **params: Any) -> list[Finding]:
    """The findings of a GitHub check with ``clouds`` audited beside ``github``."""
    options = RunOptions(params={check_id: params} if params else {}, raise_errors=True,
                         companions=clouds)
    return list(run(catalogue(), github, [check_id], options))


def sub(op: str, value: Any) -> dict[str, Any]:
    return {op: {f"{ISSUER}:sub": value, f"{ISSUER}:aud": "sts.amazonaws.com"}}


def github_role(name: str, condition: dict[str, Any] | None, *statements: dict[str, Any]) -> Asset:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Federated": PROVIDER},
                            "Action": "sts:AssumeRoleWithWebIdentity"}
    if condition is not None:
        stmt["Condition"] = condition
    return role(name, doc(stmt), *(statements or (allow("s3:GetObject", "arn:aws:s3:::b/*"),)))


ADMIN = allow("*")


def aws_account(*roles: Asset, production: bool | None = True, **kwargs: Any) -> Inventory:
    """An AWS snapshot with the GitHub OIDC provider, ``roles`` and a VPC tagged production
    (or non-production; None: no VPC, environment unknown)."""
    extra = []
    if production is not None:
        extra.append(asset("AWS::EC2::VPC", f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/vpc-1",
                           tags={"Environment": "production" if production else "dev"}))
    return aws_inventory(*roles, oidc_provider(ISSUER), *extra, **kwargs)


def azure_identity(*subjects: str, role: str = OWNER) -> Inventory:
    creds = [{"name": f"fic-{i}", "issuer": f"https://{ISSUER}", "subject": s,
              "audiences": ["api://AzureADTokenExchange"]} for i, s in enumerate(subjects)]
    identity = az("Microsoft.ManagedIdentity/userAssignedIdentities",
                  f"{RG}/providers/microsoft.managedidentity/userassignedidentities/id-ci",
                  identity_name="id-ci", principal_id=AZURE_PRINCIPAL, client_id="c",
                  tenant_id="t", federated_credentials=creds)
    return azure_inventory(identity, role_assignment("ra", role, principal=AZURE_PRINCIPAL))


def gcp_pool(condition: str | None, *, owner: bool = True, labels: dict[str, str] | None = None,
             members: tuple[str, ...] = (f"principalSet://iam.googleapis.com/{POOL}/*",),
             ) -> Inventory:
    """A GitHub workload identity provider with ``condition``, a service account granting the
    pool workloadIdentityUser, owner of the project when ``owner``."""
    provider = gasset("iam.googleapis.com/WorkloadIdentityPoolProvider",
                      f"//iam.googleapis.com/{POOL}/providers/gh", pool_name=POOL,
                      pool_disabled=False, disabled=False, issuer_uri=f"https://{ISSUER}",
                      allowed_audiences=[], attribute_condition=condition,
                      attribute_mapping={"google.subject": "assertion.sub",
                                         "attribute.repository": "assertion.repository"})
    sa = gasset("iam.googleapis.com/ServiceAccount",
                "//iam.googleapis.com/projects/acme-test/serviceAccounts/deployer@x",
                name="deployer@x", email="deployer@x",
                iam_bindings=[binding("roles/iam.workloadIdentityUser", *members)])
    grants = [binding("roles/owner", "serviceAccount:deployer@x")] if owner else []
    return ginventory(provider, sa, project(bindings=grants, labels=labels or {"env": "prod"}))
