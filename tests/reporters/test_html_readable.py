"""report.html as read and printed: path labels wrapped not cut, the internet end labelled with
the range admitting it, the path open under a failing row, evidence as escaped tables, check
ids breaking only between words, Azure principals by display name, GCP zones kept out of the
region column, and the depth table in each cloud's own terms."""

from __future__ import annotations

import re
from dataclasses import replace

from support.reports import META, XSS_CLOSE, XSS_IMG, XSS_SCRIPT, finding, report

from posture.identity.model import IdentityView
from posture.model import Provider, Status
from posture.reporters import OutputFormat, reporter_for
from posture.reporters.html_evidence import MAX_ROWS, evidence_view
from posture.reporters.html_paths import LABEL_CHARS, diagrams, fit, one_sentence
from posture.reporters.html_reporter import display_names, named, region_of

ARN = "arn:aws:iam::123456789012:user/department/payments/deploy-bot-eu-west"


def html_of(*findings: object, **changes: object) -> str:
    rep = replace(report(*findings), **changes)  # type: ignore[arg-type]
    return reporter_for(OutputFormat.HTML).render(rep).decode("utf-8")


def test_long_ids_wrap_over_lines_and_keep_their_tail() -> None:
    (d,) = diagrams({"path": [{"kind": "user", "id": ARN}, {"kind": "", "id": "posture:admin"}]})
    first = d["boxes"][0]
    assert first["lines"][0] == "user"
    assert "".join(first["lines"][1:]) == ARN  # whole, over lines: the user name is there
    assert all(len(line) <= LABEL_CHARS for line in first["lines"])
    assert first["title"].startswith(f"user {ARN}")
    # past three lines an id is shortened in the middle: its distinctive tail stays
    huge = "arn:aws:iam::123456789012:role/" + "x" * 200 + "/the-role-name"
    lines = fit(huge, LABEL_CHARS, 3)
    assert len(lines) == 3 and "".join(lines).endswith("the-role-name")
    assert "…" in "".join(lines) and "".join(lines).startswith("arn:aws")
    # a box is as tall as its lines: every text line lies inside it
    for box in d["boxes"]:
        assert all(box["y"] < t["y"] < box["y"] + box["h"] for t in box["texts"])


def test_internet_end_names_the_admitting_range() -> None:
    hops = [
        {"kind": "internet", "id": "11.0.0.0"},
        {"kind": "internet-gateway", "id": "igw-1"},
        {"kind": "network-acl", "id": "acl-1", "detail": "inbound: rule 100 allow all traffic "
         "from 0.0.0.0/0", "rule": {"peer": "0.0.0.0/0", "peer_word": "from"}},
        {"kind": "network-acl (return traffic)", "id": "acl-1",
         "rule": {"peer": "11.0.0.0/8", "peer_word": "to"}},  # the replies' rule: not the range
        {"kind": "security-group", "id": "sg-1", "detail": "inbound: allow tcp/22 from "
         "11.0.0.0/8", "rule": {"peer": "11.0.0.0/8", "peer_word": "from"}},
        {"kind": "security-group", "id": "sg-2", "rule": {"peer": "10.0.0.0/8"}},  # not 11.x
    ]
    (d,) = diagrams({"paths": [{"hops": hops}]})
    assert (d["boxes"][0]["label"], d["boxes"][0]["rule"]) == (
        "internet 11.0.0.0/8", "e.g. client 11.0.0.0")
    assert d["label"].startswith("path: internet 11.0.0.0/8 → internet-gateway igw-1")
    # GCP: the range is the source ranges of the firewall rule named beside the hops
    gcp = {"firewall_rule": {"source_ranges": ["0.0.0.0/0"]},
           "path": [{"kind": "internet", "id": "35.236.0.0"}, {"kind": "external IP",
                                                               "id": "34.70.0.1"}]}
    (g,) = diagrams({"paths": [gcp]})
    assert g["boxes"][0]["label"] == "internet 0.0.0.0/0"
    # Azure's {"kind": "internet", "id": "Internet"} reads "internet", not "internet Internet"
    (a,) = diagrams({"path": [{"kind": "internet", "id": "Internet"}, {"id": "vm"}]})
    assert a["boxes"][0]["label"] == "internet"


def test_message_column_keeps_one_sentence_when_the_path_is_drawn() -> None:
    long = ("administrative ports reachable from the internet on tcp/22; path: internet "
            "11.0.0.0 -> internet-gateway igw-1 -> security-group sg-1 [allow tcp/22]")
    assert one_sentence(long) == "administrative ports reachable from the internet on tcp/22"
    assert one_sentence("a. B c.") == "a."
    assert one_sentence("e.g. a path") == "e.g. a path"
    evidence = {"paths": [{"hops": [{"kind": "internet", "id": "11.0.0.0"},
                                    {"kind": "instance", "id": "i-1"}]}]}
    html = html_of(finding(1, message=long, evidence=evidence))
    row = re.search(r'<tr data-i="0".*?</tr>', html, re.S)
    assert row and "administrative ports reachable from the internet on tcp/22<details>" in (
        row.group(0))
    assert 'class="small full-message">' + long.replace(">", "&gt;") in row.group(0)
    # the diagram is drawn open, full width, in the row under the finding's row
    assert re.search(r'</tr>\s*<tr class="path-row" data-path-for="0"><td colspan="6">'
                     r'<div class="path-wrap screen-only"><svg class="path"', html)
    assert '<div class="path-wrap print-only"><svg class="path"' in html  # 3 boxes a row


def test_passing_paths_stay_in_the_details() -> None:
    evidence = {"path": [{"kind": "internet", "id": "x"}, {"kind": "host", "id": "h"}]}
    html = html_of(finding(1, status=Status.PASS, evidence=evidence))
    assert 'class="path-row"' not in html and '<div class="path-wrap"><svg' in html


def test_evidence_renders_as_tables_and_escapes_names() -> None:
    evidence = {
        "tags": {"Name": XSS_SCRIPT, "x": XSS_CLOSE},
        "rules": [{"peer": "0.0.0.0/0", "port": 22}, {"peer": XSS_IMG, "note": None}],
        "ports": [22, 3389],
        "empty": [],
        "flag": True,
    }
    view = evidence_view(evidence)
    assert view is not None and view["t"] == "map"
    rows = {r["k"]: r["v"] for r in view["rows"]}
    assert rows["tags"]["t"] == "map"
    assert rows["rules"]["t"] == "table" and rows["rules"]["cols"] == ["peer", "port", "note"]
    assert rows["ports"] == {"t": "text", "v": "22, 3389", "none": False}
    assert rows["empty"]["none"] and rows["flag"]["v"] == "true"
    assert evidence_view({}) is None
    # mappings holding nested values: a numbered list of key/value tables, not nested columns
    nested = evidence_view({"paths": [{"port": 22, "hops": [{"kind": "internet"}]}]})
    assert nested is not None and nested["rows"][0]["v"]["t"] == "list"
    assert nested["rows"][0]["v"]["entries"][0]["t"] == "map"
    many = evidence_view({"xs": [{"n": n} for n in range(MAX_ROWS + 5)]})
    assert many is not None and many["rows"][0]["v"]["more"] == 5
    html = html_of(finding(1, evidence=evidence))
    assert "<pre>" not in html
    assert '<table class="ev ev-table"><thead><tr><th>peer</th><th>port</th><th>note</th>' in html
    assert "<tr><th>Name</th><td><span class=\"ev-text\">&lt;script&gt;alert(1)&lt;/script&gt;" \
        in html
    assert XSS_SCRIPT not in html and XSS_IMG not in html and "<script>alert" not in html


def test_check_ids_break_only_between_words() -> None:
    html = html_of(finding(1, check_id="aws.network.admin_ports_not_internet_reachable"))
    assert ('<code class="check-id">aws.<wbr>network.<wbr>admin_<wbr>ports_<wbr>not_<wbr>'
            "internet_<wbr>reachable</code>") in html


def test_gcp_zones_are_in_their_region() -> None:
    assert region_of("us-central1-a") == ("us-central1", "us-central1-a")
    assert region_of("us-central1") == ("us-central1", "")
    assert region_of("eu-west-1") == ("eu-west-1", "")  # an AWS region is no zone
    assert region_of("global") == ("global", "")
    meta = replace(META, provider=Provider.GCP, regions=("global", "us-central1",
                                                         "us-central1-a", "us-east1-b"))
    html = html_of(finding(1, region="us-central1-a"), finding(2, region="us-central1"),
                   inventory_meta=meta)
    assert '<dt>Regions</dt><dd class="mono">global, us-central1, us-east1</dd>' in html
    assert '<dd class="mono" id="scan-zones">us-central1-a, us-east1-b</dd>' in html
    options = re.search(r'<select id="f-region">(.*?)</select>', html)
    assert options and "us-central1-a" not in options.group(1)
    assert '<br>us-central1<br><span class="small">zone us-central1-a</span>' in html


def test_azure_principals_by_display_name() -> None:
    from posture.identity.model import Identity, Kind, Mfa, SignIn

    def ident(uid: str, name: str) -> Identity:
        return Identity("azure", "t", uid, name, Kind.HUMAN, SignIn.UNKNOWN, "", Mfa.UNKNOWN, "")

    known = "a11ce000-0000-0000-0000-000000000001"
    view = IdentityView("azure", (
        ident(f"/tenants/t/users/{known}", f"Alice {XSS_SCRIPT}"),
        ident("group:9a0a0000-0000-0000-0000-000000000007",
              "group 9a0a0000-0000-0000-0000-000000000007"),  # no name known: the id stays
    ), ())
    meta = replace(META, provider=Provider.AZURE)
    rep = replace(report(), identity=view, inventory_meta=meta)
    names = display_names(rep)
    assert names == {known: f"Alice {XSS_SCRIPT}"}
    assert named(f"Owner → {known.upper()}", names) == f"Owner → Alice {XSS_SCRIPT}"
    other = "Owner → 9a0a0000-0000-0000-0000-000000000007"
    assert named(other, names) == other
    path = {"path": [{"kind": "user", "id": known}, {"kind": "role", "id": "Owner"}]}
    html = html_of(finding(1, name=f"Owner → {known}", evidence=path), finding(2, name=other),
                   identity=view, inventory_meta=meta)
    # in the path diagram too: the name in the box, the object id in its tooltip
    assert 'data-label="user Alice &lt;script&gt;alert(1)&lt;/script&gt;"><title>user Alice ' \
        f"&lt;script&gt;alert(1)&lt;/script&gt;\nuser {known}</title>" in html
    assert (f'<b class="resource-name" title="Owner → {known}">Owner → Alice '
            "&lt;script&gt;alert(1)&lt;/script&gt;</b>") in html
    assert f'<b class="resource-name">{other}</b>' in html
    # an AWS report never renames
    assert display_names(replace(rep, inventory_meta=META)) == {}


def test_depth_table_speaks_each_clouds_terms() -> None:
    azure = "azure.network.sensitive_ports_defense_in_depth"
    change = {"layer": "public-address", "resource": "nic-1/ipconfig1", "rule": "none"}
    html = html_of(finding(1, check_id=azure, evidence={"depth": 1, "port": 22,
                                                         "changes": [change]}))
    section = html[html.index('<section id="defense-depth">'):]
    section = section[: section.index("</section>")]
    assert "public IP, load-balancer rule or inbound NAT rule, firewall DNAT, subnet NSG" in (
        section)
    assert "network ACL" not in section and "internet-gateway" not in section
    assert "<li>public IP nic-1/ipconfig1: none</li>" in section
    aws = html_of(finding(1, evidence={"depth": 1, "port": 22, "changes": [change]}))
    assert "public address, internet-gateway route, network ACL, security group" in aws
