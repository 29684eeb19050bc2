"""Accepted-risk exceptions: matching, expiry against an injected date, the exit code, and
clear one-line errors naming the line of a malformed file."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from support import REPO
from support.reports import finding, report

from posture.history.exceptions import (
    ExceptionsError,
    ExceptionsFile,
    ExceptionState,
    apply,
    parse,
    unknown_checks,
)
from posture.model import Status
from posture.pipeline import ExitCode, exit_code
from posture.reporters import OutputFormat, reporter_for

TODAY = dt.date(2026, 3, 1)
CHECK = "aws.network.admin_ports_not_internet_reachable"

TEXT = f"""\
# accepted risks, reviewed quarterly
[[exception]]
check = "{CHECK}"
resource = "arn:aws:ec2:*:123456789012:security-group/sg-000[12]"
reason = "bastion hosts, IP allow-list enforced upstream"
owner = "netops@example.com"
expires = 2026-03-01

[[exception]]
check = "aws.network.*"
resource = "*sg-0003"
reason = "legacy, being decommissioned"
owner = "alice"
expires = "2026-02-28"

[[exception]]
check = "aws.iam.root_mfa_enabled"
resource = "*"
reason = "never matches here"
owner = "bob"
expires = 2027-01-01
"""


def source(text: str = TEXT) -> ExceptionsFile:
    return ExceptionsFile("exceptions.toml", "f" * 64, parse(text, "exceptions.toml"))


def test_parse_reads_every_field_and_line() -> None:
    first, second, third = source().entries
    assert (first.check, first.owner, first.expires, first.line) == (
        CHECK,
        "netops@example.com",
        dt.date(2026, 3, 1),
        2,
    )
    assert second.expires == dt.date(2026, 2, 28) and second.line == 9
    assert third.line == 16
    assert parse("") == ()


def test_matching_and_expiry() -> None:
    findings = (finding(1), finding(2), finding(3), finding(4), finding(5, status=Status.PASS))
    out, outcome = apply(findings, source(), TODAY)
    by_uid = {f.resource_uid.rsplit("/", 1)[1]: f for f in out}
    # sg-0001/2 excepted: the exception's last day is today
    for uid in ("sg-0001", "sg-0002"):
        f = by_uid[uid]
        assert f.status == Status.EXCEPTED
        assert "bastion hosts, IP allow-list enforced upstream" in f.message
        assert f.evidence["exception"]["owner"] == "netops@example.com"
    # sg-0003's exception expired yesterday: FAIL again, and says so
    assert by_uid["sg-0003"].status == Status.FAIL
    assert by_uid["sg-0003"].evidence["expired_exceptions"][0]["expires"] == "2026-02-28"
    assert by_uid["sg-0004"].status == Status.FAIL and "exception" not in by_uid["sg-0004"].evidence
    assert by_uid["sg-0005"].status == Status.PASS  # only FAIL findings are excepted
    states = [(e.state, e.matched) for e in outcome.entries]
    assert states == [
        (ExceptionState.ACTIVE, 2),
        (ExceptionState.EXPIRED, 1),
        (ExceptionState.UNUSED, 0),
    ]
    assert [e.risk.line for e in outcome.expired] == [9]
    # a day later the first one has expired too
    later, _ = apply(findings, source(), TODAY + dt.timedelta(days=1))
    assert [f.status for f in later].count(Status.EXCEPTED) == 0


def test_exit_code_ignores_excepted_and_counts_expired() -> None:
    from posture.model import Severity

    only_excepted = (finding(1), finding(2))
    out, _ = apply(only_excepted, source(), TODAY)
    assert exit_code(only_excepted, Severity.HIGH) == ExitCode.FINDINGS
    assert exit_code(out, Severity.HIGH) == ExitCode.OK
    expired, _ = apply((finding(3),), source(), TODAY)
    assert exit_code(expired, Severity.HIGH) == ExitCode.FINDINGS


def test_reports_count_and_show_excepted() -> None:
    out, outcome = apply((finding(1), finding(3)), source(), TODAY)
    rep = report(*out)
    from dataclasses import replace

    rep = replace(rep, exceptions=outcome)
    doc = json.loads(reporter_for(OutputFormat.JSON).render(rep))
    assert doc["summary"]["by_status"]["EXCEPTED"] == 1
    assert doc["summary"]["by_control"]["SOC2"]["CC6.1"]["counts"]["EXCEPTED"] == 1
    assert [e["state"] for e in doc["exceptions"]["entries"]] == ["active", "expired", "unused"]
    assert doc["exceptions"]["evaluated_on"] == "2026-03-01"
    html = reporter_for(OutputFormat.HTML).render(rep).decode()
    assert 'id="expired-exceptions"' in html and "legacy, being decommissioned" in html
    assert 'data-exception-state="expired"' in html
    assert '<span class="badge EXCEPTED">EXCEPTED</span>' in html
    # no exceptions given: no exceptions block at all
    assert "exceptions" not in json.loads(reporter_for(OutputFormat.JSON).render(report()))


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            '[[exception]]\ncheck = "a"\nresource = "*"\nreason = "r"\nowner = "o"\n'
            "expires = 2026-13-01\n",
            6,
            "invalid TOML",
        ),
        (
            '[[exception]]\ncheck = "a"\nresource = "*"\nreason = "r"\nowner = "o"\n',
            1,
            "lacks expires",
        ),
        (
            '\n\n[[exception]]\ncheck = "a"\nresource = "*"\nreason = ""\nowner = "o"\n'
            "expires = 2026-01-01\n",
            6,
            "reason must be a non-empty string",
        ),
        (
            '[[exception]]\ncheck = "a"\nresource = "*"\nreason = "r"\nowner = "o"\n'
            'expires = "soon"\n',
            6,
            "expires must be a date",
        ),
        (
            '[[exception]]\ncheck = "a"\nresource = "*"\nreason = "r"\nowner = "o"\n'
            "expires = 2026-01-01\nexpiry = 2027-01-01\n",
            7,
            "unknown key 'expiry'",
        ),
        (
            '[[exception]]\ncheck = "a"\nresource = "*"\nreason = "r"\nowner = "o"\n'
            "expires = 2026-01-01T10:00:00\n",
            6,
            "expires must be a date",
        ),
        ("exceptions = 1\n", 1, "unknown top-level key"),
        ('check = "a\n', 1, "invalid TOML"),
    ],
)
def test_malformed_file_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ExceptionsError) as caught:
        parse(text, "risks.toml")
    message = str(caught.value)
    assert message.startswith(f"risks.toml:{line}: "), message
    assert words in message
    assert "\n" not in message


def test_examples_in_readme_and_deploy_parse() -> None:
    import re
    import tomllib

    import yaml

    root = REPO
    readme = (root / "README.md").read_text(encoding="utf-8")
    blocks = [
        b for b in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL) if "[[exception]]" in b
    ]
    assert blocks
    for block in blocks:
        assert parse(block, "README.md")
    docs = list(
        yaml.safe_load_all(
            (root / "deploy" / "kubernetes" / "posture-cronjob.yaml").read_text(encoding="utf-8")
        )
    )
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert parse(config["data"]["exceptions.toml"], "configmap")
    cron = next(d for d in docs if d["kind"] == "CronJob")
    args = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--fail-on-new=high" in args
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"][
        "postgres"
    ]


def entry(check: str, resource: str, reason: str = "r") -> str:
    """One ``[[exception]]`` table (owner ``o``, until 2027-01-01)."""
    return (f'[[exception]]\ncheck = "{check}"\nresource = "{resource}"\nreason = "{reason}"\n'
            'owner = "o"\nexpires = 2027-01-01\n')


BLANKET = entry("aws.iam.root_mfa_enabled", "*") + "\n" + entry("*", "**", "everything, for now")


def test_an_exception_of_every_check_on_every_resource_is_refused() -> None:
    """``check = "*"`` with ``resource = "*"`` would turn every FAIL into EXCEPTED (and let
    ``--fail-on`` pass): refused, naming the line, unless the entry says ``allow_all = true``."""
    with pytest.raises(ExceptionsError) as caught:
        parse(BLANKET, "risks.toml")
    assert str(caught.value).startswith("risks.toml:9: check = '*' with resource = '**' "
                                         "excepts every finding")
    assert "allow_all = true" in str(caught.value)
    # one wildcard is a scope, not a blanket
    assert parse(BLANKET.replace('check = "*"', 'check = "aws.iam.*"'), "risks.toml")
    assert parse(BLANKET.replace('resource = "**"', 'resource = "*/vol-1"'), "risks.toml")
    allowed = parse(BLANKET.replace('resource = "**"\n', 'resource = "**"\nallow_all = true\n'))
    assert [r.allow_all for r in allowed] == [False, True]
    assert [r.covers_everything for r in allowed] == [False, True]
    assert "allow_all" not in allowed[0].document() and allowed[1].document()["allow_all"]
    with pytest.raises(ExceptionsError, match="allow_all must be true or false"):
        parse(BLANKET.replace('resource = "**"\n', 'resource = "**"\nallow_all = "yes"\n'))


def test_exceptions_naming_no_known_check_are_found() -> None:
    risks = parse(TEXT.replace("aws.iam.root_mfa_enabled", "aws.iam.root_mfa_enabeld"))
    known = (CHECK, "aws.network.other", "aws.iam.root_mfa_enabled")
    assert [r.line for r in unknown_checks(risks, known)] == [16]
    assert unknown_checks(source().entries, known) == ()
    # a glob that matches nothing is as unknown as a typo
    (glob,) = parse(TEXT.split("\n\n")[0].replace(CHECK, "aws.netwrk.*"))
    assert unknown_checks((glob,), known) == (glob,)
