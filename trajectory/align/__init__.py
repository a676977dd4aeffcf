"""Alignment: stream recorded events and mined history into dataset records (see `builder.build`)."""

from __future__ import annotations


class AlignError(Exception):
    """Root of the dataset builder's errors."""


class SourceError(AlignError):
    """An event source that cannot be opened or read (missing file, collector down, bad token, bad database)."""


class OptionsError(AlignError):
    """Build options that contradict each other or are out of range."""
