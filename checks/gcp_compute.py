"""Compute Engine instance hardening on data the collector already reads: the default service
account with full API access (graded by the instance's internet exposure), IP forwarding, the
interactive serial console and Shielded VM. GKE nodes are judged by the GKE checks. And custom
images shared with everyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from posture.checks._shared import gcp_estate

from posture.engine import CheckContext, Result
from posture.gcp import COMPUTE_PROJECT, IMAGE, INSTANCE, label_matches, public_grants
from posture.graph.gcp.served import served_ports
from posture.iam.gcp_access import effective_setting
from posture.model import Asset, Principle, Severity
from posture.registry import check

LISTING = f"{INSTANCE}#listing"
FULL_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_SA_SUFFIX = "-compute@developer.gserviceaccount.com"
GKE_NODE = "goog-gke-node"
SERIAL = "serial-port-enable"


def _instances(ctx: CheckContext) -> Iterator[Asset]:
    """The instances these checks judge: not GKE nodes (their pool's settings decide)."""
    for vm in ctx.inventory.of(INSTANCE):
        if GKE_NODE not in vm.tags:
            yield vm


def exposed_ports(ctx: CheckContext, vm: Asset) -> str | None:
    """The tcp ports the wide internet certainly reaches on ``vm`` (the exposure checks'
    verdict), or None."""
    served = served_ports(gcp_estate(ctx), vm)
    return served.text() if served.ranges else None


@check("gcp.compute.instance_default_sa_full_access", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE,), reads={LISTING},
       params={"external_ip_severity": "medium", "internal_severity": "low"})
def instance_default_sa_full_access(ctx: CheckContext) -> Iterator[Result]:
    """Instances do not run as the default compute service account with full access to all
    Cloud APIs

    The default compute account holds Editor on its project unless that grant was removed, and
    the cloud-platform scope lets any process on the machine use it on every API. Graded by what
    reaches the machine: HIGH when the wide internet reaches one of its tcp ports (the exposure
    checks' verdict), external_ip_severity with an external IP that no wide range reaches,
    internal_severity otherwise. Whether the account really holds Owner or Editor is judged by
    gcp.network.no_exposed_host_with_admin_identity.

    Remediation: Stop the instance and run it as a dedicated service account with the roles its
    workload needs (`gcloud compute instances set-service-account VM --service-account=SA
    --scopes=cloud-platform`), or at least narrow the scopes of the default account.
    """
    for vm in _instances(ctx):
        accounts = list(vm.attr("service_accounts") or ())
        default = [a for a in accounts if a.endswith(DEFAULT_SA_SUFFIX)]
        full = FULL_SCOPE in (vm.attr("scopes") or ())
        if not default or not full:
            why = "no default compute service account" if not default else "narrower scopes"
            yield ctx.passed(vm, f"{why} ({', '.join(accounts) or 'no service account'})",
                             service_accounts=accounts)
            continue
        ports = exposed_ports(ctx, vm)
        evidence: dict[str, Any] = {"service_account": default[0], "scopes": ["cloud-platform"],
                                    "external_ips": vm.attr("external_ips"), "exposed": ports}
        lead = f"runs as the default compute service account {default[0]} with cloud-platform"
        if ports:
            yield ctx.fail(vm, f"{lead}, and the internet reaches it on {ports}", **evidence)
        elif vm.attr("external_ips"):
            yield ctx.fail_at(Severity.parse(str(ctx.param("external_ip_severity"))), vm,
                              f"{lead}, on an external IP (no wide internet range reaches a "
                              "port today)", **evidence)
        else:
            yield ctx.fail_at(Severity.parse(str(ctx.param("internal_severity"))), vm,
                              f"{lead} (no external IP)", **evidence)


@check("gcp.compute.ip_forwarding_disabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH, Principle.SEGREGATION), reads={LISTING},
       params={"router_labels": ("role=router", "role=nat", "ip-forwarding=allowed")})
def ip_forwarding_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Instances do not forward IP packets unless they are routers

    With IP forwarding an instance sends and receives packets for other addresses: a
    compromised one can route between networks and spoof sources past the VPC's
    anti-spoofing check. Instances labelled as routers (router_labels) pass, naming the label.

    Remediation: Recreate the instance with IP forwarding off (it is fixed at creation), or label
    real routing appliances (role=router).
    """
    labels = tuple(ctx.param("router_labels"))
    for vm in _instances(ctx):
        router = label_matches(vm.tags, labels) if labels else None
        if not vm.attr("can_ip_forward"):
            yield ctx.passed(vm, "IP forwarding is off")
        elif router:
            yield ctx.passed(vm, f"IP forwarding on a labelled router ({router})")
        else:
            yield ctx.fail(vm, "IP forwarding is on: the instance may route and spoof traffic "
                           "for other addresses", can_ip_forward=True)


@check("gcp.compute.serial_port_access_disabled", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={LISTING, COMPUTE_PROJECT})
def serial_port_access_disabled(ctx: CheckContext) -> Iterator[Result]:
    """The interactive serial console is disabled on instances

    The serial console accepts connections from any address (no firewall rule applies), with
    an SSH key or OS Login: a way in that bypasses the network's controls. Decided by the
    instance's serial-port-enable metadata, else the project's common metadata; the
    organisation policy compute.disableSerialPortAccess is not read.

    Remediation: Set serial-port-enable=false on the instance and the project (`gcloud compute
    project-info add-metadata --metadata serial-port-enable=false`), and enforce
    compute.disableSerialPortAccess.
    """
    projects = {p.account: p for p in ctx.inventory.of(COMPUTE_PROJECT)}
    for vm in _instances(ctx):
        project = projects.get(vm.account)
        setting = effective_setting(SERIAL, vm.attr("metadata") or {},
                                    None if project is None else project.attr("metadata"))
        if setting is None:
            yield ctx.unknown(vm, "the instance does not set serial-port-enable and its "
                              "project's metadata was not read")
        elif setting.enabled:
            yield ctx.fail(vm, f"the interactive serial console is enabled (set on the "
                           f"{setting.source})", **setting.evidence())
        else:
            yield ctx.passed(vm, "the interactive serial console is disabled",
                             **setting.evidence())


@check("gcp.compute.shielded_vm_enabled", Severity.MEDIUM, (Principle.DEFENSE_IN_DEPTH,),
       reads={LISTING})
def shielded_vm_enabled(ctx: CheckContext) -> Iterator[Result]:
    """Instances run as Shielded VMs with vTPM and integrity monitoring

    A virtual TPM measures the boot and integrity monitoring compares it with the known good
    baseline, catching boot- and kernel-level rootkits; secure boot (reported) also refuses
    unsigned boot components. An instance without a Shielded VM configuration runs an image
    without Shielded VM support.

    Remediation: Stop the instance and turn on vTPM and integrity monitoring (`gcloud compute
    instances update VM --shielded-vtpm --shielded-vm-integrity-monitoring`, plus
    --shielded-vm-secure-boot where no unsigned driver is needed); enforce
    compute.requireShieldedVm.
    """
    for vm in _instances(ctx):
        if "shielded_vtpm" not in vm.attrs:
            yield ctx.unknown(vm, "the Shielded VM settings were not collected (older snapshot)")
            continue
        vtpm, integrity = vm.attr("shielded_vtpm"), vm.attr("shielded_integrity_monitoring")
        boot = vm.attr("shielded_secure_boot")
        evidence = {"vtpm": vtpm, "integrity_monitoring": integrity, "secure_boot": boot}
        missing = [n for n, on in (("vTPM", vtpm), ("integrity monitoring", integrity)) if not on]
        if missing:
            yield ctx.fail(vm, f"Shielded VM protections off: {', '.join(missing)}", **evidence)
        else:
            note = "" if boot else " (secure boot off)"
            yield ctx.passed(vm, f"vTPM and integrity monitoring on{note}", **evidence)


@check("gcp.compute.image_not_public", Severity.HIGH, (Principle.LEAST_PRIVILEGE,),
       reads={f"{IMAGE}#iam_policy"})
def image_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Custom images are not shared with allUsers or allAuthenticatedUsers

    Anyone a public binding names can boot the image or copy its disk, and read everything
    baked into it: credentials, keys, internal code and configuration. allAuthenticatedUsers
    means any Google account, not your organisation; a condition on the binding does not make
    it private. Deprecated images are still usable and judged alike.

    Remediation: Remove the public bindings (`gcloud compute images remove-iam-policy-binding
    IMAGE --member=allAuthenticatedUsers --role=roles/compute.imageUser`); share images with
    named groups, service accounts or projects, and enforce the organisation policy
    iam.allowedPolicyMemberDomains.
    """
    for image in ctx.inventory.of(IMAGE):
        if image.attr("iam_bindings") is None:
            yield ctx.unknown(image, "the image's IAM policy could not be read")
            continue
        public = public_grants(image)
        if public:
            shared = sorted({f"{g['member']} ({g['role']})" for g in public})
            yield ctx.fail(image, f"shared publicly: {', '.join(shared)}",
                           public_bindings=public, family=image.attr("family"),
                           deprecation_state=image.attr("deprecation_state"))
        else:
            members = sorted({m for b in image.attr("iam_bindings") for m in b["members"]})
            yield ctx.passed(image, "not shared publicly" + (
                f" (shared with {len(members)} named principal(s))" if members else ""),
                members=members)
