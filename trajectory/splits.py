"""Deterministic, leakage-free splits: a repository (or a session) goes wholly to one split, chosen by a seeded hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trajectory.records import RecordBase

SPLITS = ("train", "validation", "test")


def group_of(record: RecordBase, split_by: Literal["repo", "session"], session: str | None = None) -> str:
    """The unit that may not span two splits.

    By session, a record built from one recorded editor session (`session`) belongs to that session; records
    built from mined history belong to their repository's history, which is one group.
    """
    if split_by == "session" and session is not None:
        return f"session:{record.provenance.repo}:{session}"
    return repo_group(record.provenance.repo)


def repo_group(repo: str) -> str:
    """The group of everything from one repository (`--split-by repo`)."""
    return f"repo:{repo}"


def split_of(group: str, seed: int, ratios: tuple[float, float, float]) -> str:
    """The split of a group: a uniform number from a seeded hash of its name, cut at the ratios."""
    digest = hashlib.sha256(f"{seed}\0{group}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    if point < ratios[0]:
        return SPLITS[0]
    if point < ratios[0] + ratios[1]:
        return SPLITS[1]
    return SPLITS[2]


@dataclass(frozen=True)
class Splitter:
    split_by: Literal["repo", "session"] = "repo"
    seed: int = 0
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    test_after: datetime | None = None

    def assign(self, record: RecordBase, session: str | None = None) -> str | None:
        """The record's split, or None when its group is in test but not all its evidence is newer than the cut.

        Such a record is dropped rather than moved: moving it would put its group in two splits.
        """
        split = split_of(group_of(record, self.split_by, session), self.seed, self.ratios)
        if split == "test" and self.test_after is not None:
            oldest = record.provenance.first_ts
            if oldest is None or oldest <= self.test_after:
                return None
        return split
