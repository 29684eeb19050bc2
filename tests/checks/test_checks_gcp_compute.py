"""Compute Engine hardening on already-collected data: the default service account with full API
access graded by what reaches the machine, IP forwarding (labelled routers pass), the serial
console from the instance or the project's metadata, Shielded VM; GKE nodes are left to the GKE
checks; each PASS, FAIL and not collected."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.gcp import firewall, gasset, gcp_error, results, statuses
from support.gcp_platforms import DEFAULT_SA, FULL_SCOPE, vm

from posture.gcp import COMPUTE_PROJECT, IMAGE, INSTANCE
from posture.model import Asset, Severity, Status

SA = "gcp.compute.instance_default_sa_full_access"
LISTING_DENIED = gcp_error("compute", "instances.aggregatedList", (INSTANCE,))


def default_vm(name: str, **attrs: Any) -> Asset:
    return vm(name, service_accounts=(DEFAULT_SA,), scopes=[FULL_SCOPE], **attrs)


def test_default_account_with_full_access_graded_by_exposure() -> None:
    found = results(
        SA, default_vm("web"), default_vm("quiet"), default_vm("inside", external=False),
        vm("own", scopes=[FULL_SCOPE]),
        vm("narrow", service_accounts=(DEFAULT_SA,),
           scopes=["https://www.googleapis.com/auth/logging.write"]),
        default_vm("gke-node", labels={"goog-gke-node": ""}))
    assert set(found) == {"web", "quiet", "inside", "own", "narrow"}  # GKE nodes: GKE checks
    assert found["own"].status == found["narrow"].status == Status.PASS
    assert (found["quiet"].status, found["quiet"].severity) == (Status.FAIL, Severity.MEDIUM)
    assert (found["inside"].status, found["inside"].severity) == (Status.FAIL, Severity.LOW)
    assert found["quiet"].message == (
        f"runs as the default compute service account {DEFAULT_SA} with cloud-platform, on an "
        "external IP (no wide internet range reaches a port today)")


def test_exposed_default_account_machine_is_high() -> None:
    found = results(SA, default_vm("web"), firewall("https", rules=(("tcp", ("443",)),)))
    assert (found["web"].status, found["web"].severity) == (Status.FAIL, Severity.HIGH)
    assert found["web"].message.endswith("and the internet reaches it on tcp/443")
    assert found["web"].evidence["exposed"] == "tcp/443"


def test_listing_failure_is_inconclusive() -> None:
    for check_id in (SA, "gcp.compute.ip_forwarding_disabled", "gcp.compute.shielded_vm_enabled",
                     "gcp.compute.serial_port_access_disabled"):
        found = results(check_id, vm("ok", metadata={"serial-port-enable": "false"}),
                        errors=(LISTING_DENIED,))
        assert {f.status for f in found.values()} == {Status.INCONCLUSIVE}, check_id


def test_ip_forwarding_and_labelled_routers() -> None:
    found = results("gcp.compute.ip_forwarding_disabled", vm("app"),
                    vm("fwd", can_ip_forward=True),
                    vm("nat", can_ip_forward=True, labels={"role": "nat"}),
                    vm("gke-node", can_ip_forward=True, labels={"goog-gke-node": ""}))
    assert {n: f.status for n, f in found.items()} == {
        "app": Status.PASS, "fwd": Status.FAIL, "nat": Status.PASS}
    assert found["nat"].message == "IP forwarding on a labelled router (role=nat)"


SERIAL = "gcp.compute.serial_port_access_disabled"


def compute_project(metadata: dict[str, str] | None) -> Asset:
    return gasset(COMPUTE_PROJECT, "//compute.googleapis.com/projects/acme-test",
                  name="acme-test", metadata=metadata)


def test_serial_console_instance_then_project() -> None:
    found = results(SERIAL, vm("own-on", metadata={"serial-port-enable": "TRUE"}),
                    vm("own-off", metadata={"serial-port-enable": "0"}), vm("inherits"),
                    compute_project({"serial-port-enable": "true"}))
    assert {n: f.status for n, f in found.items()} == {
        "own-on": Status.FAIL, "own-off": Status.PASS, "inherits": Status.FAIL}
    assert found["inherits"].message == ("the interactive serial console is enabled (set on the "
                                         "project)")
    # trap: the project enables it, the instance's own value wins
    assert found["own-off"].evidence["set_on"] == "instance"


def test_serial_console_unknown_project_metadata() -> None:
    assert statuses(SERIAL, vm("inherits"), compute_project(None)) == {
        "inherits": Status.INCONCLUSIVE}
    assert statuses(SERIAL, vm("inherits"), compute_project({})) == {"inherits": Status.PASS}


SHIELDED = "gcp.compute.shielded_vm_enabled"


def test_shielded_vm() -> None:
    found = results(SHIELDED, vm("shielded"), vm("no-boot", shielded_secure_boot=False),
                    vm("no-tpm", shielded_vtpm=False),
                    vm("plain", shielded_vtpm=None, shielded_integrity_monitoring=None))
    assert {n: f.status for n, f in found.items()} == {
        "shielded": Status.PASS, "no-boot": Status.PASS, "no-tpm": Status.FAIL,
        "plain": Status.FAIL}
    assert found["no-boot"].message == "vTPM and integrity monitoring on (secure boot off)"
    assert found["plain"].message == ("Shielded VM protections off: vTPM, integrity "
                                      "monitoring")
    fresh = vm("old")  # a snapshot taken before the Shielded VM flags were collected
    old = replace(fresh, attrs={k: v for k, v in fresh.attrs.items() if k != "shielded_vtpm"})
    assert statuses(SHIELDED, old) == {"old": Status.INCONCLUSIVE}


IMAGE_PUBLIC = "gcp.compute.image_not_public"


def custom_image(name: str, *members: str, role: str = "roles/compute.imageUser",
                 condition: dict[str, str] | None = None, **attrs: Any) -> Asset:
    """A custom image of acme-test whose policy grants ``role`` to ``members`` (none: an empty
    policy); ``iam_bindings=None``: the policy was not read."""
    policy = [{"role": role, "members": sorted(members), "condition": condition}] \
        if members else []
    base = {"image_name": name, "family": name.rsplit("-", 1)[0], "status": "READY",
            "deprecation_state": None, "iam_bindings": policy, **attrs}
    return gasset(IMAGE, f"//compute.googleapis.com/projects/acme-test/global/images/{name}",
                  **base)


def test_images_shared_publicly_fail() -> None:
    found = results(
        IMAGE_PUBLIC, custom_image("private", "group:platform@acme.example"),
        custom_image("empty"), custom_image("world", "allUsers"),
        custom_image("any-google", "allAuthenticatedUsers", "domain:partner.example"),
        custom_image("legacy", "allUsers", deprecation_state="DEPRECATED"))
    assert {n: (f.status, f.severity) for n, f in found.items()} == {
        "private": (Status.PASS, Severity.HIGH), "empty": (Status.PASS, Severity.HIGH),
        "world": (Status.FAIL, Severity.HIGH), "any-google": (Status.FAIL, Severity.HIGH),
        "legacy": (Status.FAIL, Severity.HIGH)}
    assert found["any-google"].message == ("shared publicly: allAuthenticatedUsers "
                                           "(roles/compute.imageUser)")
    assert found["private"].message == "not shared publicly (shared with 1 named principal(s))"
    assert found["empty"].message == "not shared publicly"
    assert found["legacy"].evidence["deprecation_state"] == "DEPRECATED"


def test_trap_look_alike_members_are_not_public_and_a_condition_keeps_it_public() -> None:
    found = results(
        IMAGE_PUBLIC, custom_image("lookalike", "group:allusers@acme.example",
                                   "user:allAuthenticatedUsers@acme.example"),
        custom_image("conditional", "allAuthenticatedUsers",
                     condition={"title": "until launch",
                                "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}))
    assert found["lookalike"].status == Status.PASS
    assert found["conditional"].status == Status.FAIL
    assert found["conditional"].evidence["public_bindings"][0]["condition"]["title"] == (
        "until launch")


def test_image_policy_or_listing_not_read_is_inconclusive() -> None:
    unread = custom_image("unread", iam_bindings=None)
    found = results(IMAGE_PUBLIC, unread, custom_image("private", "group:g@acme.example"))
    assert found["unread"].message == "the image's IAM policy could not be read"
    assert (found["unread"].status, found["private"].status) == (Status.INCONCLUSIVE,
                                                                 Status.PASS)
    gap = gcp_error("compute", "images.getIamPolicy", (f"{IMAGE}#iam_policy",),
                    resource_uid=unread.uid)
    assert statuses(IMAGE_PUBLIC, unread, errors=(gap,)) == {"unread": Status.INCONCLUSIVE}
    listing = gcp_error("compute", "images.list", (IMAGE,))
    found = results(IMAGE_PUBLIC, errors=(listing,))
    assert [f.status for f in found.values()] == [Status.INCONCLUSIVE]
