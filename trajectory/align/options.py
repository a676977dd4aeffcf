"""The typed options of one dataset build, built once at start-up and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from trajectory.align import OptionsError
from trajectory.records import RECORD_KINDS

DEFAULT_BOT_PATTERNS = ("*[bot]", "dependabot*", "renovate*", "github-actions*", "*-bot", "bot-*")


def default_workers() -> int:
    """Worker processes by default: one per core, at most four (the gate and the writer run in the main one)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Caps:
    """Length caps: Ianvs holds fields as fixed-width arrays, so one huge field costs gigabytes."""

    field_chars: int = 16_000  # any one text field (but a trajectory's files and diffs)
    record_chars: int = 120_000  # the whole record (but a trajectory)
    trajectory_chars: int = 2_000_000  # a whole trajectory: whole files, not an Ianvs task
    trajectory_steps: int = 400
    context_lines: int = 40  # prefix / context kept around an edit point


@dataclass(frozen=True)
class BuildOptions:
    kinds: tuple[str, ...] = RECORD_KINDS
    split_by: Literal["repo", "session"] = "repo"
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    test_after: datetime | None = None
    repos: tuple[str, ...] = ()  # keep only these repositories (empty: all)
    actors: tuple[str, ...] = ()  # keep only events of these actors (empty: all)
    include_bots: bool = False
    bot_patterns: tuple[str, ...] = DEFAULT_BOT_PATTERNS
    secrets: Literal["drop", "redact"] = "drop"
    near_duplicate_threshold: float = 0.85
    caps: Caps = field(default_factory=Caps)
    workers: int = 1  # processes aligning repositories; how the build runs, not what it makes (not in the manifest)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(RECORD_KINDS))
        if unknown:
            raise OptionsError(f"unknown record kind(s): {', '.join(unknown)} (known: {', '.join(RECORD_KINDS)})")
        if len(self.ratios) != 3 or any(r < 0 for r in self.ratios) or abs(sum(self.ratios) - 1.0) > 1e-6:
            raise OptionsError(f"split ratios must be three non-negative numbers summing to 1, got {self.ratios}")
        if self.test_after is not None and self.test_after.tzinfo is None:
            raise OptionsError("--test-after needs a timezone-aware time (dates are taken as UTC)")
        if not 0.0 < self.near_duplicate_threshold <= 1.0:
            raise OptionsError("the near-duplicate threshold must be in (0, 1]")
        if self.workers < 1:
            raise OptionsError("--workers must be at least 1")

    def describe(self) -> dict[str, object]:
        """The options as written into the manifest."""
        return {
            "kinds": list(self.kinds),
            "split_by": self.split_by,
            "ratios": list(self.ratios),
            "seed": self.seed,
            "test_after": self.test_after.isoformat() if self.test_after else None,
            "repos": list(self.repos),
            "actors": list(self.actors),
            "include_bots": self.include_bots,
            "bot_patterns": list(self.bot_patterns),
            "secrets": self.secrets,
            "near_duplicate_threshold": self.near_duplicate_threshold,
            "caps": vars(self.caps),
        }
