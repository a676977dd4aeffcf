"""Privacy in the sidecar: opt-in per repository, excluded paths, secrets redacted before the spool, pseudonyms."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsp.secrets_corpus import ordinary_files, samples
from lsp.sidecar import (
    change,
    edit,
    execute,
    git,
    make_repo,
    open_document,
    save,
    sidecar,
    sidecar_command,
    sidecar_env,
    spooled,
    spooled_kind,
    status,
    until,
)

from trajectory.privacy import pseudonymise

pytestmark = pytest.mark.timeout(120)


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*sidecar_command(), *args], env=sidecar_env(data), capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "how", ["committed file", "local marker", "lsp command", "setting", "capture_all", "not opted in"]
)
async def test_capture_only_in_opted_in_repositories(tmp_path: Path, how: str) -> None:
    repo = make_repo(tmp_path / "repo", opt_in=how == "committed file")
    data = tmp_path / "data"
    settings: dict[str, object] = {}
    if how == "local marker":
        done = _cli(data, "enable", str(repo / "app.py").rsplit("/", 1)[0])
        assert done.returncode == 0 and (repo / ".git" / "smartco-capture").is_file()
        assert git(repo, "status", "--porcelain") == ""  # nothing to commit: the marker lives inside .git
    elif how == "setting":
        settings["enabled_repos"] = str(repo)
    elif how == "capture_all":
        settings["capture_all"] = "true"
    async with sidecar(repo, sidecar_env(data, **settings)) as client:
        if how == "lsp command":
            assert await execute(client, "smartco.enable") == [str(repo)]
            assert (repo / ".git" / "smartco-capture").is_file()
        doc = open_document(client, repo / "app.py")
        edit(client, doc, 2, change(1, 12, 1, 12, "0"))
        save(client, doc, "def main():\n    return 10\n")
        (repo / "app.py").write_text("def main():\n    return 10\n")
        git(repo, "commit", "-q", "-am", "ten")
        if how != "not opted in":
            await until(lambda: spooled_kind(data, "git.commit"))
    kinds = [e["kind"] for e in spooled(data)]
    if how == "not opted in":
        assert kinds == []
    else:
        assert kinds[0] == "session.started" and "document.changed" in kinds and "git.commit" in kinds


def test_enable_and_disable_commands(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", opt_in=False)
    data = tmp_path / "data"
    assert "capture enabled" in _cli(data, "enable", str(repo)).stdout
    assert (repo / ".git" / "smartco-capture").is_file()
    assert _cli(data, "disable", str(repo)).stdout.strip() == "capture disabled"
    assert not (repo / ".git" / "smartco-capture").exists()
    outside = _cli(data, "enable", str(tmp_path))
    assert outside.returncode != 0 and "not inside a git repository" in outside.stderr


EXCLUDED = {
    ".env": "DB=1\n",
    ".env.local": "DB=2\n",
    ".envrc": "export TOKEN=x\n",
    "deploy/prod.env": "DB=3\n",
    "certs/server.pem": "pem\n",
    "deploy/prod.key": "key\n",
    "keys/id_rsa": "rsa\n",
    "keys/id_ed25519.pub": "pub\n",
    "config/secrets.yaml": "a: 1\n",
    "config/credentials.json": "{}\n",
    ".npmrc": "registry=x\n",
}


@pytest.mark.slow
async def test_excluded_paths_by_default_are_never_recorded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"app.py": "x = 1\n", **EXCLUDED})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data)) as client:
        for name in [*EXCLUDED, "app.py"]:
            doc = open_document(client, repo / name)
            edit(client, doc, 2, change(0, 0, 0, 0, "#"))
            save(client, doc)
        for name in EXCLUDED:
            (repo / name).write_text("rotated-content " + name + "\n")
        git(repo, "commit", "-q", "-am", "touch everything")
        (commit,) = await until(lambda: spooled_kind(data, "git.commit"))
    assert {e.get("path") for e in spooled(data) if e["kind"].startswith("document.")} == {"app.py"}
    files = {f["path"]: f for f in commit["payload"]["files"]}
    assert set(files) == set(EXCLUDED)  # the commit names them, with their stats ...
    assert all(f.get("diff") is None for f in files.values())  # ... but never their content
    assert "rotated-content" not in json.dumps(spooled(data))


@pytest.mark.slow
async def test_secrets_corpus_is_fully_redacted_before_the_spool(tmp_path: Path) -> None:
    corpus = samples()
    assert len(corpus) >= 30 and len({Path(s.name).suffix or s.name for s in corpus}) >= 15
    repo = make_repo(tmp_path / "repo", files={s.name: s.text for s in corpus})
    data = tmp_path / "data"
    typed, pasted = corpus[7], corpus[12]
    # No path excluded: redaction alone must keep every secret out (exclusions are a second line of defence).
    async with sidecar(repo, sidecar_env(data, exclude=""), options={"idle_seconds": 0.2}) as client:
        for sample in corpus:
            open_document(client, repo / sample.name)
        doc = open_document(client, repo / "typed.py", "")
        for i, char in enumerate(typed.text):  # typed keystroke by keystroke, across idle gaps
            line, column = typed.text[:i].count("\n"), len(typed.text[:i].rsplit("\n", 1)[-1])
            edit(client, doc, 2 + i, change(line, column, line, column, char))
        edit(client, doc, 999, change(2, 0, 2, 0, pasted.text))  # pasted: also a heuristic suggestion
        save(client, doc, typed.text + pasted.text)
        for sample in corpus:
            (repo / sample.name).write_text(sample.text + "# rotated\n" + sample.text)
        git(repo, "commit", "-q", "-am", f"rotate {typed.secret}")
        await until(lambda: spooled_kind(data, "git.commit"))
    raw = b"".join(p.read_bytes() for p in data.glob("spool.sqlite3*"))  # the database, its WAL and shm
    text = json.dumps(spooled(data))
    leaked = [s.name for s in corpus for line in s.secret.splitlines() if line.encode() in raw or line in text]
    assert leaked == [], [
        (e["kind"], e.get("path"))
        for e in spooled(data)
        if any(s.secret.splitlines()[-1] in json.dumps(e) for s in corpus)
    ]
    summary = status(data)
    assert summary["redacted_total"] >= 3 * len(corpus)  # opened, and twice in the commit's diffs
    assert len(summary["redacted"]) >= 12  # many kinds of secrets
    assert spooled_kind(data, "suggestion.accepted")[0]["payload"]["heuristic"] is True


@pytest.mark.slow
async def test_ordinary_code_is_recorded_unchanged(tmp_path: Path) -> None:
    files = ordinary_files()[::6][:60]
    sources = {f"src/{i:03d}_{f.name}": f.read_text(errors="ignore") for i, f in enumerate(files)}
    repo = make_repo(tmp_path / "repo", files=sources)
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data)) as client:
        for name in sources:
            open_document(client, repo / name, sources[name])
        await until(lambda: len(spooled_kind(data, "document.opened")) == len(sources))
    opened = {e["path"]: e["payload"] for e in spooled_kind(data, "document.opened")}
    assert {path: p["text"] == sources[path] for path, p in opened.items()} == dict.fromkeys(sources, True)
    assert all(p["redactions"] == 0 for p in opened.values())
    assert status(data)["redacted_total"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("pseudonymised", [True, False])
async def test_identities_are_pseudonymised_unless_configured_otherwise(tmp_path: Path, pseudonymised: bool) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    env = sidecar_env(data, pseudonymise=str(pseudonymised).lower())
    del env["SMARTCO_SALT"]  # the sidecar makes one and keeps it in its spool
    actors = []
    for _ in range(2):  # the same engineer gets the same pseudonym after a restart
        async with sidecar(repo, env) as client:
            open_document(client, repo / "app.py")
            await until(lambda: len(spooled_kind(data, "document.opened")) > len(actors))
        actors.append(spooled_kind(data, "document.opened")[-1]["actor"])
    assert actors[0] == actors[1]
    if pseudonymised:
        assert actors[0].startswith("u_") and "example.com" not in json.dumps(spooled(data))
        assert actors[0] != pseudonymise("dev@example.com", "test-salt")  # a salt of its own, not a known one
    else:
        assert actors[0] == "dev@example.com"
