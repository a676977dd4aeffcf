"""Candidate models: parsing models.yaml into typed settings, one per leaderboard row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ianvs_export.errors import ModelsConfigError

BackendKind = Literal["openai", "retrieval", "transformers", "oracle"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class Candidate(BaseModel):
    """One candidate model and its pinned decoding settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    backend: BackendKind
    base_url: str | None = None  # openai: e.g. http://127.0.0.1:8080/v1 (llama.cpp), :11434/v1 (Ollama), vLLM
    model: str | None = None  # the served model name, or a transformers model id/path
    api_key_env: str | None = None  # name of the environment variable holding the key (never the key)
    stream: bool = True  # streaming gives time to first token
    temperature: float = 0.0
    max_tokens: int = Field(default=512, ge=1, le=32768)
    seed: int | None = 0
    timeout_s: float = Field(default=60.0, gt=0)
    samples: int = Field(default=1, ge=1, le=20)  # answers per task, for pass@k and agreement

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"candidate name {value!r} must match {_NAME.pattern}")
        return value

    def check_backend(self) -> None:
        """Backend-specific required fields."""
        if self.backend == "openai" and not (self.base_url and self.model):
            raise ModelsConfigError(f"candidate {self.name}: an openai backend needs base_url and model")
        if self.backend == "transformers" and not self.model:
            raise ModelsConfigError(f"candidate {self.name}: a transformers backend needs model")


DEFAULT_CANDIDATES = (
    Candidate(name="bm25", backend="retrieval"),
    Candidate(name="oracle", backend="oracle"),
)


def parse_candidates(data: Any) -> list[Candidate]:
    """Candidates from the parsed yaml: `{"models": [{name, backend, ...}, ...]}` (or the bare list)."""
    items = data.get("models") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ModelsConfigError("models.yaml must hold a non-empty list under 'models'")
    candidates: list[Candidate] = []
    for number, item in enumerate(items, 1):
        try:
            candidate = Candidate.model_validate(item)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ModelsConfigError(f"models.yaml entry {number}: {where}: {first['msg']}") from err
        candidate.check_backend()
        candidates.append(candidate)
    names = [candidate.name for candidate in candidates]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ModelsConfigError(f"models.yaml names candidates twice: {', '.join(duplicates)}")
    return candidates


def load_candidates(path: Path) -> list[Candidate]:
    """Read and validate a models.yaml file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ModelsConfigError(f"cannot read {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ModelsConfigError(f"{path} is not valid yaml: {err}") from err
    return parse_candidates(data)


def dump_candidates(candidates: list[Candidate]) -> str:
    """models.yaml text for the export (keys only by name: no secret ever lands in the folder)."""
    items = [candidate.model_dump(exclude_defaults=False) for candidate in candidates]
    return yaml.safe_dump({"models": items}, sort_keys=False)
