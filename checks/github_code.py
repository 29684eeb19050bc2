"""Secure code on GitHub: secret scanning, push protection, Dependabot and code scanning switched
on, analyses recent, and open alerts fixed within their service levels. Archived repositories
are not judged; forks are, and say so. A public repository, or one that deploys to production,
weighs more: its findings keep the check's severity, the others' are one lower."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from posture.engine import CheckContext, Result
from posture.github import REPOSITORY, facet, judged
from posture.github_ci import Weight, weigh
from posture.model import Asset, Principle, Severity
from posture.registry import check
from posture.values import age_days, parse_time, scan_time

SECURITY = facet(REPOSITORY, "security")
ALERTS = facet(REPOSITORY, "alerts")
VULNERABILITY_ALERTS = facet(REPOSITORY, "vulnerability_alerts")
CODE_SCANNING = facet(REPOSITORY, "code_scanning")


def _repos(ctx: CheckContext) -> Iterator[tuple[Asset, Weight]]:
    for repo in ctx.inventory.of(REPOSITORY):
        if judged(repo):
            yield repo, weigh(ctx.inventory, repo)


def _switched_on(ctx: CheckContext, attr: str, label: str) -> Iterator[Result]:
    """A feature read as one attribute: ``enabled`` / true passes, ``disabled`` / false fails,
    null (not read) is INCONCLUSIVE."""
    verb = "are" if label.endswith("s") else "is"
    for repo, w in _repos(ctx):
        value = repo.attr(attr)
        if value is None:
            yield ctx.unknown(repo, f"whether {label} {verb} on was not read{w.suffix}")
        elif value in (True, "enabled"):
            yield ctx.passed(repo, f"{label} {verb} on{w.suffix}", **{attr: value})
        else:
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, f"{label} {verb} off"
                              f"{w.suffix}", **{attr: value})


@check("github.code.secret_scanning_enabled", Severity.HIGH, (Principle.SECURE_CODE,
       Principle.SECRETS), reads={SECURITY})
def secret_scanning_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Secret scanning is enabled on every repository

    Secret scanning finds credentials committed to the repository and its history (cloud keys,
    tokens, private keys) and raises an alert; without it a leaked key is found by whoever reads
    the code first.

    Remediation: Enable secret scanning (Settings > Code security; GitHub Advanced Security or
    Secret Protection on private repositories), or for every repository through an
    organisation security configuration.
    """
    yield from _switched_on(ctx, "secret_scanning", "secret scanning")


@check("github.code.secret_scanning_push_protection_enabled", Severity.HIGH,
       (Principle.SECURE_CODE, Principle.SECRETS), reads={SECURITY})
def secret_scanning_push_protection_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Secret scanning push protection blocks pushes that contain secrets

    Alerts come after the secret is in the history, where every clone keeps it; push protection
    rejects the push instead, so the secret never lands (a bypass is recorded and alerted).

    Remediation: Enable push protection beside secret scanning (Settings > Code security >
    Push protection), or in the organisation's security configuration.
    """
    yield from _switched_on(ctx, "secret_scanning_push_protection", "push protection")


@check("github.code.dependabot_alerts_enabled", Severity.HIGH, (Principle.SECURE_CODE,),
       reads={VULNERABILITY_ALERTS})
def dependabot_alerts_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Dependabot alerts report vulnerable dependencies

    With Dependabot alerts GitHub matches the dependency graph against the GitHub Advisory
    Database and alerts on every vulnerable dependency; without them newly disclosed
    vulnerabilities in the code's dependencies go unseen.

    Remediation: Enable Dependabot alerts (Settings > Code security > Dependabot alerts), or
    for every repository in the organisation's security configuration.
    """
    yield from _switched_on(ctx, "vulnerability_alerts", "Dependabot alerts")


@check("github.code.dependabot_security_updates_enabled", Severity.MEDIUM,
       (Principle.SECURE_CODE,), reads={SECURITY})
def dependabot_security_updates_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Dependabot security updates open fix pull requests for vulnerable dependencies

    Security updates turn a Dependabot alert into a pull request raising the dependency to a
    patched version, so the fix is one review away instead of a ticket in a queue.

    Remediation: Enable Dependabot security updates (Settings > Code security), with
    Dependabot alerts.
    """
    yield from _switched_on(ctx, "dependabot_security_updates", "Dependabot security updates")


@check("github.code.code_scanning_analysis_recent", Severity.HIGH, (Principle.SECURE_CODE,),
       reads={CODE_SCANNING}, params={"max_analysis_age_days": 30})
def code_scanning_analysis_recent(ctx: CheckContext) -> Iterator[Result]:
    """Code scanning analyses the default branch regularly

    Code scanning (CodeQL default setup, or a workflow uploading SARIF) finds vulnerabilities in
    the repository's own code; an analysis older than `max_analysis_age_days` days (default 30)
    means the scanning stopped or the default branch is no longer analysed.

    Remediation: Enable CodeQL default setup (Settings > Code security > Code scanning), or
    run an analysis workflow on pushes to the default branch and on a schedule.
    """
    now, limit = scan_time(ctx.inventory), int(ctx.param("max_analysis_age_days"))
    for repo, w in _repos(ctx):
        setup = repo.attr("code_scanning_default_setup")
        last = repo.attr("code_scanning_last_analysis")
        how = "default setup" if setup == "configured" else "a workflow"
        evidence = {"default_setup": setup, "last_analysis": last}
        when = parse_time((last or {}).get("created_at"))
        if last is None:
            yield ctx.unknown(repo, f"code scanning analyses were not read{w.suffix}", **evidence)
        elif when is None:
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, "code scanning has no analysis "
                              f"of the default branch (default setup {setup}){w.suffix}",
                              **evidence)
        elif (days := age_days(when, now)) > limit:
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, f"the newest code scanning "
                              f"analysis of the default branch ({last.get('tool')}, {how}) is "
                              f"{days} days old (at most {limit}){w.suffix}", **evidence)
        else:
            yield ctx.passed(repo, f"code scanning ({last.get('tool')}, {how}) analysed the "
                             f"default branch {days} day(s) ago{w.suffix}", **evidence)


def _overdue(summary: Mapping[str, Any], slas: Mapping[str, int],
             now: Any) -> list[tuple[str, str]]:
    """(severity, ``N open <severity>, the oldest from DATE (D days, SLA S)``) of each severity
    whose oldest open alert is older than its SLA."""
    out = []
    for sev, days in slas.items():
        entry = summary.get(sev) or {}
        when = parse_time(entry.get("oldest"))
        if when is not None and (age := age_days(when, now)) > days:
            out.append((sev, f"{entry.get('count')} open {sev}, the oldest from "
                        f"{str(entry.get('oldest'))[:10]} ({age} days, SLA {days})"))
    return out


def _alert_sla(ctx: CheckContext, attr: str, label: str, off: Any) -> Iterator[Result]:
    now = scan_time(ctx.inventory)
    slas = {"critical": int(ctx.param("critical_days")), "high": int(ctx.param("high_days"))}
    for repo, w in _repos(ctx):
        summary = repo.attr(attr)
        if summary is None:
            why = (f"{label} alerts are off, so none can be judged" if off(repo)
                   else f"open {label} alerts were not read")
            yield ctx.unknown(repo, f"{why}{w.suffix}")
            continue
        late = _overdue(summary, slas, now)
        evidence = {"open_alerts": summary, "sla_days": slas}
        if late:
            declared = Severity.CRITICAL if late[0][0] == "critical" else Severity.HIGH
            yield ctx.fail_at(w.severity(declared), repo, f"{label} alerts past their SLA: "
                              f"{'; '.join(t for _, t in late)}{w.suffix}", **evidence)
        else:
            counts = ", ".join(f"{v.get('count')} {k}" for k, v in summary.items() if v)
            yield ctx.passed(repo, f"no critical or high {label} alert is past its SLA (open: "
                             f"{counts or 'none'}){w.suffix}", **evidence)


SLA_PARAMS = {"critical_days": 7, "high_days": 30}


@check("github.code.dependabot_alerts_within_sla", Severity.CRITICAL, (Principle.SECURE_CODE,),
       reads={ALERTS, VULNERABILITY_ALERTS}, params=SLA_PARAMS)
def dependabot_alerts_within_sla(ctx: CheckContext) -> Iterator[Result]:
    """Critical and high Dependabot alerts are fixed within their service level

    An open critical (high) Dependabot alert older than `critical_days` (`high_days`) days —
    7 and 30 by default — is a known, published vulnerability left in a dependency. The finding
    names how many are open per severity and the oldest (alerts are summarised, never listed).
    Critical overdue: CRITICAL on a public or production repository, else HIGH; high overdue:
    HIGH, else MEDIUM.

    Remediation: Merge the Dependabot security update (or raise the dependency by hand),
    dismiss alerts that do not apply with a reason, and track the SLA in the team's queue.
    """
    yield from _alert_sla(ctx, "dependabot_alerts", "Dependabot",
                          lambda r: r.attr("vulnerability_alerts") is False)


@check("github.code.code_scanning_alerts_within_sla", Severity.CRITICAL, (Principle.SECURE_CODE,),
       reads={ALERTS, CODE_SCANNING}, params=SLA_PARAMS)
def code_scanning_alerts_within_sla(ctx: CheckContext) -> Iterator[Result]:
    """Critical and high code scanning alerts are fixed within their service level

    An open critical (high) code scanning alert older than `critical_days` (`high_days`) days —
    7 and 30 by default — is a vulnerability in the repository's own code, found and not fixed.
    Graded as the Dependabot check: critical overdue CRITICAL on a public or production
    repository, else HIGH; high overdue HIGH, else MEDIUM.

    Remediation: Fix the code (Copilot Autofix proposes a patch), or dismiss false positives
    with a reason; review the oldest alerts first.
    """
    yield from _alert_sla(ctx, "code_scanning_alerts", "code scanning",
                          lambda r: r.attr("code_scanning_default_setup") == "not-configured"
                          and r.attr("code_scanning_last_analysis") == {})


@check("github.code.secret_scanning_alerts_resolved", Severity.CRITICAL,
       (Principle.SECURE_CODE, Principle.SECRETS), reads={ALERTS, SECURITY},
       params={"secret_days": 0})
def secret_scanning_alerts_resolved(ctx: CheckContext) -> Iterator[Result]:
    """No secret scanning alert stays open

    An open secret scanning alert is a credential committed to the repository that has not been
    revoked and closed. Any open alert fails (`secret_days` sets a grace period in days; 0 by
    default): CRITICAL on a public or production repository, else HIGH. The finding names the
    secret types, the count and the oldest, never a secret's value.

    Remediation: Revoke and rotate the credential at its issuer, then close the alert as
    revoked; removing it from the history does not un-leak it.
    """
    now, grace = scan_time(ctx.inventory), int(ctx.param("secret_days"))
    for repo, w in _repos(ctx):
        summary = repo.attr("secret_scanning_alerts")
        if summary is None:
            why = ("secret scanning is off, so no alert can be judged"
                   if repo.attr("secret_scanning") == "disabled"
                   else "open secret scanning alerts were not read")
            yield ctx.unknown(repo, f"{why}{w.suffix}")
            continue
        count, when = int(summary.get("count") or 0), parse_time(summary.get("oldest"))
        age = age_days(when, now) if when is not None else 0
        evidence = {"open": count, "oldest": summary.get("oldest"),
                    "types": list(summary.get("types") or ())}
        if count and (grace == 0 or age > grace):
            types = ", ".join(summary.get("types") or ()) or "type unknown"
            yield ctx.fail_at(w.severity(ctx.spec.severity), repo, f"{count} open secret "
                              f"scanning alert(s) ({types}), the oldest from "
                              f"{str(summary.get('oldest'))[:10]} ({age} days){w.suffix}",
                              **evidence)
        elif count:
            yield ctx.passed(repo, f"{count} open secret scanning alert(s), all within "
                             f"{grace} days{w.suffix}", **evidence)
        else:
            yield ctx.passed(repo, f"no open secret scanning alert{w.suffix}", **evidence)
