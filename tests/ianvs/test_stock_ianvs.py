"""The exported folders on stock KubeEdge-Ianvs itself, when an Ianvs installation is given.

Ianvs is not on the package index: install it outside the repository (README, "Running on stock Ianvs"), install
this project into the same environment, and point SMARTCO_IANVS_VENV at that environment.
"""

from __future__ import annotations

import csv
import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from ianvs.chat_server import ChatServer, Rule, Script
from ianvs.conftest import build_dataset

from ianvs_export.candidate import Candidate
from ianvs_export.export import export_benchmark
from ianvs_export.task import TASKS

VENV_ENV = "SMARTCO_IANVS_VENV"

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _ianvs() -> Path:
    venv = os.environ.get(VENV_ENV)
    if not venv:
        pytest.skip(f"stock Ianvs runs need {VENV_ENV} (a venv with ianvs 0.1.0, sedna 0.6.0.1 and smartco)")
    ianvs = Path(venv) / "bin" / "ianvs"
    if not ianvs.is_file():
        pytest.fail(f"{VENV_ENV}={venv} has no bin/ianvs")
    return ianvs


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    script = Script({"coder": [Rule(match="def merge_dicts", reply="Merge two dicts into a new one; keys of b win.")]})
    with ChatServer(script) as server:
        yield server


@pytest.mark.parametrize("task", list(TASKS))
def test_stock_ianvs_runs_the_export(task: str, tmp_path: Path, chat: ChatServer) -> None:
    ianvs = _ianvs()
    candidates = [
        Candidate(name="bm25", backend="retrieval"),
        Candidate(name="oracle", backend="oracle"),
        Candidate(name="edge", backend="openai", base_url=chat.base_url, model="coder", timeout_s=10),
        Candidate(name="gone", backend="openai", base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2),
    ]
    (exported,) = export_benchmark(build_dataset(tmp_path / "dataset"), tmp_path / "bench", candidates, [task])
    done = subprocess.run(
        [str(ianvs), "-f", "benchmarkingjob.yaml"],
        cwd=exported.folder,  # Ianvs resolves every path against its working directory
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with (exported.folder / "workspace" / f"smartco_{task}" / "rank" / "all_rank.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["basemodel-model"] for row in rows} == {"bm25", "oracle", "edge", "gone"}
    testenv = yaml.safe_load((exported.folder / "testenv" / "testenv.yaml").read_text())["testenv"]
    for row in rows:
        for metric in (m["name"] for m in testenv["metrics"]):
            assert math.isfinite(float(row[metric])), (row["basemodel-model"], metric)
        assert (exported.folder / row["url"] / "output" / "inference" / "predictions.jsonl").is_file()
    by_model = {row["basemodel-model"]: row for row in rows}
    assert float(by_model["gone"]["error_rate"]) == 1.0
    assert float(by_model["oracle"][TASKS[task].main_metric]) == 1.0
    assert any(body["model"] == "coder" for body in chat.requests)
