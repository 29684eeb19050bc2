"""github.org.*: two-factor authentication (INCONCLUSIVE without an owner's token), workflow
token permissions and pull request approvals on the organisation and each repository, allowed
actions."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import by_uid, only, run_one
from support.github import inventory, org, repo

from posture.model import Status


@pytest.mark.parametrize(("flag", "status"), [
    (True, Status.PASS), (False, Status.FAIL), (None, Status.INCONCLUSIVE)])
def test_two_factor(flag: bool | None, status: Status) -> None:
    f = only(run_one("github.org.two_factor_required",
                     inventory(org(two_factor_requirement_enabled=flag))))
    assert f.status == status
    if flag is None:
        assert "owner's token" in f.message


def test_workflow_token_judged_on_organisation_and_repositories() -> None:
    inv = inventory(org(default_workflow_permissions="write"), repo(),
                    repo("loose", default_workflow_permissions="write"),
                    repo("unread", default_workflow_permissions=None))
    found = {uid.rsplit("/", 1)[-1]: f.status
             for uid, f in by_uid(run_one("github.org.workflow_token_read_only", inv)).items()}
    assert found == {"acme": Status.FAIL, "app": Status.PASS, "loose": Status.FAIL,
                     "unread": Status.INCONCLUSIVE}


@pytest.mark.parametrize(("attrs", "status"), [
    ({}, Status.PASS), ({"allowed_actions": "local_only"}, Status.PASS),
    ({"allowed_actions": "all"}, Status.FAIL),
    ({"allowed_actions": "all", "actions_enabled_repositories": "none"}, Status.PASS),
    ({"allowed_actions": None}, Status.INCONCLUSIVE),
])
def test_allowed_actions(attrs: dict[str, Any], status: Status) -> None:
    f = only(run_one("github.org.allowed_actions_restricted", inventory(org(**attrs))))
    assert f.status == status, f.message


def test_workflows_approving_pull_requests() -> None:
    inv = inventory(org(), repo(can_approve_pull_request_reviews=True))
    found = by_uid(run_one("github.org.workflows_cannot_approve_pull_requests", inv))
    assert found["github.com/acme"].status == Status.PASS
    assert found["github.com/acme/app"].status == Status.FAIL
    unknown = only(run_one("github.org.workflows_cannot_approve_pull_requests",
                           inventory(org(can_approve_pull_request_reviews=None))))
    assert unknown.status == Status.INCONCLUSIVE
