"""The sidecar's exceptions: one root, translated only at the edge (CLI line, LSP window message)."""

from __future__ import annotations


class LspAgentError(Exception):
    """Root of every error the sidecar raises on purpose."""


class SettingsError(LspAgentError):
    """An option has an invalid value."""


class SpoolError(LspAgentError):
    """The on-disk spool cannot be opened or written."""


class UploadError(LspAgentError):
    """The collector refused or could not take a batch."""


class SessionScriptError(LspAgentError):
    """The quickstart's scripted editing session could not run or deliver its events."""
