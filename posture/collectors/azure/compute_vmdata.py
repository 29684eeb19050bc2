"""VM user data and VM extension settings, scanned for plaintext secrets (attrs as in
``docs/azure-assets.md``).

ARM returns a VM's ``userData`` (base64) only on a GET with ``$expand=userData``, and each
extension's public ``settings`` (CustomScript ``commandToExecute``, ``script``, ``fileUris``
with SAS tokens, ...) in the extension listing; ``protectedSettings`` and ``osProfile.customData``
are never returned. Both are readable by anyone with read access to the VM. Only the detector's
verdicts are kept (``user_data_secrets``, ``extension_secrets``), with which extensions exist
(name, publisher, type) and their setting names; the values never reach the snapshot, and the
VM's ``raw`` payload has every such field replaced by the redaction marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posture.collectors.azure.base import (
    NOT_FOUND,
    SubscriptionScope,
    props,
    region_of,
    resource_group,
    rid,
)
from posture.collectors.secrets import (
    REDACTED,
    Hit,
    decode_base64_text,
    scan_text,
    scan_values,
)

VM = "Microsoft.Compute/virtualMachines"
USER_DATA_FACET = f"{VM}#user_data"
EXTENSIONS_FACET = f"{VM}#extensions"

PERMISSIONS = ("Microsoft.Compute/virtualMachines/extensions/read",)
"""Besides ``virtualMachines/read``, which also returns ``userData`` on ``$expand=userData``."""

_SCRIPT_FIELDS = frozenset({"script"})  # CustomScript: a (gzipped) base64 script, or plain text


@dataclass(frozen=True, slots=True)
class VmData:
    """What the detail calls of one VM returned; ``None`` = the call failed (recorded)."""

    user_data: str | None
    extensions: list[dict[str, Any]] | None


def fetch_vm_data(scope: SubscriptionScope, client: Any, item: Mapping[str, Any]) -> VmData:
    """The VM's decoded user data ('' if none) and its extensions (ARM JSON)."""
    uid, region = str(rid(item["id"])), region_of(item)
    group, name = resource_group(item["id"]), str(item["name"])
    got = scope.get(
        "compute",
        "VirtualMachines_Get",
        (USER_DATA_FACET,),
        lambda: client.virtual_machines.get(group, name, expand="userData"),
        region=region,
        resource_uid=uid,
    )
    user_data = None
    if got is not None and got is not NOT_FOUND:  # NOT_FOUND: deleted since it was listed
        user_data = decode_base64_text(str(props(got).get("userData") or ""))
    extensions = scope.listing(
        "compute",
        "VirtualMachineExtensions_List",
        (EXTENSIONS_FACET,),
        lambda: client.virtual_machine_extensions.list(group, name).value or [],
        region=region,
        resource_uid=uid,
    )
    return VmData(user_data, extensions)


def flatten_settings(value: Any, path: str = "") -> dict[str, str]:
    """Every scalar of an extension's ``settings`` by its path (``fileUris[0]``,
    ``commandToExecute``); a CustomScript ``script`` given in base64 is decoded."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten_settings(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten_settings(item, f"{path}[{i}]"))
        return out
    if value is None:
        return {}
    text = str(value)
    if path.rsplit(".", 1)[-1] in _SCRIPT_FIELDS:
        text = decode_base64_text(text, strict=True)
    return {path: text}


def normalize_extension(item: Mapping[str, Any]) -> dict[str, Any]:
    p = props(item)
    return {
        "name": item.get("name"),
        "publisher": p.get("publisher"),
        "type": p.get("type"),
        "type_handler_version": p.get("typeHandlerVersion"),
        "provisioning_state": p.get("provisioningState"),
        "setting_names": sorted(flatten_settings(p.get("settings") or {})),
        "protected_settings_from_key_vault": bool(p.get("protectedSettingsFromKeyVault")),
    }


def extension_hits(item: Mapping[str, Any], subscription: str) -> list[Hit]:
    """Verdicts on one extension's public settings, each naming the extension."""
    values = flatten_settings(props(item).get("settings") or {})
    return [{"extension": item.get("name"), **h} for h in scan_values(values, subscription)]


def vm_data_attrs(data: VmData, subscription: str) -> dict[str, Any]:
    """``user_data_present``, ``user_data_secrets``, ``extensions``, ``extension_secrets``
    (null where the call failed: never an empty list for data not seen)."""
    text, extensions = data.user_data, data.extensions
    ordered = sorted(extensions or [], key=lambda e: str(e.get("name")))
    return {
        "user_data_present": None if text is None else bool(text.strip()),
        "user_data_secrets": None if text is None else scan_text(text, subscription),
        "extensions": None if extensions is None else [normalize_extension(e) for e in ordered],
        "extension_secrets": None
        if extensions is None
        else [h for e in ordered for h in extension_hits(e, subscription)],
    }


def redact_vm(item: Mapping[str, Any]) -> dict[str, Any]:
    """The VM payload with ``userData``, ``osProfile.customData`` and the settings of any
    embedded extension (``resources``) replaced by the redaction marker."""
    out = dict(item)
    p = dict(props(item))
    if "userData" in p:
        p["userData"] = REDACTED
    profile = p.get("osProfile")
    if isinstance(profile, Mapping) and "customData" in profile:
        p["osProfile"] = {**profile, "customData": REDACTED}
    if "properties" in item:
        out["properties"] = p
    if isinstance(item.get("resources"), list):
        out["resources"] = [_redact_extension(r) for r in item["resources"]]
    return out


def _redact_extension(resource: Any) -> Any:
    if not isinstance(resource, Mapping) or not isinstance(resource.get("properties"), Mapping):
        return resource
    p = dict(resource["properties"])
    for key in ("settings", "protectedSettings"):
        if key in p:
            p[key] = REDACTED
    return {**resource, "properties": p}
