"""Registration of generated modules: into sedna's ClassFactory when Ianvs runs them, and into our own table."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ianvs_export.errors import BenchmarkFolderError

# alias -> the registered class or function, for `smartco ianvs run` (Ianvs reads sedna's registry instead)
REGISTERED: dict[str, Any] = {}


def register(alias: str, target: Any) -> Any:
    """Register a basemodel class or a metric function under its yaml name; sedna is used when installed."""
    REGISTERED[alias] = target
    try:
        from sedna.common.class_factory import ClassFactory, ClassType  # type: ignore[import-not-found]
    except ImportError:  # not inside an Ianvs installation: our runner reads REGISTERED
        return target
    ClassFactory.register(ClassType.GENERAL, alias=alias)(target)
    return target


def load_module(path: Path) -> None:
    """Import a module file the way Ianvs does: by basename, with its folder first on sys.path."""
    folder, name = str(path.parent), path.stem
    cached = sys.modules.get(name)
    if cached is not None and getattr(cached, "__file__", None) != str(path):
        # Ianvs would silently reuse the cached module; another export's file of the same name must run instead
        del sys.modules[name]
    if not path.is_file():
        raise BenchmarkFolderError(f"module {path} does not exist")
    sys.path.insert(0, folder)
    try:
        importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def lookup(alias: str) -> Callable[..., Any]:
    """The class or function registered under alias."""
    try:
        target: Callable[..., Any] = REGISTERED[alias]
    except KeyError as err:
        raise BenchmarkFolderError(f"nothing is registered under {alias!r}") from err
    return target
