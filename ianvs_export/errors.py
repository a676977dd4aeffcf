"""The exceptions of the benchmark package: one root, a subclass per kind of failure."""

from __future__ import annotations


class IanvsExportError(Exception):
    """Root of every error raised by ianvs_export."""


class ModelsConfigError(IanvsExportError):
    """models.yaml is missing, malformed or names an unknown backend."""


class ExportError(IanvsExportError):
    """An export could not be written or failed its own validation (a path, a yaml, a module)."""


class BenchmarkFolderError(IanvsExportError):
    """A benchmark folder given to the runner is incomplete or inconsistent."""


class BackendError(IanvsExportError):
    """A model backend failed on one sample (recorded as a failed sample, never raised into Ianvs)."""


class BackendTimeout(BackendError):
    """A model backend did not answer within its time limit."""


class JudgeError(IanvsExportError):
    """A judging sheet or label file is malformed."""
