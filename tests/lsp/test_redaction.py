"""Secret redaction: every secret of the corpus is redacted and counted; ordinary code is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.secrets_corpus import ordinary_files, samples

from trajectory.diffs import parse_hunks, unified_diff
from trajectory.privacy import looks_secret, redact, redact_diff, shannon_entropy

CORPUS = samples()


def test_corpus_is_big_and_varied() -> None:
    assert len(CORPUS) >= 30
    assert len({Path(s.name).suffix or s.name for s in CORPUS}) >= 15


@pytest.mark.parametrize("sample", CORPUS, ids=[s.name for s in CORPUS])
def test_every_secret_is_redacted_and_counted(sample) -> None:
    result = redact(sample.text)
    assert sample.secret not in result.text
    for line in sample.secret.splitlines():
        if len(line) >= 8:
            assert line not in result.text
    assert result.total >= 1
    assert "[REDACTED:" in result.text


@pytest.mark.slow
def test_no_false_redaction_in_ordinary_code() -> None:
    files = ordinary_files()
    assert len(files) > 300
    false = {str(f): redact(f.read_text(errors="ignore")).counts for f in files}
    assert {f: c for f, c in false.items() if c} == {}


@pytest.mark.parametrize(
    "line",
    [
        "token = self.next_token()",
        "password = getpass.getpass()",
        "password = os.environ['DB_PASSWORD']",
        'secret_name = "my-secret"',
        'token_type = "bearer"',
        "api_key: ${API_KEY}",
        'password = "changeme"',
        "if token == expected_token:",
        "access_key = settings.aws_access_key",
        'PASSWORD_FIELD = "password"',
        "engine = create_engine('postgresql://scott:tiger@localhost/test')",
    ],
)
def test_code_that_only_names_secrets_is_kept(line: str) -> None:
    assert redact(line).text == line


def test_entropy_and_shape() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert looks_secret("Zx81kLq0pW7v") and not looks_secret("settings.db_password", bare=True)


@pytest.mark.parametrize("sample", CORPUS, ids=[s.name for s in CORPUS])
def test_diffs_are_redacted_even_where_a_hunk_shows_part_of_a_key(sample) -> None:
    # The second copy is added after the first, so the hunk's context shows only the end of the first one.
    diff = unified_diff(sample.text, sample.text + "# rotated\n" + sample.text, sample.name)
    result = redact_diff(diff)
    for line in sample.secret.splitlines():
        if len(line) >= 8:
            assert line not in result.text
    assert result.total >= 1
    assert result.text.count("\n") == diff.count("\n")  # same lines: hunk headers still count right
    assert [h.new_count for h in parse_hunks(result.text)] == [h.new_count for h in parse_hunks(diff)]
    assert [len(h.lines) for h in parse_hunks(result.text)] == [len(h.lines) for h in parse_hunks(diff)]


def test_diff_of_ordinary_code_is_left_alone() -> None:
    files = ordinary_files()[:40]
    for path in files:
        text = path.read_text(errors="ignore")
        diff = unified_diff(text, text.replace("return", "return  "), path.name)
        assert redact_diff(diff).text == diff, path


def test_hunk_header_context_is_redacted_too() -> None:
    key = next(s for s in CORPUS if s.name.endswith(".pem"))
    body = key.secret.splitlines()[3]
    token = next(s for s in CORPUS if s.name == "ci.yml").secret
    diff = f"--- a/k.pem\n+++ b/k.pem\n@@ -6,2 +6,3 @@ {body}\n x\n+y\n@@ -20 +21 @@ def f(token='{token}'):\n-a\n+b\n"
    result = redact_diff(diff).text
    assert body not in result and token not in result
    assert "@@ -6,2 +6,3 @@ [REDACTED:private_key]\n" in result and "@@ -20 +21 @@ def f(token=" in result
