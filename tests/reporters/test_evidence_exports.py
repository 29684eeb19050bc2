"""controls.csv, the check-catalogue version and the path diagrams of the HTML report."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

from support.reports import SOC2, finding, report

from posture.model import Severity, Status
from posture.registry import load_catalogue
from posture.reporters import OutputFormat, reporter_for
from posture.reporters.controls_reporter import HEADER
from posture.reporters.html_paths import LABEL_CHARS, PER_ROW, diagrams


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_controls_csv_one_row_per_control() -> None:
    mapped = replace(SOC2, checks_by_control={"CC7.2": ("aws.audit.trail_on", "gcp.audit.x")})
    rep = replace(
        report(
            finding(1),
            finding(2, status=Status.PASS),
            finding(
                3,
                status=Status.EXCEPTED,
                controls={"SOC2": ("CC6.7",)},
                check_id="aws.transit.tls",
                title="=cmd",
            ),
        ),
        frameworks=(mapped,),
    )
    rows = _rows(reporter_for(OutputFormat.CONTROLS).render(rep))
    assert tuple(rows[0]) == HEADER
    by_control = {r[1]: r for r in rows[1:]}
    assert list(by_control) == ["CC6.1", "CC6.6", "CC6.7", "CC7.2"]
    assert by_control["CC6.1"] == [
        "SOC2",
        "CC6.1",
        "Logical access security",
        "FAIL",
        "1",
        "1",
        "0",
        "0",
        "0",
        "aws.network.admin_ports_not_internet_reachable",
    ]
    assert by_control["CC6.7"][3:9] == ["EXCEPTED", "0", "0", "0", "0", "1"]
    # the framework's mapping for the scanned provider, even without findings
    assert by_control["CC7.2"][3:] == ["NO EVIDENCE", "0", "0", "0", "0", "0", "aws.audit.trail_on"]


def test_catalogue_version_is_stable_and_tracks_the_checks() -> None:
    catalogue = load_catalogue()
    version = catalogue.version()
    assert version == load_catalogue().version()
    first = catalogue.checks[0]
    changed = replace(
        first,
        spec=replace(first.spec, severity=Severity.INFO if first.spec.severity else Severity.LOW),
    )
    other = replace(catalogue, checks=(changed, *catalogue.checks[1:]))
    assert other.version() != version
    assert version.split("+")[1].startswith(f"c{len(catalogue.checks)}.")


def test_path_diagrams_are_generic() -> None:
    assert diagrams({"rule": 1}) == [] and diagrams("x") == [] and diagrams({"path": []}) == []
    hops = [
        {"kind": "internet", "id": "0.0.0.0/0"},
        {"kind": "sg", "id": "sg-1", "rule": "tcp/22"},
        "plain-string-hop",
        {"id": "i-1"},
    ]
    (d,) = diagrams({"path": hops})
    assert [b["label"] for b in d["boxes"]] == [
        "internet 0.0.0.0/0",
        "sg sg-1",
        "plain-string-hop",
        "i-1",
    ]
    assert [b["rule"] for b in d["boxes"]] == ["", "tcp/22", "", ""]
    assert len(d["arrows"]) == 3
    long = [{"kind": "hop", "id": str(n) * 40} for n in range(PER_ROW + 2)]
    many = diagrams({"paths": [long, {"path": hops}]})
    assert len(many) == 2
    wrapped = many[0]
    assert wrapped["boxes"][PER_ROW]["continued"] and wrapped["height"] > d["height"]
    # wrapped over lines, not cut: "hop" on one line, the 40-character id over two
    assert all(len(line) <= LABEL_CHARS for b in wrapped["boxes"] for line in b["lines"])
    assert wrapped["boxes"][0]["lines"] == ["hop", "0" * LABEL_CHARS, "0" * (40 - LABEL_CHARS)]
    assert wrapped["boxes"][0]["title"] == "hop " + "0" * 40


def test_path_diagrams_of_graph_and_identity_shapes() -> None:
    graph_path = {
        "summary": "x",
        "hops": [
            {"kind": "internet", "id": "0.0.0.0/0"},
            {
                "kind": "security group",
                "id": "sg-1",
                "detail": "inbound tcp/22",
                "rule": {"protocol": "tcp", "ports": "22"},
            },
            {"kind": "nacl", "id": "acl-1", "rule": {"protocol": "tcp", "ports": "22"}},
        ],
    }
    (d,) = diagrams({"exposed": [graph_path]})
    assert [b["rule"] for b in d["boxes"]] == ["", "inbound tcp/22", "protocol=tcp, ports=22"]
    steps = [
        {"from": "user/bob", "to": "role/admin", "technique": "sts:AssumeRole"},
        {"from": "role/admin", "to": "ADMIN", "technique": "iam:*"},
    ]
    (ident,) = diagrams({"path": "bob -> admin", "steps": steps})
    assert [(b["label"], b["rule"]) for b in ident["boxes"]] == [
        ("user/bob", ""),
        ("role/admin", "sts:AssumeRole"),
        ("ADMIN", "iam:*"),
    ]


def test_attack_path_is_drawn_alone_with_identity_hops_apart() -> None:
    network = [{"kind": "internet", "id": "11.0.0.0", "layer": "network"},
               {"kind": "port", "id": "tcp/443", "layer": "network"},
               {"kind": "asset", "id": "i-1", "layer": "network"}]
    identity = [{"kind": "role", "id": "web", "rule": "instance profile web",
                 "layer": "identity"},
                {"kind": "", "id": "administrator", "rule": "admin-policy", "layer": "identity"}]
    evidence = {"attack_path": network + identity,
                "paths": [{"hops": [{"kind": "internet", "id": "x"}]}],
                "identity": {"steps": [{"from": "web", "to": "ADMIN"}]}}
    (d,) = diagrams(evidence)  # the network path and the steps it joins are not drawn again
    assert [(b["label"], b["identity"]) for b in d["boxes"]] == [
        ("internet", False), ("port tcp/443", False), ("asset i-1", False),
        ("role web", True), ("administrator", True),
    ]
    # no rule along this path names the range admitting 11.0.0.0: the example client is said
    assert d["boxes"][0]["rule"] == "e.g. client 11.0.0.0"
    assert d["label"] == "path: internet → port tcp/443 → asset i-1 → role web → administrator"
    html = reporter_for(OutputFormat.HTML).render(report(finding(1, evidence=evidence))).decode()
    classes = re.findall(r'<g class="(hop[^"]*)"', html)  # on screen, then as printed
    assert [c.endswith(" identity") for c in classes] == 2 * ([False] * 3 + [True] * 2)
