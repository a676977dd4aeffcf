"""The quality gate every record passes: generated files, secrets, length caps, exact and near duplicates."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from trajectory.align.dedup import DuplicateIndex, Fingerprint, fingerprint
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


Screened = tuple[dict[str, Any], Fingerprint]  # a record as it may be written, and its fingerprint


class RecordScreen:
    """Every check of the gate but the duplicate ones: record by record, independent of other records (so it runs
    where records are made); counts what it drops by reason and what it redacts by kind."""

    def __init__(self, options: BuildOptions) -> None:
        self.options = options
        self.dropped: Counter[str] = Counter()
        self.redacted: Counter[str] = Counter()

    def screen(self, record: RecordBase) -> Screened | None:
        """The record as it may be written (`record_to_dict` form, possibly redacted) and its fingerprint for the
        duplicate checks, or None (reason counted)."""
        checked = self.check(record)
        return None if checked is None else (checked, fingerprint(str(checked["kind"]), dedup_text(checked)))

    def check(self, record: RecordBase) -> dict[str, Any] | None:
        """`screen` without the fingerprint (to take many records' fingerprints at once: `dedup.fingerprints` of
        their kinds and `dedup_text`s)."""
        data, reason = self._screen(record)
        if reason is not None:
            self.dropped[reason] += 1
            return None
        return data

    def _screen(self, record: RecordBase) -> tuple[dict[str, Any], str | None]:
        data = record_to_dict(record)
        reason = self._reject_reason(record, data)
        if reason is None:
            content = {key: value for key, value in data.items() if key != "provenance"}  # ids, shas, paths
            if any(_holds_secret(text) for text in _strings(content)):  # most records hold none
                found: Counter[str] = Counter()
                redacted = {**data, **_redact_all(content, found)}
                if found and self.options.secrets == "drop":
                    reason = "secret"
                elif found:
                    self.redacted.update(found)
                    data = redacted
        return data, reason

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


class QualityGate:
    """Decides, record by record in a deterministic order, what is kept; counts what is dropped by reason.

    The build screens records where they are made (`RecordScreen`) and hands their fingerprints to `decide` in
    batches; `admit` is the same for one record.
    """

    def __init__(self, directory: Path, options: BuildOptions) -> None:
        self.options = options
        self.screen = RecordScreen(options)
        self.dropped = self.screen.dropped
        self.redacted = self.screen.redacted
        self._index = DuplicateIndex(directory, options.near_duplicate_threshold)

    def admit(self, record: RecordBase) -> dict[str, Any] | None:
        """The record as it may be written (`record_to_dict` form, possibly redacted), or None, reason counted."""
        screened = self.screen.screen(record)
        if screened is None:
            return None
        data, mark = screened
        return data if self.decide([mark])[0] is None else None

    def decide(self, marks: Sequence[Fingerprint]) -> list[str | None]:
        """The duplicate checks of screened records by their fingerprints, in order; the reasons are counted."""
        reasons = self._index.decide(marks)
        self.dropped.update(reason for reason in reasons if reason is not None)
        return reasons

    def close(self) -> None:
        self._index.close()


@lru_cache(maxsize=256)  # whole file texts among them: a few hundred keep memory small
def _holds_secret(text: str) -> bool:
    """`holds_secret` of one string of a record: file texts and snippets recur in many records. The same as
    asking of all of a record's strings joined by newlines, since every candidate line lies within one string."""
    return holds_secret(text)
