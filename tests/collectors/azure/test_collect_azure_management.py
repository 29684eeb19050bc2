"""``--management-group``: the real subscription client's pipeline against the HTTPS fake of
ARM lists the group's descendants (two pages), every subscription below is scanned (union with
``--subscription``, deduplicated), the hierarchy is kept as assets, a group that cannot be read
is a one-line error or a collection error, and an Owner assigned at a management group covers
exactly the subscriptions below it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.azure import DEV, SUB
from support.azure_collect import collect_fake
from support.checks import run_one

from posture.collectors.azure.collector import all_permissions
from posture.demo.azure_fake import FakeArm, fixtures_root
from posture.errors import CollectorError
from posture.iam.azure import RbacIndex
from posture.iam.azure_roles import OWNER, Power
from posture.model import Status

MG = "/providers/microsoft.management/managementgroups"
ALICE = "a11ce000-0000-0000-0000-0000000000mg"


def test_management_group_expands_to_every_subscription_below(fake: FakeArm) -> None:
    inv = collect_fake(fake, management_groups=("mg-contoso",), subscriptions=(SUB.upper(),))
    assert inv.meta.accounts == (SUB, DEV)  # union with --subscription, deduplicated
    groups = {a.uid: a for a in inv.of("Microsoft.Management/managementGroups")}
    assert {uid: (a.name, a.attr("parent"), a.attr("subscriptions")) for uid, a in
            groups.items()} == {
        f"{MG}/mg-contoso": ("mg-contoso", None, [SUB, DEV]),
        f"{MG}/mg-prod": ("Contoso production", f"{MG}/mg-contoso", [SUB]),
        f"{MG}/mg-dev": ("Contoso development", f"{MG}/mg-contoso", [DEV]),
    }
    assert not [e for e in inv.errors if e.service == "managementgroups"]
    assert "Microsoft.Management/managementGroups/read" in all_permissions()


def test_unreadable_management_group(fake: FakeArm) -> None:
    fake.fail("/providers/microsoft.management", 403, "AuthorizationFailed", "no access")
    with pytest.raises(CollectorError, match=r"^cannot read the management group: .*"
                       r"AuthorizationFailed"):
        collect_fake(fake, management_groups=("mg-contoso",))
    inv = collect_fake(fake, management_groups=("mg-contoso",), subscriptions=(DEV,))
    assert inv.meta.accounts == (DEV,)
    assert [(e.account, e.operation, e.code, e.resource_uid) for e in inv.errors
            if e.service == "managementgroups"] == [
        ("managementGroups/mg-contoso", "ManagementGroups_GetDescendants",
         "AuthorizationFailed", f"{MG}/mg-contoso")
    ]


def _assignment(group: str, principal: str, guid: str) -> dict[str, object]:
    scope = f"/providers/Microsoft.Management/managementGroups/{group}"
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}",
        "type": "Microsoft.Authorization/roleAssignments",
        "name": guid,
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
            "principalId": principal,
            "principalType": "User",
            "scope": scope,
            "createdOn": "2025-01-01T00:00:00.0000000Z",
        },
    }


def test_owner_at_a_management_group_covers_exactly_the_subscriptions_below(
    tmp_path: Path,
) -> None:
    root = tmp_path / "arm"
    shutil.copytree(fixtures_root(), root)
    auth = "providers/microsoft.authorization"
    prod = root / "subscriptions" / SUB / auth / "roleassignments.json"
    listing = json.loads(prod.read_text(encoding="utf-8"))
    listing["value"].append(_assignment("mg-prod", ALICE, "c0000000-0000-0000-0000-00000000a11c"))
    prod.write_text(json.dumps(listing), encoding="utf-8")
    dev = root / "subscriptions" / DEV / auth
    dev.mkdir(parents=True, exist_ok=True)
    (dev / "roleassignments.json").write_text(json.dumps({"value": []}), encoding="utf-8")
    with FakeArm(tmp_path / "tls", root) as fake:
        inv = collect_fake(fake, management_groups=("mg-contoso",))
    index = RbacIndex(inv)
    assert Power.OWNER in index.held(ALICE, f"/subscriptions/{SUB}/resourcegroups/rg-prod")
    assert Power.OWNER not in index.held(ALICE, f"/subscriptions/{DEV}")  # mg-dev's, not mg-prod
    found = [f for f in run_one("azure.iam.no_standing_privileged_roles", inv)
             if ALICE in f.message]
    assert [(f.status, f.evidence.get("inherited_by")) for f in found] == [
        (Status.FAIL, [SUB])
    ]
    assert "at management_group scope, inherited by subscription(s) " + SUB in found[0].message
