"""The quality gate: exact and near duplicates, the second secret scan, length caps, bots and generated files;
every record it drops is counted by reason in manifest.json."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from align.stream import scenario, write_events
from lsp.secrets_corpus import samples

from trajectory.align.builder import build
from trajectory.align.options import BuildOptions, Caps
from trajectory.align.quality import BotFilter, QualityGate
from trajectory.align.source import FileSource
from trajectory.records import (
    Annotation,
    CommentRecord,
    Provenance,
    SimpleCommentRecord,
    Step,
    TrajectoryRecord,
    parse_record,
)

CODE = "\n".join(f"    total_{n} = compute(values[{n}], scale={n}) + offset" for n in range(40)) + "\n"


def _simple(snippet: str, comment: str = "Sum the scaled values.", path: str = "calc.py") -> SimpleCommentRecord:
    return SimpleCommentRecord(id=f"comment_simple-{hash((snippet, comment))}", code_snippet=snippet, comment=comment,
                               provenance=Provenance(repo="r", paths=[path]))  # fmt: skip


@pytest.fixture
def gate(tmp_path: Path):
    def make(**options: object) -> QualityGate:
        directory = tmp_path / f"gate{len(list(tmp_path.iterdir()))}"
        directory.mkdir()
        return QualityGate(directory, BuildOptions(**options))  # type: ignore[arg-type]

    return make


def test_exact_duplicates_ignore_case_and_whitespace(gate) -> None:
    quality = gate()
    assert quality.admit(_simple(CODE)) is not None
    assert quality.admit(_simple("  " + CODE.upper().replace(" ", "  "))) is None
    assert quality.admit(_simple(CODE.replace("+ offset", "- offset"))) is not None
    assert quality.dropped == {"exact_duplicate": 1}


def test_near_duplicates_are_dropped_and_different_records_kept(gate) -> None:
    quality = gate()
    assert quality.admit(_simple(CODE)) is not None
    assert quality.admit(_simple(CODE.replace("total_7", "sum_7"))) is None  # one token in 400 differs
    other = "\n".join(f"    name_{n} = lookup(table, key_{n}) or default_{n}" for n in range(40)) + "\n"
    assert quality.admit(_simple(other)) is not None
    annotated = CommentRecord(id="comment-1", description="", code_snippet=CODE, annotations=[],
                              provenance=Provenance(repo="r"))  # fmt: skip
    assert quality.admit(annotated) is not None  # another kind is never a duplicate of this one
    assert quality.dropped == {"near_duplicate": 1}


def test_near_duplicate_threshold_is_an_option(gate) -> None:
    quality = gate(near_duplicate_threshold=1.0)
    assert quality.admit(_simple(CODE)) is not None
    assert quality.admit(_simple(CODE.replace("total_7", "sum_7"))) is not None


def test_secrets_are_dropped_or_redacted_and_counted(gate) -> None:
    corpus = samples()
    dropping, redacting = gate(), gate(secrets="redact")
    for number, sample in enumerate(corpus):
        padding = "".join(f"setting_{number}_{k} = {k * number}\n" for k in range(20))  # no two alike
        record = _simple(f"{padding}{sample.text}", f"Configuration number {number}.")
        assert dropping.admit(record) is None, sample.name
        kept = redacting.admit(record)
        assert kept is not None and "[REDACTED:" in parse_record(kept).code_snippet  # type: ignore[attr-defined]
        for line in sample.secret.splitlines():
            assert line not in kept["code_snippet"], sample.name
    assert dropping.dropped == {"secret": len(corpus)}
    assert sum(redacting.redacted.values()) >= len(corpus) and not redacting.dropped


def test_markers_of_the_first_scan_are_not_secrets_again(gate) -> None:
    quality = gate()
    redacted = (
        'DATABASE_URL = "postgresql://[REDACTED:url_credential]@db.internal/app"\n'
        'TOKEN = "[REDACTED:github_token]"\n'
    )
    assert quality.admit(_simple(redacted)) is not None and not quality.dropped


def test_length_caps(gate) -> None:
    quality = gate(caps=Caps(field_chars=1000, record_chars=3000, trajectory_steps=2, trajectory_chars=100_000))
    assert quality.admit(_simple("x = 1\n" * 200)) is None  # one field past 1000 characters
    notes = [Annotation(line_number=n, annotation=f"note {n} " * 100) for n in range(1, 6)]
    wide = CommentRecord(id="comment-1", description="", code_snippet="x = 1\n", annotations=notes,
                         provenance=Provenance(repo="r"))  # fmt: skip
    assert quality.admit(wide) is None  # each field fits, the record does not
    big_file = "".join(f"line_{n} = {n}\n" for n in range(1500))  # 20k characters: files are not capped fields
    steps = [Step(action="edit", path="f.py", diff="")]
    trajectory = TrajectoryRecord(id="trajectory-1", task="t", task_source="session", steps=steps,
                                  start_files={"f.py": big_file}, final_files={"f.py": big_file},
                                  provenance=Provenance(repo="r"))  # fmt: skip
    assert quality.admit(trajectory) is not None
    longer = trajectory.model_copy(update={"id": "trajectory-2", "task": "u", "steps": steps * 3})
    assert quality.admit(longer) is None
    assert quality.dropped == {"field_too_long": 1, "record_too_long": 1, "too_many_steps": 1}


def test_generated_files_are_filtered(gate) -> None:
    quality = gate()
    assert quality.admit(_simple(CODE, path="vendor/lib/calc.py")) is None
    assert quality.admit(_simple(CODE, path="web/app.min.js")) is None
    assert quality.dropped == {"generated_file": 2}


def test_bot_patterns_are_globs_with_literal_brackets() -> None:
    bots = BotFilter(("*[bot]", "renovate*"))
    assert bots.is_bot("dependabot[bot]") and bots.is_bot("Renovate-Bot") and bots.is_bot("anyone", flagged=True)
    assert not bots.is_bot("scott") and not bots.is_bot("u_robot")  # `[bot]` is not a character class
    assert not BotFilter(("*[bot]",), include_bots=True).is_bot("dependabot[bot]", flagged=True)


def test_every_drop_is_counted_by_reason_in_the_manifest(tmp_path: Path) -> None:
    s = scenario()
    s.commit("Lock", {"poetry.lock": "[[package]]\nname = 'x'\n", "gen/api.py": "# @generated by protoc\nX = 1\n"})
    s.commit("Bump", {"geo.py": s.tree["geo.py"] + "# bumped\n"}, author="dependabot[bot]", is_bot=True)
    s.commit("Again", {"copy.py": s.tree["geo.py"]})  # the same code again: its records are duplicates
    s.issue(8, "Question", "Body")
    s.issue_comment(8, 200, "Thanks!", user="greeter[bot]")
    s.issue_comment(8, 201, "", user="u_x")
    events = write_events(tmp_path / "events.jsonl", s.events)
    with events.open("ab") as handle:
        handle.write(b'{"kind": "document.changed", "id": "not-a-uuid"}\n')
        handle.write(orjson.dumps(s.events[0].model_dump(mode="json")) + b"\n")  # the same event twice
    result = build(FileSource(events), tmp_path / "out", BuildOptions())
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["dropped"] == result.dropped
    for reason in ("generated_file", "bot_commit", "bot_answer", "empty_answer", "issue_without_answer",
                   "invalid_event", "duplicate_event", "exact_duplicate"):  # fmt: skip
        assert manifest["dropped"].get(reason, 0) >= 1, reason
    assert manifest["inputs"]["events_read"] == len(s.events) + 2


def test_the_line_by_line_secret_check_agrees_with_the_hinted_lines() -> None:
    """`holds_secret` judges each distinct line once; the answer is that of the lines holding a hint."""
    from trajectory.align.secret import (
        _LOWER_HINTS,
        _MASK,
        _URL_MARKER,
        _has_hint,
        _line_holds_secret,
        candidate_lines,
        holds_secret,
    )

    texts = [sample.text for sample in samples()]
    texts += [CODE, CODE.replace("offset", "token"), "password = hunter2hunter2\n" + CODE, ""]
    texts += [f"{CODE}\n{a}\n{b}" for a, b in zip(texts, reversed(texts), strict=True)]
    texts += [f"https://{_URL_MARKER}@example.com/x and api_key = 'Zx9#kLm2Qp'"]
    for _ in range(2):  # the second time, clean lines are known
        for text in texts:
            masked = text.replace(_URL_MARKER, _MASK)
            expected = any(_line_holds_secret(line) for line in candidate_lines(masked))
            assert holds_secret(text) == expected, text[:80]
    assert any(holds_secret(text) for text in texts) and not holds_secret(CODE)
    lines = [line.lower() for text in texts for line in text.split("\n")]
    lines += [("x" * n + hint)[:length] for hint in _LOWER_HINTS for n in (0, 30, 60) for length in (40, 50, 90)]
    assert all(_has_hint(line) == any(hint in line for hint in _LOWER_HINTS) for line in lines)
