"""The quickstart's dataset stage: build the dataset from the quickstart's collector and print counts."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from trajectory.align.builder import build
from trajectory.align.manifest import BuildResult
from trajectory.align.options import BuildOptions
from trajectory.align.source import CollectorSource


def build_from_collector(
    collector_url: str, token: str, out_dir: Path, console: Console, options: BuildOptions | None = None
) -> BuildResult:
    """Pull every event from the collector, build the dataset into `out_dir`, print counts per record kind.

    The result's `kind_counts()` gives the counts per kind; `counts` per kind and split.
    """
    result = build(CollectorSource(collector_url, token), out_dir, options or BuildOptions())
    table = Table(title=f"dataset: {result.total} records from {result.events_read} events")
    table.add_column("kind")
    for split in ("train", "validation", "test"):
        table.add_column(split, justify="right")
    for kind, splits in result.counts.items():
        table.add_row(kind, *(str(splits.get(split, 0)) for split in ("train", "validation", "test")))
    console.print(table)
    if result.dropped:
        console.print("dropped: " + ", ".join(f"{reason} {n}" for reason, n in sorted(result.dropped.items())))
    return result
