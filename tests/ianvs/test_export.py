"""`smartco ianvs export`: folders shaped the way stock Ianvs 0.1.0 reads them (see ianvs-contract.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from ianvs_export import metric
from ianvs_export.basemodel import CodeModel
from ianvs_export.candidate import DEFAULT_CANDIDATES, Candidate, load_candidates
from ianvs_export.errors import ExportError, ModelsConfigError
from ianvs_export.export import JOB_FILE, export_benchmark, names, spread
from ianvs_export.llm_dataset import read_side, read_split
from ianvs_export.prompt import PROMPTS
from ianvs_export.registry import REGISTERED, load_module, lookup
from ianvs_export.task import FIELD_CAP, LOWER_IS_BETTER, TASKS
from ianvs_export.validate import validate_folder
from smartco.cli import root
from trajectory.records import (
    CompletionRecord,
    GenerationRecord,
    Provenance,
    SimpleCommentRecord,
    read_records,
    write_records,
)

CANDIDATES = [
    *DEFAULT_CANDIDATES,
    Candidate(
        name="edge-llama", backend="openai", base_url="http://127.0.0.1:8080/v1", model="q", api_key_env="EDGE_KEY"
    ),
]


@pytest.fixture
def export_dir(dataset_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bench"
    exported = export_benchmark(dataset_dir, out, CANDIDATES)
    assert [item.task for item in exported] == list(TASKS)
    return out


def _yaml_paths(folder: Path) -> list[str]:
    """Every path string the three yamls hand to Ianvs."""
    job = yaml.safe_load((folder / JOB_FILE).read_text())["benchmarkingjob"]
    testenv = yaml.safe_load((folder / job["testenv"]).read_text())["testenv"]
    found = [job["workspace"], job["testenv"], *testenv["dataset"].values()]
    found += [item["url"] for item in testenv["metrics"]]
    for entry in job["test_object"]["algorithms"]:
        found.append(entry["url"])
        algorithm = yaml.safe_load((folder / entry["url"]).read_text())["algorithm"]
        found += [module["url"] for module in algorithm["modules"]]
    return found


def test_every_generated_yaml_parses(export_dir: Path) -> None:
    files = sorted(export_dir.glob("*/**/*.yaml"))
    assert len(files) == 5 * 4  # job, testenv, algorithm, models.yaml per task
    for path in files:
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path


def test_every_path_resolves_inside_the_folder_from_its_own_cwd(
    export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for task in TASKS:
        folder = export_dir / task
        monkeypatch.chdir(folder)  # Ianvs resolves every path against its working directory
        for raw in _yaml_paths(folder):
            assert not os.path.isabs(raw), raw
            resolved = Path(raw).resolve()
            assert resolved.is_relative_to(folder.resolve()), raw
            if raw != "./workspace":
                assert resolved.is_file(), raw


def test_job_testenv_and_algorithm_are_what_ianvs_needs(export_dir: Path) -> None:
    for task, spec in TASKS.items():
        folder = export_dir / task
        job = yaml.safe_load((folder / JOB_FILE).read_text())["benchmarkingjob"]
        testenv = yaml.safe_load((folder / job["testenv"]).read_text())["testenv"]
        assert [m["name"] for m in testenv["metrics"]] == list(spec.metrics)
        assert Path(testenv["dataset"]["test_data_info"]).name == "metadata.json"
        assert "train_data_info" in testenv["dataset"]
        sort_by = job["rank"]["sort_by"]
        assert sort_by[0] == {spec.main_metric: "descend"}
        for item in sort_by:
            ((name, order),) = item.items()
            assert order == ("ascend" if name in LOWER_IS_BETTER else "descend")
        (entry,) = job["test_object"]["algorithms"]
        algorithm = yaml.safe_load((folder / entry["url"]).read_text())["algorithm"]
        assert algorithm["paradigm_type"] == "singletasklearning"
        (module,) = algorithm["modules"]
        assert module["type"] == "basemodel"
        # a list, always: a plain string would become one test case per character
        assert module["hyperparameters"] == [{"model": {"values": [c.name for c in CANDIDATES]}}]


def test_datasets_are_in_the_llm_format(export_dir: Path) -> None:
    for task in TASKS:
        for split in ("train", "test"):
            folder = export_dir / task / "data" / split
            metadata = orjson.loads((folder / "metadata.json").read_bytes())
            assert {"dataset", "description", "level_1_dim", "level_2_dim"} <= set(metadata)
            assert PROMPTS[task].digest in metadata["description"]
            raw = (folder / "data.jsonl").read_bytes()
            lines = raw.split(b"\n")
            assert lines[-1] == b"" and all(line.strip() for line in lines[:-1])  # no blank line anywhere
            for line in lines[:-1]:
                row = orjson.loads(line)
                assert {"query", "response", "level_3_dim", "level_4_dim"} <= set(row)
                assert row["prompt"] == PROMPTS[task].instruction
            parsed = read_split(folder / "metadata.json")
            rows = [orjson.loads(line) for line in lines[:-1]]
            assert parsed.x == [row["prompt"] + row["query"] for row in rows]  # x = prompt + query, no separator


def test_generated_modules_import_and_register_their_aliases(export_dir: Path) -> None:
    for task, spec in TASKS.items():
        folder = export_dir / task
        n = names(task)
        load_module(folder / "testalgorithms" / f"{n['model_module']}.py")
        model_class = lookup(n["model_alias"])
        assert isinstance(model_class, type) and issubclass(model_class, CodeModel)
        assert model_class.task_name == task
        assert model_class.export_root == folder.resolve()
        load_module(folder / "testenv" / f"{n['metric_module']}.py")
        for name in spec.metrics:
            assert callable(REGISTERED[name])
            assert REGISTERED[name].__name__ == name


def test_modules_import_like_ianvs_does_in_a_fresh_interpreter(export_dir: Path, tmp_path: Path) -> None:
    """Folder first on sys.path, import by basename, from an unrelated working directory."""
    folder = export_dir / "completion"
    n = names("completion")
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(folder / 'testalgorithms')!r})\n"
        f"sys.path.insert(0, {str(folder / 'testenv')!r})\n"
        f"model = importlib.import_module({n['model_module']!r})\n"
        f"metrics = importlib.import_module({n['metric_module']!r})\n"
        "from ianvs_export.registry import REGISTERED\n"
        f"print(sorted(REGISTERED) == sorted([{n['model_alias']!r}, *metrics.METRICS]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_basenames_are_unique_and_import_safe_across_tasks(export_dir: Path) -> None:
    modules = sorted(export_dir.glob("*/test*/*.py"))
    assert len(modules) == 2 * len(TASKS)
    stems = [path.stem for path in modules]
    assert len(set(stems)) == len(stems)
    for stem in stems:
        assert stem.isidentifier() and stem not in sys.stdlib_module_names
        assert stem not in ("core", "sedna", "ianvs_export")
    algorithms = [path.stem for path in export_dir.glob("*/testalgorithms/*.yaml")]
    assert len(set(algorithms)) == len(TASKS)


def test_models_yaml_names_the_key_variable_never_the_key(
    dataset_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGE_KEY", "sk-very-secret-value")
    out = tmp_path / "bench"
    export_benchmark(dataset_dir, out, CANDIDATES, ["issue"])
    assert [c.name for c in load_candidates(out / "issue" / "models.yaml")] == [c.name for c in CANDIDATES]
    for path in out.rglob("*"):
        if path.is_file():
            assert b"sk-very-secret-value" not in path.read_bytes(), path
    assert b"EDGE_KEY" in (out / "issue" / "models.yaml").read_bytes()


def _prov() -> Provenance:
    return Provenance(repo="github.com/example/big")


def test_field_lengths_are_capped(dataset_dir: Path, tmp_path: Path) -> None:
    huge = "x = 1  # " + "é" * 200_000
    write_records(
        dataset_dir / "comment_simple" / "test.jsonl",
        [
            *read_records(dataset_dir / "comment_simple" / "test.jsonl"),
            SimpleCommentRecord(id="huge", provenance=_prov(), code_snippet=huge, comment="c" * 50_000),
        ],
    )
    long_completion = CompletionRecord(
        id="long", provenance=_prov(), prefix="a = 1\n" * 20_000, suffix="b\n" * 20_000, reference="c"
    )
    write_records(
        dataset_dir / "completion" / "test.jsonl",
        [*read_records(dataset_dir / "completion" / "test.jsonl"), long_completion],
    )
    huge_tests = GenerationRecord(
        id="gen-huge", provenance=_prov(), prompt="def f():", reference="pass", entry_point="f", tests="#" * 100_000
    )
    write_records(
        dataset_dir / "generation" / "test.jsonl",
        [*read_records(dataset_dir / "generation" / "test.jsonl"), huge_tests],
    )
    out = tmp_path / "bench"
    export_benchmark(dataset_dir, out, DEFAULT_CANDIDATES, ["comment", "completion", "generation"])
    for task in ("comment", "completion", "generation"):
        for line in (out / task / "data" / "test" / "data.jsonl").read_bytes().splitlines():
            row = orjson.loads(line)
            for key in ("prompt", "query", "response"):
                assert len(row[key]) <= FIELD_CAP + len(PROMPTS[task].instruction), (task, key)
    comment_rows = [orjson.loads(line) for line in (out / "comment/data/test/data.jsonl").read_bytes().splitlines()]
    capped = next(row for row in comment_rows if row["level_4_dim"] == "huge")
    assert capped["query"].endswith("[truncated]") and capped["query"].startswith("x = 1  # éé")
    generation = (out / "generation/data/test/data.jsonl").read_bytes()
    assert b"gen-huge" not in generation  # a truncated test would score every model wrongly: dropped instead


def test_awkward_text_round_trips(dataset_dir: Path, tmp_path: Path) -> None:
    awkward = 'def f():\n\treturn "quote\'s \\\\ back" + "🚀 naïve"\n\n\n# trailing\n'
    write_records(
        dataset_dir / "comment_simple" / "test.jsonl",
        [SimpleCommentRecord(id="odd", provenance=_prov(), code_snippet=awkward, comment="Tabs\tand\nnewlines 🚀")],
    )
    out = tmp_path / "bench"
    export_benchmark(dataset_dir, out, DEFAULT_CANDIDATES, ["comment"])
    parsed = read_split(out / "comment" / "data" / "test" / "metadata.json")
    index = parsed.level_4.index("odd")
    assert parsed.x[index] == PROMPTS["comment"].instruction + awkward
    assert parsed.y[index] == "Tabs\tand\nnewlines 🚀"


def test_validation_rejects_what_ianvs_would_trip_on(export_dir: Path) -> None:
    folder = export_dir / "review"
    validate_folder(folder)
    testenv_path = folder / "testenv" / "testenv.yaml"
    original = testenv_path.read_text()

    def broken(change: dict[str, Any], message: str) -> None:
        data = yaml.safe_load(original)
        data["testenv"]["dataset"].update(change)
        testenv_path.write_text(yaml.safe_dump(data))
        with pytest.raises(ExportError, match=message):
            validate_folder(folder)
        testenv_path.write_text(original)

    broken({"test_data_info": "../issue/data/test/metadata.json"}, "outside the export folder")
    broken({"test_data_info": "./data/missing/metadata.json"}, "does not exist")
    broken({"train_data_info": "/tmp/absolutely/nowhere/metadata.json"}, "outside the export folder")
    data = folder / "data" / "test" / "data.jsonl"
    good = data.read_bytes()
    data.write_bytes(good + b"\n")
    with pytest.raises(ExportError, match="blank"):
        validate_folder(folder)
    data.write_bytes(good)
    algorithm = next((folder / "testalgorithms").glob("*.yaml"))
    text = algorithm.read_text()
    parsed = yaml.safe_load(text)
    parsed["algorithm"]["modules"][0]["hyperparameters"] = [{"model": {"values": "bm25"}}]
    algorithm.write_text(yaml.safe_dump(parsed))
    with pytest.raises(ExportError, match="must be a list"):
        validate_folder(folder)
    algorithm.write_text(text)
    validate_folder(folder)


def test_re_export_keeps_results_and_judgments(dataset_dir: Path, export_dir: Path) -> None:
    folder = export_dir / "issue"
    (folder / "workspace" / "keep.txt").parent.mkdir(parents=True)
    (folder / "workspace" / "keep.txt").write_text("results")
    (folder / "stale.txt").write_text("gone after re-export")
    export_benchmark(dataset_dir, export_dir, CANDIDATES, ["issue"])
    assert (folder / "workspace" / "keep.txt").read_text() == "results"
    assert not (folder / "stale.txt").exists()


def test_tasks_without_test_samples_are_skipped(dataset_dir: Path, tmp_path: Path) -> None:
    (dataset_dir / "review" / "test.jsonl").unlink()
    exported = export_benchmark(dataset_dir, tmp_path / "bench", DEFAULT_CANDIDATES)
    assert "review" not in [item.task for item in exported]
    assert not (tmp_path / "bench" / "review").exists()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(root, list(args))
    return result.exit_code, result.output


def test_cli_exports_and_says_how_to_run(dataset_dir: Path, tmp_path: Path) -> None:
    code, output = _cli("ianvs", "export", str(dataset_dir), "--out", str(tmp_path / "b"), "--tasks", "issue,review")
    assert code == 0, output
    assert "issue: 2 test / 2 train samples, 2 candidates -> cd " in output
    assert output.count("ianvs -f benchmarkingjob.yaml") == 2


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("models: []\n", "non-empty list"),
        ("models:\n- {name: a, backend: gpt}\n", "entry 1: backend"),
        ("models:\n- {name: a, backend: openai}\n", "needs base_url and model"),
        ("models:\n- {name: a, backend: oracle}\n- {name: a, backend: retrieval}\n", "twice: a"),
        ("models:\n- {name: 'bad name', backend: oracle}\n", "entry 1: name"),
        ("models: [\n", "not valid yaml"),
    ],
)
def test_cli_reports_a_bad_models_yaml_in_one_line(
    dataset_dir: Path, tmp_path: Path, models: str, message: str
) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(models)
    code, output = _cli("ianvs", "export", str(dataset_dir), "--out", str(tmp_path / "b"), "--models", str(path))
    assert code == 1
    assert message in output
    assert output.startswith("Error: ") and "Traceback" not in output
    with pytest.raises(ModelsConfigError):
        load_candidates(path)


def test_cli_rejects_an_unknown_task(dataset_dir: Path, tmp_path: Path) -> None:
    code, output = _cli("ianvs", "export", str(dataset_dir), "--out", str(tmp_path / "b"), "--tasks", "poetry")
    assert code == 1 and "unknown task(s) poetry" in output


def test_max_test_samples_keeps_an_even_spread_of_the_test_split(dataset_dir: Path, tmp_path: Path) -> None:
    full = {item.task: item.test for item in export_benchmark(dataset_dir, tmp_path / "full", DEFAULT_CANDIDATES)}
    capped = export_benchmark(dataset_dir, tmp_path / "capped", DEFAULT_CANDIDATES, max_test=1)
    assert {item.task: item.test for item in capped} == {task: 1 for task in full}
    assert max(full.values()) > 1  # the cap really removed samples somewhere
    for item in capped:
        kept = read_split(item.folder / "data" / "test" / "metadata.json")
        every = read_split(tmp_path / "full" / item.task / "data" / "test" / "metadata.json")
        assert (kept.x, kept.y) == (every.x[:1], every.y[:1])  # an even spread of one is the first sample
    code, output = _cli("ianvs", "export", str(dataset_dir), "--out", str(tmp_path / "c"), "--max-test-samples", "0")
    assert code != 0 and "--max-test-samples" in output


def test_spread_is_even_ordered_and_keeps_short_lists() -> None:
    assert spread(list(range(10)), 3) == [0, 3, 6]
    assert spread(list(range(10)), 4) == [0, 2, 5, 7]
    assert spread([1, 2], 5) == [1, 2]
    assert spread([1, 2], None) == [1, 2]


def test_generation_tests_are_kept_only_when_the_reference_passes_them(dataset_dir: Path, tmp_path: Path) -> None:
    path = dataset_dir / "generation" / "test.jsonl"
    records = list(read_records(path))
    needs_repo = records[0].model_copy(update={"tests": "from mypkg.fixtures import sample_titles\n\n"
                                               "def test_titles():\n    assert sample_titles()\n"})
    write_records(path, [needs_repo, *records[1:]])
    (item,) = export_benchmark(dataset_dir, tmp_path / "bench", DEFAULT_CANDIDATES, ["generation"])
    side = {row["id"]: row["extras"] for row in read_side(item.folder / "data" / "test")}
    assert side[needs_repo.id]["tests"] == "" and "reference" in side[needs_repo.id]["tests_dropped"]
    assert all(side[record.id]["tests"] for record in records[1:])  # self-contained tests stay


def test_syntax_of_a_method_cut_out_of_its_class_is_valid() -> None:
    method = "    def total(self) -> int:\n        return sum(self.values)\n"
    assert metric.syntax_valid(method)
    assert not metric.syntax_valid("    def total(self) -> int:\n  return 1\n")


def test_generation_without_any_runnable_tests_does_not_rank_by_pass_at_1(dataset_dir: Path, tmp_path: Path) -> None:
    path = dataset_dir / "generation" / "test.jsonl"
    write_records(path, [record.model_copy(update={"tests": None}) for record in read_records(path)])
    (item,) = export_benchmark(dataset_dir, tmp_path / "bench", DEFAULT_CANDIDATES, ["generation"])
    assert "pass_at_1" not in item.metrics
    job = yaml.safe_load((item.folder / JOB_FILE).read_text())["benchmarkingjob"]
    assert next(iter(job["rank"]["sort_by"][0])) == item.metrics[0] != "pass_at_1"
    validate_folder(item.folder)
