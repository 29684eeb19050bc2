"""Azure Container Registry, the image supply of the clusters: the admin user, who reaches the
registry endpoint and anonymous pull. Image vulnerabilities are judged in azure_patching.py.

The registry firewall exists on the Premium SKU only: a Basic or Standard registry admits every
network whatever its network rule set says (``network_rules_apply`` false).
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.graph.azure.allowlist import admitted
from posture.model import Asset, Principle, Severity
from posture.registry import check

REGISTRY = "Microsoft.ContainerRegistry/registries"


def registry_reach(registry: Asset) -> tuple[bool, str]:
    """(whether the internet reaches the registry endpoint, why in words)."""
    if registry.attr("public_network_access") == "Disabled":
        return False, "public network access is disabled (private endpoints only)"
    if not registry.attr("network_rules_apply"):
        return True, (f"a {registry.attr('sku') or 'non-Premium'} SKU registry has no firewall "
                      "(Premium only): its endpoint admits every network")
    if str(registry.attr("network_default_action") or "Allow") != "Deny":
        return True, "the registry firewall's default action is Allow"
    allowed = admitted(registry.attr("ip_rules") or ())
    if allowed.wide:
        return True, (f"the registry firewall's IP rules admit {allowed.count:,} public "
                      "addresses")
    return False, (f"the registry firewall admits only {allowed.count:,} public address(es)"
                   + (f": {allowed.describe()}" if allowed.count else ""))


@check("azure.kubernetes.registry_admin_user_disabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE, Principle.JUST_IN_TIME), reads={f"{REGISTRY}#listing"})
def registry_admin_user_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Container registries have the admin user disabled

    The admin user is a pair of static passwords (listCredentials) with push and pull rights on
    every repository: whoever holds one can replace the images the clusters run, and the
    registry log names no identity for it.

    Remediation: Move clients to Entra ID (managed identities with AcrPull / AcrPush, or
    repository-scoped tokens), then disable the admin user (`az acr update --admin-enabled
    false`).
    """
    for registry in ctx.inventory.of(REGISTRY):
        if registry.attr("admin_user_enabled"):
            yield ctx.fail(registry, "the admin user is enabled: two static passwords push and "
                           "pull every repository")
        else:
            yield ctx.passed(registry, "the admin user is disabled")


@check("azure.kubernetes.registry_not_public", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={f"{REGISTRY}#listing"})
def registry_not_public(ctx: CheckContext) -> Iterator[Result]:
    """Container registries are not reachable from the whole internet

    A registry endpoint open to every network leaves its credentials and tokens as the only
    barrier to pulling (and, with push rights, replacing) images. Judged by what the endpoint
    admits: public network access, the SKU (the firewall is Premium only), the firewall's default
    action and the width of its IP rules.

    Remediation: Disable public network access and use private endpoints, or (Premium) set the
    firewall's default action to Deny with the specific addresses of your build agents.
    """
    for registry in ctx.inventory.of(REGISTRY):
        public, why = registry_reach(registry)
        evidence = {k: registry.attr(k) for k in ("sku", "public_network_access",
                                                  "network_default_action", "ip_rules")}
        if public:
            yield ctx.fail(registry, f"the registry is reachable from the internet: {why}",
                           **evidence)
        else:
            yield ctx.passed(registry, why, **evidence)


@check("azure.kubernetes.registry_anonymous_pull_disabled", Severity.HIGH,
       (Principle.LEAST_PRIVILEGE,), reads={f"{REGISTRY}#listing"})
def registry_anonymous_pull_disabled(ctx: CheckContext) -> Iterator[Result]:
    """Container registries do not allow anonymous pull

    With anonymous pull anyone who reaches the endpoint downloads every image, with whatever
    code, configuration and embedded secrets they carry. HIGH when the endpoint is reachable
    from the internet, MEDIUM when its network is restricted.

    Remediation: Disable anonymous pull (`az acr update --anonymous-pull-enabled false`) and
    give consumers AcrPull through Entra ID or scoped tokens.
    """
    for registry in ctx.inventory.of(REGISTRY):
        public, why = registry_reach(registry)
        if not registry.attr("anonymous_pull_enabled"):
            yield ctx.passed(registry, "anonymous pull is disabled")
        elif public:
            yield ctx.fail(registry, f"anonymous pull is enabled and {why}: anyone on the "
                           "internet downloads every image", reach=why)
        else:
            yield ctx.fail_at(Severity.MEDIUM, registry, "anonymous pull is enabled: every "
                              f"client that reaches it downloads every image ({why})",
                              reach=why)
