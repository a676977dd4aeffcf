"""`smartco judge export|import|llm`: blind sheets for engineers, their labels, and an optional LLM judge."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from ianvs_export import judge as judging
from ianvs_export.backend import OpenAIBackend
from ianvs_export.candidate import Candidate
from ianvs_export.errors import IanvsExportError
from ianvs_export.export import add_metrics
from ianvs_export.llm_judge import compare, judge_item
from ianvs_export.task import HUMAN_METRICS, LLM_JUDGE_METRICS, TASKS

_EXPORT = click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))


@click.group()
def judge() -> None:
    """Blind judging sheets for engineers, and the agreement between judges."""


@judge.command("export")
@_EXPORT
@click.option(
    "--out",
    "sheet",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The blind sheet (CSV) to hand to judges.",
)
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to keep the key (item -> model); default: SHEET.key.json. Do not show it to judges.",
)
@click.option("--tasks", default="issue", show_default=True, help="Comma-separated tasks to put on the sheet.")
@click.option("--seed", default=0, show_default=True, help="Shuffle seed.")
def export_sheet(export_dir: Path, sheet: Path, key: Path | None, tasks: str, seed: int) -> None:
    """Write a blind, shuffled sheet of the latest run's answers (issue QA first) and its key."""
    chosen = [t.strip() for t in tasks.split(",") if t.strip()]
    items = judging.collect_items(export_dir, chosen)
    if not items:
        raise click.ClickException(f"no predictions found under {export_dir} for {', '.join(chosen)}: run it first")
    key = key or sheet.with_suffix(".key.json")
    count = judging.write_sheet(items, sheet, key, seed)
    click.echo(f"{count} answers to judge in {sheet} (labels: correct / partial / incorrect); key in {key}")


@judge.command("import")
@_EXPORT
@click.option("--key", "key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--labels",
    "label_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One judged sheet per judge.",
)
@click.option(
    "--llm-labels",
    "llm_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labels from `smartco judge llm`, compared with the judges' majority.",
)
def import_labels(export_dir: Path, key: Path, label_files: tuple[Path, ...], llm_file: Path | None) -> None:
    """Accuracy per model with a 95% Wilson interval, agreement between judges; added to the leaderboard."""
    try:
        key_rows = orjson.loads(key.read_bytes())
        judges = {f"{n}:{path.stem}": judging.read_labels(path) for n, path in enumerate(label_files, 1)}
        summary = judging.summarise(key_rows, judges)
        if llm_file is not None:
            summary["llm_judge"] = judging.compare_llm(key_rows, judges, judging.read_labels(llm_file))
        written = judging.write_summary(export_dir, summary)
        for path in written:
            task = path.parent.parent.name
            extra = [*HUMAN_METRICS, *(LLM_JUDGE_METRICS if llm_file else ())]
            add_metrics(path.parent.parent, TASKS[task], extra)
    except (IanvsExportError, OSError, orjson.JSONDecodeError, KeyError) as err:
        raise click.ClickException(f"cannot import labels: {err}") from err
    _print_summary(Console(), summary)


def _print_summary(console: Console, summary: dict) -> None:
    table = Table(title="engineers' judgment")
    for column in ("task", "model", "accuracy", "95% CI", "n", "LLM judge"):
        table.add_column(column)
    llm = (summary.get("llm_judge") or {}).get("tasks", {})
    for task, per_candidate in summary["tasks"].items():
        for name, f in per_candidate.items():
            llm_value = llm.get(task, {}).get(name, {}).get("accuracy")
            table.add_row(
                task,
                name,
                f"{f['accuracy']:.3f}",
                f"[{f['low']:.3f}, {f['high']:.3f}]",
                str(f["n"]),
                "" if llm_value is None else f"{llm_value:.3f}",
            )
    console.print(table)
    console.print(
        f"judges: {len(summary['judges'])}, items: {summary['items_judged']}, "
        f"Krippendorff's alpha: {summary['krippendorff_alpha']:.3f}, "
        f"Cohen's kappa: {summary['cohen_kappa']:.3f}"
    )
    if summary.get("llm_judge"):
        j = summary["llm_judge"]
        console.print(f"LLM judge: kappa with the judges' majority {j['kappa_vs_humans']:.3f} over {j['items']} items")


def _judge_backend(base_url: str, model: str, api_key_env: str | None) -> OpenAIBackend:
    """The judge model: temperature 0, no streaming, a short answer."""
    judge_model = Candidate(
        name="judge",
        backend="openai",
        base_url=base_url,
        model=model,
        stream=False,
        temperature=0.0,
        max_tokens=16,
        api_key_env=api_key_env,
    )
    return OpenAIBackend(judge_model, os.environ.get(api_key_env) if api_key_env else None)


_BASE_URL = click.option("--base-url", required=True, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
_MODEL = click.option("--model", required=True, help="The judge model's name on that endpoint.")
_KEY = click.option("--api-key-env", default=None, help="Environment variable holding the API key, if any.")


@judge.command("llm")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_BASE_URL
@_MODEL
@_KEY
def llm_labels(sheet: Path, out: Path, base_url: str, model: str, api_key_env: str | None) -> None:
    """Label a blind sheet with an LLM judge (temperature 0; an unparseable verdict counts as incorrect)."""
    backend = _judge_backend(base_url, model, api_key_env)
    failures = 0
    with sheet.open(newline="", encoding="utf-8") as source, out.open("w", newline="", encoding="utf-8") as target:
        writer = csv.writer(target)
        writer.writerow(judging.SHEET_COLUMNS)
        rows = list(csv.DictReader(source))
        for row in rows:
            verdict = judge_item(backend, row)
            failures += not verdict.parsed
            writer.writerow([row[c] for c in judging.SHEET_COLUMNS[:-1]] + [verdict.label])
    backend.close()
    click.echo(f"{len(rows)} items labelled in {out}; {failures} unparseable verdicts counted as incorrect")


@judge.command("pairwise")
@_EXPORT
@click.option("--task", default="issue", show_default=True, help="The task whose answers are compared.")
@click.option("--first", required=True, help="A candidate name.")
@click.option("--second", required=True, help="Another candidate name.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the verdicts as JSON.")
@_BASE_URL
@_MODEL
@_KEY
def pairwise_command(
    export_dir: Path,
    task: str,
    first: str,
    second: str,
    out: Path | None,
    base_url: str,
    model: str,
    api_key_env: str | None,
) -> None:
    """Compare two candidates with an LLM judge, asking in both answer orders: a win needs both orders to agree."""
    items = judging.collect_items(export_dir, [task])
    found = {item.candidate for item in items}
    missing = [name for name in (first, second) if name not in found]
    if missing:
        raise click.ClickException(f"no {task} predictions for {', '.join(missing)} under {export_dir}: run it first")
    backend = _judge_backend(base_url, model, api_key_env)
    result = compare(backend, items, first, second)
    backend.close()
    if out is not None:
        out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    click.echo(
        f"{task}: {first} wins {result['first_wins']}, {second} wins {result['second_wins']}, "
        f"ties {result['ties']} over {result['samples']} samples (both orders asked)"
    )
