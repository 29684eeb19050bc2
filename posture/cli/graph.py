"""``posture graph SNAPSHOT``: export the reachability graph of a snapshot (GraphML and JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posture.cli.options import SnapshotArg, out
from posture.errors import ReportError, SnapshotError


def graph(
    snapshot_file: SnapshotArg,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Directory for the graph files.")
    ] = Path("posture-graph"),
) -> None:
    """Export the reachability graph (AWS) as GraphML and node-link JSON."""
    from posture.graph.aws.export import build_graph, write
    from posture.graph.aws.reach import AwsReach
    from posture.model import Provider
    from posture.pipeline import load_prepared

    inventory = load_prepared(snapshot_file).inventory
    if inventory.meta.provider != Provider.AWS:
        raise SnapshotError(
            f"{snapshot_file}: the reachability graph supports AWS snapshots "
            f"(this one is {inventory.meta.provider.value})"
        )
    g = build_graph(AwsReach(inventory))
    try:
        paths = write(g, output_dir)
    except OSError as exc:
        raise ReportError(f"{output_dir}: cannot write the graph: {exc.strerror or exc}") from None
    reaches = sum(1 for *_, d in g.edges(data=True) if d.get("relation") == "reaches")
    out.print(
        f"graph: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges, "
        f"{reaches} internet exposure edge(s)",
        markup=False,
    )
    for p in paths:
        out.print(f"wrote: {p}", markup=False)
