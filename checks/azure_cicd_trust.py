"""CI-to-cloud trust on Azure: user-assigned managed identities whose federated identity
credentials trust GitHub Actions, judged by who on GitHub the credentials' subjects admit
(posture.iam.oidc_trust; Azure compares the subject exactly) and what the identity's active role
assignments give it (posture.iam.azure)."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.iam.azure import RbacIndex
from posture.iam.azure_roles import Power
from posture.iam.ci_trust import AZURE_IDENTITY as IDENTITY
from posture.iam.ci_trust import (
    AZURE_NO_POWER,
    AZURE_POWER_WORDS,
    READS,
    azure_github_credentials,
    azure_power,
)
from posture.iam.conditions import Truth
from posture.iam.oidc_trust import Breadth, breadth_of
from posture.model import Principle, Provider, Severity
from posture.registry import check


@check(
    "azure.cicd.github_federated_credential_restricted", Severity.CRITICAL,
    (Principle.LEAST_PRIVILEGE, Principle.SEGREGATION),
    reads=READS[Provider.AZURE],
)
def github_federated_credential_restricted(ctx: CheckContext) -> Iterator[Result]:
    """GitHub Actions federation of managed identities admits one environment or branch only

    A federated identity credential with issuer `https://token.actions.githubusercontent.com`
    hands the identity's token to any workflow whose `sub` claim equals the credential's subject.
    Azure compares exactly, so breadth comes from what the subject names: a repository's
    `pull_request` subject admits forks' pull requests (HIGH); a custom claim pinning only a
    reusable workflow (`job_workflow_ref`) admits any repository calling it; one repository's
    `environment:production` or branch passes, named. Severity rises to CRITICAL when the
    identity's active role assignments give it Owner power (held or self-assignable).

    Remediation: Use the subject `repo:OWNER/REPO:environment:production` (an environment with
    required reviewers) or a protected branch; never `pull_request`.
    """
    rbac = ctx.derived("azure.iam.rbac_index", RbacIndex)
    for identity in ctx.inventory.of(IDENTITY):
        if identity.attr("federated_credentials") is None:
            yield ctx.unknown(identity, "federated identity credentials not read")
            continue
        creds = azure_github_credentials(identity)
        if not creds:
            continue
        adm = breadth_of({str(c.get("subject") or ""): Truth.TRUE for c in creds})
        power, grants = azure_power(rbac, identity.attr("principal_id"))
        can = AZURE_POWER_WORDS.get(power, AZURE_NO_POWER)
        evidence = {**adm.evidence(), "credentials": creds, "role_assignments": grants}
        if adm.breadth == Breadth.ANY_REPOSITORY:
            yield ctx.fail_at(Severity.CRITICAL, identity, f"{adm.who} can obtain this identity "
                              f"through GitHub Actions; the identity {can}", **evidence)
        elif adm.breadth >= Breadth.PATTERN:
            severity = Severity.CRITICAL if power >= Power.ASSIGN else Severity.HIGH
            yield ctx.fail_at(severity, identity, f"{adm.who} can obtain this identity through "
                              f"GitHub Actions; the identity {can}", **evidence)
        else:
            yield ctx.passed(identity, f"GitHub Actions federation admits {adm.who}; the "
                             f"identity {can}", **evidence)
