"""The language server: each handler converts LSP params and delegates to `Capture` (no recording logic here)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lsp_agent import __version__
from lsp_agent.capture import Capture
from lsp_agent.errors import LspAgentError
from lsp_agent.settings import Settings

logger = logging.getLogger(__name__)


class CaptureProtocol(LanguageServerProtocol):
    """pygls's protocol without its own copy of each document: the sidecar's mirror is cheaper and keeps "before".

    The document notifications call the sidecar's (synchronous) handlers directly instead of being generators as
    pygls's built-ins are: pygls 2.1 keeps the future of every generator-handled notification in
    `_request_futures` forever, which costs about 2 kB per keystroke.
    """

    def _call_feature(self, method: str, params: Any) -> None:
        if (handler := self.fm.features.get(method)) is not None:
            handler(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._call_feature(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._call_feature(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._call_feature(types.TEXT_DOCUMENT_DID_CLOSE, params)


class SidecarServer(LanguageServer):
    """The sidecar: settings from start-up, refined by the editor's initializationOptions."""

    def __init__(self, settings: Settings, problems: list[str] | None = None) -> None:
        super().__init__(
            "smartco-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=CaptureProtocol,
        )
        self.settings = settings
        self.problems = list(problems or [])
        self.capture: Capture | None = None
        self.ticker: asyncio.Task[None] | None = None

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Errors reach the engineer as a window message, never as an exception into the editor."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"smartco: {message}"))

    def guarded(self, action: str, fn: Any, *args: Any) -> Any:
        if self.capture is None:
            return None
        try:
            return fn(*args)
        except LspAgentError as err:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=f"{action}: {err}"))
        except Exception:  # a capture bug must never take the editor's session down
            logger.exception("%s failed", action)
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=f"{action} failed"))
        return None


def build_server(settings: Settings, problems: list[str] | None = None) -> SidecarServer:
    """A sidecar server with every handler registered (nothing starts until `start_io`/`start_tcp`)."""
    from lsp_agent import handlers

    server = SidecarServer(settings, problems)
    handlers.register(server)
    return server
