"""Engineers' judgment: blind shuffled sheets, several judges' labels, accuracy with Wilson intervals, agreement."""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ianvs_export import metric
from ianvs_export.errors import JudgeError
from ianvs_export.llm_dataset import read_side

LABELS = ("correct", "partial", "incorrect")
CREDIT = {"correct": 1.0, "partial": 0.5, "incorrect": 0.0}
_ALIASES = {
    "c": "correct",
    "1": "correct",
    "p": "partial",
    "0.5": "partial",
    "partially correct": "partial",
    "i": "incorrect",
    "0": "incorrect",
    "wrong": "incorrect",
}
SHEET_COLUMNS = ("item", "task", "question", "reference", "answer", "label")
SUMMARY_FILE = "summary.json"
TASK_ORDER = ("issue", "comment", "review", "generation", "completion")


@dataclass(frozen=True)
class SheetItem:
    item: str
    task: str
    sample_id: str
    candidate: str
    question: str
    reference: str
    answer: str


def normalise_label(raw: str) -> str | None:
    """A judge's label as one of LABELS; None for blank (not judged)."""
    text = raw.strip().lower()
    if not text:
        return None
    label = _ALIASES.get(text, text)
    if label not in LABELS:
        raise JudgeError(f"unknown label {raw!r}: use correct, partial or incorrect")
    return label


def collect_items(export_dir: Path, tasks: Sequence[str]) -> list[SheetItem]:
    """The newest predictions of every candidate for each task folder of an export (issue first)."""
    items: list[SheetItem] = []
    for task in sorted(tasks, key=lambda t: TASK_ORDER.index(t) if t in TASK_ORDER else 99):
        side = {row["id"]: row for row in read_side(export_dir / task / "data" / "test")}
        for path in _newest_predictions(export_dir / task):
            with path.open("rb") as handle:
                for line in handle:
                    row = orjson.loads(line)
                    sample = side.get(row["id"], {})
                    answer = row["answers"][0] if row["status"][0] == "ok" else ""
                    items.append(
                        SheetItem(
                            "",
                            task,
                            row["id"],
                            row["candidate"],
                            sample.get("query", ""),
                            sample.get("reference", ""),
                            answer,
                        )
                    )
    return items


def _newest_predictions(task_dir: Path) -> list[Path]:
    newest: dict[str, tuple[float, Path]] = {}
    for path in task_dir.glob("workspace/**/predictions.jsonl"):
        with path.open("rb") as handle:
            first = handle.readline()
        if not first.strip():
            continue
        candidate = str(orjson.loads(first)["candidate"])
        stamp = path.stat().st_mtime
        if candidate not in newest or stamp > newest[candidate][0]:
            newest[candidate] = (stamp, path)
    return [path for _, path in sorted(newest.values())]


def write_sheet(items: Sequence[SheetItem], sheet: Path, key: Path, seed: int = 0) -> int:
    """A blind sheet (no model names, shuffled within each task, issue first) and its separate key file."""
    rng = random.Random(seed)
    ordered: list[SheetItem] = []
    for task in dict.fromkeys(item.task for item in items):
        group = [item for item in items if item.task == task]
        rng.shuffle(group)
        ordered.extend(group)
    numbered = [SheetItem(f"J{n:05d}", *_fields(item)[1:]) for n, item in enumerate(ordered, 1)]
    sheet.parent.mkdir(parents=True, exist_ok=True)
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHEET_COLUMNS)
        for item in numbered:
            writer.writerow([item.item, item.task, item.question, item.reference, item.answer, ""])
    key_rows = {item.item: {"task": item.task, "id": item.sample_id, "candidate": item.candidate} for item in numbered}
    key.write_bytes(orjson.dumps(key_rows, option=orjson.OPT_INDENT_2))
    return len(numbered)


def _fields(item: SheetItem) -> tuple[str, ...]:
    return (item.item, item.task, item.sample_id, item.candidate, item.question, item.reference, item.answer)


def read_labels(sheet: Path) -> dict[str, str]:
    """item -> label from one judge's filled-in sheet (blank labels skipped)."""
    with sheet.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "item" not in reader.fieldnames or "label" not in reader.fieldnames:
            raise JudgeError(f"{sheet}: a judged sheet needs the columns item and label")
        labels = {}
        for row in reader:
            label = normalise_label(row.get("label") or "")
            if label is not None:
                labels[row["item"]] = label
    return labels


def summarise(key: Mapping[str, Mapping[str, str]], judges: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """Per task and candidate: accuracy (mean credit over judges and items) with a 95% Wilson interval;
    agreement between judges: Krippendorff's alpha (nominal) and, for exactly two judges, Cohen's kappa."""
    credits: dict[tuple[str, str], list[float]] = defaultdict(list)
    units: list[list[str]] = []
    for item, info in key.items():
        given = [labels[item] for labels in judges.values() if item in labels]
        if not given:
            continue
        units.append(given)
        credits[(info["task"], info["candidate"])].append(sum(CREDIT[g] for g in given) / len(given))
    tasks: dict[str, dict[str, Any]] = defaultdict(dict)
    for (task, candidate), values in sorted(credits.items()):
        low, high = metric.wilson_interval(sum(values), len(values))
        tasks[task][candidate] = {"accuracy": sum(values) / len(values), "low": low, "high": high, "n": len(values)}
    names = sorted(judges)
    kappa = math.nan
    if len(names) == 2:
        shared = [item for item in key if item in judges[names[0]] and item in judges[names[1]]]
        kappa = metric.cohen_kappa([judges[names[0]][i] for i in shared], [judges[names[1]][i] for i in shared])
    return {
        "judges": names,
        "tasks": dict(tasks),
        "krippendorff_alpha": metric.krippendorff_alpha(units),
        "cohen_kappa": kappa,
        "items_judged": len(units),
    }


def majority_labels(key: Iterable[str], judges: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """item -> the most common label among judges (ties go to the lower credit)."""
    out = {}
    for item in key:
        given = [labels[item] for labels in judges.values() if item in labels]
        if given:
            out[item] = max(LABELS[::-1], key=lambda label: (given.count(label), -CREDIT[label]))
    return out


def compare_llm(
    key: Mapping[str, Mapping[str, str]], judges: Mapping[str, Mapping[str, str]], llm: Mapping[str, str]
) -> dict[str, Any]:
    """The LLM judge's accuracy per task and model, and its Cohen's kappa against the judges' majority labels."""
    scored = summarise(key, {"llm": llm})
    majority = majority_labels(key, judges)
    shared = [item for item in key if item in majority and item in llm]
    kappa = metric.cohen_kappa([majority[i] for i in shared], [llm[i] for i in shared])
    return {"tasks": scored["tasks"], "kappa_vs_humans": kappa, "items": len(shared)}


def write_summary(export_dir: Path, summary: Mapping[str, Any]) -> list[Path]:
    """Write judgments/summary.json into each judged task folder (read by the human_* leaderboard metrics)."""
    written = []
    for task, per_candidate in summary["tasks"].items():
        folder = export_dir / task / "judgments"
        folder.mkdir(parents=True, exist_ok=True)
        body = {**{k: v for k, v in summary.items() if k not in ("tasks", "llm_judge")}, "candidates": per_candidate}
        if summary.get("llm_judge"):
            llm = summary["llm_judge"]
            body["llm_judge"] = {"kappa_vs_humans": llm["kappa_vs_humans"], "candidates": llm["tasks"].get(task, {})}
        (folder / SUMMARY_FILE).write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        written.append(folder / SUMMARY_FILE)
    return written


def human_metric(export_root: Path, task: str, candidate: str, name: str) -> float:
    """human_accuracy[_low|_high] of a candidate, or judge_agreement (alpha); NaN when not judged."""
    path = export_root / "judgments" / SUMMARY_FILE
    if not path.is_file():
        return math.nan
    summary = orjson.loads(path.read_bytes())
    if name.startswith("llm_judge_"):
        llm = summary.get("llm_judge") or {}
        value = (
            llm.get("kappa_vs_humans")
            if name == "llm_judge_kappa"
            else ((llm.get("candidates") or {}).get(candidate, {}).get("accuracy"))
        )
        return math.nan if value is None else float(value)
    if name == "judge_agreement":
        alpha = summary.get("krippendorff_alpha")  # NaN was written as null
        return math.nan if alpha is None else float(alpha)
    figures = summary.get("candidates", {}).get(candidate)
    if not figures:
        return math.nan
    field = {"human_accuracy": "accuracy", "human_accuracy_low": "low", "human_accuracy_high": "high"}[name]
    return float(figures[field])
