"""How people reach GCP projects and their VMs: OS Login in effect on an instance, who holds a
privileged role standing, and the Privileged Access Manager entitlements that grant the same
role just in time (attrs in docs/gcp-assets.md).

**OS Login** (https://cloud.google.com/compute/docs/oslogin/set-up-oslogin): the metadata keys
``enable-oslogin`` and ``enable-oslogin-2fa`` (and ``enable-oslogin-sk``, security keys) are
read from the instance's metadata first and from the project's common instance metadata
otherwise: an instance value overrides the project's, so ``enable-oslogin=FALSE`` on one
instance opts it out of a project that enables OS Login. The guest environment parses them as
Go booleans (``TRUE``, ``true``, ``1``...); an unparsable value counts as not set. Unset
everywhere = off. The organisation policy ``compute.requireOsLogin`` turns OS Login on in new
projects and refuses metadata updates that disable it, but does not rewrite a value set before
it was enforced: the metadata read decides, the policy is evidence.

**Standing privilege**: a human member (user, group, domain, workforce identity) holding a
privileged role in a project's effective policy without an IAM condition that ends it at a
fixed time (:func:`posture.iam.gcp.time_bound`). A PAM entitlement grants a role only for the
requested duration, after approval when it has an approval workflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from posture.gcp import PAM_ENTITLEMENT
from posture.model import Asset, Inventory

PRIVILEGED_ROLES = (
    "roles/owner",
    "roles/editor",
    "roles/iam.securityAdmin",
    "roles/iam.roleAdmin",
    "roles/iam.organizationRoleAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.workloadIdentityPoolAdmin",
    "roles/resourcemanager.projectIamAdmin",
    "roles/resourcemanager.folderAdmin",
    "roles/resourcemanager.folderIamAdmin",
    "roles/resourcemanager.organizationAdmin",
    "roles/privilegedaccessmanager.admin",
)
"""Roles that administer a project or its IAM (and so can grant themselves anything else)."""
HUMAN_MEMBERS = (
    "user:",
    "group:",
    "domain:",
    "principal://iam.googleapis.com/locations/global/workforcePools/",
    "principalSet://iam.googleapis.com/locations/global/workforcePools/",
)
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})
OSLOGIN, TWO_FACTOR, SECURITY_KEY = "enable-oslogin", "enable-oslogin-2fa", "enable-oslogin-sk"


def is_human(member: str) -> bool:
    return member.startswith(HUMAN_MEMBERS)


def metadata_flag(value: Any) -> bool | None:
    """A metadata boolean as the guest environment parses it; None = unset or unparsable."""
    if value is None:
        return None
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


@dataclass(frozen=True, slots=True)
class Setting:
    """One OS Login key in effect on an instance: its value and where it comes from."""

    key: str
    enabled: bool
    source: str  # "instance", "project" or "default"
    instance_value: str | None
    project_value: str | None

    def evidence(self) -> dict[str, Any]:
        return {"key": self.key, "enabled": self.enabled, "set_on": self.source,
                "instance_value": self.instance_value, "project_value": self.project_value}


def effective_setting(
    key: str, instance: Mapping[str, Any], project: Mapping[str, Any] | None
) -> Setting | None:
    """``key`` in effect given the instance's and the project's metadata settings; None when
    the instance does not set it and the project's metadata is unknown."""
    own = instance.get(key)
    if metadata_flag(own) is not None:
        return Setting(key, bool(metadata_flag(own)), "instance", own,
                       None if project is None else project.get(key))
    if project is None:
        return None
    inherited = project.get(key)
    flag = metadata_flag(inherited)
    return Setting(key, bool(flag), "project" if flag is not None else "default", own, inherited)


@dataclass(frozen=True, slots=True)
class OsLogin:
    """OS Login on one instance: ``login`` (enable-oslogin), ``two_factor`` and
    ``security_key``; a None member = unknown (the project's metadata was not read)."""

    login: Setting | None
    two_factor: Setting | None
    security_key: Setting | None

    def evidence(self) -> dict[str, Any]:
        return {
            "oslogin": [s.evidence() for s in (self.login, self.two_factor, self.security_key)
                        if s is not None],
        }


def instance_oslogin(instance: Asset, project_metadata: Mapping[str, Any] | None) -> OsLogin:
    own: Mapping[str, Any] = instance.attr("metadata") or {}
    return OsLogin(*(effective_setting(k, own, project_metadata)
                     for k in (OSLOGIN, TWO_FACTOR, SECURITY_KEY)))


# -- Privileged Access Manager ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Eligibility:
    """A role that an entitlement lets its eligible principals request on a resource."""

    entitlement: Asset
    role: str

    def evidence(self) -> dict[str, Any]:
        e = self.entitlement
        return {"entitlement": e.attr("entitlement_name"), "role": self.role,
                "resource": e.attr("resource"), "eligible": e.attr("eligible_principals"),
                "max_request_duration_seconds": e.attr("max_request_duration_seconds"),
                "approval_required": e.attr("approval_required")}


def eligibilities(inv: Inventory, project: str, roles: Iterable[str]) -> list[Eligibility]:
    """The entitlements collected in ``project`` that grant one of ``roles``."""
    wanted = set(roles)
    return [
        Eligibility(e, str(rb.get("role")))
        for e in inv.of(PAM_ENTITLEMENT)
        if e.account == project
        for rb in e.attr("role_bindings") or ()
        if rb.get("role") in wanted
    ]
