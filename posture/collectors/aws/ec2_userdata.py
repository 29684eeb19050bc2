"""EC2 instance user data, read with DescribeInstanceAttribute and scanned for plaintext secrets.

Only the detector's verdicts are kept (``user_data_secrets``: type, line, fingerprint); the user
data itself is never stored in the snapshot.
"""

from __future__ import annotations

import dataclasses

from posture.collectors.aws.base import RegionScope, protect_logs
from posture.collectors.secrets import Hit, decode_base64_text, scan_text
from posture.model import Asset

INSTANCE = "AWS::EC2::Instance"
USER_DATA_FACET = f"{INSTANCE}#user_data"

PERMISSIONS: tuple[str, ...] = ("ec2:DescribeInstanceAttribute",)


def fetch_user_data(scope: RegionScope, instance_id: str) -> str | None:
    """The decoded user data of one instance ('' if none), or ``None`` if the call failed."""
    protect_logs()
    uid = scope.arn("ec2", f"instance/{instance_id}")
    resp = scope.call(
        "ec2",
        "DescribeInstanceAttribute",
        (USER_DATA_FACET,),
        uid,
        InstanceId=instance_id,
        Attribute="userData",
    )
    if resp is None:
        return None
    encoded = (resp.get("UserData") or {}).get("Value") or ""
    return decode_base64_text(encoded)  # base64, gunzipped when cloud-init compressed it


def scan_user_data(user_data: str | None, account: str) -> list[Hit] | None:
    return None if user_data is None else scan_text(user_data, account)


def with_user_data(instance: Asset, user_data: str | None) -> Asset:
    """The instance with ``user_data_present`` and ``user_data_secrets`` (both null if the
    attribute could not be read). The text itself is dropped here."""
    attrs = dict(instance.attrs)
    attrs["user_data_present"] = None if user_data is None else bool(user_data.strip())
    attrs["user_data_secrets"] = scan_user_data(user_data, instance.account)
    return dataclasses.replace(instance, attrs=attrs)
