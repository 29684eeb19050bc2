"""``posture demo azure``: the loopback HTTPS fake of Azure Resource Manager and Entra ID
(:mod:`posture.demo.azure_fake`) serving two recorded subscriptions with deliberate
misconfigurations and traps, and the Entra ID tenant behind them through Microsoft Graph (a
standing Global Administrator, a user without MFA, a guest excluded from one conditional-access
policy but covered by another), scanned by the real Azure collector (the azure-mgmt clients and
``DefaultAzureCredential`` with a service principal) over TLS.

The fake's certificate is signed by a throw-away CA made at start in a private temporary folder
and trusted only by this scan (``ca_bundle``). The service principal's ``AZURE_*`` variables are
set for the duration of the collection and restored afterwards. One fault is injected on
purpose: the SQL provider of ``contoso-dev`` answers 403 AuthorizationFailed, so its checks come
out INCONCLUSIVE rather than PASS.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from posture.model import Inventory

DEMO_TENANT = "33333333-3333-3333-3333-333333333333"
DEMO_SUBSCRIPTIONS = {
    "11111111-1111-1111-1111-111111111111": "contoso-prod",
    "22222222-2222-2222-2222-222222222222": "contoso-dev",
}
DEV = "22222222-2222-2222-2222-222222222222"
DEMO_FAULTS = (
    (
        f"/subscriptions/{DEV}/providers/microsoft.sql",
        403,
        "AuthorizationFailed",
        "The client 'posture-demo' does not have authorization to perform action "
        "'Microsoft.Sql/servers/read' (demo: injected on purpose)",
    ),
)
"""(path prefix, HTTP status, ARM error code, message) answered instead of the recording."""


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block only; restore (or remove) them afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def service_principal(tenant: str = DEMO_TENANT) -> dict[str, str]:
    """The demo's service principal, as ``EnvironmentCredential`` reads it; loopback bypasses
    any proxy configured for the real cloud."""
    hosts = [
        h.strip()
        for var in ("NO_PROXY", "no_proxy")
        for h in (os.environ.get(var) or "").split(",")
        if h.strip()
    ]
    no_proxy = ",".join(dict.fromkeys([*hosts, "127.0.0.1"]))
    return {
        "AZURE_TENANT_ID": tenant,
        "AZURE_CLIENT_ID": "posture-demo",
        "AZURE_CLIENT_SECRET": "posture-demo-secret",  # meaningless outside the loopback fake
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def scan(progress: Callable[[str], None] | None = None) -> Inventory:
    """Start the fake on 127.0.0.1, collect every subscription it lists, stop it."""
    from posture.collectors.azure.collector import AzureTarget, collect
    from posture.demo.azure_fake import FakeArm

    with (
        tempfile.TemporaryDirectory(prefix="posture-azure-demo-") as tls,
        FakeArm(Path(tls)) as fake,
    ):
        for prefix, status, code, message in DEMO_FAULTS:
            fake.fail(prefix, status, code, message)
        target = AzureTarget(
            arm_endpoint=fake.base,
            graph_endpoint=fake.base,  # the fake answers Microsoft Graph (/v1.0) too
            authority_host=fake.base,
            ca_bundle=str(fake.ca),
            retry_total=2,
            retry_backoff_factor=0.05,
            retry_backoff_max=1,
        )
        with environment(service_principal()):
            return collect(target, progress=progress)
