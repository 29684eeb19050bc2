"""How the GitHub collector signs in and where it reads from: a GitHub App installation, GitHub
Enterprise Server's ``/api/v3`` prefix, single repositories, fatal credential errors; what it
never keeps (secret values, clone tokens); failed listings and owner-only settings recorded."""

from __future__ import annotations

import json

import pytest
from support.github_collect import app_private_key, collect_fake

from posture.collectors.github.base import ENVIRONMENT, ORGANIZATION, REPOSITORY, web_host_of
from posture.demo.github_fake import INSTALLATION_ID, INSTALLATION_TOKEN, FakeGithub, serving
from posture.errors import CollectorError
from posture.snapshot import to_document

SECRET = "xoxb-000000000000-posture-fake-Wq8Zr3Km6Tj1Vn4Yp7Hd"  # fixtures/github/acme/alerts.json
CLONE_TOKEN = "AAFAKETEMPCLONETOKEN7Qm2Xc9Lr4"  # fixtures/github/acme/repos.json, infra


def test_secret_values_never_reach_the_snapshot(fresh_fake: FakeGithub) -> None:
    recorded = json.dumps(fresh_fake.routes)
    assert SECRET in recorded and CLONE_TOKEN in recorded  # the fixtures still plant them
    fresh_fake.hide_secrets = False  # a server that ignores hide_secret=true
    text = json.dumps(to_document(collect_fake(fresh_fake)))
    assert SECRET not in text
    assert CLONE_TOKEN not in text
    assert "Slack API Token" in text  # the type is kept
    asked = [r.query for r in fresh_fake.requests if r.path.endswith("/secret-scanning/alerts")]
    assert asked and all(q.get("hide_secret") == "true" for q in asked)


def test_github_app_installation_auth(fresh_fake: FakeGithub) -> None:
    inv = collect_fake(fresh_fake, token=None, app_id="90210", app_private_key=app_private_key(),
                       installation_id=INSTALLATION_ID)
    assert inv.get("github.com/acme/payments-api") is not None
    token_calls = [r for r in fresh_fake.requests if r.method == "POST"]
    assert [r.path for r in token_calls] == [f"/app/installations/{INSTALLATION_ID}/access_tokens"]
    assert (token_calls[0].authorization or "").startswith("Bearer ey")  # a signed JWT
    assert [claims["iss"] for claims in fresh_fake.jwts] == ["90210"]
    reads = {r.authorization for r in fresh_fake.requests if r.method == "GET"}
    assert reads == {f"token {INSTALLATION_TOKEN}"}


def test_unknown_app_installation_stops_the_scan(fresh_fake: FakeGithub) -> None:
    with pytest.raises(CollectorError, match="installation token for installation 7"):
        collect_fake(fresh_fake, token=None, app_id="90210", app_private_key=app_private_key(),
                     installation_id=7)


def test_enterprise_server_api_prefix() -> None:
    with serving(prefix="/api/v3") as fake:
        inv = collect_fake(fake, web_host=None)
    assert fake.api_url.endswith("/api/v3")
    assert all(r.path.startswith("/api/v3/") for r in fake.requests)
    assert fake.unmatched == []
    uids = {a.uid for a in inv.assets}
    assert "127.0.0.1/acme/docs-fork" in uids  # second page of the listing, under the prefix
    assert inv.meta.endpoint_url == fake.api_url


@pytest.mark.parametrize(("api", "host"), [
    ("https://api.github.com", "github.com"),
    ("https://ghe.example.com/api/v3", "ghe.example.com"),
    ("https://api.acme.ghe.com", "acme.ghe.com"),
])
def test_web_host_of_the_api_url(api: str, host: str) -> None:
    assert web_host_of(api) == host


def test_single_repositories_without_the_organisation(fresh_fake: FakeGithub) -> None:
    inv = collect_fake(fresh_fake, orgs=(), repos=("acme/web", "ACME/infra", "acme/web"))
    assert {a.uid: a.type for a in inv.assets} == {
        "github.com/acme/infra": REPOSITORY,
        "github.com/acme/web": REPOSITORY,
        "github.com/acme/web/environments/production": ENVIRONMENT,
    }
    assert "/orgs/acme/repos" not in fresh_fake.paths()
    assert fresh_fake.count("/repos/acme/web") == 1  # read once, not listed again


def test_rejected_token_stops_the_scan(fresh_fake: FakeGithub) -> None:
    with pytest.raises(CollectorError, match="rejected the credentials"):
        collect_fake(fresh_fake, token="ghp_wrong")


def test_unknown_organisation_stops_the_scan(fresh_fake: FakeGithub) -> None:
    with pytest.raises(CollectorError, match="unknown GitHub organisation nope"):
        collect_fake(fresh_fake, orgs=("nope",))


def test_unreachable_api_stops_the_scan() -> None:
    with serving() as fake:
        dead = fake.api_url
    with pytest.raises(CollectorError, match="cannot reach the GitHub API"):
        collect_fake(FakeGithub({}, base=dead), retry_total=0)


def test_failed_listing_and_owner_only_settings_are_recorded(fresh_fake: FakeGithub) -> None:
    fresh_fake.routes["GET /orgs/acme/repos"] = {
        "__status__": 403, "message": "Resource not accessible by personal access token"}
    org = dict(fresh_fake.routes["GET /orgs/acme"])
    del org["two_factor_requirement_enabled"]  # what a non-owner is shown
    fresh_fake.routes["GET /orgs/acme"] = org
    inv = collect_fake(fresh_fake)
    assert [a.type for a in inv.assets] == [ORGANIZATION]
    assert inv.get("github.com/acme").attrs["two_factor_requirement_enabled"] is None  # type: ignore[union-attr]
    assert sorted((e.operation, e.asset_types) for e in inv.errors) == [
        ("GET /orgs/{org}", (f"{ORGANIZATION}#settings",)),
        ("GET /orgs/{org}/repos", (REPOSITORY, ENVIRONMENT)),
    ]


def test_secondary_rate_limit_without_retry_after_waits_and_retries(
    fresh_fake: FakeGithub,
) -> None:
    fresh_fake.retry_after = None  # GitHub's message alone: GithubRetry's secondary_rate_wait
    inv = collect_fake(fresh_fake)
    assert fresh_fake.count("/repos/acme/infra/actions/secrets") == 2
    assert len(inv.get("github.com/acme/infra").attrs["actions_secrets"]) == 4  # type: ignore[union-attr]


def test_a_crashing_facet_is_recorded_for_its_repository(
    fresh_fake: FakeGithub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posture.collectors.github import protection

    def boom(scope: object, repo: dict[str, object]) -> dict[str, object]:
        raise RuntimeError(f"boom {repo['name']}")

    monkeypatch.setattr(protection, "facets", boom)
    inv = collect_fake(fresh_fake)
    web = inv.get("github.com/acme/web")
    assert web is not None
    assert (web.attrs["branch_protection"], web.attrs["rules"]) == (None, None)
    crash = [e for e in inv.errors if e.code == "RuntimeError"]
    assert {e.resource_uid for e in crash} == {
        f"github.com/acme/{n}" for n in ("payments-api", "web", "infra", "docs-fork")}
    assert crash[0].asset_types == (f"{REPOSITORY}#branch_protection", f"{REPOSITORY}#rules")
