"""Encryption in transit on Azure: storage, SQL and Application Gateway require TLS 1.2+."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Principle, Severity
from posture.registry import check

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
SQL_SERVER = "Microsoft.Sql/servers"
APP_GATEWAY = "Microsoft.Network/applicationGateways"

_TLS = {
    "TLS1_0": (1, 0),
    "TLS1_1": (1, 1),
    "TLS1_2": (1, 2),
    "TLS1_3": (1, 3),
    "TLSV1_0": (1, 0),
    "TLSV1_1": (1, 1),
    "TLSV1_2": (1, 2),
    "TLSV1_3": (1, 3),
    "1.0": (1, 0),
    "1.1": (1, 1),
    "1.2": (1, 2),
    "1.3": (1, 3),
}


def tls_version(value: object) -> tuple[int, int] | None:
    """``TLS1_2`` (storage), ``TLSv1_2`` (Application Gateway), ``1.2`` (SQL) as (1, 2)."""
    return _TLS.get(str(value).upper()) if value is not None else None


@check(
    id="azure.transit.storage_min_tls12",
    title="Storage accounts require TLS 1.2 or later",
    severity=Severity.HIGH,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={STORAGE_ACCOUNT},
    remediation="Set the storage account's minimum TLS version to TLS1_2 (minimumTlsVersion).",
    rationale=(
        "TLS 1.0 and 1.1 are deprecated (RFC 8996). A storage account whose minimum TLS version "
        "is not set accepts TLS 1.0."
    ),
)
def storage_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        value = account.attr("minimum_tls_version")
        version = tls_version(value)
        if version is not None and version >= (1, 2):
            yield ctx.passed(account, f"minimum TLS version is {value}")
        else:
            shown = value if value is not None else "not set (TLS 1.0 accepted)"
            yield ctx.fail(account, f"minimum TLS version is {shown}", minimum_tls_version=value)


@check(
    id="azure.transit.storage_https_only",
    title="Storage accounts accept only HTTPS (secure transfer required)",
    severity=Severity.HIGH,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={STORAGE_ACCOUNT},
    remediation="Enable 'Secure transfer required' (supportsHttpsTrafficOnly=true).",
    rationale="Without it the blob, file, queue and table endpoints also answer plain HTTP.",
)
def storage_https_only(ctx: CheckContext) -> Iterator[Result]:
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        if account.attr("https_only") is True:
            yield ctx.passed(account, "secure transfer is required")
        else:
            yield ctx.fail(
                account,
                "plain HTTP is accepted (secure transfer not required)",
                https_only=account.attr("https_only"),
            )


@check(
    id="azure.transit.sql_min_tls12",
    title="Azure SQL servers require TLS 1.2 or later",
    severity=Severity.HIGH,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={f"{SQL_SERVER}#listing"},
    remediation="Set the server's minimal TLS version to 1.2 (minimalTlsVersion).",
    rationale="Clients negotiating TLS 1.0/1.1 expose logins and data to downgrade attacks.",
)
def sql_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    for server in ctx.inventory.of(SQL_SERVER):
        value = server.attr("minimal_tls_version")
        version = tls_version(value)
        if version is not None and version >= (1, 2):
            yield ctx.passed(server, f"minimal TLS version is {value}")
        else:
            shown = value if value not in (None, "None") else "not enforced"
            yield ctx.fail(server, f"minimal TLS version is {shown}", minimal_tls_version=value)


@check(
    id="azure.transit.appgw_min_tls12",
    title="Application Gateway TLS listeners accept only TLS 1.2 or later",
    severity=Severity.HIGH,
    principles=(Principle.ENCRYPTION_IN_TRANSIT,),
    reads={APP_GATEWAY},
    remediation=(
        "Set an explicit SSL policy: the predefined AppGwSslPolicy20220101S, or a CustomV2 "
        "policy with minProtocolVersion TLSv1_2 (on the gateway and on every SSL profile)."
    ),
    rationale=(
        "Predefined policies are resolved to their minimum protocol. A gateway without an SSL "
        "policy uses a default that depends on the API version it was created with, which the "
        "API does not report: that is inconclusive, not a pass."
    ),
)
def appgw_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    for gateway in ctx.inventory.of(APP_GATEWAY):
        tls = [
            lst
            for lst in gateway.attr("listeners") or ()
            if lst.get("protocol") in ("https", "tls")
        ]
        if not tls:
            continue
        weak = [lst for lst in tls if (tls_version(lst.get("min_tls_version")) or (9, 9)) < (1, 2)]
        unknown = [lst for lst in tls if tls_version(lst.get("min_tls_version")) is None]
        evidence = {"ssl_policy": gateway.attr("ssl_policy"), "listeners": tls}
        if weak:
            versions = sorted({str(lst.get("min_tls_version")) for lst in weak})
            yield ctx.fail(
                gateway, f"{len(weak)} TLS listener(s) accept {', '.join(versions)}", **evidence
            )
        elif unknown:
            yield ctx.unknown(
                gateway,
                "no explicit SSL policy: the default depends on the API "
                "version the gateway was created with (default/unknown)",
                **evidence,
            )
        else:
            yield ctx.passed(gateway, "every TLS listener requires TLS 1.2 or later", **evidence)
