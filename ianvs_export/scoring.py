"""Per-sample scores of one test case and their aggregation into the one number per metric Ianvs ranks by."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ianvs_export import metric
from ianvs_export.interpret import explains, has_accurate_comments, is_refusal
from ianvs_export.judge import human_metric
from ianvs_export.sandbox import SandboxLimits, isolation_name, run_python
from ianvs_export.task import LOWER_IS_BETTER

SCORES_FILE = "scores.jsonl"
METRICS_FILE = "metrics.json"
_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CACHE: OrderedDict[str, tuple[list[dict[str, Any]], dict[str, float]]] = OrderedDict()
SANDBOX_LIMITS = SandboxLimits()

MetricFunction = Callable[[Any, Any], float]


def extract_code(answer: str) -> str:
    """The first fenced code block of an answer, or the whole answer when it has none."""
    match = _FENCE.search(answer)
    return (match.group(1) if match else answer).strip("\n")


def checked_program(code: str, tests: str, entry_point: str) -> str:
    """The candidate's code, then its tests, then calls of `check(entry_point)` / `test_*` functions it defines."""
    kept = [line for line in tests.splitlines() if not _imports_only(line, entry_point)]
    runner = (
        "\n\n_names = [n for n in list(globals()) if n.startswith('test_') and callable(globals()[n])]\n"
        "for _name in _names:\n    globals()[_name]()\n"
        "if callable(globals().get('check')):\n"
        f"    check(globals()[{entry_point!r}])\n"
    )
    return f"{code}\n\n" + "\n".join(kept) + runner


def _imports_only(line: str, name: str) -> bool:
    # `from pkg.module import name` in a repository's test would import the engineer's code, not the candidate's
    found = re.match(r"\s*from\s+[\w.]+\s+import\s+\(?\s*([\w\s,]+?)\s*\)?\s*$", line)
    return found is not None and [part.strip() for part in found.group(1).split(",")] == [name]


def sample_scores(
    task: str, reference: str, row: Mapping[str, Any], limits: SandboxLimits = SANDBOX_LIMITS
) -> dict[str, float]:
    """Every per-sample score the task's metrics aggregate; failed answers score 0 on quality."""
    answers: list[str] = list(row.get("answers") or [""])
    status: list[str] = list(row.get("status") or ["error"])
    ok = [s == "ok" for s in status]
    first = answers[0] if ok[0] else ""
    scores: dict[str, float] = {
        "error_rate": _mean([s == "error" for s in status]),
        "timeout_rate": _mean([s == "timeout" for s in status]),
        "refusal_rate": _mean([good and is_refusal(a) for a, good in zip(answers, ok, strict=False)]),
        "agreement": metric.majority_agreement(answers) if len(answers) > 1 else 1.0,
    }
    if task == "generation":
        scores.update(_generation_scores(reference, answers, ok, row.get("extras") or {}, limits))
    elif task == "completion":
        hypothesis = extract_code(first)
        scores["exact_match"] = metric.exact_match(reference, hypothesis)
        scores["edit_similarity"] = metric.edit_similarity(reference, hypothesis)
        scores["identifier_f1"] = metric.identifier_f1(reference, hypothesis)
        scores["chrf"] = metric.chrf(reference, hypothesis)
    else:
        scores["bleu4"] = metric.smoothed_bleu4(reference, first) if first else 0.0
        scores["rouge_l"] = metric.rouge_l(reference, first)
        scores["chrf"] = metric.chrf(reference, first)
        if task == "issue":
            scores["explanation_rate"] = float(explains(first))
    return scores


def _generation_scores(
    reference: str, answers: list[str], ok: list[bool], extras: Mapping[str, Any], limits: SandboxLimits
) -> dict[str, float]:
    codes = [extract_code(a) if good else "" for a, good in zip(answers, ok, strict=False)]
    valid = [good and metric.syntax_valid(code) for code, good in zip(codes, ok, strict=False)]
    tests, entry = str(extras.get("tests") or ""), str(extras.get("entry_point") or "")
    passed = 0
    if tests:
        for code, is_valid in zip(codes, valid, strict=False):
            if is_valid and run_python(checked_program(code, tests, entry), limits).passed:
                passed += 1
    return {
        "pass_at_1": metric.pass_at_k(len(codes), passed, 1) if tests else math.nan,
        "syntax_valid_rate": _mean(valid),
        "edit_similarity": metric.edit_similarity(reference, codes[0]),
        "identifier_f1": metric.identifier_f1(reference, codes[0]),
        "commented_rate": float(valid[0] and has_accurate_comments(codes[0])),
        "tests_passed": float(passed),
    }


def edge_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Latency p50/p95 (ms, every attempt), median time to first token (ms, answered attempts; the time limit when
    none answered), tokens/s, peak RSS (MB)."""
    latencies = [float(v) * 1000 for row in rows for v in row.get("latency_s") or []]
    ok_pairs = [(row, i) for row in rows for i, s in enumerate(row.get("status") or []) if s == "ok"]
    ttfts = [float(row["ttft_s"][i]) * 1000 for row, i in ok_pairs if row["ttft_s"][i] is not None]
    tokens = sum(int(row["output_tokens"][i]) for row, i in ok_pairs)
    busy = sum(float(row["latency_s"][i]) for row, i in ok_pairs)
    return {
        "latency_p50_ms": _finite(metric.percentile(latencies, 50)),
        "latency_p95_ms": _finite(metric.percentile(latencies, 95)),
        # no answered attempt: no token came within the time limit, so the limit is the honest figure (not 0)
        "ttft_ms": metric.percentile(ttfts, 50) if ttfts else max(_timeouts(rows), default=0.0) * 1000,
        "tokens_per_s": tokens / busy if busy > 0 else 0.0,
        "peak_memory_mb": max((float(row.get("peak_rss_mb") or 0.0) for row in rows), default=0.0),
    }


def _timeouts(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    return [float(row.get("timeout_s") or 0.0) for row in rows]


def score_run(
    task: str, references: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Per-sample scores and aggregates of one test case, computed once and written beside the predictions."""
    run_id = str(rows[0].get("run_id", "")) if rows else ""
    if run_id and run_id in _CACHE:
        return _CACHE[run_id]
    per_sample = []
    for reference, row in zip(references, rows, strict=False):
        scores = sample_scores(task, str(reference), row)
        per_sample.append({"id": row.get("id"), "candidate": row.get("candidate"), **scores})
    names = {name for sample in per_sample for name in sample if name not in ("id", "candidate")}
    aggregates = {name: _finite(_mean([s[name] for s in per_sample if not _isnan(s.get(name))])) for name in names}
    aggregates.update(edge_figures(rows))
    result_dir = str(rows[0].get("result_dir") or "") if rows else ""
    if result_dir:
        _write_scores(Path(result_dir), per_sample, aggregates, rows[0])
    _CACHE[run_id] = (per_sample, aggregates)
    while len(_CACHE) > 4:
        _CACHE.popitem(last=False)
    return per_sample, aggregates


def metric_function(task: str, name: str, export_root: Path) -> MetricFunction:
    """The `fn(y_true, y_pred) -> float` Ianvs calls for one metric of one task."""

    def compute(y_true: Any, y_pred: Any) -> float:
        rows = [row for row in list(y_pred) if isinstance(row, Mapping)]
        if name.startswith(("human_", "judge_", "llm_judge_")):
            candidate = str(rows[0].get("candidate")) if rows else ""
            return human_metric(export_root, task, candidate, name)
        _, aggregates = score_run(task, [str(y) for y in list(y_true)], rows)
        return aggregates.get(name, math.nan if name not in LOWER_IS_BETTER else 0.0)

    compute.__name__ = name
    return compute


def _write_scores(
    folder: Path, per_sample: list[dict[str, Any]], aggregates: Mapping[str, float], first: Mapping[str, Any]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / SCORES_FILE).open("wb") as handle:
        for sample in per_sample:
            handle.write(orjson.dumps(sample, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    summary = {
        "candidate": first.get("candidate"),
        "task": first.get("task"),
        "prompt_version": first.get("prompt_version"),
        "prompt_hash": first.get("prompt_hash"),
        "samples": len(per_sample),
        "metrics": dict(aggregates),
        "sandbox_network_isolation": isolation_name(),
    }
    (folder / METRICS_FILE).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))


def _mean(values: Sequence[Any]) -> float:
    return sum(float(v) for v in values) / len(values) if values else math.nan


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _finite(value: float) -> float:
    return 0.0 if math.isnan(value) else value
