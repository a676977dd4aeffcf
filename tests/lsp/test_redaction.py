"""Secret redaction: every secret of the corpus is redacted and counted; ordinary code is left alone."""

from __future__ import annotations

import importlib
import sysconfig
from pathlib import Path

import pytest
from lsp.secrets_corpus import samples

from trajectory.privacy import looks_secret, redact, shannon_entropy

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


def _ordinary_files() -> list[Path]:
    std = Path(sysconfig.get_paths()["stdlib"])
    # Left out on purpose, because their docstrings assign literal example passwords (redacting them is right):
    # urllib/request.py (`passwd='geheim$parole'`) and pydantic/types.py (`password='IAmSensitive'`).
    names = ["argparse.py", "subprocess.py", "http/client.py", "smtplib.py", "ftplib.py", "getpass.py", "netrc.py"]
    names += ["configparser.py", "imaplib.py", "poplib.py", "ssl.py", "secrets.py", "hmac.py", "xmlrpc/client.py"]
    files = [std / n for n in names]
    site = Path(importlib.import_module("httpx").__file__).parents[1]  # type: ignore[arg-type]
    for package in ("httpx", "click", "pygls", "sqlalchemy/engine", "git", "uvicorn", "starlette", "pydantic"):
        files += sorted(f for f in (site / package).rglob("*.py") if f.name != "types.py" or package != "pydantic")
    root = Path(__file__).resolve().parents[2]
    files += sorted((root / "lsp_agent").glob("*.py")) + sorted((root / "trajectory").rglob("*.py"))
    return [f for f in files if f.is_file()]


def test_no_false_redaction_in_ordinary_code() -> None:
    files = _ordinary_files()
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
