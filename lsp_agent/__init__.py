"""The capture sidecar: an extra language server that records edits, commits, tests and suggestions."""

__version__ = "0.1.0"
