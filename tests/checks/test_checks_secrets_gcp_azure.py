"""gcp.secrets.* and azure.secrets.*: plaintext secrets in GCP instance metadata, Azure VM user
data and Azure VM extension settings.

The inventories are hand-built with the detector's verdicts only (as the collectors store them):
the checks name key or extension, type, line and fingerprint, never a value; null verdicts and
failed reads are INCONCLUSIVE, never PASS.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from support import azure
from support.checks import only, run_one
from support.gcp import gcp_error, ginventory, instance

from posture.model import Asset, Severity, Status

GCP_CHECK = "gcp.secrets.instance_metadata_no_plaintext_secrets"
USER_DATA_CHECK = "azure.secrets.vm_user_data_no_plaintext_secrets"
EXTENSION_CHECK = "azure.secrets.vm_extension_settings_no_plaintext_secrets"
GCE = "compute.googleapis.com/Instance"
VM = "Microsoft.Compute/virtualMachines"
HIT = {"type": "Secret Keyword", "key": "startup-script", "line": 3, "fingerprint": "a54d082c"}


def _with(asset: Asset, **attrs: Any) -> Asset:
    return dataclasses.replace(asset, attrs={**asset.attrs, **attrs})


@pytest.mark.parametrize(
    ("hits", "expected"),
    [([], Status.PASS), ([HIT], Status.FAIL), (None, Status.INCONCLUSIVE)],
)
def test_gcp_instance_metadata(hits: Any, expected: Status) -> None:
    vm = _with(instance("app-1"), metadata_keys=["startup-script"], metadata_secrets=hits)
    finding = only(run_one(GCP_CHECK, ginventory(vm)))
    assert finding.status == expected
    if expected == Status.FAIL:
        assert finding.severity == Severity.HIGH
        assert finding.message == (
            "1 plaintext secret(s) in instance metadata: Secret Keyword (key startup-script, "
            "line 3, fingerprint a54d082c)"
        )
        assert finding.evidence["secrets"] == [HIT]


def test_gcp_failed_instance_listing_is_inconclusive() -> None:
    vm = _with(instance("app-1"), metadata_secrets=[])
    gap = gcp_error("compute", "instances.aggregatedList", (GCE,))
    findings = run_one(GCP_CHECK, ginventory(vm, errors=(gap,)))
    assert {f.status for f in findings} == {Status.INCONCLUSIVE}


def _vm(**attrs: Any) -> Asset:
    return _with(azure.vm("vm-web"), **attrs)


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([], Status.PASS),
        ([{**HIT, "key": None}], Status.FAIL),
        (None, Status.INCONCLUSIVE),
    ],
)
def test_azure_user_data(hits: Any, expected: Status) -> None:
    vm = _vm(user_data_present=hits is not None, user_data_secrets=hits)
    finding = only(run_one(USER_DATA_CHECK, azure.inventory(vm)))
    assert finding.status == expected
    if expected == Status.FAIL:
        assert "Secret Keyword (line 3, fingerprint a54d082c)" in finding.message


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        ([], Status.PASS),
        (
            [{"extension": "CustomScript", "key": "fileUris[0]", "line": None,
              "type": "Azure Storage SAS Token", "fingerprint": "0badf00d"}],
            Status.FAIL,
        ),
        (None, Status.INCONCLUSIVE),
    ],
)
def test_azure_extension_settings(hits: Any, expected: Status) -> None:
    vm = _vm(extensions=[] if hits is None else [{"name": "CustomScript"}], extension_secrets=hits)
    finding = only(run_one(EXTENSION_CHECK, azure.inventory(vm)))
    assert finding.status == expected
    if expected == Status.FAIL:
        assert (
            "Azure Storage SAS Token (extension CustomScript, setting fileUris[0], "
            "fingerprint 0badf00d)" in finding.message
        )


def test_azure_a_failed_read_affects_only_its_own_check() -> None:
    vm = _vm(user_data_secrets=[], extension_secrets=[])
    gap = azure.error(
        "compute", "VirtualMachineExtensions_List", (f"{VM}#extensions",), resource_uid=vm.uid,
        region="westeurope",
    )
    inv = azure.inventory(vm, errors=(gap,))
    assert only(run_one(EXTENSION_CHECK, inv)).status == Status.INCONCLUSIVE
    assert only(run_one(USER_DATA_CHECK, inv)).status == Status.PASS
    listing = azure.error("compute", "VirtualMachines_ListAll", (VM,))
    inv = azure.inventory(vm, errors=(listing,))
    for check_id in (USER_DATA_CHECK, EXTENSION_CHECK):
        assert {f.status for f in run_one(check_id, inv)} == {Status.INCONCLUSIVE}
