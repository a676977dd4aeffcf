"""Leaderboard files as Ianvs writes them (all_rank.csv, selected_rank.csv) plus a markdown report and a chart."""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ianvs_export.task import LOWER_IS_BETTER

if TYPE_CHECKING:
    from ianvs_export.runner import CaseResult

PARADIGM = "singletasklearning"


@dataclass
class Leaderboard:
    rows: list[dict[str, Any]]  # sorted, with the all_rank.csv columns
    columns: list[str]
    metrics: list[str]
    all_rank: Path
    selected_rank: Path
    report: Path
    chart: Path


def _row(case: CaseResult, metrics: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {"algorithm": case.algorithm}
    row.update({name: case.metrics.get(name, math.nan) for name in metrics})
    row.update({"paradigm": PARADIGM, "basemodel": case.module_alias})
    row.update({f"basemodel-{name}": str(value) for name, value in case.hyperparameters.items()})
    row.update({"time": case.time, "url": str(case.url)})
    return row


def sort_rows(
    rows: list[dict[str, Any]], sort_by: Sequence[Mapping[str, str]], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Stable multi-key sort by the `rank.sort_by` priority list; unknown metric names are skipped and NaN goes
    last in either direction (as Ianvs's pandas sort does)."""
    ordered = list(rows)
    for item in reversed([dict(entry) for entry in sort_by]):
        name = next(iter(item))
        if name not in metrics:
            continue
        ordered.sort(key=functools.partial(_sort_key, name, item[name] != "ascend"))
    return ordered


def _sort_key(name: str, descending: bool, row: Mapping[str, Any]) -> tuple[bool, float]:
    number = float(row[name])
    if math.isnan(number):
        return (True, 0.0)
    return (False, -number if descending else number)


def write_leaderboard(rank_dir: Path, rank: Mapping[str, Any], cases: Sequence[CaseResult]) -> Leaderboard:
    metrics = list(dict.fromkeys(name for case in cases for name in case.metrics))
    hp_names = list(dict.fromkeys(f"basemodel-{n}" for case in cases for n in case.hyperparameters))
    columns = ["rank", "algorithm", *metrics, "paradigm", "basemodel", *hp_names, "time", "url"]
    rows = sort_rows([_row(case, metrics) for case in cases], rank.get("sort_by") or [], metrics)
    for number, row in enumerate(rows, 1):
        row["rank"] = number
    selected_metrics = (rank.get("selected_dataitem") or {}).get("metrics") or ["all"]
    chosen = metrics if selected_metrics == ["all"] else [m for m in selected_metrics if m in metrics]
    selected_columns = ["rank", "algorithm", *chosen, "paradigm", "basemodel", *hp_names, "time", "url"]
    rank_dir.mkdir(parents=True, exist_ok=True)
    board = Leaderboard(
        rows,
        columns,
        metrics,
        rank_dir / "all_rank.csv",
        rank_dir / "selected_rank.csv",
        rank_dir / "report.md",
        rank_dir / "leaderboard.png",
    )
    _write_csv(board.all_rank, columns, rows)
    _write_csv(board.selected_rank, selected_columns, rows)
    board.report.write_text(markdown_table(board), encoding="utf-8")
    draw_chart(board)
    return board


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def model_label(row: Mapping[str, Any]) -> str:
    """The candidate a row is about: its hyperparameter values (normally just `basemodel-model`)."""
    values = [str(v) for k, v in row.items() if k.startswith("basemodel-")]
    return ", ".join(values) or str(row.get("algorithm"))


def markdown_table(board: Leaderboard) -> str:
    header = ["rank", "model", *board.metrics]
    lines = [
        "# Leaderboard",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in board.rows:
        cells = [str(row["rank"]), model_label(row), *[_format(row[m]) for m in board.metrics]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"![metrics per model]({board.chart.name})", ""]
    return "\n".join(lines)


def _format(value: Any) -> str:
    number = float(value)
    return "n/a" if math.isnan(number) else f"{number:.4g}"


def draw_chart(board: Leaderboard) -> None:
    """A heat map of the leaderboard, one row per model and one column per metric, each cell printed.

    Colours are per metric, from worst (light) to best (dark), lower-is-better metrics flipped: one small
    figure stays readable for any number of metrics, and draws in a fraction of a second (Agg, no display).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [model_label(row) for row in board.rows]
    shades = [[_shade(board, row, name) for name in board.metrics] for row in board.rows]
    figure, axis = plt.subplots(figsize=(1.2 + 0.85 * len(board.metrics), 1.1 + 0.38 * len(labels)))
    axis.imshow(shades or [[0.0]], cmap="Blues", vmin=0.0, vmax=1.25, aspect="auto")
    for y, row in enumerate(board.rows):
        for x, name in enumerate(board.metrics):
            axis.text(x, y, _format(row[name]), ha="center", va="center", fontsize=7)
    axis.set_xticks(range(len(board.metrics)), board.metrics, rotation=35, ha="right", fontsize=7)
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.set_title("metrics per model (darker is better, per column)", fontsize=9)
    figure.subplots_adjust(left=0.5 / figure.get_figwidth() * 4, bottom=0.45, top=0.88, right=0.98)
    figure.savefig(board.chart, dpi=90)
    plt.close(figure)


def _shade(board: Leaderboard, row: Mapping[str, Any], name: str) -> float:
    """0 for the worst value of the column, 1 for the best (NaN: 0)."""
    values = [float(other[name]) for other in board.rows if not math.isnan(float(other[name]))]
    value = float(row[name])
    if math.isnan(value) or not values or max(values) == min(values):
        return 0.0 if math.isnan(value) else 0.5
    share = (value - min(values)) / (max(values) - min(values))
    return 1.0 - share if name in LOWER_IS_BETTER else share
