"""What `smartco lsp status` and the `smartco.status` command report: queue, redactions, uploads, pause."""

from __future__ import annotations

from typing import Any

from lsp_agent.spool import SpoolStatus


def status_dict(status: SpoolStatus) -> dict[str, Any]:
    """A JSON-ready summary (counts only: no text, no tokens)."""
    counters = status.counters
    redacted = {k.removeprefix("redacted."): v for k, v in counters.items() if k.startswith("redacted.")}
    return {
        "queued": status.queued,
        "queued_bytes": status.queued_bytes,
        "queued_by_kind": status.by_kind,
        "oldest_queued_s": None if status.oldest_age_s is None else round(status.oldest_age_s, 1),
        "redacted": redacted,
        "redacted_total": sum(redacted.values()),
        "spooled": counters.get("spooled", 0),
        "uploaded": counters.get("uploaded", 0),
        "duplicate": counters.get("duplicate", 0),
        "rejected": counters.get("rejected", 0),
        "dropped": counters.get("dropped", 0),
        "mirror_resync": counters.get("mirror_resync", 0),
        "git_reloads": counters.get("git_reloads", 0),  # files git rewrote, reloaded by the editor: not edits
        "paused": status.state.get("paused") == "1",
    }


def status_lines(summary: dict[str, Any]) -> list[str]:
    """Human-readable lines of `status_dict`."""
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(summary["queued_by_kind"].items())) or "nothing"
    redacted = ", ".join(f"{k} {n}" for k, n in sorted(summary["redacted"].items())) or "none"
    return [
        f"capture: {'paused' if summary['paused'] else 'on'}",
        f"queued: {summary['queued']} events ({summary['queued_bytes']} bytes): {kinds}",
        f"uploaded: {summary['uploaded']} (duplicates {summary['duplicate']}, rejected {summary['rejected']})",
        f"dropped (spool full, recorded as capture.gap): {summary['dropped']}",
        f"redacted: {summary['redacted_total']} ({redacted})",
    ]
