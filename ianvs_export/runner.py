"""Run an exported folder without Ianvs, in Ianvs's call order, and write the same leaderboard files."""

from __future__ import annotations

import itertools
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ianvs_export.errors import BenchmarkFolderError, ExportError
from ianvs_export.leaderboard import Leaderboard, write_leaderboard
from ianvs_export.llm_dataset import LLMData, read_split
from ianvs_export.registry import load_module, lookup
from ianvs_export.validate import FolderLayout, resolve, validate_folder

logger = logging.getLogger(__name__)


@dataclass
class CaseResult:
    algorithm: str
    module_alias: str
    hyperparameters: dict[str, Any]
    metrics: dict[str, float]
    time: str
    url: str
    seconds: dict[str, float] = field(default_factory=dict)  # per call: preprocess, train, ..., metrics


def combinations(hyperparameters: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """The cartesian product Ianvs builds from `- NAME: {values: [...]}` items (other_hyperparameters merged)."""
    base: dict[str, Any] = {}
    axes: list[tuple[str, list[Any]]] = []
    for item in hyperparameters:
        for name, spec in item.items():
            values = (spec or {}).get("values")
            if not isinstance(values, list):
                raise BenchmarkFolderError(f"hyperparameter {name}: values must be a list")
            if name == "other_hyperparameters":
                for other in values:
                    base.update(yaml.safe_load(resolve(folder, str(other)).read_text(encoding="utf-8")) or {})
            else:
                axes.append((name, values))
    return [
        {**base, **dict(zip([n for n, _ in axes], combo, strict=True))}
        for combo in itertools.product(*[v for _, v in axes])
    ]


@contextmanager
def _result_saved_url(path: Path) -> Iterator[None]:
    previous = os.environ.get("RESULT_SAVED_URL")
    os.environ["RESULT_SAVED_URL"] = f"{path}/"  # what Ianvs sets for load and predict
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RESULT_SAVED_URL", None)
        else:
            os.environ["RESULT_SAVED_URL"] = previous


def _load_split(folder: Path, dataset: Mapping[str, Any], role: str) -> LLMData:
    info = dataset.get(f"{role}_data_info")
    if info:
        return read_split(resolve(folder, str(info)))
    raise BenchmarkFolderError(f"testenv: only {role}_data_info (metadata.json) datasets are supported by the runner")


def run_case(
    cls: Callable[..., Any],
    hyperparameters: dict[str, Any],
    train: LLMData,
    test: LLMData,
    metrics: Mapping[str, Callable[[Any, Any], float]],
    case_dir: Path,
) -> tuple[dict[str, float], dict[str, float]]:
    """cls(**hp) -> preprocess -> train -> save -> load -> predict -> metrics, exactly Ianvs's order."""
    seconds: dict[str, float] = {}
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        seconds[name] = now - tick
        tick = now

    job = cls(**hyperparameters)
    job.preprocess()
    lap("preprocess")
    job.train(train)
    saved = job.save(str(case_dir / "output" / "train") + "/")
    lap("train")
    with _result_saved_url(case_dir / "output" / "inference"):
        job.load(saved)
        result = job.predict(test)
        lap("predict")
        values = {name: float(fn(test.y, result)) for name, fn in metrics.items()}
        lap("metrics")
    return values, seconds


def run_folder(folder: Path, now: Callable[[], str] | None = None) -> Leaderboard:
    """Run every test case of the folder's job and write rank/all_rank.csv, selected_rank.csv and the report."""
    clock = now or (lambda: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()))
    try:
        layout = validate_folder(folder)
    except ExportError as err:
        raise BenchmarkFolderError(str(err)) from err
    metrics = _metric_functions(layout)
    dataset = layout.testenv.get("dataset") or {}
    train, test = _load_split(layout.folder, dataset, "train"), _load_split(layout.folder, dataset, "test")
    raw_workspace = str(layout.job.get("workspace", "./workspace"))
    workspace = resolve(layout.folder, raw_workspace) / str(layout.job["name"])
    cases: list[CaseResult] = []
    for algorithm_name, algorithm in layout.algorithms:
        if algorithm.get("paradigm_type") != "singletasklearning":
            raise BenchmarkFolderError(f"{algorithm_name}: only singletasklearning is supported by the runner")
        module = next(m for m in algorithm.get("modules") or [] if m.get("type") == "basemodel")
        load_module(resolve(layout.folder, str(module["url"])))
        cls = lookup(str(module["name"]))
        for hyperparameters in combinations(module.get("hyperparameters") or [], layout.folder):
            case_dir = workspace / algorithm_name / str(uuid.uuid4())
            values, seconds = run_case(cls, hyperparameters, train, test, metrics, case_dir)
            url = os.path.join(raw_workspace, str(layout.job["name"]), algorithm_name, case_dir.name)  # as Ianvs
            cases.append(
                CaseResult(algorithm_name, str(module["name"]), hyperparameters, values, clock(), url, seconds)
            )
            logger.info("case %s done: %d samples", case_dir.name, len(test.x))
    return write_leaderboard(workspace / "rank", layout.job.get("rank") or {}, cases)


def _metric_functions(layout: FolderLayout) -> dict[str, Callable[[Any, Any], float]]:
    functions = {}
    for item in layout.testenv.get("metrics") or []:
        load_module(resolve(layout.folder, str(item["url"])))
        functions[str(item["name"])] = lookup(str(item["name"]))
    return functions
