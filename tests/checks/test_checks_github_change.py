"""github.change.*: the default branch's effective protection, classic protection and active
rulesets merged (the traps: a branch protected by a ruleset alone is protected; a ruleset in
`evaluate` mode is not; a bypass actor weakens it and is named; archived repositories are
skipped)."""

from __future__ import annotations

from typing import Any

import pytest
from support.checks import only, run_one
from support.github import UNPROTECTED, environment, error, inventory, protection, repo, rule
from support.github import ruleset as rules

from posture.model import Status

PR = "github.change.default_branch_pull_request_required"
STALE = "github.change.default_branch_stale_reviews_dismissed"
CHECKS = "github.change.default_branch_status_checks_required"
FORCE = "github.change.default_branch_force_push_blocked"
DELETE = "github.change.default_branch_deletion_blocked"
ADMINS = "github.change.default_branch_admins_not_exempt"
ALL = (PR, STALE, CHECKS, FORCE, DELETE, ADMINS)


def verdicts(**attrs: Any) -> dict[str, Any]:
    inv = inventory(repo(**attrs))
    return {c: only(run_one(c, inv)) for c in ALL}


def test_classic_protection_passes_every_property() -> None:
    found = verdicts()
    assert {c: f.status for c, f in found.items()} == dict.fromkeys(ALL, Status.PASS)
    assert "by classic branch protection" in found[PR].message


def test_ruleset_alone_protects_the_branch() -> None:  # the trap
    found = verdicts(branch_protection=UNPROTECTED, rules=rules())
    assert {c: f.status for c, f in found.items()} == dict.fromkeys(ALL, Status.PASS)
    assert "by ruleset main" in found[FORCE].message


def test_evaluate_mode_ruleset_enforces_nothing() -> None:  # the trap
    found = verdicts(branch_protection=UNPROTECTED, rules=rules(enforcement="evaluate"))
    assert all(f.status == Status.FAIL for f in found.values()), found
    assert "ruleset main (evaluate mode) does not enforce" in found[PR].message
    assert found[ADMINS].message.endswith("is not protected: nothing binds administrators")


def test_unprotected_branch_fails_each_property_by_name() -> None:
    found = verdicts(branch_protection=UNPROTECTED)
    assert found[PR].message == ("default branch main: pull request required: not enforced")
    assert "force pushes blocked: not enforced" in found[FORCE].message
    assert found[FORCE].severity.label == "medium"  # private, no production: one lower


def test_production_repository_keeps_the_severity() -> None:
    inv = inventory(repo(branch_protection=UNPROTECTED), environment("production"))
    f = only(run_one(FORCE, inv))
    assert f.severity.label == "high" and "(deploys to production)" in f.message


@pytest.mark.parametrize(("attrs", "status", "words"), [
    ({"branch_protection": protection(required_approving_review_count=0)}, Status.FAIL,
     "a pull request is required but with at most 0 approving review(s) (at least 1 wanted)"),
    ({"branch_protection": protection(required_approving_review_count=None)}, Status.FAIL,
     "not enforced"),
    ({"branch_protection": UNPROTECTED, "rules": rules(approvals=2)}, Status.PASS, "ruleset"),
], ids=["zero-approvals", "no-reviews", "ruleset-two"])
def test_approvals(attrs: dict[str, Any], status: Status, words: str) -> None:
    f = only(run_one(PR, inventory(repo(**attrs))))
    assert f.status == status and words in f.message, f.message


def test_min_approvals_is_a_parameter() -> None:
    f = only(run_one(PR, inventory(repo()), min_approvals=2))
    assert f.status == Status.FAIL and "at least 2 wanted" in f.message


def test_bypass_actors_weaken_and_are_named() -> None:
    team = (("Team", 42, "always"),)
    f = only(run_one(FORCE, inventory(repo(branch_protection=UNPROTECTED,
                                           rules=rules(bypass=team)))))
    assert f.status == Status.FAIL and f.severity.label == "medium"
    assert "which team 42 may bypass" in f.message
    writers = (("RepositoryRole", 4, "always"),)
    g = only(run_one(FORCE, inventory(repo(branch_protection=UNPROTECTED,
                                           rules=rules(bypass=writers)), environment())))
    assert g.severity.label == "high" and "write role" in g.message
    # pull_request bypass lets the actor merge around review rules, not push around push rules
    pr_only = (("Team", 42, "pull_request"),)
    inv = inventory(repo(branch_protection=UNPROTECTED, rules=rules(bypass=pr_only)))
    assert only(run_one(FORCE, inv)).status == Status.PASS
    assert only(run_one(PR, inv)).status == Status.FAIL


@pytest.mark.parametrize(("attrs", "status", "words"), [
    ({"branch_protection": protection(enforce_admins=False)}, Status.FAIL,
     "administrators exempt by classic branch protection"),
    ({"branch_protection": UNPROTECTED,
      "rules": rules(bypass=(("OrganizationAdmin", 1, "always"),))}, Status.FAIL,
     "organisation owners exempt by ruleset main"),
    ({"branch_protection": UNPROTECTED,
      "rules": rules(bypass=(("RepositoryRole", 5, "always"),))}, Status.FAIL,
     "repository admins exempt"),
    ({"branch_protection": protection(enforce_admins=False), "rules": rules()}, Status.PASS,
     "administrators are bound"),  # the ruleset binds them where classic does not
    ({"branch_protection": None, "rules": []}, Status.INCONCLUSIVE, "not read"),
], ids=["classic", "org-owners", "repo-admins", "ruleset-binds", "unknown"])
def test_administrators(attrs: dict[str, Any], status: Status, words: str) -> None:
    f = only(run_one(ADMINS, inventory(repo(**attrs))))
    assert f.status == status and words in f.message, f.message


def test_unknown_sources_are_inconclusive_unless_the_other_enforces() -> None:
    assert only(run_one(FORCE, inventory(repo(rules=None)))).status == Status.PASS
    f = only(run_one(FORCE, inventory(repo(branch_protection=None, rules=[]))))
    assert f.status == Status.INCONCLUSIVE and "classic branch protection not read" in f.message
    r = repo()
    err = error("GET rules", ("GitHub::Repository#rules",), resource_uid=r.uid)
    g = only(run_one(FORCE, inventory(r, errors=(err,))))
    assert g.status == Status.INCONCLUSIVE  # never PASS on data not seen


def test_organization_ruleset_named_and_archived_skipped() -> None:
    org_rules = [rule("non_fast_forward", ruleset="org-main", source_type="Organization")]
    f = only(run_one(FORCE, inventory(repo(branch_protection=UNPROTECTED, rules=org_rules))))
    assert "ruleset org-main (organisation acme)" in f.message
    assert run_one(FORCE, inventory(repo(archived=True, branch_protection=UNPROTECTED))) == []
