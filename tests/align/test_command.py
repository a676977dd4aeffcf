"""`smartco dataset build` options (kinds, filters, bots, secrets, caps) as the manifest records them, and the
quickstart stage that builds from a collector and prints counts per kind."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from align.stream import scenario, write_events
from click.testing import CliRunner
from rich.console import Console

from collector_api.testing import running_collector
from smartco.cli import root
from trajectory.align.quickstart import build_from_collector
from trajectory.records import read_records
from trajectory.sources.sink import CollectorSink


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, ["dataset", "build", *args])
    return result.exit_code, result.stdout, result.stderr


def _manifest(out: Path) -> dict:
    return dict(orjson.loads((out / "manifest.json").read_bytes()))


def _repos(out: Path) -> set[str]:
    return {r.provenance.repo for path in out.glob("*/*.jsonl") for r in read_records(path)}


@pytest.fixture
def events(tmp_path: Path) -> Path:
    streams = [scenario(f"github.com/acme/r{n}", id_base=n * 1000) for n in range(3)]
    bot = streams[0]
    bot.commit("Bump deps", {"geo.py": bot.tree["geo.py"] + "# pinned\n"}, author="renovate-helper")
    return write_events(tmp_path / "events.jsonl", [e for s in streams for e in s.events])


def test_repository_actor_and_kind_filters(tmp_path: Path, events: Path) -> None:
    out = tmp_path / "repo"
    code, _, err = _run("--from", str(events), "--out", str(out), "--repo", "github.com/acme/r1", "--no-progress")
    assert code == 0, err
    manifest = _manifest(out)
    assert _repos(out) == {"github.com/acme/r1"} and manifest["options"]["repos"] == ["github.com/acme/r1"]
    assert manifest["dropped"]["repo_filtered"] == 2 * manifest["inputs"]["events_kept"] + 1  # the bot's commit

    out = tmp_path / "actor"
    code, _, err = _run("--from", str(events), "--out", str(out), "--actor", "u_asker", "--actor", "u_dev",
                        "--kind", "issue", "--no-progress")  # fmt: skip
    assert code == 0, err
    manifest = _manifest(out)
    assert list(manifest["counts"]) == ["issue"]  # the same issue in three repositories: kept once
    assert (manifest["totals"]["issue"], manifest["dropped"]["exact_duplicate"]) == (1, 2)
    assert manifest["options"]["actors"] == ["u_asker", "u_dev"] and manifest["dropped"]["actor_filtered"] > 0
    assert {p.parent.name for p in out.glob("*/*.jsonl")} == {"issue"}


def test_bot_patterns_extend_the_defaults_and_bots_can_be_kept(tmp_path: Path, events: Path) -> None:
    code, _, err = _run("--from", str(events), "--out", str(tmp_path / "a"), "--bot", "renovate-*", "--no-progress")
    assert code == 0, err
    manifest = _manifest(tmp_path / "a")
    assert manifest["dropped"]["bot_commit"] == 1 and "renovate-*" in manifest["options"]["bot_patterns"]
    code, _, err = _run("--from", str(events), "--out", str(tmp_path / "b"), "--bot", "renovate-*", "--include-bots",
                        "--no-progress")  # fmt: skip
    assert code == 0, err
    assert "bot_commit" not in _manifest(tmp_path / "b")["dropped"]


def test_secrets_caps_and_threshold_options_reach_the_manifest(tmp_path: Path, events: Path) -> None:
    args = ["--secrets", "redact", "--max-field-chars", "100", "--near-duplicate", "0.9", "--seed", "3",
            "--ratios", "0.6,0.2,0.2", "--split-by", "session", "--test-after", "2020-01-01"]  # fmt: skip
    code, out, err = _run("--from", str(events), "--out", str(tmp_path / "o"), *args, "--no-progress")
    assert code == 0, err
    options = _manifest(tmp_path / "o")["options"]
    assert (options["secrets"], options["caps"]["field_chars"], options["near_duplicate_threshold"]) == (
        "redact",
        100,
        0.9,
    )
    assert (options["seed"], options["ratios"], options["split_by"]) == (3, [0.6, 0.2, 0.2], "session")
    assert options["test_after"] == "2020-01-01T00:00:00+00:00"
    assert _manifest(tmp_path / "o")["dropped"]["field_too_long"] > 0 and out.count("\n") == 1


@pytest.mark.e2e
def test_the_quickstart_stage_builds_from_its_collector_and_prints_counts(tmp_path: Path) -> None:
    with running_collector(tmp_path / "collector") as collector:
        sink = CollectorSink(collector.url, collector.token)
        sink.send(scenario().events)
        sink.close()
        screen = io.StringIO()
        result = build_from_collector(collector.url, collector.token, tmp_path / "out", Console(file=screen, width=120))
    printed = screen.getvalue()
    assert f"dataset: {result.total} records from {result.events_read} events" in printed
    rows = {
        cells[1]: cells[2:5] for line in printed.splitlines() if len(cells := [c.strip() for c in line.split("│")]) > 4
    }
    for kind, splits in result.counts.items():
        assert rows[kind] == [str(splits[split]) for split in ("train", "validation", "test")]
    assert result.kind_counts()["trajectory"] >= 1 and (tmp_path / "out" / "manifest.json").is_file()


def test_the_progress_display_counts_events_then_records(tmp_path: Path, events: Path) -> None:
    from trajectory.align.builder import build
    from trajectory.align.options import BuildOptions
    from trajectory.align.progress import console_progress
    from trajectory.align.source import FileSource

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with console_progress(console) as progress:
        result = build(FileSource(events), tmp_path / "out", BuildOptions(), progress)
    shown = screen.getvalue()
    assert "events" in shown and f"{result.events_read:,}" in shown
    with console_progress(console, enabled=False) as nothing:
        assert nothing is None
