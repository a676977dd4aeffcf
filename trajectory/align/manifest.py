"""`manifest.json`: inputs, options, versions, counts per kind and split, drops by reason, content hashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from trajectory.events import SCHEMA_VERSION
from trajectory.records import RECORD_VERSION
from trajectory.splits import SPLITS


@dataclass
class BuildResult:
    """What a build did: enough to print a summary and to write the manifest and the dataset card."""

    out_dir: Path
    source: str
    options: dict[str, Any]
    input_hash: str = ""
    events_read: int = 0
    events_kept: int = 0
    repositories: int = 0
    sessions: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    redacted: dict[str, int] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)
    licenses: list[str] = field(default_factory=list)
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    worker_peak_rss_kib: int = 0  # the largest worker process's peak RSS (how it ran: not in the manifest)

    def kind_counts(self) -> dict[str, int]:
        """Records kept per kind, over all splits."""
        return {kind: sum(splits.values()) for kind, splits in self.counts.items()}

    @property
    def total(self) -> int:
        return sum(self.kind_counts().values())


def _version() -> str:
    try:
        return metadata.version("smartco")
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest(result: BuildResult) -> dict[str, Any]:
    return {
        "name": "smartco-aligned",
        "builder": f"smartco {_version()}",
        "record_version": RECORD_VERSION,
        "event_schema_version": SCHEMA_VERSION,
        "inputs": {
            "source": result.source,
            "events_read": result.events_read,
            "events_kept": result.events_kept,
            "blake2b": result.input_hash,
            "repositories": result.repositories,
            "sessions": result.sessions,
        },
        "options": result.options,
        "splits": list(SPLITS),
        "groups_per_split": result.groups,
        "counts": result.counts,
        "totals": result.kind_counts(),
        "dropped": dict(sorted(result.dropped.items())),
        "redacted": dict(sorted(result.redacted.items())),
        "licenses": result.licenses,
        "files": result.files,
    }


def write_manifest(result: BuildResult) -> Path:
    path = result.out_dir / "manifest.json"
    path.write_bytes(orjson.dumps(manifest(result), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n")
    return path
