"""The quality gate every record passes: generated files, secrets, length caps, exact and near duplicates."""

from __future__ import annotations

import fnmatch
import hashlib
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from trajectory.align import minhash
from trajectory.align.filetype import is_generated
from trajectory.align.options import BuildOptions
from trajectory.align.secret import holds_secret, scan
from trajectory.records import RecordBase, TrajectoryRecord, record_to_dict

_NOT_CONTENT = {"id", "kind", "provenance", "language", "license", "origin", "derivation", "confidence"}
# A trajectory's files dominate its text but say little about it: two trajectories on the same big file would
# look alike whatever was done to it. What was done (task, steps' diffs, feedback) is what is compared.
_TRAJECTORY_FILES = {"start_files", "final_files"}
MIN_SECRET_TEXT = 12  # shorter text cannot hold a name, an assignment and an 8-character value


@dataclass(frozen=True)
class BotFilter:
    """Bot logins by pattern (`*` and `?` are wildcards; brackets are literal, as in `*[bot]`)."""

    patterns: tuple[str, ...]
    include_bots: bool = False

    def is_bot(self, login: str | None, flagged: bool = False) -> bool:
        if self.include_bots:
            return False
        name = (login or "").lower()
        return flagged or any(fnmatch.fnmatchcase(name, _literal_brackets(p.lower())) for p in self.patterns)


def _literal_brackets(pattern: str) -> str:
    return pattern.replace("[", "[[]")


def content_text(data: Any) -> str:
    """Every string a record says (not its id or provenance), in a fixed order."""
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        return "\n".join(content_text(data[k]) for k in sorted(data) if k not in _NOT_CONTENT)
    if isinstance(data, list):
        return "\n".join(content_text(item) for item in data)
    return ""


def dedup_text(data: dict[str, Any]) -> str:
    """The text two records are compared by for duplicates."""
    if data.get("kind") == "trajectory":
        return content_text({k: v for k, v in data.items() if k not in _TRAJECTORY_FILES})
    return content_text(data)


def _capped_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The fields the per-field cap applies to: not provenance, nor a trajectory's files and diffs (replaying
    them must give its final files; the whole trajectory has a cap of its own)."""
    fields = {k: v for k, v in data.items() if k != "provenance"}
    if data.get("kind") == "trajectory":
        fields = {k: v for k, v in fields.items() if k not in _TRAJECTORY_FILES}
        fields["steps"] = [{k: v for k, v in step.items() if k != "diff"} for step in fields.get("steps", [])]
    return fields


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in _strings(value)]
    return []


def _redact_all(data: Any, counts: Counter[str]) -> Any:
    """`data` with every string that holds a secret redacted; `counts` gets the kinds found."""
    if isinstance(data, str):
        if len(data) < MIN_SECRET_TEXT:
            return data
        found = scan(data)
        if found is None:
            return data
        counts.update(found.counts)
        return found.text
    if isinstance(data, dict):
        return {key: _redact_all(value, counts) for key, value in data.items()}
    if isinstance(data, list):
        return [_redact_all(value, counts) for value in data]
    return data


class QualityGate:
    """Decides, record by record in a deterministic order, what is kept; counts what is dropped by reason."""

    def __init__(self, directory: Path, options: BuildOptions) -> None:
        self.options = options
        self.dropped: Counter[str] = Counter()
        self.redacted: Counter[str] = Counter()
        self._db = sqlite3.connect(directory / "quality.sqlite3", isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE seen (hash BLOB PRIMARY KEY) WITHOUT ROWID;"
            "CREATE TABLE band (key INTEGER, kind TEXT, sig INTEGER);"
            "CREATE INDEX band_key ON band (key, kind);"
            "CREATE TABLE sig (id INTEGER PRIMARY KEY, value BLOB);"
        )
        self._db.execute("BEGIN")

    def admit(self, record: RecordBase) -> dict[str, Any] | None:
        """The record as it may be written (`record_to_dict` form, possibly redacted), or None, reason counted."""
        data = record_to_dict(record)
        reason = self._reject_reason(record, data)
        if reason is None:
            found: Counter[str] = Counter()
            content = {key: value for key, value in data.items() if key != "provenance"}  # ids, shas, paths
            secret = holds_secret("\n".join(_strings(content)))  # one pass over the record; most hold none
            redacted = {**data, **_redact_all(content, found)} if secret else data
            if found and self.options.secrets == "drop":
                reason = "secret"
            elif found:
                self.redacted.update(found)
                data = redacted
        if reason is None:
            reason = self._duplicate(record.kind, dedup_text(data))
        if reason is not None:
            self.dropped[reason] += 1
            return None
        return data

    def _reject_reason(self, record: RecordBase, data: dict[str, Any]) -> str | None:
        caps = self.options.caps
        paths = record.provenance.paths
        if paths and all(is_generated(path) for path in paths):
            return "generated_file"
        if any(len(text) > caps.field_chars for text in _strings(_capped_fields(data))):
            return "field_too_long"
        if isinstance(record, TrajectoryRecord) and len(record.steps) > caps.trajectory_steps:
            return "too_many_steps"
        limit = caps.trajectory_chars if isinstance(record, TrajectoryRecord) else caps.record_chars
        if len(orjson.dumps(data)) > limit:
            return "record_too_long"
        return None

    def _duplicate(self, kind: str, text: str) -> str | None:
        digest = hashlib.blake2b(f"{kind}\0{minhash.normalise(text)}".encode(), digest_size=16).digest()
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (digest,)).rowcount == 0:
            return "exact_duplicate"
        sig = minhash.signature(minhash.shingles(text))
        keys = minhash.band_keys(sig)
        marks = ",".join("?" * len(keys))
        rows = self._db.execute(
            f"SELECT DISTINCT s.value FROM band b JOIN sig s ON s.id = b.sig WHERE b.kind = ? AND b.key IN ({marks})",
            (kind, *keys),
        )
        threshold = self.options.near_duplicate_threshold
        for (value,) in rows:
            if minhash.similarity(sig, value) >= threshold:
                return "near_duplicate"
        sig_id = self._db.execute("INSERT INTO sig (value) VALUES (?)", (sig,)).lastrowid
        self._db.executemany("INSERT INTO band VALUES (?, ?, ?)", [(key, kind, sig_id) for key in keys])
        return None

    def close(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()
