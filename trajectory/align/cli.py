"""`smartco dataset`: build aligned dataset records with leakage-free splits."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import click

from trajectory.align import AlignError, OptionsError
from trajectory.align.options import DEFAULT_BOT_PATTERNS, BuildOptions, Caps, default_workers
from trajectory.records import RECORD_KINDS

log = logging.getLogger(__name__)


def _ratios(value: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(part) for part in value.split(","))
    except ValueError:
        raise OptionsError(f"--ratios {value!r}: expected three numbers such as 0.8,0.1,0.1") from None
    if len(parts) != 3:
        raise OptionsError(f"--ratios {value!r}: expected three numbers, train,validation,test")
    return parts  # type: ignore[return-value]


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OptionsError(f"--test-after {value!r} is not a date (YYYY-MM-DD) or an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group()
def dataset() -> None:
    """Build aligned dataset records with leakage-free splits."""


@dataset.command("build")
@click.option("--from", "source_spec", required=True, metavar="SOURCE",
              help="Events JSONL file, collector URL (http[s]://...) or database URL (sqlite:///..., postgresql://...).")
@click.option("--out", "out_dir", required=True, metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="The dataset folder (its files from an earlier build are replaced).")  # fmt: skip
@click.option("--token", envvar="SMARTCO_TOKEN", help="Read token for a collector URL [env SMARTCO_TOKEN].")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(RECORD_KINDS),
              help="Record kinds to build (repeatable; default all).")  # fmt: skip
@click.option("--split-by", type=click.Choice(["repo", "session"]), default="repo", show_default=True,
              help="The unit that never spans two splits.")  # fmt: skip
@click.option("--ratios", default="0.8,0.1,0.1", show_default=True, help="Shares of train,validation,test.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split assignment.")
@click.option("--test-after", metavar="DATE",
              help="Test keeps only records whose evidence is all newer (YYYY-MM-DD or ISO time).")  # fmt: skip
@click.option("--repo", "repos", multiple=True, help="Keep only these repositories (repeatable).")
@click.option("--actor", "actors", multiple=True, help="Keep only events of these (pseudonymous) actors.")
@click.option("--include-bots", is_flag=True, help="Keep bot commits, comments and reviews.")
@click.option("--bot", "bot_patterns", multiple=True,
              help="More bot login patterns (* and ? wildcards, brackets literal; repeatable).")  # fmt: skip
@click.option("--secrets", type=click.Choice(["drop", "redact"]), default="drop", show_default=True,
              help="What to do with a record the second secret scan flags.")  # fmt: skip
@click.option("--max-field-chars", type=click.IntRange(min=100), default=Caps.field_chars, show_default=True,
              help="Length cap of any one text field.")  # fmt: skip
@click.option("--near-duplicate", "threshold", type=click.FloatRange(0.01, 1.0), default=0.85, show_default=True,
              help="Similarity from which a record is a near duplicate of an earlier one.")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=1), default=default_workers(), show_default=True,
              help="Processes aligning repositories at once (the output does not depend on it).")  # fmt: skip
@click.option("--no-progress", is_flag=True, help="No progress bar (the summary is still printed).")
def build_command(
    source_spec: str,
    out_dir: Path,
    token: str | None,
    kinds: tuple[str, ...],
    split_by: str,
    ratios: str,
    seed: int,
    test_after: str | None,
    repos: tuple[str, ...],
    actors: tuple[str, ...],
    include_bots: bool,
    bot_patterns: tuple[str, ...],
    secrets: str,
    max_field_chars: int,
    threshold: float,
    workers: int,
    no_progress: bool,
) -> None:
    """Align events (recorded sessions, mined history) from SOURCE into dataset records under DIR."""
    from rich.console import Console

    from trajectory.align.builder import build
    from trajectory.align.progress import console_progress
    from trajectory.align.source import open_source

    console = Console(stderr=True)
    try:
        options = BuildOptions(
            kinds=kinds or RECORD_KINDS,
            split_by=split_by,  # type: ignore[arg-type]
            ratios=_ratios(ratios),
            seed=seed,
            test_after=_time(test_after),
            repos=repos,
            actors=actors,
            include_bots=include_bots,
            bot_patterns=DEFAULT_BOT_PATTERNS + bot_patterns,
            secrets=secrets,  # type: ignore[arg-type]
            near_duplicate_threshold=threshold,
            caps=Caps(field_chars=max_field_chars),
            workers=workers,
        )
        source = open_source(source_spec, token)
        with console_progress(console, enabled=not no_progress and console.is_terminal) as progress:
            result = build(source, out_dir, options, progress)
    except AlignError as err:
        raise click.ClickException(str(err)) from None
    counts = ", ".join(f"{kind} {count}" for kind, count in result.kind_counts().items())
    dropped = sum(result.dropped.values())
    click.echo(
        f"{result.total} records ({counts}) from {result.events_read} events in {result.repositories} "
        f"repositories; {dropped} dropped (see manifest.json); written to {out_dir}"
    )
