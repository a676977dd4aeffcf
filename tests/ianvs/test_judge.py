"""Engineers' judgment and the LLM judge: blind sheets, several judges, Wilson intervals, agreement, leaderboard."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner
from ianvs.chat_server import ChatServer, Rule, Script
from ianvs.conftest import build_dataset

from ianvs_export.judge import SHEET_COLUMNS, normalise_label
from ianvs_export.llm_judge import Verdict, parse_verdict
from ianvs_export.metric import wilson_interval
from ianvs_export.task import HUMAN_METRICS, LLM_JUDGE_METRICS
from smartco.cli import root

# the issue task's test split in conftest, and what engineers answered
WINDOWS = "Windows defaults to cp1252 because open() uses the locale encoding; pass encoding='utf-8' to open()."
BOT = "Bot payloads have no user object because the sender is an app; use sender.login and handle a null user."
LOCAL_WINDOWS = "Pass encoding='utf-8' to open()."
# what two engineers said of each (candidate, sample): c = correct, p = partially correct, i = incorrect
JUDGE_A = {
    ("oracle", "win"): "c",
    ("oracle", "bot"): "c",
    ("bm25", "win"): "i",
    ("bm25", "bot"): "i",
    ("edge", "win"): "p",
    ("edge", "bot"): "c",
}
JUDGE_B = {  # spelled out, as engineers type them
    ("oracle", "win"): "correct",
    ("oracle", "bot"): "correct",
    ("bm25", "win"): "incorrect",
    ("bm25", "bot"): "partially correct",
    ("edge", "win"): "partial",
    ("edge", "bot"): "incorrect",
}


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(root, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _script() -> Script:
    return Script(
        {
            "coder": [Rule(match="UnicodeDecodeError", reply=LOCAL_WINDOWS)],
            "judge": [
                Rule(match=f"Candidate answer:\n{WINDOWS}", reply="Correct."),
                Rule(match=f"Candidate answer:\n{BOT}", reply="correct"),
                Rule(match=f"Candidate answer:\n{LOCAL_WINDOWS}", reply="Correct"),
                Rule(match="Candidate answer:\nI do not know.", reply="Hard to say."),  # unparseable
                Rule(match="", reply="Incorrect."),
            ],
            # prefers the maintainers' answer wherever it sits
            "fair": [
                Rule(match=f"Answer A:\n{WINDOWS}", reply="A"),
                Rule(match=f"Answer B:\n{WINDOWS}", reply="B"),
                Rule(match=f"Answer A:\n{BOT}", reply="A"),
                Rule(match=f"Answer B:\n{BOT}", reply="B"),
            ],
            "biased": [Rule(match="", reply="A")],  # always the first answer shown
        }
    )


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    with ChatServer(_script()) as server:
        yield server


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory, chat: ChatServer) -> dict[str, Any]:
    """The issue task run with bm25, the oracle and a local model, then a blind sheet labelled by two judges."""
    base = tmp_path_factory.mktemp("judge")
    dataset = build_dataset(base / "dataset")
    models = base / "models.yaml"
    local = {"name": "edge", "backend": "openai", "base_url": chat.base_url, "model": "coder", "stream": False}
    oracle = {"name": "oracle", "backend": "oracle"}
    models.write_text(yaml.safe_dump({"models": [{"name": "bm25", "backend": "retrieval"}, oracle, local]}))
    out = base / "bench"
    _invoke("ianvs", "export", str(dataset), "--out", str(out), "--models", str(models), "--tasks", "issue,comment")
    _invoke("ianvs", "run", str(out))
    sheet = base / "sheet.csv"
    printed = _invoke("judge", "export", str(out), "--out", str(sheet), "--tasks", "comment,issue")
    key = orjson.loads(sheet.with_suffix(".key.json").read_bytes())
    labels = []
    for number, judge in enumerate((JUDGE_A, JUDGE_B), 1):
        path = base / f"judge{number}.csv"
        _fill(sheet, path, key, judge)
        labels += ["--labels", str(path)]
    summary_output = _invoke("judge", "import", str(out), "--key", str(sheet.with_suffix(".key.json")), *labels)
    return {"out": out, "sheet": sheet, "key": key, "labels": labels, "printed": printed, "summary": summary_output}


def _sample(question: str) -> str:
    return "win" if "UnicodeDecodeError" in question else "bot"


def _fill(sheet: Path, target: Path, key: dict[str, Any], judge: dict[tuple[str, str], str]) -> None:
    """A judge's filled-in copy: issue items labelled (the key says which model, the judge does not see it)."""
    with sheet.open(newline="", encoding="utf-8") as source, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for row in reader:
            if row["task"] == "issue":
                row["label"] = judge[(key[row["item"]]["candidate"], _sample(row["question"]))]
            writer.writerow(row)


def _sheet_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sheet_is_blind_shuffled_and_issue_first(judged: dict[str, Any]) -> None:
    rows = _sheet_rows(judged["sheet"])
    assert list(rows[0]) == list(SHEET_COLUMNS)  # no model column
    assert [row["task"] for row in rows] == ["issue"] * 6 + ["comment"] * 9
    assert all(row["label"] == "" for row in rows)
    text = judged["sheet"].read_text(encoding="utf-8")
    for name in ("bm25", "oracle", "edge"):
        assert name not in text
    key = judged["key"]
    order = [key[row["item"]]["candidate"] for row in rows if row["task"] == "issue"]
    runs = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert runs >= 2  # shuffled: not one block per model
    assert "15 answers to judge" in judged["printed"]
    assert sorted({v["candidate"] for v in key.values()}) == ["bm25", "edge", "oracle"]


def test_sheet_order_depends_only_on_the_seed(judged: dict[str, Any], tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    _invoke("judge", "export", str(judged["out"]), "--out", str(again), "--tasks", "comment,issue")
    assert again.read_text() == judged["sheet"].read_text()
    other = tmp_path / "other.csv"
    _invoke("judge", "export", str(judged["out"]), "--out", str(other), "--tasks", "issue", "--seed", "7")
    assert [r["answer"] for r in _sheet_rows(other)] != [r["answer"] for r in _sheet_rows(judged["sheet"])][:6]


def test_accuracy_wilson_interval_and_agreement_against_hand_values(judged: dict[str, Any]) -> None:
    summary = orjson.loads((judged["out"] / "issue" / "judgments" / "summary.json").read_bytes())
    accuracy = {name: figures["accuracy"] for name, figures in summary["candidates"].items()}
    # credit 1 / 0.5 / 0, averaged over judges per answer, then over answers
    assert accuracy == {"oracle": 1.0, "bm25": pytest.approx(0.125), "edge": pytest.approx(0.5)}
    edge = summary["candidates"]["edge"]
    assert (edge["low"], edge["high"]) == pytest.approx(wilson_interval(1.0, 2))
    assert edge["n"] == 2
    # two judges, six answers: p_o = 4/6, p_e = (3*2 + 2*2 + 1*2)/36 = 1/3 -> kappa = 0.5
    assert summary["cohen_kappa"] == pytest.approx(0.5)
    # coincidences: n_c = 5, n_i = 4, n_p = 3, 4 disagreeing pairs -> alpha = 1 - 11 * 4 / (2 * 47)
    assert summary["krippendorff_alpha"] == pytest.approx(1 - 44 / 94)
    assert "Krippendorff's alpha: 0.532" in judged["summary"]
    assert "Cohen's kappa: 0.500" in judged["summary"]
    assert not (judged["out"] / "comment" / "judgments").exists()  # nothing judged there


def test_judges_metrics_appear_on_the_leaderboard(judged: dict[str, Any]) -> None:
    folder = judged["out"] / "issue"
    testenv = yaml.safe_load((folder / "testenv" / "testenv.yaml").read_text())["testenv"]
    assert [m["name"] for m in testenv["metrics"]][-4:] == list(HUMAN_METRICS)
    _invoke("ianvs", "run", str(folder))
    with (folder / "workspace" / "smartco_issue" / "rank" / "all_rank.csv").open(newline="") as handle:
        rows = {row["basemodel-model"]: row for row in csv.DictReader(handle)}
    assert float(rows["oracle"]["human_accuracy"]) == 1.0
    assert float(rows["bm25"]["human_accuracy"]) == pytest.approx(0.125)
    low, high = wilson_interval(0.25, 2)
    assert float(rows["bm25"]["human_accuracy_low"]) == pytest.approx(low)
    assert float(rows["bm25"]["human_accuracy_high"]) == pytest.approx(high)
    assert float(rows["edge"]["judge_agreement"]) == pytest.approx(1 - 44 / 94)


def test_llm_judge_labels_with_parse_failures_counted_incorrect(
    judged: dict[str, Any], chat: ChatServer, tmp_path: Path
) -> None:
    issue_sheet = tmp_path / "issue.csv"
    _invoke("judge", "export", str(judged["out"]), "--out", str(issue_sheet))  # --tasks issue by default
    llm = tmp_path / "llm.csv"
    before = len(chat.requests)
    endpoint = ["--base-url", chat.base_url, "--model", "judge"]
    printed = _invoke("judge", "llm", str(issue_sheet), "--out", str(llm), *endpoint)
    assert "6 items labelled" in printed and "1 unparseable verdicts counted as incorrect" in printed
    asked = chat.requests[before:]
    assert len(asked) == 6 and all(body["temperature"] == 0.0 and body["model"] == "judge" for body in asked)
    key = orjson.loads(issue_sheet.with_suffix(".key.json").read_bytes())
    verdicts = {(key[r["item"]]["candidate"], _sample(r["question"])): r["label"] for r in _sheet_rows(llm)}
    assert verdicts[("edge", "bot")] == "incorrect"  # "Hard to say." could not be parsed
    assert verdicts[("edge", "win")] == "correct"
    printed = _invoke("judge", "import", str(judged["out"]), "--key", str(issue_sheet.with_suffix(".key.json")),
                      *_relabel(judged, issue_sheet, tmp_path), "--llm-labels", str(llm))  # fmt: skip
    summary = orjson.loads((judged["out"] / "issue" / "judgments" / "summary.json").read_bytes())
    llm_figures = summary["llm_judge"]
    assert {k: v["accuracy"] for k, v in llm_figures["candidates"].items()} == {
        "oracle": 1.0,
        "bm25": 0.0,
        "edge": 0.5,
    }
    # judges' majority (ties to the lower credit): c c i i p i; LLM: c c i i c i -> kappa = (5/6 - 15/36) / (21/36)
    assert llm_figures["kappa_vs_humans"] == pytest.approx(15 / 21)
    assert "kappa with the judges' majority 0.714" in printed
    testenv = yaml.safe_load((judged["out"] / "issue" / "testenv" / "testenv.yaml").read_text())["testenv"]
    assert [m["name"] for m in testenv["metrics"]][-2:] == list(LLM_JUDGE_METRICS)
    _invoke("ianvs", "run", str(judged["out"] / "issue"))
    with (judged["out"] / "issue" / "workspace" / "smartco_issue" / "rank" / "all_rank.csv").open() as handle:
        rows = {row["basemodel-model"]: row for row in csv.DictReader(handle)}
    assert float(rows["edge"]["llm_judge_accuracy"]) == 0.5
    assert float(rows["edge"]["llm_judge_kappa"]) == pytest.approx(15 / 21)
    assert float(rows["edge"]["human_accuracy"]) == pytest.approx(0.5)  # beside the humans' score


def _relabel(judged: dict[str, Any], sheet: Path, folder: Path) -> list[str]:
    """The same two judges' labels on a freshly exported sheet."""
    key = orjson.loads(sheet.with_suffix(".key.json").read_bytes())
    args = []
    for number, judge in enumerate((JUDGE_A, JUDGE_B), 1):
        path = folder / f"again{number}.csv"
        _fill(sheet, path, key, judge)
        args += ["--labels", str(path)]
    return args


def test_pairwise_asks_both_orders_and_needs_them_to_agree(
    judged: dict[str, Any], chat: ChatServer, tmp_path: Path
) -> None:
    out = tmp_path / "pairwise.json"
    before = len(chat.requests)
    printed = _invoke("judge", "pairwise", str(judged["out"]), "--first", "bm25", "--second", "oracle",
                      "--base-url", chat.base_url, "--model", "fair", "--out", str(out))  # fmt: skip
    assert "bm25 wins 0, oracle wins 2, ties 0 over 2 samples" in printed
    asked = [body["messages"][1]["content"] for body in chat.requests[before:]]
    assert len(asked) == 4
    for first, second in zip(asked[::2], asked[1::2], strict=True):
        a_then_b = first.split("Answer A:\n")[1].split("\n\nAnswer B:\n")
        b_then_a = second.split("Answer A:\n")[1].split("\n\nAnswer B:\n")
        assert a_then_b[0] == b_then_a[1].split("\n\nWhich answer")[0]  # the same two answers, swapped
    assert orjson.loads(out.read_bytes())["second_wins"] == 2
    biased = _invoke("judge", "pairwise", str(judged["out"]), "--first", "bm25", "--second", "oracle",
                     "--base-url", chat.base_url, "--model", "biased")  # fmt: skip
    assert "ties 2 over 2 samples" in biased  # a judge that always says "A" decides nothing


def test_labels_and_errors(judged: dict[str, Any], tmp_path: Path) -> None:
    assert normalise_label(" Partially correct ") == "partial"
    assert normalise_label("C") == "correct"
    assert normalise_label("") is None
    bad = tmp_path / "bad.csv"
    bad.write_text("item,label\nJ00001,maybe\n")
    key = str(judged["sheet"].with_suffix(".key.json"))
    result = CliRunner().invoke(root, ["judge", "import", str(judged["out"]), "--key", key, "--labels", str(bad)])
    assert result.exit_code == 1 and "unknown label 'maybe'" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(root, ["judge", "export", str(empty), "--out", str(tmp_path / "s.csv")])
    assert result.exit_code == 1 and "run it first" in result.output
    assert math.isnan(wilson_interval(0, 0)[0])


@pytest.mark.parametrize(
    ("reply", "label", "parsed"),
    [
        ("correct", "correct", True),
        ("Incorrect.", "incorrect", True),
        ("Partially correct: it misses the fix.", "partial", True),
        ("partial", "partial", True),
        ("The answer is not correct.", "incorrect", True),
        ("It isn't correct", "incorrect", True),
        ("Hard to say.", "incorrect", False),
        ("", "incorrect", False),
    ],
)
def test_verdict_parsing(reply: str, label: str, parsed: bool) -> None:
    assert parse_verdict(reply) == Verdict(label, parsed)
