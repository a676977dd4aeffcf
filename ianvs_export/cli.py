"""`smartco ianvs export|run`: write Ianvs benchmark folders, and run them without Ianvs."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from ianvs_export.candidate import DEFAULT_CANDIDATES, load_candidates
from ianvs_export.errors import IanvsExportError
from ianvs_export.export import JOB_FILE, export_benchmark
from ianvs_export.report import print_leaderboard
from ianvs_export.runner import run_folder
from ianvs_export.task import TASKS


@click.group()
def ianvs() -> None:
    """Export and run KubeEdge-Ianvs benchmarks of candidate code models."""


@ianvs.command("export")
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Where to write the folders.")
@click.option(
    "--models",
    "models_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="models.yaml with the candidates (default: the bm25 baseline and the oracle).",
)
@click.option("--tasks", default=",".join(TASKS), show_default=True, help="Comma-separated tasks to export.")
@click.option(
    "--max-test-samples",
    "max_test",
    type=click.IntRange(1),
    default=None,
    help="At most this many test samples per task, spread evenly over the test split (default: all).",
)
def export_command(
    dataset_dir: Path, out_dir: Path, models_file: Path | None, tasks: str, max_test: int | None
) -> None:
    """Write one Ianvs folder per task from a dataset built by `smartco dataset build`."""
    try:
        candidates = load_candidates(models_file) if models_file else list(DEFAULT_CANDIDATES)
        chosen = [name.strip() for name in tasks.split(",") if name.strip()]
        exported = export_benchmark(dataset_dir, out_dir, candidates, chosen, max_test)
    except IanvsExportError as err:
        raise click.ClickException(str(err)) from err
    if not exported:
        raise click.ClickException("no task had test samples: nothing exported")
    for item in exported:
        click.echo(
            f"{item.task}: {item.test} test / {item.train} train samples, {len(candidates)} candidates -> "
            f"cd {item.folder} && ianvs -f {JOB_FILE}"
        )


@ianvs.command("run")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def run_command(folder: Path) -> None:
    """Run an exported task folder (or every task folder of an export) without Ianvs; write the leaderboard."""
    folders = [folder] if (folder / JOB_FILE).is_file() else sorted(p.parent for p in folder.glob(f"*/{JOB_FILE}"))
    if not folders:
        raise click.ClickException(f"{folder} holds no {JOB_FILE}")
    console = Console()
    for task_folder in folders:
        try:
            board = run_folder(task_folder)
        except IanvsExportError as err:
            raise click.ClickException(f"{task_folder.name}: {err}") from err
        print_leaderboard(console, task_folder.name, board)
        console.print(f"  {board.all_rank}\n  {board.report}\n  {board.chart}")
