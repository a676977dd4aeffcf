"""LSP handlers of the sidecar: convert params, call `Capture`, convert back; nothing else."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from lsp_agent.capture import Capture, ClientInfo
from lsp_agent.errors import LspAgentError
from lsp_agent.server import SidecarServer
from lsp_agent.settings import from_editor

logger = logging.getLogger(__name__)
SUGGESTION_NOTIFICATION = "smartco/suggestion"


def workspace_roots(params: types.InitializeParams) -> list[Path]:
    uris = [folder.uri for folder in params.workspace_folders or []]
    if params.root_uri:
        uris.append(params.root_uri)
    roots = [Path(p) for uri in uris if (p := to_fs_path(uri))]
    if not roots and params.root_path:
        roots.append(Path(params.root_path))
    return roots


def _range(change: Any) -> tuple[tuple[int, int], tuple[int, int]] | None:
    range_ = getattr(change, "range", None)
    if range_ is None:
        return None
    return (range_.start.line, range_.start.character), (range_.end.line, range_.end.character)


def register(server: SidecarServer) -> None:
    """Attach every handler to `server`."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: SidecarServer, params: types.InitializeParams) -> None:
        ls.settings, problems = from_editor(ls.settings, params.initialization_options)
        ls.problems += problems
        info = params.client_info
        client = ClientInfo(info.name, info.version) if info else ClientInfo()
        try:
            ls.capture = Capture(ls.settings, client=client)
        except LspAgentError as err:
            ls.problems.append(f"capture is off: {err}")
            return
        ls.capture.notify = ls.tell
        ls.capture.mirror.encoding = str(ls.workspace.position_encoding or "utf-16")
        ls.roots = workspace_roots(params)  # type: ignore[attr-defined]
        if ls.settings.completion_url:
            from lsp_agent.completion import register_completion

            register_completion(ls)

    @server.feature(types.INITIALIZED)
    def initialized(ls: SidecarServer, params: types.InitializedParams) -> None:
        for problem in ls.problems:
            ls.tell(problem)
        if ls.capture is not None:
            ls.guarded("start", ls.capture.start, getattr(ls, "roots", []))
            ls.ticker = asyncio.get_running_loop().create_task(_tick(ls))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SidecarServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        if ls.capture is not None:
            ls.guarded("didOpen", ls.capture.opened, doc.uri, doc.text, doc.version, doc.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SidecarServer, params: types.DidChangeTextDocumentParams) -> None:
        capture = ls.capture
        if capture is None or params.text_document.uri not in capture.documents:
            return
        changes = [(_range(c), c.text) for c in params.content_changes]
        ls.guarded("didChange", capture.changed, params.text_document.uri, params.text_document.version, changes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=True))
    def did_save(ls: SidecarServer, params: types.DidSaveTextDocumentParams) -> None:
        if ls.capture is not None:
            ls.guarded("didSave", ls.capture.saved, params.text_document.uri, params.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SidecarServer, params: types.DidCloseTextDocumentParams) -> None:
        if ls.capture is not None:
            ls.guarded("didClose", ls.capture.closed, params.text_document.uri)

    @server.feature(
        types.WORKSPACE_DID_RENAME_FILES,
        types.FileOperationRegistrationOptions(
            filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]
        ),
    )
    def did_rename_files(ls: SidecarServer, params: types.RenameFilesParams) -> None:
        if ls.capture is not None:
            for rename in params.files:
                ls.guarded("didRenameFiles", ls.capture.moved, rename.old_uri, rename.new_uri)

    file_filters = types.FileOperationRegistrationOptions(
        filters=[types.FileOperationFilter(pattern=types.FileOperationPattern(glob="**/*"))]
    )

    @server.feature(types.WORKSPACE_DID_DELETE_FILES, file_filters)
    def did_delete_files(ls: SidecarServer, params: types.DeleteFilesParams) -> None:
        if ls.capture is not None:
            ls.guarded("didDeleteFiles", ls.capture.files_deleted, [f.uri for f in params.files])

    @server.feature(types.WORKSPACE_DID_CREATE_FILES, file_filters)
    def did_create_files(ls: SidecarServer, params: types.CreateFilesParams) -> None:
        if ls.capture is not None:
            ls.guarded("didCreateFiles", ls.capture.files_created, [f.uri for f in params.files])

    @server.feature(SUGGESTION_NOTIFICATION)
    def suggestion(ls: SidecarServer, params: Any) -> None:
        if ls.capture is not None:
            ls.guarded("suggestion", ls.capture.suggestion, _plain(params))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: SidecarServer, params: Any) -> None:
        if ls.ticker is not None:
            ls.ticker.cancel()
        if ls.capture is not None:
            ls.guarded("shutdown", ls.capture.shutdown)

    _register_commands(server)


def _register_commands(server: SidecarServer) -> None:
    @server.command("smartco.status")
    def status(ls: SidecarServer, *args: Any) -> dict[str, Any]:
        from lsp_agent.settings import public
        from lsp_agent.status import status_dict

        if ls.capture is None:
            return {"capture": "off", "problems": ls.problems, "settings": public(ls.settings)}
        summary = status_dict(ls.capture.spool.status())
        summary["paused"] = ls.capture.paused(refresh=True)
        summary["sessions"] = {str(root): r.session_id for root, r in ls.capture.recordings.items()}
        return summary | {"capture": "on", "problems": ls.problems, "settings": public(ls.settings)}

    @server.command("smartco.pause")
    def pause(ls: SidecarServer, *args: Any) -> bool:
        if ls.capture is not None:
            ls.capture.set_paused(True)
        return True

    @server.command("smartco.resume")
    def resume(ls: SidecarServer, *args: Any) -> bool:
        if ls.capture is not None:
            ls.capture.set_paused(False)
        return True

    @server.command("smartco.enable")
    def enable(ls: SidecarServer, *args: Any) -> list[str]:
        """Opt the workspace's repositories (or the paths given) in, for this engineer, and start recording."""
        if ls.capture is None:
            return []
        paths = [Path(str(a)) for a in args if isinstance(a, str)] or getattr(ls, "roots", [])
        return [str(root) for root in ls.guarded("smartco.enable", ls.capture.enable, paths) or []]

    @server.command("smartco.suggestion")
    def suggestion_command(ls: SidecarServer, *args: Any) -> bool:
        if ls.capture is not None:
            for arg in args:
                ls.guarded("smartco.suggestion", ls.capture.suggestion, _plain(arg))
        return True


def _plain(value: Any) -> Any:
    """pygls hands unknown params over as namedtuples; the capture layer wants plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def _tick(ls: SidecarServer) -> None:
    interval = min(0.25, ls.settings.idle_seconds / 4)
    while True:
        await asyncio.sleep(interval)
        if ls.capture is not None:
            ls.guarded("tick", ls.capture.tick)
