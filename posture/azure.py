"""Azure vocabulary: the Entra ID asset type names (Microsoft Graph types, docs/azure-assets.md,
"Entra ID"), one definition for the collector that writes them, the Entra ID semantics that read
them, the identity graph and the checks."""

from __future__ import annotations

TENANT = "microsoft.graph.organization"
USER = "microsoft.graph.user"
GROUP = "microsoft.graph.group"
CA_POLICY = "microsoft.graph.conditionalAccessPolicy"
SECURITY_DEFAULTS = "microsoft.graph.identitySecurityDefaultsEnforcementPolicy"
DIRECTORY_ROLE = "microsoft.graph.unifiedRoleAssignment"
DIRECTORY_ELIGIBILITY = "microsoft.graph.unifiedRoleEligibilitySchedule"
SERVICE_PRINCIPAL = "microsoft.graph.servicePrincipal"
APPLICATION = "microsoft.graph.application"
