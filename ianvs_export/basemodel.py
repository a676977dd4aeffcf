"""The Ianvs basemodel behind every generated module: one candidate, Ianvs's call order, raw outputs saved."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson

from ianvs_export.backend import Backend, FailingBackend, Request, make_backend, timed
from ianvs_export.candidate import Candidate, load_candidates
from ianvs_export.errors import IanvsExportError
from ianvs_export.llm_dataset import read_side
from ianvs_export.memory import peak_rss_mb, reset_peak
from ianvs_export.task import TASKS

logger = logging.getLogger(__name__)

PREDICTIONS_FILE = "predictions.jsonl"


class CodeModel:
    """Answers a task's samples with one candidate; a generated subclass sets `task_name` and `export_root`."""

    task_name: ClassVar[str] = ""
    export_root: ClassVar[Path] = Path()

    def __init__(self, model: str = "", **hyperparameters: Any) -> None:
        self.candidate_name = str(model)
        self.hyperparameters = hyperparameters
        self.task = TASKS[self.task_name]
        self.candidate: Candidate | None = None
        self.problem = ""
        self.backend: Backend | None = None
        self.side: list[dict[str, Any]] = []

    def preprocess(self, **kwargs: Any) -> None:
        """Find the candidate in the export's models.yaml and read the test extras (idempotent)."""
        if self.candidate is not None or self.problem:
            return
        try:
            candidates = {c.name: c for c in load_candidates(self.export_root / "models.yaml")}
        except IanvsExportError as err:
            self.problem = str(err)
            return
        self.candidate = candidates.get(self.candidate_name)
        if self.candidate is None:
            self.problem = f"candidate {self.candidate_name!r} is not in models.yaml"
        self.side = read_side(self.export_root / "data" / "test")

    def train(self, train_data: Any = None, valid_data: Any = None, **kwargs: Any) -> None:
        """Build the backend; the retrieval baseline indexes the train split here."""
        self.preprocess()
        reset_peak()  # the candidate's peak memory: from loading its backend to the end of predict
        if self.candidate is None:
            self.backend = FailingBackend(self.problem)
            return
        prefix = self.task.prompt.instruction
        queries = [_strip_prefix(str(x), prefix) for x in _as_list(getattr(train_data, "x", None))]
        responses = [str(y) for y in _as_list(getattr(train_data, "y", None))]
        try:
            self.backend = make_backend(self.candidate, queries, responses, os.environ)
        except Exception as err:  # an unusable candidate fails its samples, never the job
            logger.warning("candidate %s cannot start: %s", self.candidate_name, type(err).__name__)
            self.backend = FailingBackend(f"{type(err).__name__}: {err}"[:300])

    def save(self, model_path: str | None = None, **kwargs: Any) -> str:
        folder = Path(model_path or ".")
        folder.mkdir(parents=True, exist_ok=True)
        state = {"candidate": self.candidate_name, "task": self.task_name, "prompt_hash": self.task.prompt.digest}
        target = folder / f"{self.task_name}-{self.candidate_name}.json"
        target.write_bytes(orjson.dumps(state))
        return str(target)

    def load(self, model_url: str | None = None, **kwargs: Any) -> None:
        if self.backend is None:  # Ianvs always trains first; a runner that does not still gets a backend
            self.train(None)

    def predict(self, data: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """One row per sample: every answer, its status and timings; written to RESULT_SAVED_URL."""
        if self.backend is None:
            self.load()
        assert self.backend is not None
        xs = [str(x) for x in _as_list(data.x if hasattr(data, "x") else data)]
        ids = [str(i) for i in _as_list(getattr(data, "level_4", None))] or [str(i) for i in range(len(xs))]
        extras = self._extras_by_id(ids)
        run_id = uuid.uuid4().hex
        result_dir = os.environ.get("RESULT_SAVED_URL", "")
        rows = [
            self._answer(sample_id, x, extras.get(sample_id, {}), run_id, result_dir)
            for sample_id, x in zip(ids, xs, strict=True)
        ]
        rss = peak_rss_mb()
        for row in rows:
            row["peak_rss_mb"] = rss
        if result_dir:
            _write_rows(Path(result_dir), rows)
        return rows

    def _extras_by_id(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        by_id = {str(item["id"]): item for item in self.side}
        if by_id and all(sample_id in by_id for sample_id in ids):
            return by_id
        return {sample_id: item for sample_id, item in zip(ids, self.side, strict=False)}

    def _answer(self, sample_id: str, x: str, side: Mapping[str, Any], run_id: str, result_dir: str) -> dict[str, Any]:
        assert self.backend is not None
        prompt = self.task.prompt
        query = str(side.get("query") or _strip_prefix(x, prompt.instruction))
        request = Request(system=prompt.system, x=x, query=query, reference=str(side.get("reference", "")))
        samples = self.candidate.samples if self.candidate else 1
        answers = [timed(self.backend, request) for _ in range(samples)]
        return {
            "id": sample_id,
            "task": self.task_name,
            "candidate": self.candidate_name,
            "answers": [answer.text for answer in answers],
            "status": [answer.status for answer in answers],
            "errors": [answer.error for answer in answers],
            "latency_s": [answer.latency_s for answer in answers],
            "ttft_s": [answer.ttft_s for answer in answers],
            "output_tokens": [answer.output_tokens for answer in answers],
            "timeout_s": self.candidate.timeout_s if self.candidate else 0.0,
            "extras": dict(side.get("extras") or {}),
            "prompt_version": prompt.version,
            "prompt_hash": prompt.digest,
            "run_id": run_id,
            "result_dir": result_dir,
        }


def _as_list(values: Any) -> list[Any]:
    """A list from None, a list or sedna's numpy arrays (whose truth value is ambiguous)."""
    return [] if values is None else list(values)


def _strip_prefix(x: str, prefix: str) -> str:
    return x[len(prefix) :] if prefix and x.startswith(prefix) else x


def _write_rows(folder: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / PREDICTIONS_FILE).open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")
