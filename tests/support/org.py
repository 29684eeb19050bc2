"""Builders for the organisation context the executor injects into a member's snapshot: the
AWS Organization, the member account with its OU path, and the SCPs attached on that path; and
what every cloud's organisation scan promises: ``posture audit DIR`` reproduces its reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posture.model import Asset

from .aws import ACCOUNT, asset
from .iam import doc

ORG_ID = "o-exampleorg1"
MANAGEMENT = "999999999999"
SIBLING = "222233334444"  # another member of the organisation
OUTSIDER = "777788889999"  # an account outside it
ROOT = "r-ab12"
SANDBOX = "ou-ab12-sandbox1"
PATH = ((ROOT, "Root", "ROOT"), (SANDBOX, "Sandbox", "ORGANIZATIONAL_UNIT"))
LEVELS = (ROOT, SANDBOX, ACCOUNT)


def organization(
    *, scps_known: bool = True, trails_known: bool = True, feature_set: str = "ALL"
) -> Asset:
    accounts = [
        {"id": MANAGEMENT, "name": "management", "status": "ACTIVE", "ou_path": []},
        {"id": ACCOUNT, "name": "sandbox-1", "status": "ACTIVE", "ou_path": ["Root", "Sandbox"]},
        {"id": SIBLING, "name": "prod-1", "status": "ACTIVE", "ou_path": ["Root", "Prod"]},
    ]
    return asset(
        "AWS::Organizations::Organization",
        f"arn:aws:organizations::{MANAGEMENT}:organization/{ORG_ID}",
        name=ORG_ID,
        region="global",
        account=MANAGEMENT,
        id=ORG_ID,
        management_account_id=MANAGEMENT,
        feature_set=feature_set,
        accounts=accounts,
        scps_known=scps_known,
        trails_known=trails_known,
    )


def member(
    account: str = ACCOUNT,
    *,
    path: tuple[tuple[str, str, str], ...] = PATH,
    management: bool = False,
    trails: list[dict[str, Any]] | None = None,
) -> Asset:
    return asset(
        "AWS::Organizations::Account",
        f"arn:aws:organizations::{MANAGEMENT}:account/{ORG_ID}/{account}",
        name="management" if management else "sandbox-1",
        region="global",
        account=account,
        id=account,
        email=f"aws+{account}@example.com",
        status="ACTIVE",
        management=management,
        parent_path=[{"id": i, "name": n, "type": t} for i, n, t in path],
        organization_trails=trails,
    )


def scp(name: str, *statements: dict[str, Any], targets: tuple[str, ...] = LEVELS) -> Asset:
    pid = f"p-{name.lower()[:8]}"
    uid = f"arn:aws:organizations::{MANAGEMENT}:policy/{ORG_ID}/service_control_policy/{pid}"
    return asset(
        "AWS::Organizations::Policy",
        uid,
        name=name,
        region="global",
        account=MANAGEMENT,
        id=pid,
        type="SERVICE_CONTROL_POLICY",
        aws_managed=name == "FullAWSAccess",
        document=doc(*statements),
        targets=list(targets),
    )


def full_access(targets: tuple[str, ...] = LEVELS) -> Asset:
    return scp("FullAWSAccess", {"Effect": "Allow", "Action": "*", "Resource": "*"},
               targets=targets)


def org_trail(*, logging: bool = True, multi_region: bool = True) -> dict[str, Any]:
    return {
        "arn": f"arn:aws:cloudtrail:us-east-1:{MANAGEMENT}:trail/org-trail",
        "name": "org-trail",
        "home_region": "us-east-1",
        "multi_region": multi_region,
        "logging": logging,
    }


def context(*scps: Asset, management: bool = False, **org: Any) -> list[Asset]:
    """The organisation, the scanned account (a sandbox member, or the management account) and
    the SCPs on its path (FullAWSAccess everywhere when none are given)."""
    return [organization(**org), member(ACCOUNT, management=management),
            *(scps or (full_access(),))]


def findings_doc(out: Path) -> dict[str, Any]:
    """The findings.json a run wrote in ``out``."""
    doc: dict[str, Any] = json.loads((out / "findings.json").read_text())
    return doc


def assert_audit_reproduces(snap: Path, out: Path, into: Path, exit_code: int) -> None:
    """``posture audit <snap>`` (an organisation's snapshot directory) into ``into`` exits
    ``exit_code`` and writes the very reports the scan wrote in ``out``, byte for byte."""
    from typer.testing import CliRunner

    from posture.cli.main import app

    result = CliRunner().invoke(app, ["audit", str(snap), "-o", str(into), "-q"])
    assert result.exit_code == exit_code, result.output
    written = sorted(p.name for p in out.iterdir())
    assert sorted(p.name for p in into.iterdir()) == written
    assert {"findings.json", "findings.csv", "report.html"} <= set(written)
    for name in written:
        assert (into / name).read_bytes() == (out / name).read_bytes(), name
