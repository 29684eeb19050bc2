"""``posture scan github``: collect GitHub organisations and repositories (read-only), audit them
and write the reports. Credentials: a token from ``GITHUB_TOKEN`` or ``--token-file``, or a
GitHub App installation (``--app-id``, ``--app-key-file``, ``--installation-id``); GitHub
Enterprise Server with ``--api-url``. Needs PyGithub (``pip install 'posture[github]'``),
imported only when it runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from posture.cli.audit import cloud_option, cloud_snapshots
from posture.cli.options import ReportOptions, report_command
from posture.cli.report import scan_and_report
from posture.errors import CollectorError

PUBLIC_API = "https://api.github.com"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

OrgOpt = Annotated[
    list[str] | None,
    typer.Option("--org", help="Organisation to scan, every repository of it (repeatable)."),
]
RepoOpt = Annotated[
    list[str] | None,
    typer.Option("--repo", help="Repository OWNER/NAME to scan alone (repeatable)."),
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option(help="File holding the token (default: the GITHUB_TOKEN environment variable)."),
]
ApiUrlOpt = Annotated[
    str,
    typer.Option(help="REST API root: https://HOST/api/v3 for GitHub Enterprise Server."),
]
AppIdOpt = Annotated[str | None, typer.Option(help="GitHub App id (instead of a token).")]
AppKeyFileOpt = Annotated[
    Path | None, typer.Option(help="The GitHub App's private key (PEM file).")
]
InstallationOpt = Annotated[
    int | None, typer.Option(help="The GitHub App's installation id on the organisation.")
]
CaBundleOpt = Annotated[
    Path | None,
    typer.Option(help="PEM file of CA certificates to trust (a GHES with a private CA)."),
]
SnapshotOutOpt = Annotated[
    Path | None, typer.Option(help="Also save the collected inventory to this file.")
]

CloudOpt = Annotated[list[Path] | None, cloud_option("Beside this scan")]


@report_command
def scan_github(
    org: OrgOpt = None,
    repo: RepoOpt = None,
    token_file: TokenFileOpt = None,
    api_url: ApiUrlOpt = PUBLIC_API,
    app_id: AppIdOpt = None,
    app_key_file: AppKeyFileOpt = None,
    installation_id: InstallationOpt = None,
    ca_bundle: CaBundleOpt = None,
    snapshot_out: SnapshotOutOpt = None,
    cloud: CloudOpt = None,
    *,
    options: ReportOptions,
) -> None:
    """Collect GitHub organisations and repositories (read-only), audit them and write the
    reports.

    Credentials: a fine-grained personal access token in GITHUB_TOKEN (or --token-file), or a GitHub App installation (--app-id, --app-key-file, --installation-id); the read-only permissions they need: `posture permissions github`. With --cloud, cloud snapshots are audited beside it: the CI-to-cloud check follows workflow tokens into their identities.
    """  # noqa: E501 - one paragraph per line: typer keeps the docstring's line breaks
    try:
        from posture.collectors.github.collector import GithubTarget, collect, split_repo
    except ImportError as exc:  # pragma: no cover - the extra is part of the dev install
        raise CollectorError(
            f"GitHub scanning needs PyGithub: pip install 'posture[github]' ({exc.name} missing)"
        ) from None
    if not org and not repo:
        raise ValueError("nothing to scan: pass --org ORG or --repo OWNER/NAME")
    for value in repo or ():
        split_repo(value)  # a usage error before anything else
    check_api_url(api_url)
    if ca_bundle is not None and not ca_bundle.is_file():
        raise CollectorError(f"CA bundle not found: {ca_bundle}")
    token, app_key = credentials(token_file, app_id, app_key_file, installation_id)
    target = GithubTarget(
        orgs=tuple(org or ()),
        repos=tuple(repo or ()),
        api_url=api_url.rstrip("/"),
        token=token,
        app_id=app_id,
        app_private_key=app_key,
        installation_id=installation_id,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
    )
    joined = cloud_snapshots(cloud) if cloud else []  # bad input fails before the scan
    scan_and_report("GitHub", lambda step: collect(target, progress=step), snapshot_out, options,
                    joined)


def check_api_url(api_url: str) -> None:
    """HTTPS only (tokens never go over plain HTTP), loopback fakes excepted."""
    parts = urlsplit(api_url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return
    raise ValueError("--api-url must be an https:// URL (tokens never go over HTTP)")


def credentials(
    token_file: Path | None,
    app_id: str | None,
    app_key_file: Path | None,
    installation_id: int | None,
) -> tuple[str | None, str | None]:
    """(token, App private key PEM): the App when any App option is given, else the token
    file, else ``GITHUB_TOKEN``."""
    if app_id or app_key_file or installation_id is not None:
        if not (app_id and app_key_file and installation_id is not None):
            raise ValueError("a GitHub App needs --app-id, --app-key-file and --installation-id")
        if token_file is not None:
            raise ValueError("--token-file and a GitHub App exclude each other")
        return None, read_secret(app_key_file, "GitHub App private key")
    if token_file is not None:
        return read_secret(token_file, "token file"), None
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise CollectorError(
            "no GitHub credentials: set GITHUB_TOKEN, pass --token-file, or --app-id with "
            "--app-key-file and --installation-id"
        )
    return token, None


def read_secret(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CollectorError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    if not text:
        raise CollectorError(f"{what} {path} is empty")
    return text
