"""`smartco collector token …` and `webhook-secret`: create, list, revoke; clear errors."""

from __future__ import annotations

from click.testing import CliRunner

from smartco.cli import root


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_token_lifecycle(sqlite_url: str) -> None:
    assert _run("collector", "migrate", "--database-url", sqlite_url)[0] == 0
    code, out, err = _run(
        "collector",
        "token",
        "create",
        "--database-url",
        sqlite_url,
        "--project",
        "p1",
        "--scope",
        "ingest",
        "--scope",
        "read",
    )
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("sct_") and "p1" in err
    code, listing, _ = _run("collector", "token", "list", "--database-url", sqlite_url)
    assert code == 0 and "p1" in listing and token[:10] in listing and token not in listing
    assert "active" in listing
    assert _run("collector", "token", "revoke", "--database-url", sqlite_url, "1")[0] == 0
    assert "revoked" in _run("collector", "token", "list", "--database-url", sqlite_url)[1]
    code, _, err = _run("collector", "token", "revoke", "--database-url", sqlite_url, "1")
    assert code == 1 and "no active token" in err


def test_token_commands_need_a_migrated_database(sqlite_url: str) -> None:
    code, _, err = _run("collector", "token", "list", "--database-url", sqlite_url)
    assert code == 1 and "smartco collector migrate" in err


def test_webhook_secret(sqlite_url: str) -> None:
    _run("collector", "migrate", "--database-url", sqlite_url)
    code, out, _ = _run("collector", "webhook-secret", "--database-url", sqlite_url, "--project", "p1")
    assert code == 0 and len(out.strip()) == 48
    code, out, _ = _run(
        "collector", "webhook-secret", "--database-url", sqlite_url, "--project", "p1", "--secret", "s3"
    )
    assert out.strip() == "s3"


def test_help_on_every_level() -> None:
    for args in (
        ["--help"],
        ["collector", "--help"],
        ["collector", "token", "--help"],
        ["collector", "serve", "--help"],
    ):
        code, out, _ = _run(*args)
        assert code == 0 and "Usage:" in out
