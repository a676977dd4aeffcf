"""Sidecar overhead benchmark: 20,000 incremental didChange notifications on a 500-line document over stdio.

The same pre-encoded message stream (initialize, didOpen, N keystroke-sized didChange notifications, then one
`shutdown` request whose answer proves every notification before it was handled) goes once to a no-op pygls
server (written below; pygls keeps its own copy of the document, nothing else) and once to the real sidecar
(`python -m smartco.cli lsp`) with capture on in an opted-in git repository, in the same run. Rounds alternate
between the two and the best time of each is compared. Prints both times, the ratio and the sidecar's peak RSS
(VmHWM from /proc, else sampled with psutil), and ends with one JSON line per checked figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

RATIO_TARGET = 1.15
RSS_TARGET_MB = 80.0
NOOP_SERVER = """
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("noop", "1", text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
server.start_io()
"""


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def document(lines: int) -> list[str]:
    """A Python-looking document (no newline characters in the returned lines)."""
    out = []
    for i in range(lines):
        if i % 10 == 0:
            out.append(f"def function_{i}(alpha, beta):")
        elif i % 10 == 9:
            out.append("")
        else:
            out.append(f"    value_{i} = alpha * {i} + beta  # step {i}")
    return out


def keystrokes(lines: list[str], count: int, seed: int = 7) -> list[tuple[int, int, int, str]]:
    """(line, start, end, text) edits as typing makes them: bursts on one line, some backspaces, then a move."""
    rng = random.Random(seed)
    lengths = [len(line) for line in lines]
    edits: list[tuple[int, int, int, str]] = []
    line = 0
    while len(edits) < count:
        if len(edits) % 40 == 0:
            line = rng.randrange(len(lengths))
        col = lengths[line]
        if col > 0 and rng.random() < 0.15:
            edits.append((line, col - 1, col, ""))
            lengths[line] -= 1
        else:
            edits.append((line, col, col, rng.choice("abcdefghij_ (),.=+0123")))
            lengths[line] += 1
    return edits


def session_bytes(root: Path, path: Path, changes: int, lines: int) -> tuple[bytes, bytes]:
    """(setup, timed) message streams: initialize+didOpen, then the changes and the shutdown request."""
    uri = path.as_uri()
    text = "\n".join(document(lines)) + "\n"
    path.write_text(text)
    setup = frame(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}},
        }
    )
    setup += frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    setup += frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}})
    parts = []
    for version, (line, start, end, new) in enumerate(keystrokes(document(lines), changes), start=2):
        change = {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}}
        change["text"] = new  # type: ignore[assignment]
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
        parts.append(frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": params}))
    parts.append(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None}))
    return setup, b"".join(parts)


class Responses:
    """Reads the server's stdout on a thread and notes the ids of the responses it sees."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.seen: dict[int, threading.Event] = {1: threading.Event(), 2: threading.Event()}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            length = 0
            while (header := self.stream.readline()) not in (b"\r\n", b""):
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
            if header == b"":
                return
            message = json.loads(self.stream.read(length))
            if "method" not in message and message.get("id") in self.seen:
                self.seen[message["id"]].set()

    def wait(self, request_id: int, timeout: float) -> None:
        if not self.seen[request_id].wait(timeout):
            raise TimeoutError(f"no answer to request {request_id} within {timeout}s")


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """Where /proc has no VmHWM: sample the RSS every 20 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return


def run_once(command: list[str], env: dict[str, str], cwd: Path, setup: bytes, timed: bytes) -> Run:
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd)
    assert server.stdin is not None and server.stdout is not None
    responses, sampler = Responses(server.stdout), RssSampler(server.pid)
    sampler.start()
    try:
        server.stdin.write(setup)
        server.stdin.flush()
        responses.wait(1, 60)
        start = time.perf_counter()
        writer = threading.Thread(target=lambda: (server.stdin.write(timed), server.stdin.flush()), daemon=True)
        writer.start()
        responses.wait(2, 600)
        seconds = time.perf_counter() - start
        sampler.done.set()
        peak = peak_rss_mb(server.pid) or sampler.peak / 2**20
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "exit", "params": None}))
        server.stdin.close()
        server.wait(30)
        return Run(seconds, peak)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def workspace(base: Path) -> tuple[Path, Path, dict[str, str]]:
    """An opted-in git repository with the document, and the sidecar's isolated environment."""
    repo = base / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".smartco-capture").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCO_")}
    env |= {"XDG_CONFIG_HOME": str(base / "config"), "SMARTCO_DATA_DIR": str(base / "data")}
    env |= {"SMARTCO_ACTOR": "bench", "SMARTCO_SALT": "bench", "GIT_CONFIG_NOSYSTEM": "1"}
    return repo, repo / "module.py", env


def figure(name: str, value: float, unit: str, target: float) -> dict[str, Any]:
    return {"bench": name, "value": round(value, 3), "unit": unit, "target": f"<= {target}", "ok": value <= target}


def measure(base: Path, changes: int, lines: int, rounds: int) -> tuple[list[Run], list[Run]]:
    """Alternating rounds of the same session against the no-op server and the sidecar."""
    (base / "noop.py").write_text(NOOP_SERVER)
    noop_cmd = [sys.executable, str(base / "noop.py")]
    sidecar_cmd = [sys.executable, "-m", "smartco.cli", "lsp"]
    noop: list[Run] = []
    sidecar: list[Run] = []
    for round_ in range(rounds):
        round_dir = base / f"round{round_}"
        round_dir.mkdir()
        repo, path, env = workspace(round_dir)
        setup, timed = session_bytes(repo, path, changes, lines)
        noop.append(run_once(noop_cmd, env, repo, setup, timed))
        sidecar.append(run_once(sidecar_cmd, env, repo, setup, timed))
        kinds = spooled_kinds(round_dir / "data")
        print(
            f"round {round_ + 1}: no-op pygls {noop[-1].seconds:.2f}s, sidecar {sidecar[-1].seconds:.2f}s "
            f"(peak RSS {sidecar[-1].peak_rss_mb:.1f} MB, {len(kinds)} events spooled)"
        )
        if "document.changed" not in kinds:
            raise SystemExit("the sidecar recorded no edit: capture was not on")
    return noop, sidecar


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds; the best time of each counts.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smartco-lsp-bench-") as tmp:
        noop, sidecar = measure(Path(tmp), args.changes, args.lines, args.rounds)
    best_noop, best_sidecar = min(r.seconds for r in noop), min(r.seconds for r in sidecar)
    ratio = best_sidecar / best_noop
    rss = max(r.peak_rss_mb for r in sidecar)
    print(f"no-op pygls server: {best_noop:.3f} s ({1000 * best_noop / args.changes:.3f} ms per change)")
    print(f"smartco sidecar:    {best_sidecar:.3f} s ({1000 * best_sidecar / args.changes:.3f} ms per change)")
    print(f"ratio: {ratio:.3f} (target <= {RATIO_TARGET}); sidecar peak RSS: {rss:.1f} MB (target <= {RSS_TARGET_MB})")
    figures = [
        figure("lsp_overhead_ratio", ratio, "x", RATIO_TARGET),
        figure("lsp_peak_rss_mb", rss, "MB", RSS_TARGET_MB),
    ]
    for item in figures:
        print(json.dumps(item))
    return 0 if all(item["ok"] for item in figures) else 1


def spooled_kinds(data_dir: Path) -> list[str]:
    """The kinds of the events the sidecar left in its spool (no collector in this bench)."""
    path = data_dir / "spool.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return [str(row[0]) for row in db.execute("SELECT kind FROM events ORDER BY rowid")]
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
