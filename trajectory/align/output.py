"""The dataset folder: `OUT/<kind>/<split>.jsonl` (one `record_to_json` line per record) for every kind built."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

from trajectory.records import RECORD_KINDS, RecordBase, dict_to_json, record_to_dict
from trajectory.splits import SPLITS


class DatasetWriter:
    """Writes every split of every kind built (empty files too: the layout does not depend on the data)."""

    def __init__(self, out_dir: Path, kinds: tuple[str, ...] = RECORD_KINDS) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        for kind in RECORD_KINDS:  # files of an earlier build must not survive into this one
            for split in SPLITS:
                (out_dir / kind / f"{split}.jsonl").unlink(missing_ok=True)
        self._handles: dict[tuple[str, str], BinaryIO] = {}
        self._hashes: dict[tuple[str, str], hashlib._Hash] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        for kind in sorted(kinds):
            (out_dir / kind).mkdir(exist_ok=True)
            for split in SPLITS:
                self._handles[(kind, split)] = (out_dir / kind / f"{split}.jsonl").open("wb")
                self._hashes[(kind, split)] = hashlib.sha256()

    def write(self, split: str, record: RecordBase | dict[str, Any]) -> None:
        """One record (or its `record_to_dict` form) into its kind's file of `split`."""
        data = record if isinstance(record, dict) else record_to_dict(record)
        self.write_line(str(data["kind"]), split, dict_to_json(data))

    def write_line(self, kind: str, split: str, line: bytes) -> None:
        """A record already in its `dict_to_json` form (without newline) into `kind`'s file of `split`."""
        key = (kind, split)
        line += b"\n"
        self._handles[key].write(line)
        self._hashes[key].update(line)
        self.counts[key] += 1

    def close(self) -> dict[str, dict[str, object]]:
        """Close every file; their relative paths with record counts and SHA-256 content hashes."""
        files: dict[str, dict[str, object]] = {}
        for (kind, split), handle in sorted(self._handles.items()):
            handle.close()
            files[f"{kind}/{split}.jsonl"] = {
                "records": self.counts[(kind, split)],
                "sha256": self._hashes[(kind, split)].hexdigest(),
            }
        self._handles.clear()
        return files
