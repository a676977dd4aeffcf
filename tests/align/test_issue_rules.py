"""Issue records in the seed's format: the question, then every human answer in order; bots and empties out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
from align.stream import Stream, align, of_kind

from trajectory.records import IssueRecord, parse_record, record_to_json

SEED_KEYS = ["question", "user_login", "created_at", "updated_at", "body"]
ANSWER_KEYS = ["user_login", "created_at", "updated_at", "body"]


def _issue_with_answers(s: Stream, answers: int) -> None:
    s.issue(12, "Crash on empty config", "Start with an empty config.toml and it crashes.", user="u_asker")
    for number in range(1, answers + 1):
        s.issue_comment(12, 1000 + number, f"Answer number {number}.", user=f"u_{number}")


def test_issue_record_is_the_seed_format_with_answers_in_order(tmp_path: Path) -> None:
    s = Stream()
    _issue_with_answers(s, 11)
    records, _ = align(tmp_path, s.events)
    [record] = of_kind(records, "issue")
    line = orjson.loads(record_to_json(record))
    answers = [f"answer_{n}" for n in range(1, 12)]
    assert list(line)[: len(SEED_KEYS) + len(answers)] == SEED_KEYS + answers  # answer_2 before answer_10
    assert set(line) - set(SEED_KEYS) - set(answers) == {"id", "kind", "provenance", "language", "license"}
    assert line["question"] == "Crash on empty config" and line["user_login"] == "u_asker"
    assert line["body"] == "Start with an empty config.toml and it crashes."
    assert line["created_at"] == "2024-03-01T09:00:00Z" and line["updated_at"] == "2024-03-01T09:00:00Z"
    for number in range(1, 12):
        answer = line[f"answer_{number}"]
        assert list(answer) == ANSWER_KEYS
        assert answer["body"] == f"Answer number {number}." and answer["user_login"] == f"u_{number}"
    assert record.seed_form() == {key: line[key] for key in SEED_KEYS + answers}
    assert parse_record(record_to_json(record)) == record  # the flat form reads back


def test_bots_and_empty_answers_are_filtered_and_counted_and_order_follows_creation(tmp_path: Path) -> None:
    s = Stream()
    s.issue(5, "Docs link is dead", "The link in the README 404s.")
    first = s.clock + timedelta(minutes=1)
    late = {"created_at": (first + timedelta(hours=2)).isoformat()}
    s.issue_comment(5, 2, "Fixed in the next release.", user="u_maint", **late)  # arrives first, written last
    s.issue_comment(5, 1, "Which link?", user="u_maint", created_at=first.isoformat())
    s.issue_comment(5, 3, "Thanks for the report! We triage within a week.", user="u_triage", is_bot=True)
    s.issue_comment(5, 4, "Bumping versions.", user="renovate[bot]")
    s.issue_comment(5, 5, "   \n", user="u_someone")
    s.issue_comment(5, 1, "Which link? The one under Install?", user="u_maint", created_at=first.isoformat())
    records, dropped = align(tmp_path, s.events)
    [record] = of_kind(records, "issue")
    assert [(a.user_login, a.body) for a in record.answers] == [
        ("u_maint", "Which link? The one under Install?"),  # an edited comment: its last text
        ("u_maint", "Fixed in the next release."),
    ]
    assert dropped["bot_answer"] == 2 and dropped["empty_answer"] == 1


def test_issues_without_a_human_answer_or_asked_by_a_bot_are_dropped(tmp_path: Path) -> None:
    s = Stream()
    s.issue(1, "Dependency dashboard", "This issue lists renovate updates.", user="renovate[bot]")
    s.issue_comment(1, 10, "A human looked at this.", user="u_human")
    s.issue(2, "No answer yet", "Nobody replied.")
    s.issue_comment(2, 11, "Automatic reminder.", user="stale[bot]")
    s.issue_comment(3, 12, "A comment on an issue we never saw opened.", user="u_human")
    records, dropped = align(tmp_path, s.events)
    assert of_kind(records, "issue") == []
    assert (dropped["bot_question"], dropped["issue_without_answer"], dropped["issue_without_question"]) == (1, 1, 1)


def test_bots_are_kept_on_request(tmp_path: Path) -> None:
    s = Stream()
    _issue_with_answers(s, 1)
    s.issue_comment(12, 99, "I am a bot and I answer too.", user="helper[bot]", is_bot=True)
    records, _ = align(tmp_path, s.events, include_bots=True)
    [record] = of_kind(records, "issue")
    assert isinstance(record, IssueRecord) and [a.user_login for a in record.answers] == ["u_1", "helper[bot]"]
