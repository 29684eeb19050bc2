"""The IAM Identity Center identity store (attrs as in ``docs/aws-assets.md``): users and groups
with their display names and group members, so that an assignment names a person or a team,
never a bare id. Collected by ``sso.py`` for the store of each Identity Center instance it finds
(the store lives in the instance's home region).

Only names and memberships are kept: no e-mail address, phone number or other contact data.
"""

from __future__ import annotations

from posture.collectors.aws.base import Payload, RegionScope, parallel_map, pick
from posture.model import GLOBAL, Asset

USER = "AWS::IdentityStore::User"
GROUP = "AWS::IdentityStore::Group"

PERMISSIONS: tuple[str, ...] = (
    "identitystore:ListUsers",
    "identitystore:ListGroups",
    "identitystore:ListGroupMemberships",
)


def user_uid(scope: RegionScope, user_id: str) -> str:
    return f"arn:{scope.partition}:identitystore:::user/{user_id}"


def group_uid(scope: RegionScope, group_id: str) -> str:
    return f"arn:{scope.partition}:identitystore:::group/{group_id}"


def collect_store(scope: RegionScope, store_id: str) -> list[Asset]:
    """The users and groups of one identity store (``scope`` is in the store's region)."""
    users = scope.paginate("identitystore", "ListUsers", "Users", (USER,),
                           IdentityStoreId=store_id)
    groups = scope.paginate("identitystore", "ListGroups", "Groups", (GROUP,),
                            IdentityStoreId=store_id)
    ordered = sorted(groups or [], key=lambda g: str(g["GroupId"]))
    payloads = parallel_map(lambda g: fetch_group(scope, store_id, g), ordered)
    out = [normalize_user(scope, u) for u in sorted(users or [], key=lambda u: str(u["UserId"]))]
    return out + [normalize_group(scope, p) for p in payloads]


def fetch_group(scope: RegionScope, store_id: str, group: Payload) -> Payload:
    members = scope.paginate("identitystore", "ListGroupMemberships", "GroupMemberships",
                             (f"{GROUP}#members",), group_uid(scope, str(group["GroupId"])),
                             IdentityStoreId=store_id, GroupId=group["GroupId"])
    return {"group": group, "members": members}


def display_name(item: Payload, fallback_key: str) -> str:
    """What a person reads: the display name, else the user (or group) name, else the id."""
    return str(item.get("DisplayName") or item.get("UserName") or item.get(fallback_key))


def normalize_user(scope: RegionScope, user: Payload) -> Asset:
    user_id = str(user["UserId"])
    attrs = {
        "user_id": user_id,
        **pick(user, user_name="UserName", display_name="DisplayName",
               identity_store_id="IdentityStoreId"),
    }
    raw = {k: user.get(k) for k in ("UserId", "UserName", "DisplayName", "IdentityStoreId")}
    return scope.asset(user_uid(scope, user_id), USER, display_name(user, "UserId"), attrs,
                       raw=raw, region=GLOBAL)


def normalize_group(scope: RegionScope, payload: Payload) -> Asset:
    group = payload["group"]
    group_id = str(group["GroupId"])
    members = payload["members"]
    member_ids = None if members is None else sorted(
        str(m["MemberId"]["UserId"]) for m in members if (m.get("MemberId") or {}).get("UserId")
    )
    attrs = {
        "group_id": group_id,
        "display_name": group.get("DisplayName"),
        "identity_store_id": group.get("IdentityStoreId"),
        "member_user_ids": member_ids,
    }
    raw = {k: group.get(k) for k in ("GroupId", "DisplayName", "Description", "IdentityStoreId")}
    return scope.asset(group_uid(scope, group_id), GROUP, display_name(group, "GroupId"), attrs,
                       raw=raw, region=GLOBAL)
