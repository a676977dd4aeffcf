"""Optional completions proxied to an OpenAI-compatible endpoint; every item carries a command, so acceptance is exact.

Only registered when `completion_url` is set: otherwise the sidecar offers nothing that competes with the
engineer's main language server. The context sent is redacted first; items shown and not accepted by the next
request in the same document are recorded as rejected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from lsprotocol import types

from lsp_agent.mirror import utf16_to_index
from lsp_agent.server import SidecarServer
from lsp_agent.settings import Settings
from trajectory.ids import uuid7
from trajectory.privacy import redact

logger = logging.getLogger(__name__)

ACCEPT_COMMAND = "smartco.completion.accepted"
PROVIDER = "smartco-proxy"
PREFIX_CHARS = 4000
SUFFIX_CHARS = 1000


class CompletionError(Exception):
    """The endpoint did not answer with completions (the editor just gets none)."""


@dataclass
class Offered:
    """Items offered in one document and not accepted yet."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # suggestion id -> accepted-event params


async def fetch(client: httpx.AsyncClient, settings: Settings, prompt: str, suffix: str) -> list[str]:
    """Completion texts for `prompt` (text before the cursor) and `suffix` (after it), from POST {url}/completions."""
    url = (settings.completion_url or "").rstrip("/") + "/completions"
    headers = {"Authorization": f"Bearer {settings.completion_api_key}"} if settings.completion_api_key else {}
    body = {"prompt": prompt, "suffix": suffix, "max_tokens": settings.completion_max_tokens, "temperature": 0.2}
    if settings.completion_model:
        body["model"] = settings.completion_model
    try:
        response = await client.post(url, json=body, headers=headers, timeout=settings.completion_timeout)
    except httpx.HTTPError as err:
        raise CompletionError(f"endpoint unreachable ({type(err).__name__})") from None
    if response.status_code != 200:
        raise CompletionError(f"endpoint answered {response.status_code}")
    try:
        choices = response.json().get("choices", [])
    except (ValueError, AttributeError):
        raise CompletionError("endpoint answer is not a completion object") from None
    texts = [c.get("text") for c in choices if isinstance(c, dict)]
    return list(dict.fromkeys(t for t in texts if isinstance(t, str) and t.strip()))


def context(text: str, line: int, character: int, encoding: str) -> tuple[str, str]:
    """(text before, text after) the LSP position, each cut to what a completion needs."""
    lines = text.splitlines(keepends=True)
    line = min(line, len(lines))
    index = sum(len(x) for x in lines[:line])
    if line < len(lines):
        index += utf16_to_index(lines[line], character, encoding)
    return text[max(0, index - PREFIX_CHARS) : index], text[index : index + SUFFIX_CHARS]


def register_completion(server: SidecarServer) -> None:
    """Serve textDocument/completion from the configured endpoint."""
    offered: dict[str, Offered] = {}
    client = httpx.AsyncClient()

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: SidecarServer, params: types.CompletionParams) -> types.CompletionList:
        capture, uri = ls.capture, params.text_document.uri
        empty = types.CompletionList(is_incomplete=False, items=[])
        document = capture.mirror.get(uri) if capture is not None else None
        if capture is None or document is None or uri not in capture.documents:
            return empty
        _reject_leftovers(ls, offered.pop(uri, None))
        position = {"line": params.position.line, "character": params.position.character}
        before, after = context(document.text, params.position.line, params.position.character, document.encoding)
        try:
            texts = await fetch(client, ls.settings, redact(before).text, redact(after).text)
        except CompletionError as err:
            ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"smartco completion: {err}"))
            return empty
        pending = offered.setdefault(uri, Offered())
        items = []
        for text in texts:
            suggestion_id = f"smartco-{uuid7()}"
            signal: dict[str, Any] = {"id": suggestion_id, "model": ls.settings.completion_model, "text": text}
            signal |= {"provider": PROVIDER, "uri": uri, "position": position}
            ls.guarded("completion", capture.suggestion, signal | {"event": "shown", "context_before": before[-500:]})
            pending.items[suggestion_id] = signal | {"event": "accepted"}
            items.append(_item(text, suggestion_id, uri, params.position))
        return types.CompletionList(is_incomplete=True, items=items)

    @server.command(ACCEPT_COMMAND)
    def accepted(ls: SidecarServer, *args: Any) -> bool:
        for arg in args:
            uri, suggestion_id = _field(arg, "uri"), _field(arg, "id")
            signal = offered[uri].items.pop(suggestion_id, None) if uri in offered else None
            if signal is not None and ls.capture is not None:
                ls.guarded(ACCEPT_COMMAND, ls.capture.suggestion, signal)
        return True


def _item(text: str, suggestion_id: str, uri: str, at: types.Position) -> types.CompletionItem:
    label = text.strip().splitlines()[0][:80]
    arguments: list[Any] = [{"id": suggestion_id, "uri": uri}]
    command = types.Command(title="smartco: suggestion accepted", command=ACCEPT_COMMAND, arguments=arguments)
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail="smartco",
        # Inserted at the cursor: an empty range also means the editor does not filter the item by the word typed.
        text_edit=types.TextEdit(types.Range(at, at), text),
        insert_text_format=types.InsertTextFormat.PlainText,
        command=command,
    )


def _reject_leftovers(ls: SidecarServer, previous: Offered | None) -> None:
    if previous is None or ls.capture is None:
        return
    for signal in previous.items.values():
        ls.guarded("completion", ls.capture.suggestion, signal | {"event": "rejected", "reason": "not accepted"})


def _field(arg: Any, name: str) -> Any:
    """A field of a command argument (pygls hands objects over as dicts or namedtuples)."""
    return arg.get(name) if isinstance(arg, dict) else getattr(arg, name, None)
