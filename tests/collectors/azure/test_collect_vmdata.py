"""VM user data (``$expand=userData``) and VM extension settings with the real
azure-mgmt-compute client against the loopback HTTPS fake of ARM: verdicts kept, values never
stored, failed reads recorded with their facet and left null."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from support.azure import SUB
from support.azure_collect import collect_fake, collect_fresh

from posture.collectors.azure.collector import role_definition
from posture.collectors.azure.compute_vmdata import (
    VmData,
    extension_hits,
    flatten_settings,
    normalize_extension,
    redact_vm,
    vm_data_attrs,
)
from posture.collectors.secrets import REDACTED, fingerprint
from posture.demo.azure_fake import FakeArm
from posture.model import Asset, Inventory

VMS = f"/subscriptions/{SUB}/resourcegroups/rg-prod/providers/microsoft.compute/virtualmachines"
USER_DATA_SECRET = "Kp4wR8tN2vX6zQ9m"  # vm-web's recorded user data
SAS_SIGNATURE = "Vb7Qm2Xc9Lr4Tz8Wk1Np5Hs3Jd6Fg0Ae/yU1iO7pL3k="  # vm-app's CustomScript fileUris
SECRET_ATTRS = ("user_data_present", "user_data_secrets", "extensions", "extension_secrets")


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    return collect_fresh(tmp_path_factory.mktemp("tls"))


def _vm(inv: Inventory, name: str) -> Asset:
    vm = inv.get(f"{VMS}/{name}")
    assert vm is not None
    return vm


def test_user_data_is_read_with_expand_and_scanned(estate: Inventory) -> None:
    web = _vm(estate, "vm-web")
    assert web.attr("user_data_present") is True  # the fake answers userData to $expand only
    assert web.attr("user_data_secrets") == [
        {
            "type": "Secret Keyword",
            "key": None,
            "line": 3,
            "fingerprint": fingerprint(USER_DATA_SECRET, SUB),
        }
    ]
    assert web.attr("extensions") == [] and web.attr("extension_secrets") == []


def test_extension_settings_are_scanned_and_only_names_kept(estate: Inventory) -> None:
    app = _vm(estate, "vm-app")
    assert (app.attr("user_data_present"), app.attr("user_data_secrets")) == (False, [])
    assert app.attr("extensions") == [
        {
            "name": "AzureMonitorLinuxAgent",
            "publisher": "Microsoft.Azure.Monitor",
            "type": "AzureMonitorLinuxAgent",
            "type_handler_version": "1.33",
            "provisioning_state": "Succeeded",
            "setting_names": [
                "authentication.managedIdentity.identifier-name",
                "authentication.managedIdentity.identifier-value",
            ],
            "protected_settings_from_key_vault": False,
        },
        {
            "name": "CustomScript",
            "publisher": "Microsoft.Azure.Extensions",
            "type": "CustomScript",
            "type_handler_version": "2.1",
            "provisioning_state": "Succeeded",
            "setting_names": ["commandToExecute", "fileUris[0]"],
            "protected_settings_from_key_vault": False,
        },
    ]
    assert app.attr("extension_secrets") == [
        {
            "extension": "CustomScript",
            "type": "Azure Storage SAS Token",
            "key": "fileUris[0]",
            "line": None,
            "fingerprint": fingerprint(SAS_SIGNATURE, SUB),
        }
    ]
    clean = {n: [_vm(estate, n).attr(a) for a in SECRET_ATTRS] for n in ("vm-private", "vm-fw")}
    assert clean == {n: [False, [], [], []] for n in clean}


def test_no_value_reaches_the_inventory(estate: Inventory) -> None:
    text = json.dumps([[a.raw, dict(a.attrs)] for a in estate.assets])
    for value in (USER_DATA_SECRET, SAS_SIGNATURE, "Vb7Qm2Xc9Lr4Tz8Wk1Np5Hs3Jd6Fg0Ae"):
        assert value not in text
    assert "userData" not in json.dumps(_vm(estate, "vm-web").raw)  # raw is the listing payload


def test_denied_extension_listing_is_recorded_and_only_extensions_are_unknown(
    fake: FakeArm,
) -> None:
    fake.fail(f"{VMS}/vm-app/extensions", 403, "AuthorizationFailed", "no extensions/read")
    inv = collect_fake(fake)
    (err,) = inv.errors
    assert (err.service, err.operation, err.code, err.resource_uid, err.asset_types) == (
        "compute",
        "VirtualMachineExtensions_List",
        "AuthorizationFailed",
        f"{VMS}/vm-app",
        ("Microsoft.Compute/virtualMachines#extensions",),
    )
    assert err.region == "westeurope"
    app = _vm(inv, "vm-app")
    assert [app.attr(a) for a in SECRET_ATTRS] == [False, [], None, None]


def test_denied_vm_get_leaves_user_data_unknown(fake: FakeArm) -> None:
    fake.fail(f"{VMS}/vm-web", 403, "AuthorizationFailed", "denied")  # the GET and its extensions
    inv = collect_fake(fake)
    assert sorted((e.operation, e.asset_types) for e in inv.errors) == [
        ("VirtualMachineExtensions_List", ("Microsoft.Compute/virtualMachines#extensions",)),
        ("VirtualMachines_Get", ("Microsoft.Compute/virtualMachines#user_data",)),
    ]
    web = _vm(inv, "vm-web")
    assert [web.attr(a) for a in SECRET_ATTRS] == [None, None, None, None]
    assert web.attr("vm_size") == "Standard_B2s"  # the listing is kept


def test_the_extension_read_permission_is_declared() -> None:
    actions = role_definition()["Actions"]
    assert "Microsoft.Compute/virtualMachines/extensions/read" in actions
    assert "Microsoft.Compute/virtualMachines/read" in actions


def _extension(settings: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {
        "name": "CustomScriptExtension",
        "properties": {"publisher": "Microsoft.Compute", "type": "CustomScriptExtension",
                       "settings": settings, **props},
    }


def test_a_base64_script_setting_is_decoded_and_scanned_by_line() -> None:
    script = "#!/bin/bash\nset -e\nexport API_TOKEN_PASSWORD=Tx8mQ2vN5kW9pR3z\n"
    ext = _extension({"script": base64.b64encode(script.encode()).decode(),
                      "timestamp": 1700000000, "skipDos2Unix": False})
    assert [(h["extension"], h["key"], h["line"]) for h in extension_hits(ext, SUB)] == [
        ("CustomScriptExtension", "script", 3)
    ]
    assert sorted(flatten_settings(ext["properties"]["settings"])) == [
        "script", "skipDos2Unix", "timestamp"
    ]


def test_key_vault_protected_settings_are_named_and_a_command_password_flagged() -> None:
    ext = _extension(
        {"commandToExecute": "DB_PASSWORD=Tx8mQ2vN5kW9pR3z ./setup.sh"},
        protectedSettingsFromKeyVault={"secretUrl": "https://kv.vault.azure.net/secrets/s/1"},
    )
    assert normalize_extension(ext)["protected_settings_from_key_vault"] is True
    attrs = vm_data_attrs(VmData("", [ext]), SUB)
    assert [(h["key"], h["type"]) for h in attrs["extension_secrets"]] == [
        ("commandToExecute", "Secret Keyword")
    ]
    assert vm_data_attrs(VmData(None, None), SUB) == dict.fromkeys(SECRET_ATTRS)


def test_redact_vm_replaces_every_carrier_of_a_value() -> None:
    vm = {
        "id": f"{VMS}/vm-x",
        "properties": {"userData": "c2VjcmV0", "osProfile": {"customData": "c2VjcmV0",
                                                             "computerName": "x"}},
        "resources": [_extension({"commandToExecute": "x"}, protectedSettings={"a": "b"})],
    }
    out = redact_vm(vm)
    assert out["properties"]["userData"] == REDACTED
    assert out["properties"]["osProfile"] == {"customData": REDACTED, "computerName": "x"}
    ext = out["resources"][0]["properties"]
    assert (ext["settings"], ext["protectedSettings"], ext["publisher"]) == (
        REDACTED, REDACTED, "Microsoft.Compute"
    )
    assert vm["properties"]["userData"] == "c2VjcmV0"  # the payload itself is not mutated
