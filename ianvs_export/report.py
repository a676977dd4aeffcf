"""Print a leaderboard on a rich console."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ianvs_export.leaderboard import Leaderboard, model_label

SHOWN = 8  # metrics printed on the console; the csv and report hold all of them


def print_leaderboard(console: Console, title: str, board: Leaderboard) -> None:
    table = Table(title=f"{title} leaderboard")
    table.add_column("rank", justify="right")
    table.add_column("model")
    for name in board.metrics[:SHOWN]:
        table.add_column(name, justify="right")
    for row in board.rows:
        table.add_row(str(row["rank"]), model_label(row), *[f"{float(row[m]):.3f}" for m in board.metrics[:SHOWN]])
    console.print(table)
