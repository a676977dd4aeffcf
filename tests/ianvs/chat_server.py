"""A real OpenAI-compatible chat server on 127.0.0.1 for tests: scripted answers, SSE streaming, faults on demand.

It speaks `POST /v1/chat/completions` the way llama.cpp server, Ollama and vLLM do (JSON, or `text/event-stream`
chunks ending with `data: [DONE]` when `stream` is true). What it answers is scripted per model name: the first
rule whose `match` occurs in the user message decides the reply, an HTTP error (`status`), a delay before
answering (`delay_s`) or a pause between streamed chunks (`chunk_delay_s`). Every request body is recorded.

Run it alone (for stock Ianvs runs): `python tests/ianvs/chat_server.py SCRIPT.json [--port N]`; it prints its
base URL on the first line of stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_PIECE = re.compile(r"\s*\S+\s*")


@dataclass
class Rule:
    match: str = ""  # substring of the user message; "" matches everything
    reply: str = ""
    status: int = 200
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0


@dataclass
class Script:
    """model name -> rules, tried in order; `default` when none matches."""

    models: dict[str, list[Rule]] = field(default_factory=dict)
    default: str = "I do not know."

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        models = {name: [Rule(**rule) for rule in rules] for name, rules in (data.get("models") or {}).items()}
        return cls(models, str(data.get("default", "I do not know.")))

    def rule_for(self, model: str, user: str) -> Rule:
        for rule in self.models.get(model, []):
            if rule.match in user:
                return rule
        return Rule(reply=self.default)


class ChatServer:
    """Serves a Script until stopped; `requests` holds every parsed request body, in arrival order."""

    def __init__(self, script: Script, port: int = 0) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer.lock:
                    outer.requests.append(body)
                    outer.authorizations.append(self.headers.get("Authorization"))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                user = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")
                rule = outer.script.rule_for(str(body.get("model", "")), user)
                if rule.delay_s and outer.stopping.wait(rule.delay_s):
                    return
                if rule.status >= 400:
                    self._json(rule.status, {"error": {"message": "scripted failure"}})
                elif body.get("stream"):
                    self._stream(body, rule)
                else:
                    self._json(200, _completion(body, rule.reply))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], rule: Rule) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                pieces = _PIECE.findall(rule.reply) or [""]
                self._event(_chunk(body, {"role": "assistant", "content": ""}, None))
                for number, piece in enumerate(pieces):
                    if number and rule.chunk_delay_s and outer.stopping.wait(rule.chunk_delay_s):
                        return
                    self._event(_chunk(body, {"content": piece}, None))
                final = _chunk(body, {}, "stop")
                if (body.get("stream_options") or {}).get("include_usage"):
                    final["usage"] = _usage(body, len(pieces))
                self._event(final)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ChatServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _completion(body: dict[str, Any], reply: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
        "usage": _usage(body, len(_PIECE.findall(reply))),
    }


def _chunk(body: dict[str, Any], delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ChatServer(Script.from_json(json.loads(args.script.read_text(encoding="utf-8"))), args.port)
    print(server.base_url, flush=True)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
