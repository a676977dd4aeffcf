"""Benchmark harness cost: the runner on 10,000 samples with the BM25 baseline, and the sandbox vs plain python.

1. A comment-task export of 10,000 test samples (1,000 train) is run by `smartco ianvs run`'s runner in a fresh
   process with the BM25 baseline. Overhead per sample = (runner wall time - time inside the model backend) / n:
   everything the harness adds (reading the split, prompts, timing, writing predictions and scores, every
   metric, the leaderboard files and the chart). Peak RSS is the whole process's. Targets: <= 2 ms, <= 300 MB.
2. 500 small programs run through the sandbox (limits, namespaces, audit hook, temporary directory, process group
   kill) vs a plain loop of `subprocess.run([python, file])` over the same programs, interleaved in batches so
   that the machine's noise hits both alike. Target: ratio <= 1.5.

Ends with one JSON line per checked figure; exits 1 if any misses its target.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from ianvs_export.candidate import Candidate
from ianvs_export.export import export_benchmark
from ianvs_export.sandbox import isolation_name, run_python
from trajectory.records import Provenance, SimpleCommentRecord, write_records

VERBS = [
    "parse",
    "load",
    "merge",
    "split",
    "render",
    "validate",
    "normalise",
    "count",
    "find",
    "build",
    "encode",
    "decode",
    "fetch",
    "store",
    "flush",
    "sort",
    "group",
    "filter",
    "resolve",
    "format",
    "scan",
    "index",
]
_STEMS = [
    "user",
    "order",
    "file",
    "cache",
    "queue",
    "task",
    "job",
    "node",
    "page",
    "item",
    "line",
    "block",
    "frame",
    "packet",
    "image",
    "token",
    "event",
    "session",
    "account",
    "report",
    "config",
    "header",
    "record",
    "path",
    "version",
    "payload",
    "row",
    "chunk",
    "commit",
    "branch",
]
NOUNS = [stem + tail for stem in _STEMS for tail in ("", "s", "_id", "_map", "_name", "_count")]
STEPS = [
    "    items = [part.strip() for part in {arg}.split(',')]\n",
    "    if not {arg}:\n        return None\n",
    "    result = {{}}\n    for key, value in {arg}.items():\n        result[key.lower()] = value\n",
    "    total = 0\n    for item in {arg}:\n        total += len(item)\n",
    "    with open({arg}, encoding='utf-8') as handle:\n        text = handle.read()\n",
    "    cleaned = {arg}.replace('\\t', ' ').rstrip()\n",
]


def synthetic_comment(rng: random.Random, number: int, split: str) -> SimpleCommentRecord:
    """A function and the comment an engineer wrote for it, varied enough that retrieval has work to do."""
    verb, noun, other = rng.choice(VERBS), rng.choice(NOUNS), rng.choice(NOUNS)
    arg = f"{other}_{rng.choice(['data', 'text', 'items', 'map'])}"
    body = "".join(step.format(arg=arg) for step in rng.sample(STEPS, 3))
    code = f"def {verb}_{noun}({arg}, strict=False):\n{body}    return {arg}\n"
    comment = f"{verb.capitalize()} the {noun} from {other} {rng.choice(['data', 'text', 'entries'])}"
    comment += rng.choice(["; None when empty.", ", ignoring case.", " and count the items.", "."])
    prov = Provenance(repo=f"github.com/bench/{split}-{number % 50}", paths=[f"src/{noun}.py"])
    return SimpleCommentRecord(id=f"{split}-{number}", provenance=prov, code_snippet=code, comment=comment)


def build_export(root: Path, samples: int, train: int) -> Path:
    rng = random.Random(7)
    (root / "dataset" / "comment_simple").mkdir(parents=True)
    for split, count in (("train", train), ("test", samples)):
        records = [synthetic_comment(rng, n, split) for n in range(count)]
        write_records(root / "dataset" / "comment_simple" / f"{split}.jsonl", records)
    candidates = [Candidate(name="bm25", backend="retrieval")]
    (exported,) = export_benchmark(root / "dataset", root / "bench", candidates, ["comment"])
    return exported.folder


def run_child(folder: Path) -> None:
    """In a fresh process: run the folder and print wall time, model time and peak RSS as JSON."""
    from ianvs_export.memory import lifetime_peak_mb
    from ianvs_export.runner import run_folder

    started = time.perf_counter()
    board = run_folder(folder)
    wall = time.perf_counter() - started
    url = board.rows[0]["url"]
    model = 0.0
    with (folder / url / "output" / "inference" / "predictions.jsonl").open("rb") as handle:
        for line in handle:
            model += sum(orjson.loads(line)["latency_s"])
    print(json.dumps({"wall_s": wall, "model_s": model, "peak_rss_mb": lifetime_peak_mb()}))


def harness_figures(samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="smartco-bench-harness-") as scratch:
        folder = build_export(Path(scratch), samples, max(samples // 10, 10))
        done = subprocess.run(
            [sys.executable, __file__, "--run-folder", str(folder)], capture_output=True, text=True, check=True
        )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["overhead_ms"] = (figures["wall_s"] - figures["model_s"]) / samples * 1000
    return figures


def small_program(rng: random.Random, number: int) -> str:
    """A small, passing program of the kind a generation task runs: a function and a few asserts."""
    a, b = rng.randint(1, 50), rng.randint(1, 50)
    return (
        f"def combine_{number}(a, b):\n    values = sorted([a, b, a + b])\n    return values[-1] - values[0]\n\n"
        f"assert combine_{number}({a}, {b}) == {a + b - min(a, b)}\n"
        f"assert ''.join(reversed('abc{number}')) == '{number}'[::-1] + 'cba'\n"
    )


def sandbox_figures(programs: int, batch: int = 25) -> dict[str, float]:
    rng = random.Random(11)
    sources = [small_program(rng, n) for n in range(programs)]
    sandboxed = plain = 0.0
    with tempfile.TemporaryDirectory(prefix="smartco-bench-plain-") as scratch:
        files = []
        for number, source in enumerate(sources):
            files.append(Path(scratch) / f"program_{number}.py")
            files[-1].write_text(source, encoding="utf-8")
        run_python(sources[0])  # warm up: the namespace probe and the interpreter's files
        subprocess.run([sys.executable, str(files[0])], capture_output=True, check=True)
        for start in range(0, programs, batch):
            began = time.perf_counter()
            for path in files[start : start + batch]:
                subprocess.run([sys.executable, str(path)], capture_output=True, check=True)
            plain += time.perf_counter() - began
            began = time.perf_counter()
            for source in sources[start : start + batch]:
                if not run_python(source).passed:
                    raise SystemExit("a sandboxed program failed: the comparison would be meaningless")
            sandboxed += time.perf_counter() - began
    return {"sandbox_s": sandboxed, "plain_s": plain, "ratio": sandboxed / plain}


def line(name: str, value: float, unit: str, target: float) -> dict[str, Any]:
    return {"bench": name, "value": round(value, 3), "unit": unit, "target": f"<= {target:g}", "ok": value <= target}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--run-folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_folder:
        run_child(args.run_folder)
        return 0
    harness = harness_figures(args.samples)
    print(
        f"runner, bm25, {args.samples} samples: {harness['wall_s']:.2f} s wall, {harness['model_s']:.2f} s in the "
        f"model -> {harness['overhead_ms']:.3f} ms overhead per sample; peak RSS {harness['peak_rss_mb']:.0f} MB"
    )
    sandbox = sandbox_figures(args.programs)
    print(
        f"sandbox ({isolation_name()}), {args.programs} programs: {sandbox['sandbox_s']:.2f} s vs plain "
        f"subprocess.run {sandbox['plain_s']:.2f} s -> ratio {sandbox['ratio']:.2f}"
    )
    results = [
        line("harness_overhead_ms_per_sample", harness["overhead_ms"], "ms", 2.0),
        line("harness_peak_rss_mb", harness["peak_rss_mb"], "MB", 300.0),
        line("sandbox_ratio", sandbox["ratio"], "x", 1.5),
    ]
    for result in results:
        print(json.dumps(result))
    return 0 if all(result["ok"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
