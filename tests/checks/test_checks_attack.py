"""aws/gcp/azure.network.no_exposed_host_with_admin_identity: the attack path across network and
identity, with its traps - an exposed host with an admin role fails (CRITICAL, both halves of the
evidence), the same host with a read-only role passes, an admin host that is not exposed
passes, a conditional path and a collection gap are inconclusive, a latent escalation is HIGH,
an identity the host cannot use (metadata service off, narrow GCP scopes) is LOW; on Azure a
managed identity that assigns itself Owner fails, Contributor is HIGH and a resource group's
Owner MEDIUM."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support import azure
from support.aws import collection_error
from support.aws_net import INSTANCE_UID, estate, lb_estate, replaced, sg_rule, status
from support.checks import only, run_one
from support.gcp import PROJECT_ID, binding, firewall, instance, project, results
from support.iam import ARN, allow, instance_profile, role, service

from posture.model import Asset, Finding, Inventory, Severity, Status

AWS = "aws.network.no_exposed_host_with_admin_identity"
GCP = "gcp.network.no_exposed_host_with_admin_identity"
EC2 = "ec2.amazonaws.com"
WEB_443 = (sg_rule(443, 443),)
ADMIN = (instance_profile("web", "web"), role("web", service(EC2), allow("*")))
UNLISTED = collection_error("iam", "ListInstanceProfiles", ("AWS::IAM::InstanceProfile",),
                            region="")
READ_ONLY = (instance_profile("web", "web"),
             role("web", service(EC2), allow(["s3:GetObject", "ec2:Describe*"])))


def with_profile(inv: Inventory, **attrs: Any) -> Inventory:
    return replaced(inv, "AWS::EC2::Instance",
                    iam_instance_profile_arn=f"{ARN}:instance-profile/web", **attrs)


def aws(*iam: Asset, ingress: Any = WEB_443, **knobs: Any) -> Inventory:
    return with_profile(estate(ingress=ingress, extra=iam, **knobs))


def test_exposed_web_server_with_an_admin_role_is_a_critical_attack_path() -> None:
    found = status(AWS, aws(*ADMIN))
    assert found.status is Status.FAIL and found.severity is Severity.CRITICAL
    assert found.message.startswith(
        "attack path: internet -> tcp/443 -> i-1 -> role web -> administrator: a process "
        "compromised through tcp/443 holds role web, administrator (web -[admin-policy]-> ADMIN)."
    )
    # which half would have to change
    assert "Either half breaks it: remove the rule admitting tcp/443 from the internet in " \
        "security group sg-1" in found.message
    assert "replace the administrator policy of role web" in found.message
    ev = found.evidence
    assert ev["exposed_ports"] == "tcp/443" and ev["paths"][0]["port"] == 443  # network half
    assert ev["identity"]["steps"][0]["grants"][0]["allowed_by"]  # identity half, statements
    assert [h["layer"] for h in ev["attack_path"]][-2:] == ["identity", "identity"]


@pytest.mark.parametrize(
    ("inv", "expected", "words"),
    [
        (aws(*READ_ONLY), Status.PASS, "no administrator identity: role web has no path"),
        (aws(*ADMIN, public_ip=None), Status.PASS,
         "not reachable from the internet on any tcp port"),
        (aws(*ADMIN, ingress=(sg_rule(22, 22, "203.0.113.0/24"),)), Status.PASS,
         "allow-listed ranges"),
        (aws(instance_profile("web", "web"),
             role("web", service(EC2), allow("*", Condition={
                 "StringEquals": {"aws:RequestTag/team": "x"}}))),
         Status.INCONCLUSIVE, "administrator under conditions"),
        (aws(role("web", service(EC2), allow("*"))), Status.INCONCLUSIVE,
         "instance profile web is not in the inventory"),
        (aws(role("web", service(EC2), allow("*")), errors=(UNLISTED,)),
         Status.INCONCLUSIVE, "the instance profiles could not be listed"),
    ],
    ids=["read-only-role", "private", "allow-listed", "conditional", "profile-missing",
         "profiles-unlisted"],
)
def test_traps(inv: Inventory, expected: Status, words: str) -> None:
    found = status(AWS, inv)
    assert found.status is expected, found.message
    assert words in found.message


def test_open_group_without_a_public_address_is_not_an_attack_path() -> None:
    found = status(AWS, aws(*ADMIN, public_ip=None))
    assert found.status is Status.PASS
    assert "it runs as role web (administrator" in found.message
    assert found.evidence["latent"][0]["port"] == 443  # the open group, named
    # never PASS on data not seen: with the profile listing failed, the engine withholds it
    gap = status(AWS, aws(role("web", service(EC2), allow("*")), public_ip=None,
                          errors=(UNLISTED,)))
    assert gap.status is Status.INCONCLUSIVE and "would otherwise pass" in gap.message


def test_latent_escalation_is_high_and_becomes_critical() -> None:
    passrole = (instance_profile("web", "web"),
                role("web", service(EC2), allow(["iam:PassRole", "ec2:RunInstances"])))
    latent = status(AWS, aws(*passrole))
    assert latent.status is Status.FAIL and latent.severity is Severity.HIGH
    assert latent.message.startswith("latent attack path: internet -> tcp/443 -> i-1 -> role web")
    real = status(AWS, aws(*passrole, role("ops", service(EC2), allow("*"))))
    assert real.status is Status.FAIL and real.severity is Severity.CRITICAL
    assert "-> role web -> role ops -> administrator" in real.message
    assert status(AWS, aws(*passrole), latent_severity="medium").severity is Severity.MEDIUM


def test_metadata_service_off_is_low() -> None:
    found = status(AWS, with_profile(estate(ingress=WEB_443, extra=ADMIN),
                                     http_endpoint="disabled"))
    assert found.status is Status.FAIL and found.severity is Severity.LOW
    assert "only one layer keeps a compromised process from it: the instance metadata " \
        "service is turned off" in found.message


def test_exposure_through_a_load_balancer_counts() -> None:
    inv = with_profile(lb_estate())  # a private host whose tcp/22 an NLB forwards from 2222
    found = status(AWS, Inventory(inv.meta, (*inv.assets, *ADMIN), inv.errors))
    assert found.status is Status.FAIL and found.severity is Severity.CRITICAL
    assert "load balancer edge" in found.message
    assert any(h["kind"] == "load-balancer" for h in found.evidence["attack_path"])


def test_hosts_without_a_profile_pass_and_are_named() -> None:
    found = status(AWS, estate(ingress=WEB_443))
    assert found.status is Status.PASS and found.resource_uid == INSTANCE_UID
    assert found.message == "no administrator identity: the instance has no instance profile"


# -- GCP ------------------------------------------------------------------------------------------

APP = f"app@{PROJECT_ID}.iam.gserviceaccount.com"
DEFAULT_SA = "123456789-compute@developer.gserviceaccount.com"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_only",
                  "https://www.googleapis.com/auth/logging.write",
                  "https://www.googleapis.com/auth/monitoring.write")
WEB = firewall("web", rules=(("tcp", ("443",)),))


def vm(scopes: tuple[str, ...] = (CLOUD_PLATFORM,), sa: str = APP, **knobs: Any) -> Asset:
    a = instance("vm", service_accounts=(sa,), **knobs)
    return replace(a, attrs={**a.attrs, "scopes": list(scopes)})


def gcp(*assets: Asset, role_: str = "roles/editor", sa: str = APP, **knobs: Any) -> Any:
    return results(GCP, *assets, project(bindings=[binding(role_, f"serviceAccount:{sa}")]),
                   **knobs)["vm"]


def test_gcp_default_compute_account_with_editor_and_cloud_platform_is_critical() -> None:
    found = gcp(WEB, vm(sa=DEFAULT_SA), sa=DEFAULT_SA)
    assert found.status is Status.FAIL and found.severity is Severity.CRITICAL
    assert found.message.startswith(
        f"attack path: internet -> tcp/443 -> vm -> service account {DEFAULT_SA} -> "
        f"administrator of project {PROJECT_ID}: a process compromised through tcp/443 holds "
        f"default compute service account {DEFAULT_SA}, administrator"
    )
    assert found.evidence["identity"]["default_compute_service_account"] is True


def test_gcp_narrow_scopes_are_low_and_the_traps_pass() -> None:
    narrow = gcp(WEB, vm(DEFAULT_SCOPES))
    assert narrow.status is Status.FAIL and narrow.severity is Severity.LOW
    assert "access scopes (devstorage.read_only, logging.write, monitoring.write) leave out " \
        "cloud-platform" in narrow.message
    assert gcp(WEB, vm(), role_="roles/viewer").status is Status.PASS
    private = gcp(WEB, vm(external=False))
    assert private.status is Status.PASS and "no external address" in private.message


def test_gcp_conditional_and_unread_policies_are_inconclusive() -> None:
    cond = {"title": "t", "expression": "request.time.getHours() < 18"}
    conditional = results(GCP, WEB, vm(), project(bindings=[
        binding("roles/owner", f"serviceAccount:{APP}", condition=cond)]))["vm"]
    assert conditional.status is Status.INCONCLUSIVE
    unread = results(GCP, WEB, vm(), project(bindings=None))["vm"]
    assert unread.status is Status.INCONCLUSIVE and "could not be read" in unread.message


def test_many_exposed_ports_keep_ten_paths_and_count_the_rest() -> None:
    ports = tuple(sg_rule(p, p) for p in range(8001, 8041, 2))  # 20 separate ports
    found = status(AWS, aws(*ADMIN, ingress=ports))
    assert found.status is Status.FAIL
    assert found.evidence["exposed_ports"].startswith("tcp/8001, 8003, 8005")
    assert (len(found.evidence["paths"]), found.evidence["more_paths"]) == (10, 10)


# -- Azure ----------------------------------------------------------------------------------------

AZURE = "azure.network.no_exposed_host_with_admin_identity"
HTTPS = azure.nsg("nsg-web", azure.rule("https", 100, src="Internet", ports="443"))
PIP = azure.public_ip("pip-h", "20.0.0.9", "Standard")
OPS = "0b000000-0000-0000-0000-00000000000b"
RA_LISTING = azure.error("authorization", "RoleAssignments_ListForSubscription",
                         (azure.ROLE_ASSIGNMENT,))


def az_vm(*rbac: Asset, exposed: bool = True, errors: tuple[Any, ...] = (),
          **identity: Any) -> Finding:
    network = azure.one_vm(HTTPS, pip=PIP if exposed else None)
    inv = azure.inventory(*azure.identified(network, **identity), *rbac, errors=errors)
    return only([f for f in run_one(AZURE, inv) if f.resource_type.endswith("virtualMachines")])


def test_azure_exposed_vm_with_an_owner_identity_is_a_critical_attack_path() -> None:
    found = az_vm(azure.role_assignment("ra", azure.OWNER))
    assert found.status is Status.FAIL and found.severity is Severity.CRITICAL
    sub = azure.SUB
    assert found.message.startswith(
        f"attack path: internet -> tcp/443 -> h -> managed identity h (system-assigned) -> "
        f"administrator of subscription {sub}: a process compromised through tcp/443 holds the "
        f"system-assigned identity of h, administrator (Owner at subscription {sub})."
    )
    assert "Either half breaks it: remove the NSG rule admitting tcp/443 from the internet " \
        "(rule https), or public IP pip-h; or remove the Owner assignment" in found.message
    ev = found.evidence
    assert ev["exposed_ports"] == "tcp/443" and ev["paths"][0]["nsg_layers"]  # network half
    assert ev["identity"]["role_assignments"][0]["role_assignment"].endswith("/ra")  # identity
    assert [h["layer"] for h in ev["attack_path"]][-2:] == ["identity", "identity"]


@pytest.mark.parametrize(
    ("rbac", "knobs", "expected", "severity", "words"),
    [
        ((azure.role_assignment("ra", azure.READER),), {}, Status.PASS, None,
         "no administrator identity: the system-assigned identity of h holds no Owner"),
        ((azure.role_assignment("ra", azure.OWNER),), {"exposed": False}, Status.PASS, None,
         "not reachable from the internet on any tcp port"),
        ((azure.role_assignment("ra", azure.UAA, OPS),), {"system": None, "users": {"id": OPS}},
         Status.FAIL, Severity.CRITICAL, "holds user-assigned identity id, administrator (User "
         "Access Administrator at subscription"),
        ((azure.role_assignment("ra", azure.OWNER, condition="@Resource[x:y] StringEquals 'z'"),),
         {}, Status.INCONCLUSIVE, None, "administrator under conditions"),
        ((azure.role_assignment("ra", azure.OWNER),), {"errors": (RA_LISTING,)}, Status.FAIL,
         Severity.CRITICAL, "administrator"),
        ((), {"errors": (RA_LISTING,)}, Status.INCONCLUSIVE, None,
         "the role assignments of subscription"),
        ((azure.role_assignment("ra", azure.CONTRIBUTOR),), {}, Status.FAIL, Severity.HIGH,
         "broad power, short of administrator (Contributor at subscription"),
        ((azure.role_assignment("ra", azure.OWNER, scope=azure.RG),), {}, Status.FAIL,
         Severity.MEDIUM, "administrator of resource group rg (the VM's own) only, not of the "
         "subscription"),
        ((azure.role_assignment("ra", azure.OWNER),), {"system": None}, Status.PASS, None,
         "no administrator identity: the VM has no managed identity"),
        ((azure.role_assignment("ra", azure.CONTRIBUTOR, condition="@Resource[x:y] StringEquals "
                                "'z'"),), {}, Status.INCONCLUSIVE, None,
         "broad power under conditions, short of administrator"),
    ],
    ids=["reader", "private", "user-assigned-uaa", "conditional", "owner-despite-listing-gap",
         "listing-failed", "contributor", "resource-group-owner", "no-identity",
         "conditional-contributor"],
)
def test_azure_traps(rbac: tuple[Asset, ...], knobs: dict[str, Any], expected: Status,
                     severity: Severity | None, words: str) -> None:
    found = az_vm(*rbac, **knobs)
    assert found.status is expected, found.message
    assert words in found.message
    if severity is not None:
        assert found.severity is severity


def test_azure_grades_are_parameters() -> None:
    inv = azure.inventory(*azure.identified(azure.one_vm(HTTPS, pip=PIP)),
                          azure.role_assignment("ra", azure.CONTRIBUTOR))
    (found,) = run_one(AZURE, inv, contributor_severity="critical")
    assert found.severity is Severity.CRITICAL


def test_azure_detail_facets_that_are_not_read_leave_it_decided() -> None:
    pim = azure.error("authorization", "RoleAssignmentScheduleInstances_ListForScope",
                      (f"{azure.ROLE_ASSIGNMENT}#pim",))
    vm_uid = f"{azure.RG}/providers/microsoft.compute/virtualmachines/h"
    user_data = azure.error("compute", "VirtualMachines_Get",
                            ("Microsoft.Compute/virtualMachines#user_data",), vm_uid, "westeurope")
    found = az_vm(azure.role_assignment("ra", azure.READER), errors=(pim, user_data))
    assert found.status is Status.PASS, found.message
