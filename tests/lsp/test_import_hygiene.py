"""The sidecar's import path stays free of the collector's heavy dependencies (engineers install it on laptops)."""

from __future__ import annotations

import subprocess
import sys


def test_sidecar_imports_neither_fastapi_nor_sqlalchemy() -> None:
    probe = (
        "import sys\n"
        "import lsp_agent.cli, lsp_agent.server, lsp_agent.capture, lsp_agent.uploader, lsp_agent.spool\n"
        "roots = {'fastapi', 'sqlalchemy', 'alembic', 'starlette'}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "", f"the sidecar imported {done.stdout.strip()}"
