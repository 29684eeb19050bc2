"""The identity section of ``report.html`` and ``identity.csv``: who can reach production, how
they sign in, with MFA or not, standing or just in time (:mod:`posture.identity`).

Both are written only for a report whose snapshot holds identities (``Report.identity``); a
report without them renders exactly as before. Names come from the audited directories and are
attacker-controlled: the HTML escapes them (autoescape), the CSV defuses formula injection the
way ``findings.csv`` does.

``identity.csv`` has one row per (identity, access), most risky identity first (the report's
order), and one row with empty access columns for an identity that holds no access; columns are
:data:`HEADER`. Same dialect as ``findings.csv`` (RFC 4180, CRLF, UTF-8 with BOM).
"""

from __future__ import annotations

from typing import Any

from posture.identity.model import Access, Duration, IdentityView, Mfa, Privilege, Production, Row
from posture.reporters.csv_reporter import CELL_LIMIT, TRUNCATED, defuse, write_csv

FILENAME = "identity.csv"
HEADER: tuple[str, ...] = (
    "provider", "account", "identity_id", "identity", "kind", "sign_in", "sign_in_basis", "mfa",
    "mfa_basis", "identity_note", "scope", "role", "privilege", "privilege_basis", "privileged",
    "duration", "duration_basis", "production", "production_basis", "via", "access_note",
)
ROW_ACCESSES = 12  # accesses listed per identity in the HTML table; all are in identity.csv


def _cell(value: str) -> str:
    text = value if len(value) < CELL_LIMIT else \
        value[: CELL_LIMIT - len(TRUNCATED) - 1] + TRUNCATED
    return defuse(text)


def _access_cells(a: Access | None) -> list[str]:
    if a is None:
        return [""] * 11
    return [a.scope, a.role, a.privilege.value, a.privilege_basis, "yes" if a.privileged else "no",
            a.duration.value, a.duration_basis, a.production.value, a.production_basis, a.via,
            a.note]


def csv_rows(view: IdentityView) -> list[list[str]]:
    out = []
    for row in view.rows():
        i = row.identity
        head = [i.provider, i.account, i.id, i.name, i.kind.value, i.sign_in.value,
                i.sign_in_basis, i.mfa.value, i.mfa_basis, i.note]
        for a in row.accesses or (None,):
            out.append([_cell(str(c)) for c in head + _access_cells(a)])
    return out


def render_identity_csv(view: IdentityView) -> bytes:
    return write_csv(HEADER, csv_rows(view))


# -- HTML ---------------------------------------------------------------------------------------

_MFA_BADGE = {Mfa.ENFORCED: "PASS", Mfa.REGISTERED: "INCONCLUSIVE",
              Mfa.NOT_REGISTERED: "FAIL", Mfa.UNKNOWN: "INCONCLUSIVE"}
_PRODUCTION_BADGE = {Production.YES: "FAIL", Production.UNKNOWN: "INCONCLUSIVE",
                     Production.NO: "PASS"}


def _duration_badge(a: Access) -> str:
    if a.duration is Duration.STANDING:
        return "FAIL" if a.privilege is Privilege.ADMIN else "INCONCLUSIVE"
    return "PASS"


def _access(a: Access) -> dict[str, Any]:
    return {
        "scope": a.scope, "role": a.role, "privilege": a.privilege.value,
        "privilege_basis": a.privilege_basis, "duration": a.duration.value,
        "duration_badge": _duration_badge(a), "duration_basis": a.duration_basis,
        "production": a.production.value, "production_badge": _PRODUCTION_BADGE[a.production],
        "production_basis": a.production_basis, "via": a.via, "note": a.note,
    }


def _row(row: Row) -> dict[str, Any]:
    i = row.identity
    # privileged accesses first (the view's order within each group), then the rest
    ordered = [a for a in row.accesses if a.privileged] + \
        [a for a in row.accesses if not a.privileged]
    return {
        "id": i.id, "name": i.name, "kind": i.kind.value, "account": i.account, "note": i.note,
        "sign_in": i.sign_in.value, "sign_in_basis": i.sign_in_basis,
        "mfa": i.mfa.value, "mfa_badge": _MFA_BADGE[i.mfa], "mfa_basis": i.mfa_basis,
        "standing_admin": row.standing_admin, "production": row.production.value,
        "accesses": [_access(a) for a in ordered[:ROW_ACCESSES]],
        "more": max(0, len(ordered) - ROW_ACCESSES),
    }


def identity_section(view: IdentityView | None) -> dict[str, Any] | None:
    """What the template's identity section shows (None: no section)."""
    if not view:
        return None
    shown = view.shown()
    return {
        "summary": view.summary().sentence(),
        "rows": [_row(r) for r in shown],
        "hidden": len(view.identities) - len(shown),
        "gaps": list(view.gaps),
    }
