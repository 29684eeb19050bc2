"""Encryption in transit on Azure: storage, SQL and Application Gateway require TLS 1.2+."""

from __future__ import annotations

from collections.abc import Iterator

from posture.engine import CheckContext, Result
from posture.model import Asset, Principle, Severity
from posture.registry import check

STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
SQL_SERVER = "Microsoft.Sql/servers"
APP_GATEWAY = "Microsoft.Network/applicationGateways"

_TLS = {  # TLS1_2 (storage), TLSV1_2 (Application Gateway, upper-cased), 1.2 (SQL)
    spelling.format(minor): (1, minor)
    for spelling in ("TLS1_{}", "TLSV1_{}", "1.{}")
    for minor in range(4)
}


def tls_version(value: object) -> tuple[int, int] | None:
    """``TLS1_2`` (storage), ``TLSv1_2`` (Application Gateway), ``1.2`` (SQL) as (1, 2)."""
    return _TLS.get(str(value).upper()) if value is not None else None


def _min_tls12(
    ctx: CheckContext,
    asset: Asset,
    attr: str,
    label: str,
    unset: str,
    unset_values: tuple[object, ...],
) -> Result:
    """PASS when the version in ``attr`` is TLS 1.2 or later, else FAIL; a value in
    ``unset_values`` (the setting is absent) is shown as ``unset``."""
    value = asset.attr(attr)
    version = tls_version(value)
    if version is not None and version >= (1, 2):
        return ctx.passed(asset, f"{label} is {value}")
    shown = unset if value in unset_values else value
    return ctx.fail(asset, f"{label} is {shown}", **{attr: value})


@check("azure.transit.storage_min_tls12", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={STORAGE_ACCOUNT})
def storage_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts require TLS 1.2 or later

    TLS 1.0 and 1.1 are deprecated (RFC 8996). A storage account whose minimum TLS version is not
    set accepts TLS 1.0.

    Remediation: Set the storage account's minimum TLS version to TLS1_2 (minimumTlsVersion).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        yield _min_tls12(
            ctx, account, "minimum_tls_version", "minimum TLS version",
            "not set (TLS 1.0 accepted)", (None,),
        )


@check("azure.transit.storage_https_only", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={STORAGE_ACCOUNT})
def storage_https_only(ctx: CheckContext) -> Iterator[Result]:
    """Storage accounts accept only HTTPS (secure transfer required)

    Without it the blob, file, queue and table endpoints also answer plain HTTP.

    Remediation: Enable 'Secure transfer required' (supportsHttpsTrafficOnly=true).
    """
    for account in ctx.inventory.of(STORAGE_ACCOUNT):
        if account.attr("https_only") is True:
            yield ctx.passed(account, "secure transfer is required")
        else:
            yield ctx.fail(
                account,
                "plain HTTP is accepted (secure transfer not required)",
                https_only=account.attr("https_only"),
            )


@check("azure.transit.sql_min_tls12", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={f"{SQL_SERVER}#listing"})
def sql_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    """Azure SQL servers require TLS 1.2 or later

    Clients negotiating TLS 1.0/1.1 expose logins and data to downgrade attacks.

    Remediation: Set the server's minimal TLS version to 1.2 (minimalTlsVersion).
    """
    for server in ctx.inventory.of(SQL_SERVER):
        yield _min_tls12(
            ctx, server, "minimal_tls_version", "minimal TLS version",
            "not enforced", (None, "None"),  # SQL reports "None" when no minimum is set
        )


@check("azure.transit.appgw_min_tls12", Severity.HIGH, (Principle.ENCRYPTION_IN_TRANSIT,),
       reads={APP_GATEWAY})
def appgw_min_tls12(ctx: CheckContext) -> Iterator[Result]:
    """Application Gateway TLS listeners accept only TLS 1.2 or later

    Predefined policies are resolved to their minimum protocol. A gateway without an SSL policy
    uses a default that depends on the API version it was created with, which the API does not
    report: that is inconclusive, not a pass.

    Remediation: Set an explicit SSL policy: the predefined AppGwSslPolicy20220101S, or a CustomV2
    policy with minProtocolVersion TLSv1_2 (on the gateway and on every SSL profile).
    """
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
