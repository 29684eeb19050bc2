"""One identity model across clouds: who (humans, groups, workload identities) can reach what,
how they sign in (SSO, federated, local), whether MFA is enforced, and whether their privilege
is standing, time-bound or only eligible (just in time), and whether it reaches production.

- :mod:`posture.identity.model` — :class:`Identity`, :class:`Access`, :class:`IdentityView`
- :mod:`posture.identity.environment` — which account, subscription or project is production
- :mod:`posture.identity.aws`, :mod:`~posture.identity.azure`, :mod:`~posture.identity.gcp` —
  the pure builders, reusing the semantics of :mod:`posture.iam`

:func:`identity_view` is the view of a snapshot (``None`` when it holds no identity).
"""

from __future__ import annotations

from posture.identity.aws import aws_identities
from posture.identity.azure import azure_identities
from posture.identity.gcp import gcp_identities
from posture.identity.model import IdentityView
from posture.model import Inventory, Provider

_BUILDERS = {
    Provider.AWS: aws_identities,
    Provider.AZURE: azure_identities,
    Provider.GCP: gcp_identities,
}


def identity_view(inventory: Inventory) -> IdentityView | None:
    """The identity view of a snapshot, or ``None`` when it holds no identity (a network-only
    snapshot, another provider)."""
    build = _BUILDERS.get(inventory.meta.provider)
    if build is None:
        return None
    view = build(inventory)
    return view if view else None


__all__ = ["aws_identities", "azure_identities", "gcp_identities", "identity_view"]
