"""The dataset folder: one JSONL per kind and split, manifest.json, the dataset card; rebuilding is byte-identical."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml
from align.stream import scenario, write_events

from trajectory.align.builder import build
from trajectory.align.options import BuildOptions
from trajectory.align.source import FileSource
from trajectory.events import SCHEMA_VERSION
from trajectory.records import RECORD_KINDS, RECORD_VERSION, read_records
from trajectory.splits import SPLITS


def _events(tmp_path: Path, repos: int = 6) -> Path:
    events = [e for n in range(repos) for e in scenario(f"github.com/acme/r{n}", id_base=n * 1000).events]
    return write_events(tmp_path / "events.jsonl", events)


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_layout_manifest_and_hashes(tmp_path: Path) -> None:
    events = _events(tmp_path)
    seen: list[tuple[str, int]] = []
    options = BuildOptions(seed=9)
    result = build(FileSource(events), tmp_path / "out", options, lambda phase, done: seen.append((phase, done)))
    out = tmp_path / "out"
    expected = {f"{kind}/{split}.jsonl" for kind in RECORD_KINDS for split in SPLITS}
    assert set(_tree(out)) == expected | {"manifest.json", "README.md"}
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["record_version"] == RECORD_VERSION and manifest["event_schema_version"] == SCHEMA_VERSION
    assert manifest["options"]["seed"] == 9 and manifest["options"] == options.describe()
    assert manifest["inputs"]["source"] == "file:events.jsonl"
    assert manifest["inputs"]["blake2b"] == hashlib.blake2b(events.read_bytes(), digest_size=20).hexdigest()
    assert manifest["inputs"]["events_read"] == sum(1 for _ in events.open("rb")) == result.events_read
    assert manifest["inputs"]["repositories"] == 6 and manifest["inputs"]["sessions"] == 6
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["records"] == data.count(b"\n") == manifest["counts"][name.split("/")[0]][Path(name).stem]
    for kind in RECORD_KINDS:
        for split in SPLITS:
            assert all(r.kind == kind for r in read_records(out / kind / f"{split}.jsonl"))
    assert manifest["totals"] == result.kind_counts() and all(manifest["totals"].values())
    assert seen[-1][0] == "events" or seen[-1][0] == "records"
    assert ("events", result.events_read) in seen


def test_dataset_card_is_a_hugging_face_card_of_this_build(tmp_path: Path) -> None:
    build(FileSource(_events(tmp_path)), tmp_path / "out", BuildOptions(seed=2))
    out = tmp_path / "out"
    card = (out / "README.md").read_text()
    assert card.startswith("---\n")
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["license"] == ["mit"] and "code" in header["language"]
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    configs = {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in header["configs"]}
    for kind, splits in manifest["counts"].items():
        assert configs.get(kind, {}) == {s: f"{kind}/{s}.jsonl" for s, n in splits.items() if n}
        assert f"| {kind} | " + " | ".join(str(splits[s]) for s in SPLITS) + f" | {sum(splits.values())} |" in card
    for section in ("## Counts", "## Fields", "## How it was built", "## Licensing", "## Intended use"):
        assert section in card
    assert "start_commit" in card and "`line_ranges`" in card


def test_only_the_chosen_kinds_are_built(tmp_path: Path) -> None:
    result = build(FileSource(_events(tmp_path, 2)), tmp_path / "out", BuildOptions(kinds=("issue", "review")))
    assert set(result.counts) == {"issue", "review"}
    assert {p.parent.name for p in (tmp_path / "out").glob("*/*.jsonl")} == {"issue", "review"}


def test_rebuilding_in_one_process_is_byte_identical(tmp_path: Path) -> None:
    events = _events(tmp_path, 3)
    build(FileSource(events), tmp_path / "a", BuildOptions(seed=4, ratios=(0.4, 0.3, 0.3)))
    build(FileSource(events), tmp_path / "b", BuildOptions(seed=4, ratios=(0.4, 0.3, 0.3)))
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_worker_processes_give_the_same_files(tmp_path: Path) -> None:
    """Repositories aligned in worker processes reach the duplicate checks and the files in the same order."""
    events = _events(tmp_path, 5)
    build(FileSource(events), tmp_path / "one", BuildOptions(seed=4, ratios=(0.4, 0.3, 0.3)))
    result = build(FileSource(events), tmp_path / "three", BuildOptions(seed=4, ratios=(0.4, 0.3, 0.3), workers=3))
    assert _tree(tmp_path / "one") == _tree(tmp_path / "three")
    assert result.total > 0 and result.repositories == 5
    assert result.worker_peak_rss_kib > 0  # the records were made in the workers


@pytest.mark.slow
def test_rebuilding_with_the_same_inputs_and_seed_is_byte_identical_across_processes(tmp_path: Path) -> None:
    events = _events(tmp_path)
    trees = []
    for run, hash_seed in enumerate(("1", "2")):  # another process, another str hash: sets iterate differently
        out = tmp_path / f"out{run}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [sys.executable, "-m", "smartco.cli", "dataset", "build", "--from", str(events), "--out", str(out),
                   "--seed", "4", "--no-progress"]  # fmt: skip
        subprocess.run(command, check=True, env=env, capture_output=True)
        trees.append(_tree(out))
    assert trees[0] == trees[1]
    build(FileSource(events), tmp_path / "out0", BuildOptions(seed=4))  # over an earlier build: the same again
    assert _tree(tmp_path / "out0") == trees[0]
    build(FileSource(events), tmp_path / "other", BuildOptions(seed=5))
    assert _tree(tmp_path / "other") != trees[0]
