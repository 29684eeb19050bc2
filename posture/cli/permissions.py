"""``posture permissions aws|azure|gcp|github``: the read-only permissions the scanner itself
needs, in the form each cloud's own tooling takes (for GitHub: a fine-grained personal access
token's permissions and a GitHub App's ``default_permissions``).

``posture permissions aws --organization`` prints what an organisation scan needs: the
management account's policy, the member role's trust and read policies (JSON), or with
``--format cloudformation`` a template creating that role, for a StackSet. No AWS call is made.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer


class AwsPermissionsFormat(StrEnum):
    """What ``permissions aws`` prints: IAM policy JSON, or a CloudFormation template."""

    JSON = "json"
    CLOUDFORMATION = "cloudformation"


OrganizationOpt = Annotated[
    bool,
    typer.Option("--organization", help="Permissions for an organisation scan: the management "
                 "account's policy and the member role (trust + read policy)."),
]
RoleNameOpt = Annotated[
    str, typer.Option("--role-name", help="The member audit role (may carry a path).")
]
ExternalIdOpt = Annotated[
    str | None,
    typer.Option("--external-id", help="Require this sts:ExternalId in the member role's trust."),
]
TrustedPrincipalOpt = Annotated[
    str | None,
    typer.Option("--trusted-principal", help="Principal allowed to assume the member role "
                 "(default: the management account's root, as a placeholder)."),
]
AwsFormatOpt = Annotated[
    AwsPermissionsFormat,
    typer.Option("--format", "-f", case_sensitive=False,
                 help="json (IAM policies) or cloudformation (member role template for a "
                      "StackSet; needs --organization)."),
]


def permissions_aws(
    organization: OrganizationOpt = False,
    role_name: RoleNameOpt = "PostureAudit",
    external_id: ExternalIdOpt = None,
    trusted_principal: TrustedPrincipalOpt = None,
    output: AwsFormatOpt = AwsPermissionsFormat.JSON,
) -> None:
    """Print the scanner's own least-privilege, read-only IAM policy (JSON); with
    --organization, the policies (or the CloudFormation template) of an organisation scan."""
    from posture.collectors.aws.collector import policy_document

    if not organization:
        given = [name for name, value in (
            ("--external-id", external_id), ("--trusted-principal", trusted_principal),
            ("--role-name", None if role_name == "PostureAudit" else role_name),
            ("--format cloudformation",
             None if output is AwsPermissionsFormat.JSON else output),
        ) if value]
        if given:
            raise ValueError(f"{', '.join(given)} need --organization")
        document = policy_document()
    else:
        from posture.collectors.aws import org_permissions

        if output is AwsPermissionsFormat.CLOUDFORMATION:
            document = org_permissions.member_template(role_name, trusted_principal, external_id)
        else:
            document = org_permissions.organization_permissions(
                role_name, trusted_principal, external_id
            )
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


GraphOpt = Annotated[
    bool,
    typer.Option("--graph", help="Print the Microsoft Graph application permissions (Entra ID) "
                 "instead of the ARM custom role."),
]


def permissions_azure(graph: GraphOpt = False) -> None:
    """Print the scanner's minimal read-only custom role definition (JSON for
    `az role definition create --role-definition`); with --graph, the Microsoft Graph
    application permissions Entra ID is read with (the role's description names them too)."""
    from posture.collectors.azure.collector import graph_permissions, role_definition

    names = list(graph_permissions())
    if graph:
        document = {"resource": "Microsoft Graph", "resourceAppId":
                    "00000003-0000-0000-c000-000000000000", "type": "Application",
                    "permissions": names}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    sys.stdout.write(json.dumps(role_definition(), indent=2) + "\n")


def permissions_gcp() -> None:
    """Print the scanner's minimal custom role (YAML for `gcloud iam roles create --file`)."""
    from posture.collectors.gcp.collector import custom_role

    sys.stdout.write(custom_role())


def permissions_github() -> None:
    """Print the read-only permissions the GitHub scan needs (JSON): those of a fine-grained
    personal access token (repository and organisation permissions) and the equivalent
    GitHub App `default_permissions`."""
    from posture.collectors.github.collector import permissions_document

    sys.stdout.write(json.dumps(permissions_document(), indent=2) + "\n")
