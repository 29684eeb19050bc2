"""The demo account's CI-to-cloud trust (issue 17): GitHub Actions' OIDC provider and a deploy
role any repository of the organisation ``acme`` can assume, pull requests included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GITHUB = "token.actions.githubusercontent.com"


def github_actions(client: Callable[[str], Any], doc: Callable[..., str]) -> None:
    """An OIDC provider for GitHub Actions and a role trusting ``repo:acme/*``."""
    iam = client("iam")
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB}", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )["OpenIDConnectProviderArn"]
    trust = {"Effect": "Allow", "Principal": {"Federated": provider},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
                           "StringLike": {f"{GITHUB}:sub": "repo:acme/*"}}}
    iam.create_role(RoleName="github-deploy", AssumeRolePolicyDocument=doc(trust))
    iam.put_role_policy(RoleName="github-deploy", PolicyName="deploy-artifacts",
                        PolicyDocument=doc({"Effect": "Allow",
                                            "Action": ["s3:PutObject", "s3:GetObject"],
                                            "Resource": "arn:aws:s3:::acme-artifacts/*"}))
