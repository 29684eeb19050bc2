"""``posture checks list``: the check catalogue with severities, principles and controls."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from posture.cli.options import out
from posture.cli.selection import Selection, ServiceOpt, SeverityOpt
from posture.registry import load_catalogue


def checks_list(
    provider: Annotated[str | None, typer.Option(help="aws, azure, gcp or github.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="Print the check ids only, one per line (scripts).")
    ] = False,
    severity: SeverityOpt = None,
    service: ServiceOpt = None,
) -> None:
    """List every check with its severity, principles and control mappings."""
    from posture.model import Provider

    if as_json and plain:
        raise ValueError("--json and --plain are two outputs: give one")
    catalogue = load_catalogue()
    ids = Selection.parse(service=service, severity=severity).resolve(catalogue)
    chosen = catalogue.select(ids=ids, provider=Provider(provider) if provider else None)
    if plain:
        sys.stdout.write("".join(f"{c.spec.id}\n" for c in chosen))
        return
    if as_json:
        rows = [
            {
                "id": c.spec.id,
                "title": c.spec.title,
                "severity": c.spec.severity.label,
                "principles": [p.value for p in c.spec.principles],
                "controls": {k: list(v) for k, v in c.controls.items()},
            }
            for c in chosen
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(title=f"{len(chosen)} checks")
    for col in ("id", "severity", "principles", "controls", "title"):
        table.add_column(col, overflow="fold")
    for c in chosen:
        controls = "; ".join(f"{fw} {', '.join(ids)}" for fw, ids in c.controls.items())
        table.add_row(
            c.spec.id,
            c.spec.severity.label,
            ", ".join(p.value for p in c.spec.principles),
            controls,
            c.spec.title,
        )
    out.print(table)
