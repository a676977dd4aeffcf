"""The quickstart's benchmark stage: export the dataset to Ianvs folders, run them, print the leaderboards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from ianvs_export.candidate import DEFAULT_CANDIDATES, Candidate
from ianvs_export.export import JOB_FILE, export_benchmark
from ianvs_export.report import print_leaderboard
from ianvs_export.runner import run_folder


@dataclass
class BenchmarkStageResult:
    tasks: list[str] = field(default_factory=list)
    samples: dict[str, int] = field(default_factory=dict)  # task -> test samples
    leaderboards: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task -> sorted rows
    folders: dict[str, Path] = field(default_factory=dict)


def quickstart_candidates(openai_base_url: str | None, openai_model: str = "default") -> list[Candidate]:
    """bm25 and the oracle, plus the OpenAI-compatible model when a base URL is given."""
    candidates = list(DEFAULT_CANDIDATES)
    if openai_base_url:
        candidates.append(
            Candidate(
                name="openai",
                backend="openai",
                base_url=openai_base_url,
                model=openai_model,
                api_key_env="SMARTCO_OPENAI_API_KEY",
                timeout_s=30.0,
                max_tokens=256,
            )
        )
    return candidates


def export_and_run(
    dataset_dir: Path,
    out_dir: Path,
    console: Console,
    openai_base_url: str | None = None,
    openai_model: str = "default",
    max_test: int | None = None,
) -> BenchmarkStageResult:
    """Export every task that has test samples (at most `max_test` each), run it without Ianvs, print each
    leaderboard."""
    result = BenchmarkStageResult()
    candidates = quickstart_candidates(openai_base_url, openai_model)
    exported = export_benchmark(dataset_dir, out_dir, candidates, max_test=max_test)
    if not exported:
        console.print("[yellow]benchmark: the dataset has no test samples for any task; nothing to run[/yellow]")
    for item in exported:
        board = run_folder(item.folder)
        print_leaderboard(console, item.task, board)
        result.tasks.append(item.task)
        result.samples[item.task] = item.test
        result.leaderboards[item.task] = board.rows
        result.folders[item.task] = item.folder
    if exported:
        console.print(
            f"benchmark folders in {out_dir}: run one on Ianvs with `cd {exported[0].folder} && ianvs -f {JOB_FILE}`"
        )
    return result
