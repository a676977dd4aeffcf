"""Check an exported task folder the way Ianvs will read it: yamls, paths (cwd-relative), data files, modules."""

from __future__ import annotations

import keyword
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ianvs_export.errors import BenchmarkFolderError, ExportError

JOB_FILE = "benchmarkingjob.yaml"


@dataclass(frozen=True)
class FolderLayout:
    """The files a benchmark folder's yamls point at, resolved against the folder (Ianvs's working directory)."""

    folder: Path
    job: dict[str, Any]
    testenv: dict[str, Any]
    algorithms: list[tuple[str, dict[str, Any]]]  # (job algorithm name, algorithm yaml)
    paths: list[tuple[str, Path]]  # (role, resolved path)


def _yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise BenchmarkFolderError(f"cannot read {path}: {err}") from err
    if not isinstance(data, dict):
        raise BenchmarkFolderError(f"{path} does not hold a mapping")
    return data


def resolve(folder: Path, raw: str) -> Path:
    """A yaml path as Ianvs sees it when run from `folder`."""
    path = Path(raw)
    return (path if path.is_absolute() else folder / path).resolve()


def read_layout(folder: Path) -> FolderLayout:
    """Parse the job, testenv and algorithm yamls of a folder and list every path they name."""
    folder = folder.resolve()
    job = _yaml(folder / JOB_FILE).get("benchmarkingjob") or {}
    paths: list[tuple[str, Path]] = [("workspace", resolve(folder, job.get("workspace", "./workspace")))]
    testenv_path = resolve(folder, str(job.get("testenv", "")))
    paths.append(("testenv", testenv_path))
    testenv = _yaml(testenv_path).get("testenv") or {}
    for key, value in (testenv.get("dataset") or {}).items():
        paths.append((f"dataset.{key}", resolve(folder, str(value))))
    for item in testenv.get("metrics") or []:
        paths.append((f"metric {item.get('name')}", resolve(folder, str(item.get("url", "")))))
    algorithms = []
    for entry in (job.get("test_object") or {}).get("algorithms") or []:
        algorithm_path = resolve(folder, str(entry.get("url", "")))
        paths.append((f"algorithm {entry.get('name')}", algorithm_path))
        algorithm = _yaml(algorithm_path).get("algorithm") or {}
        algorithms.append((str(entry.get("name")), algorithm))
        for module in algorithm.get("modules") or []:
            paths.append((f"module {module.get('name')}", resolve(folder, str(module.get("url", "")))))
    return FolderLayout(folder, job, testenv, algorithms, paths)


def validate_folder(folder: Path) -> FolderLayout:
    """Raise ExportError unless every path is inside the folder and exists, and the files are as Ianvs needs."""
    try:
        layout = read_layout(folder)
    except BenchmarkFolderError as err:
        raise ExportError(str(err)) from err
    for role, path in layout.paths:
        if not path.is_relative_to(layout.folder):
            raise ExportError(f"{role}: {path} is outside the export folder {layout.folder}")
        if role != "workspace" and not path.is_file():
            raise ExportError(f"{role}: {path} does not exist")
        if role.startswith("dataset.") and path.name == "metadata.json":
            _check_rows(path.parent / "data.jsonl")
    _check_modules([path for role, path in layout.paths if role.startswith(("metric", "module"))])
    for _, algorithm in layout.algorithms:
        for module in algorithm.get("modules") or []:
            for hyperparameter in module.get("hyperparameters") or []:
                for name, spec in hyperparameter.items():
                    if not isinstance((spec or {}).get("values"), list):
                        raise ExportError(f"hyperparameter {name}: values must be a list")
    return layout


def _check_rows(data: Path) -> None:
    if not data.is_file():
        raise ExportError(f"{data} is missing beside its metadata.json")
    with data.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                raise ExportError(f"{data}: line {number} is blank (sedna cannot parse it)")


def _check_modules(paths: list[Path]) -> None:
    stems: dict[str, Path] = {}
    for path in paths:
        stem = path.stem
        if not stem.isidentifier() or keyword.iskeyword(stem) or stem in sys.stdlib_module_names:
            raise ExportError(f"{path.name}: the basename is not a safe module name")
        if stem in ("core", "sedna", "ianvs_export") or (stem in stems and stems[stem] != path):
            raise ExportError(f"{path.name}: the basename collides with another module")
        stems[stem] = path
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as err:
            raise ExportError(f"{path}: {err.msg} (line {err.lineno})") from err
