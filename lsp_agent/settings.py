"""The sidecar's typed settings: defaults < user file < SMARTCO_* env < CLI flags < editor initializationOptions."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lsp_agent.errors import SettingsError

DEFAULT_EXCLUDES = (
    ".env*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*secret*",
    "*credential*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "*.kdbx",
)
# Where code is sent, how to authenticate and how engineers are identified are never taken from the editor (a
# repository's editor config, e.g. .vscode/settings.json or .nvim.lua, could otherwise send its code elsewhere or
# unmask its authors): only env, the user file and CLI flags set these.
EDITOR_FORBIDDEN = frozenset(
    {"collector_url", "token", "token_file", "data_dir", "completion_url", "completion_api_key", "salt", "pseudonymise"}
)


@dataclass(frozen=True)
class Settings:
    """Everything the sidecar needs, built once at start-up and passed down."""

    collector_url: str | None = None
    token: str | None = None
    token_file: Path | None = None
    data_dir: Path = field(default_factory=lambda: _default_data_dir())
    enabled_repos: tuple[str, ...] = ()
    capture_all: bool = False
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extra_exclude: tuple[str, ...] = ()
    idle_seconds: float = 1.5
    spool_max_bytes: int = 256 * 1024 * 1024
    batch_max_events: int = 200
    upload_interval: float = 1.0
    backoff_max: float = 60.0
    git_poll_seconds: float = 1.0
    junit_globs: tuple[str, ...] = ("**/junit*.xml", "**/TEST-*.xml", ".smartco/test-results/*.xml")
    junit_poll_seconds: float = 2.0
    pseudonymise: bool = True
    salt: str | None = None
    actor: str | None = None
    completion_url: str | None = None
    completion_model: str | None = None
    completion_api_key: str | None = None
    completion_max_tokens: int = 128
    completion_timeout: float = 10.0
    survival_checkpoints: tuple[float, ...] = (30.0, 120.0, 600.0)
    large_insert_chars: int = 80
    exit_drain_seconds: float = 3.0

    def resolved_token(self) -> str | None:
        """The token, read from `token_file` when it is not given directly."""
        if self.token:
            return self.token
        if self.token_file is not None and self.token_file.is_file():
            return self.token_file.read_text().strip() or None
        return None


SECRET_SETTINGS = frozenset({"token", "completion_api_key", "salt"})


def public(settings: Settings) -> dict[str, Any]:
    """The settings in effect, JSON-ready, without secrets (shown by the `smartco.status` command)."""
    out: dict[str, Any] = {}
    for spec in fields(Settings):
        value = getattr(settings, spec.name)
        if spec.name in SECRET_SETTINGS:
            value = None if value is None else "(set)"
        out[spec.name] = list(value) if isinstance(value, tuple) else str(value) if isinstance(value, Path) else value
    return out


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smartco" / "lsp"


def default_config_file(env: Mapping[str, str]) -> Path:
    """The user's settings file (TOML); it lives outside any repository."""
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(env.get("SMARTCO_LSP_CONFIG", str(Path(base) / "smartco" / "lsp.toml")))


_TYPES = {f.name: f for f in fields(Settings)}


def coerce(name: str, value: Any) -> Any:
    """`value` converted to the type of setting `name`; raises SettingsError saying what is wrong."""
    if name not in _TYPES:
        raise SettingsError(f"unknown setting {name!r}")
    default = getattr(Settings(), name)
    kind = str(_TYPES[name].type)
    try:
        if "tuple[float" in kind:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(float(v) for v in items)
        if "tuple" in kind:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if isinstance(default, bool):
            return _to_bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if "Path" in kind:
            return None if value in (None, "") else Path(str(value)).expanduser()
        return None if value in (None, "") else str(value)
    except (TypeError, ValueError) as err:
        raise SettingsError(f"setting {name!r}: {err}") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _positive(value: Any) -> bool:
    return bool(value > 0)


# Range checks of settings whose type alone does not make them usable.
_VALID: dict[str, tuple[Callable[[Any], bool], str]] = {
    "idle_seconds": (_positive, "must be > 0"),
    "spool_max_bytes": (lambda v: v >= 4096, "must be >= 4096"),
    "batch_max_events": (_positive, "must be >= 1"),
    "upload_interval": (_positive, "must be > 0"),
    "backoff_max": (_positive, "must be > 0"),
    "git_poll_seconds": (_positive, "must be > 0"),
    "junit_poll_seconds": (_positive, "must be > 0"),
    "survival_checkpoints": (
        lambda v: 1 <= len(v) <= 3 and all(x > 0 for x in v) and list(v) == sorted(v),
        "must be 1 to 3 increasing delays in seconds",
    ),
    "large_insert_chars": (_positive, "must be >= 1"),
    "completion_max_tokens": (_positive, "must be >= 1"),
    "completion_timeout": (_positive, "must be > 0"),
    "exit_drain_seconds": (lambda v: v >= 0, "must be >= 0"),
}


def apply(settings: Settings, values: Mapping[str, Any], source: str) -> tuple[Settings, list[str]]:
    """`settings` with `values` applied; invalid ones are skipped (the value so far stays) and described."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for raw_name, value in values.items():
        name = str(raw_name).replace("-", "_")
        if source == "editor" and name in EDITOR_FORBIDDEN:
            problems.append(f"{source}: {name!r} can only be set by env, the user file or CLI flags; ignored")
            continue
        try:
            coerced = coerce(name, value)
        except SettingsError as err:
            problems.append(f"{source}: {err}; ignored")
            continue
        check = _VALID.get(name)
        if check is not None and coerced is not None and not check[0](coerced):
            problems.append(f"{source}: setting {name!r} {check[1]}, not {value!r}; ignored")
            continue
        changes[name] = coerced
    return replace(settings, **changes), problems


def from_environment(
    env: Mapping[str, str], cli: Mapping[str, Any] | None = None, config_file: Path | None = None
) -> tuple[Settings, list[str]]:
    """Defaults, then the user file, then `SMARTCO_*` variables, then CLI flags."""
    settings, problems = Settings(), []
    path = config_file or default_config_file(env)
    if path.is_file():
        try:
            settings, found = apply(settings, tomllib.loads(path.read_text()), f"file {path}")
            problems += found
        except tomllib.TOMLDecodeError as err:
            problems.append(f"file {path}: {err}; ignored")
    from_env = {
        key.removeprefix("SMARTCO_").lower(): value
        for key, value in env.items()
        if key.startswith("SMARTCO_") and key.removeprefix("SMARTCO_").lower() in _TYPES
    }
    settings, found = apply(settings, from_env, "env")
    problems += found
    if cli:
        settings, found = apply(settings, {k: v for k, v in cli.items() if v is not None}, "flags")
        problems += found
    return settings, problems


def from_editor(settings: Settings, options: Any) -> tuple[Settings, list[str]]:
    """Apply the editor's initializationOptions (a mapping, possibly under a "smartco" key)."""
    if options is None:
        return settings, []
    if not isinstance(options, Mapping):
        return settings, [f"editor: initializationOptions must be an object, not {type(options).__name__}"]
    inner = options.get("smartco", options)
    if not isinstance(inner, Mapping):
        return settings, ["editor: initializationOptions.smartco must be an object"]
    return apply(settings, inner, "editor")
