"""Attack paths across network and identity: internet → port → host → identity → administrator.

The reachability graph (:mod:`posture.graph`) says which hosts the wide internet reaches and on
which ports; the identity graphs (:mod:`posture.iam`) say which principals are, or can become,
administrators. Neither knows the other (they are sibling layers); this package sits above both
and joins them on the one fact that links a machine to an identity - the instance profile of an
EC2 instance, the service account (and its access scopes) of a Compute Engine instance, the
managed identities (their principal ids) of an Azure VM.

- :mod:`posture.attack.path` — the two halves and the joined path (provider-neutral)
- :mod:`posture.attack.aws` — EC2 instance → instance profile → role → ADMIN
- :mod:`posture.attack.gcp` — instance → service account (scopes) → project owner/editor
- :mod:`posture.attack.azure` — VM → managed identity → role assignment → subscription Owner
"""

from posture.attack.path import AttackPath, IdentityHalf, NetworkHalf, Power, Reached

__all__ = ["AttackPath", "IdentityHalf", "NetworkHalf", "Power", "Reached"]
