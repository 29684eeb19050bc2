"""The identity section of report.html (opened in headless Chromium), identity.csv (formula
injection defused) and the evidence manifest; reports without identities stay as they were."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

from support.aws import asset, inventory
from support.browser import Attrs, dumped, needs_chromium
from support.iam import allow
from support.identity import assignment, permission_set
from support.reports import XSS_IMG, report

from posture.history.tracking import Tracking
from posture.identity import aws_identities
from posture.pipeline import prepare
from posture.registry import load_catalogue
from posture.reporters import IDENTITY_FILENAME, OutputFormat, write_reports
from posture.reporters.evidence import write_evidence

FORMULA = '=HYPERLINK("http://evil","x")'


def hostile_inventory():  # type: ignore[no-untyped-def]
    person = asset("AWS::IdentityStore::User", "arn:aws:identitystore:::user/id-x", name=XSS_IMG,
                   region="global", user_id="id-x", display_name=XSS_IMG,
                   identity_store_id="d-1")
    team = asset("AWS::IdentityStore::Group", "arn:aws:identitystore:::group/id-team",
                 name=FORMULA, region="global", group_id="id-team", display_name=FORMULA,
                 identity_store_id="d-1", member_user_ids=["id-x"])
    ps = permission_set("Admin", {"Statement": [allow("*")]}, assignments=[assignment("team")])
    return inventory(person, team, ps)


def identity_report():  # type: ignore[no-untyped-def]
    return dataclasses.replace(report(), identity=aws_identities(hostile_inventory()))


def test_identity_csv_is_written_beside_controls_and_defused(tmp_path: Path) -> None:
    write_reports(identity_report(), tmp_path, [OutputFormat.CONTROLS])
    data = (tmp_path / IDENTITY_FILENAME).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    names = {r["identity"] for r in rows}
    assert "'" + FORMULA in names and XSS_IMG in names
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values())
    admin = next(r for r in rows if r["identity"] == XSS_IMG)
    assert (admin["privilege"], admin["duration"], admin["via"]) == (
        "admin", "standing", "group " + FORMULA)


def test_no_identity_csv_without_controls_or_without_identities(tmp_path: Path) -> None:
    write_reports(identity_report(), tmp_path / "a", [OutputFormat.HTML])
    assert not (tmp_path / "a" / IDENTITY_FILENAME).exists()
    write_reports(report(), tmp_path / "b", [OutputFormat.CONTROLS, OutputFormat.HTML])
    assert not (tmp_path / "b" / IDENTITY_FILENAME).exists()
    assert 'id="identity"' not in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")


def test_html_section_escapes_names(tmp_path: Path) -> None:
    html = write_reports(identity_report(), tmp_path, [OutputFormat.HTML])[
        OutputFormat.HTML].read_text(encoding="utf-8")
    assert '<section id="identity">' in html
    assert XSS_IMG not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "1 holds standing admin" in html


def _identity_name(attrs: Attrs) -> bool:
    return attrs.get("class") == "identity-name"


@needs_chromium
def test_identity_section_in_headless_chromium(tmp_path: Path) -> None:
    path = write_reports(identity_report(), tmp_path / "r", [OutputFormat.HTML])[
        OutputFormat.HTML]
    dom = dumped(tmp_path / "profile", path.as_uri(), _identity_name)
    assert not dom.of("img")  # the name stayed text
    assert XSS_IMG in dom.texts and FORMULA in dom.texts
    rows = [a for a in dom.of("tr") if "data-identity-kind" in a]
    assert rows[0]["data-standing-admin"] == "1" and rows[0]["data-identity-kind"] == "human"


def test_evidence_manifest_lists_identity_csv(tmp_path: Path) -> None:
    prepared = prepare(hostile_inventory())
    catalogue = load_catalogue()
    soc2 = next(f for f in catalogue.frameworks if f.id == "SOC2")
    out = tmp_path / "evidence"
    evidence = write_evidence(prepared, prepared.snapshot_text.encode("utf-8"), catalogue, soc2,
                              out, Tracking())
    listed = {f["path"] for f in evidence.manifest["files"]}
    assert IDENTITY_FILENAME in listed and (out / IDENTITY_FILENAME).exists()
    assert json.loads((out / "manifest.json").read_text())["files"] == evidence.manifest["files"]
    assert "identity.csv" in (out / "README.txt").read_text(encoding="utf-8")
