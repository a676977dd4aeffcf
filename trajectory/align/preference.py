"""Preference pairs: rejected suggestion vs what was typed, accepted vs what survived, fail vs pass, review."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trajectory.align.evidence import Evidence
from trajectory.align.filetype import language_of
from trajectory.align.region import changed_region, map_lines
from trajectory.diffs import split_lines
from trajectory.events import EventBase
from trajectory.records import PreferenceRecord, stable_id


def _pair(
    derivation: str, evidence: Evidence, context: str, chosen: str, rejected: str, confidence: float, path: str | None
) -> PreferenceRecord | None:
    if not chosen.strip() or chosen.strip() == rejected.strip():
        return None
    return PreferenceRecord(
        id=stable_id("preference", derivation, *evidence.event_ids, *evidence.commits, path, chosen),
        provenance=evidence.provenance(),
        language=language_of(path),
        context=context,
        chosen=chosen,
        rejected=rejected,
        derivation=derivation,  # type: ignore[arg-type]
        confidence=confidence,
    )


@dataclass
class _Accepted:
    event: EventBase
    text: str
    snapshot: str | None = None
    lines: tuple[int, int] | None = None


@dataclass
class SuggestionTracker:
    """Follows suggestions of one session: what the engineer did after rejecting or accepting each one."""

    repo: str
    context_lines: int
    rejected: dict[str, EventBase] = field(default_factory=dict)  # path -> last rejected suggestion
    accepted: dict[str, _Accepted] = field(default_factory=dict)  # suggestion id -> acceptance
    awaiting: dict[str, str] = field(default_factory=dict)  # path -> accepted suggestion id, until its edit

    def on_suggestion(self, event: EventBase) -> None:
        if event.path is None:
            return
        if event.kind == "suggestion.rejected":
            self.rejected[event.path] = event
        elif event.kind == "suggestion.accepted":
            sid = event.payload.suggestion_id  # type: ignore[attr-defined]
            self.accepted[sid] = _Accepted(event, event.payload.text)  # type: ignore[attr-defined]
            self.awaiting[event.path] = sid

    def last_accepted_text(self, path: str) -> str | None:
        sid = self.awaiting.get(path)
        return self.accepted[sid].text if sid in self.accepted else None

    def on_edit(self, event: EventBase, path: str, before: str, after: str) -> list[PreferenceRecord]:
        out: list[PreferenceRecord] = []
        sid = self.awaiting.pop(path, None)
        if sid is not None:
            self._locate(self.accepted[sid], after)
        shown = self.rejected.pop(path, None)
        region = changed_region(before, after)
        if shown is not None and region is not None and region.new_lines:
            payload: Any = shown.payload
            evidence = Evidence(self.repo).add_event(shown).add_event(event)
            evidence.add_lines(path, region.start + 1, region.new_end)
            context = region.prefix(self.context_lines)
            confidence = 0.5 if payload.heuristic else 0.7
            pair = _pair(
                "rejected_suggestion", evidence, context, "".join(region.new_lines), payload.text, confidence, path
            )
            if pair is not None:
                out.append(pair)
        return out

    def _locate(self, accepted: _Accepted, text: str) -> None:
        at = text.find(accepted.text.strip()) if accepted.text.strip() else -1
        if at >= 0:
            first = text.count("\n", 0, at)
            accepted.snapshot = text
            accepted.lines = (first, first + accepted.text.strip().count("\n") + 1)

    def on_survival(self, event: EventBase, current: str | None) -> PreferenceRecord | None:
        """At a survival checkpoint with less than all surviving: the accepted text vs what the engineer kept."""
        payload = event.payload
        accepted = self.accepted.get(payload.suggestion_id)  # type: ignore[attr-defined]
        if accepted is None or accepted.snapshot is None or accepted.lines is None or current is None:
            return None
        if payload.survived_ratio >= 1.0:  # type: ignore[attr-defined]
            return None
        span = map_lines(accepted.snapshot, current, *accepted.lines)
        kept = "".join(split_lines(current)[span[0] : span[1]]) if span else ""
        path = accepted.event.path
        context = "".join(
            split_lines(accepted.snapshot)[max(accepted.lines[0] - self.context_lines, 0) : accepted.lines[0]]
        )
        evidence = Evidence(self.repo).add_event(accepted.event).add_event(event)
        if span and path:
            evidence.add_lines(path, span[0] + 1, span[1])
        confidence = round(0.5 + 0.4 * (1.0 - payload.survived_ratio), 3)  # type: ignore[attr-defined]
        return _pair("accepted_vs_survived", evidence, context, kept, accepted.text, confidence, path)


@dataclass
class FailToPassTracker:
    """Remembers the files at the last failing test run; at the next passing run, each changed file is a pair."""

    repo: str
    context_lines: int
    failing: EventBase | None = None
    snapshot: dict[str, str] = field(default_factory=dict)

    def on_test(self, event: EventBase, files: dict[str, str]) -> list[PreferenceRecord]:
        payload = event.payload
        failed = payload.failed + payload.errored  # type: ignore[attr-defined]
        if failed:
            self.failing, self.snapshot = event, dict(files)
            return []
        if self.failing is None or payload.passed == 0:  # type: ignore[attr-defined]
            return []
        out: list[PreferenceRecord] = []
        ids = [t.test_id for t in self.failing.payload.tests if t.outcome in ("failed", "error")]  # type: ignore[attr-defined]
        for path in sorted(self.snapshot):
            region = changed_region(self.snapshot[path], files.get(path, self.snapshot[path]))
            if region is None:
                continue
            evidence = Evidence(self.repo).add_event(self.failing).add_event(event).add_path(path)
            evidence.add_lines(path, region.start + 1, region.new_end)
            context = f"# failing: {', '.join(ids[:20])}\n" + region.prefix(self.context_lines)
            pair = _pair(
                "fail_to_pass", evidence, context, "".join(region.new_lines), "".join(region.old_lines), 0.8, path
            )
            if pair is not None:
                out.append(pair)
        self.failing, self.snapshot = None, {}
        return out


def review_preference(
    evidence: Evidence, comment: str, diff_hunk: str, path: str | None, old_side: str, new_side: str
) -> PreferenceRecord | None:
    """Code before vs after the revision that answered a review comment."""
    context = f"{path or ''}\nReview comment: {comment}\n\n{diff_hunk}"
    return _pair("review_revision", evidence, context, new_side, old_side, 0.8, path)
