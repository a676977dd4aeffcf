"""Issue records in the seed's format: the question, then every human answer in order."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from trajectory.align.evidence import Evidence
from trajectory.align.history import RepoHistory
from trajectory.align.quality import BotFilter
from trajectory.events import EventBase
from trajectory.payloads import IssueCommentPayload, IssueOpenedPayload
from trajectory.records import Answer, IssueRecord, stable_id


def seed_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_records(history: RepoHistory, bots: BotFilter, dropped: Counter[str]) -> list[IssueRecord]:
    out: list[IssueRecord] = []
    for key in history.spill.history_keys(history.repo, "issue"):
        record = issue_record(history, list(history.spill.history(history.repo, "issue", key)), bots, dropped)
        if record is not None:
            out.append(record)
    return out


def _answers(events: list[EventBase], bots: BotFilter, dropped: Counter[str], evidence: Evidence) -> list[Answer]:
    """The human, non-empty comments in the order they were written (an edited one in its last version)."""
    comments: dict[int, tuple[EventBase, IssueCommentPayload]] = {}
    for event in events:
        if event.kind == "issue.comment":
            payload: Any = event.payload
            comments[payload.comment_id] = (event, payload)  # an edited comment comes again: the last one wins
    answers: list[Answer] = []
    for event, comment in sorted(comments.values(), key=lambda c: (c[1].created_at or c[0].ts, c[1].comment_id)):
        if bots.is_bot(comment.user_login, comment.is_bot):
            dropped["bot_answer"] += 1
        elif not comment.body.strip():
            dropped["empty_answer"] += 1
        else:
            evidence.add_event(event)
            created, updated = seed_time(comment.created_at), seed_time(comment.updated_at)
            answers.append(Answer(user_login=comment.user_login, created_at=created, updated_at=updated,
                                  body=comment.body))  # fmt: skip
    return answers


def issue_record(
    history: RepoHistory, events: list[EventBase], bots: BotFilter, dropped: Counter[str]
) -> IssueRecord | None:
    """One issue from its events (any order); None, counted, when it has no question or no human answer."""
    opened = next((e for e in events if e.kind == "issue.opened"), None)
    if opened is None:
        dropped["issue_without_question"] += 1
        return None
    question: IssueOpenedPayload = opened.payload  # type: ignore[assignment]
    if bots.is_bot(question.user_login, question.is_bot):
        dropped["bot_question"] += 1
        return None
    evidence = Evidence(history.repo).add_event(opened)
    answers = _answers(events, bots, dropped, evidence)
    if not answers:
        dropped["issue_without_answer"] += 1
        return None
    evidence.issues.add(question.number)
    evidence.pull_requests.update(history.prs_of_issue.get(question.number, []))
    return IssueRecord(
        id=stable_id("issue", history.repo, question.number),
        provenance=evidence.provenance(),
        license=history.license,
        question=question.title,
        user_login=question.user_login,
        created_at=seed_time(question.created_at or opened.ts),
        updated_at=seed_time(question.updated_at),
        body=question.body or "",
        answers=answers,
    )
