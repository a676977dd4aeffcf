"""`smartco quickstart`: the whole pipeline on its embedded default, run as the README's first command runs it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from smartco.cli import root
from smartco.quickstart import split_seed
from trajectory.splits import repo_group, split_of

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_split_seed_puts_each_family_in_train_and_test() -> None:
    families = [["github.com/a/one", "github.com/a/two"], ["local/main", "local/calc"]]
    seed = split_seed(families, (0.5, 0.0, 0.5))
    for family in families:
        assert {split_of(repo_group(repo), seed, (0.5, 0.0, 0.5)) for repo in family} == {"train", "test"}


def test_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(root, ["quickstart", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "was not made by the quickstart" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.slow
@pytest.mark.e2e
def test_quickstart_runs_every_stage_and_prints_leaderboards(tmp_path: Path) -> None:
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("the quickstart imports the history of the repository it runs in: not a git checkout")
    out = tmp_path / "qs"
    args = [sys.executable, "-m", "smartco.cli", "quickstart", "--out", str(out), "--max-commits", "40"]
    done = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout
    for stage in ("collector", "sample", "capture", "history", "dataset", "benchmark", "done"):
        assert stage in output, stage
    assert "27 stored" in output and "16 stored" in output  # the two embedded GitHub sample repositories
    assert "19 spooled, 19 uploaded" in output  # the scripted session went through the spool
    manifest = json.loads((out / "dataset" / "manifest.json").read_text())
    counts = manifest["counts"]
    for kind in ("issue", "review", "generation", "comment", "completion", "trajectory"):
        assert sum(counts[kind].values()) > 0, kind
    boards = sorted((out / "benchmark").glob("*/workspace/*/rank/all_rank.csv"))
    assert len(boards) >= 3
    for board in boards:
        with board.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {row["basemodel-model"] for row in rows} == {"bm25", "oracle"}
        assert output.count("leaderboard") >= len(boards)
    comment = next(board for board in boards if "smartco_comment" in str(board))
    with comment.open(newline="") as handle:
        first = next(csv.DictReader(handle))
    assert first["basemodel-model"] == "oracle" and float(first["bleu4"]) == 1.0
