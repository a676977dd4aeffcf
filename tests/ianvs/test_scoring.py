"""Per-sample scores and their aggregation into one number per metric, as Ianvs calls the metric functions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from ianvs_export import metric
from ianvs_export.sandbox import SandboxLimits
from ianvs_export.scoring import (
    METRICS_FILE,
    SCORES_FILE,
    checked_program,
    edge_figures,
    extract_code,
    metric_function,
    sample_scores,
    score_run,
)
from ianvs_export.task import TASKS

FAST = SandboxLimits(cpu_s=2, wall_s=5.0, memory_mb=256)


def _row(answers: list[str], status: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    count = len(answers)
    row: dict[str, Any] = {
        "id": extra.pop("id", "s1"),
        "candidate": extra.pop("candidate", "m"),
        "task": extra.pop("task", "comment"),
        "answers": answers,
        "status": status or ["ok"] * count,
        "errors": [""] * count,
        "latency_s": extra.pop("latency_s", [0.1] * count),
        "ttft_s": extra.pop("ttft_s", [0.05] * count),
        "output_tokens": extra.pop("output_tokens", [10] * count),
        "extras": extra.pop("extras", {}),
        "run_id": extra.pop("run_id", ""),
        "result_dir": extra.pop("result_dir", ""),
    }
    row.update(extra)
    return row


def test_rates_count_errors_timeouts_and_refusals_per_attempt() -> None:
    row = _row(["ok answer", "", "", "I'm sorry, I cannot do that."], ["ok", "error", "timeout", "ok"])
    scores = sample_scores("comment", "ok answer", row)
    assert scores["error_rate"] == 0.25
    assert scores["timeout_rate"] == 0.25
    assert scores["refusal_rate"] == 0.25
    assert scores["agreement"] == pytest.approx(2 / 4)  # "" twice, the others once


def test_a_failed_first_answer_scores_zero_on_quality() -> None:
    scores = sample_scores("review", "Close the file in a with block.", _row([""], ["error"]))
    assert scores["bleu4"] == 0.0
    assert scores["rouge_l"] == 0.0
    assert scores["chrf"] == 0.0
    assert scores["error_rate"] == 1.0


def test_completion_scores_strip_a_code_fence() -> None:
    scores = sample_scores("completion", "handle.read()", _row(["```python\nhandle.read()\n```"]))
    assert scores["exact_match"] == 1.0
    assert scores["edit_similarity"] == 1.0


def test_issue_scores_include_the_explanation_rule() -> None:
    answer = "It fails because Windows uses cp1252 by default; pass encoding='utf-8' to open() so it reads UTF-8."
    assert sample_scores("issue", answer, _row([answer]))["explanation_rate"] == 1.0
    assert sample_scores("issue", answer, _row(["Use utf-8."]))["explanation_rate"] == 0.0


def test_generation_pass_at_1_over_repeated_samples() -> None:
    good = (
        "def median(values):\n    # sort, then take the middle\n    s = sorted(values)\n    n = len(s)\n"
        "    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n"
    )
    bad = "def median(values):\n    return 0\n"
    tests = "def test_median():\n    assert median([3, 1, 2]) == 2.0\n    assert median([4, 1, 3, 2]) == 2.5\n"
    extras = {"tests": tests, "entry_point": "median"}
    row = _row([f"```python\n{good}```", bad, bad, "def median(:", good], extras=extras)
    scores = sample_scores("generation", good, row, FAST)
    assert scores["tests_passed"] == 2.0
    assert scores["pass_at_1"] == pytest.approx(metric.pass_at_k(5, 2, 1)) == pytest.approx(0.4)
    assert scores["syntax_valid_rate"] == pytest.approx(4 / 5)
    assert scores["commented_rate"] == 1.0
    assert scores["edit_similarity"] == 1.0


def test_check_style_tests_and_repository_imports_run_against_the_candidate() -> None:
    code = "def parse_version(text):\n    return tuple(int(p) for p in text.strip().split('.'))\n"
    check = "def check(candidate):\n    assert candidate('1.2.3') == (1, 2, 3)\n"
    repo_style = (
        "from mypkg.versions import parse_version\n\ndef test_it():\n    assert parse_version('1.0') == (1, 0)\n"
    )
    for tests in (check, repo_style):
        row = _row([code], extras={"tests": tests, "entry_point": "parse_version"})
        assert sample_scores("generation", code, row, FAST)["pass_at_1"] == 1.0
    program = checked_program(code, repo_style, "parse_version")
    assert "mypkg" not in program


def test_extract_code_takes_the_first_fenced_block() -> None:
    assert extract_code("Here:\n```python\nx = 1\n```\nand\n```\ny = 2\n```") == "x = 1"
    assert extract_code("x = 1") == "x = 1"
    assert extract_code("```py\nunterminated = True") == "unterminated = True"


def test_edge_figures_from_timings() -> None:
    rows = [
        _row(["a"], latency_s=[0.1], ttft_s=[0.02], output_tokens=[10], peak_rss_mb=100.0),
        _row(["b"], latency_s=[0.3], ttft_s=[0.04], output_tokens=[30], peak_rss_mb=120.0),
        _row([""], ["error"], latency_s=[0.2], ttft_s=[None], output_tokens=[0], peak_rss_mb=110.0),
    ]
    figures = edge_figures(rows)
    assert figures["latency_p50_ms"] == pytest.approx(200.0)  # every attempt, failed ones too
    assert figures["latency_p95_ms"] == pytest.approx(290.0)
    assert figures["ttft_ms"] == pytest.approx(30.0)  # median over answered attempts
    assert figures["tokens_per_s"] == pytest.approx(40 / 0.4)  # answered tokens over answered time
    assert figures["peak_memory_mb"] == 120.0


def test_a_candidate_that_never_answered_gets_its_time_limit_as_ttft_not_zero() -> None:
    rows = [_row([""], ["error"], latency_s=[0.001], ttft_s=[None], timeout_s=5.0) for _ in range(3)]
    figures = edge_figures(rows)
    assert figures["ttft_ms"] == 5000.0
    assert figures["tokens_per_s"] == 0.0


def test_every_metric_of_every_task_returns_one_number(tmp_path: Path) -> None:
    for task in TASKS.values():
        rows = [
            _row(["def f(x):\n    return x\n"], run_id=f"{task.name}-1", task=task.name, id="a", peak_rss_mb=50.0),
            _row([""], ["timeout"], run_id=f"{task.name}-1", task=task.name, id="b", peak_rss_mb=50.0),
        ]
        references = np.array(["def f(x):\n    return x\n", "pass"])  # sedna hands a numpy array
        for name in task.metrics:
            value = metric_function(task.name, name, tmp_path)(references, rows)
            assert isinstance(value, float), (task.name, name)
            assert math.isfinite(value), (task.name, name)
        assert metric_function(task.name, "timeout_rate", tmp_path)(references, rows) == 0.5


def test_scores_and_aggregates_are_written_beside_the_predictions(tmp_path: Path) -> None:
    rows = [
        _row(["Merge two dicts."], id="x", run_id="written-1", result_dir=str(tmp_path), prompt_hash="abc"),
        _row(["Nothing."], id="y", run_id="written-1", result_dir=str(tmp_path), prompt_hash="abc"),
    ]
    per_sample, aggregates = score_run("comment", ["Merge two dicts.", "Read a file."], rows)
    assert [s["id"] for s in per_sample] == ["x", "y"]
    lines = (tmp_path / SCORES_FILE).read_bytes().splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == ["x", "y"]
    summary = orjson.loads((tmp_path / METRICS_FILE).read_bytes())
    assert summary["prompt_hash"] == "abc"
    assert summary["metrics"]["bleu4"] == pytest.approx(aggregates["bleu4"])
    assert aggregates["bleu4"] == pytest.approx((1.0 + metric.smoothed_bleu4("Read a file.", "Nothing.")) / 2)
