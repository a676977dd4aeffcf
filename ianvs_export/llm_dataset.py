"""The LLM dataset format stock Ianvs reads (metadata.json + data.jsonl) plus our side file of sample extras."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ianvs_export.prompt import PromptTemplate
from ianvs_export.task import Sample

SIDE_FILE = "samples.jsonl"  # id, reference and extras (tests, entry point, ...) in data.jsonl's order


def write_split(folder: Path, samples: Iterable[Sample], task: str, split: str, prompt: PromptTemplate) -> int:
    """Write one split as metadata.json + data.jsonl (+ samples.jsonl); returns the number of samples."""
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "dataset": f"smartco-{task}",
        "description": f"smartco {task} benchmark, {split} split, prompt {prompt.version} ({prompt.digest})",
        "level_1_dim": "code",
        "level_2_dim": task,
        "level_3_dim": "language",
        "level_4_dim": "sample id",
    }
    (folder / "metadata.json").write_bytes(orjson.dumps(metadata, option=orjson.OPT_INDENT_2))
    count = 0
    with (folder / "data.jsonl").open("wb") as data, (folder / SIDE_FILE).open("wb") as side:
        for sample in samples:
            row = {
                "prompt": prompt.instruction,
                "query": sample.query,
                "response": sample.response,
                "level_3_dim": sample.language,
                "level_4_dim": sample.id,
            }
            # orjson escapes every control character, so a row is always exactly one non-blank line
            data.write(orjson.dumps(row) + b"\n")
            extra = {"id": sample.id, "query": sample.query, "reference": sample.response, "extras": sample.extras}
            side.write(orjson.dumps(extra) + b"\n")
            count += 1
    return count


@dataclass
class LLMData:
    """What sedna's JSONMetaDataParse hands to predict: x = prompt + query, y = responses, and the levels."""

    x: list[str] = field(default_factory=list)
    y: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    judge_prompts: list[str] = field(default_factory=list)
    level_3: list[str] = field(default_factory=list)
    level_4: list[str] = field(default_factory=list)
    need_other_info: bool = True


def read_split(metadata_path: Path) -> LLMData:
    """Parse a split like sedna does: rows from the data.jsonl beside metadata.json."""
    data = LLMData()
    with (metadata_path.parent / "data.jsonl").open("rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            data.x.append(row.get("prompt", "") + row["query"])
            data.y.append(row["response"])
            data.explanation.append(row.get("explanation", ""))
            data.judge_prompts.append(row.get("judge_prompt", ""))
            data.level_3.append(row["level_3_dim"])
            data.level_4.append(row["level_4_dim"])
    return data


def read_side(folder: Path) -> list[dict[str, Any]]:
    """The side file of a split (empty when absent)."""
    path = folder / SIDE_FILE
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]
