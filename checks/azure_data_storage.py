"""Storage accounts, from what the collector already reads: who reaches the account (public
network access, the firewall's default action and the width of its IP rules), infrastructure
(double) encryption and customer-managed keys. Shared Key access is judged by
azure.iam.storage_shared_key_access_disabled, TLS and HTTPS by azure_transit.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.graph.azure.allowlist import admitted
from posture.model import Principle, Severity
from posture.registry import check

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"


@check("azure.data.storage_network_default_deny", Severity.MEDIUM,
       (Principle.DEFENSE_IN_DEPTH,), reads={STORAGE_ACCOUNT})
def storage_network_default_deny(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts deny network access by default

    With the firewall's default action Allow every network reaches the account's endpoints and
    its keys, SAS tokens or Entra identities are the only barrier; Deny limits them to the
    listed IP ranges, subnets and (with the bypass) trusted Azure services. IP rules that add
    up to a /8 of public addresses count as open.

    Remediation: Disable public network access and use private endpoints, or set the account
    firewall's default action to Deny (`az storage account update --default-action Deny`)
    with the specific IP ranges and subnets that need access.
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        action = account.attr("network_default_action")
        rules = list(account.attr("ip_rules") or ())
        evidence = {"public_network_access": account.attr("public_network_access"),
                    "network_default_action": action, "ip_rules": rules,
                    "network_bypass": account.attr("network_bypass")}
        found = admitted(rules)
        if account.attr("public_network_access") == "Disabled":
            yield ctx.passed(account, "public network access is disabled: private endpoints "
                             "only", **evidence)
        elif action is None:
            yield ctx.unknown(account, "the firewall's default action was not reported",
                              **evidence)
        elif action != "Deny":
            yield ctx.fail(account, f"the firewall's default action is {action}: every network "
                           "reaches the account", **evidence)
        elif found.wide:
            yield ctx.fail(account, f"the default action is Deny but IP rules admit "
                           f"{found.count:,} public addresses", **evidence)
        else:
            yield ctx.passed(account, f"the firewall denies by default; IP rules admit "
                             f"{found.count:,} public address(es), "
                             f"{len(account.attr('vnet_rule_subnet_ids') or ())} subnet(s)",
                             **evidence)


@check("azure.data.storage_infrastructure_encryption", Severity.LOW,
       (Principle.ENCRYPTION_AT_REST,), reads={STORAGE_ACCOUNT})
def storage_infrastructure_encryption(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts encrypt data twice (infrastructure encryption)

    Service-side encryption is always on; infrastructure encryption adds a second layer with a
    different algorithm and key at the infrastructure level, so one broken layer does not expose
    the data. LOW: defence in depth for sensitive data.

    Remediation: Create the account with requireInfrastructureEncryption true (it cannot be
    turned on later: copy the data into a new account).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        if account.attr("infrastructure_encryption") is True:
            yield ctx.passed(account, "infrastructure (double) encryption is on")
        else:
            yield ctx.fail(account, "data is encrypted once (infrastructure encryption off)",
                           infrastructure_encryption=account.attr("infrastructure_encryption"))


@check("azure.data.storage_customer_managed_key", Severity.LOW,
       (Principle.ENCRYPTION_AT_REST,), reads={STORAGE_ACCOUNT})
def storage_customer_managed_key(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts encrypt data with a customer-managed key

    With a key from your Key Vault (keySource Microsoft.Keyvault) every use of the key is logged
    there and revoking it makes the data unreadable; Microsoft-managed keys offer neither. LOW:
    for accounts holding critical data.

    Remediation: Configure customer-managed keys on the account (Encryption > Customer-managed
    keys, a Key Vault key with purge protection and a managed identity to reach it).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        source = account.attr("key_source")
        if str(source).lower() == "microsoft.keyvault":
            yield ctx.passed(account, "data is encrypted with a customer-managed key",
                             key_vault_uri=account.attr("key_vault_uri"))
        elif source is None:
            yield ctx.unknown(account, "its encryption key source was not reported")
        else:
            yield ctx.fail(account, "data is encrypted with a Microsoft-managed key only",
                           key_source=source)
