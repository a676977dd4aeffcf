"""The collector's typed settings, built once at start-up from defaults < SMARTCO_* env < CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "SMARTCO_"
_LIST_FIELDS = {"bots"}  # comma-separated in the environment


class CollectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None  # None: an SQLite file in data_dir
    data_dir: Path = Path("smartco-data")
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)  # after gzip decompression too
    max_batch: int = Field(default=5000, ge=1)
    max_page: int = Field(default=100_000, ge=1)
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    pseudonym_salt: str = "smartco"  # the team's salt for engineer pseudonyms: set the same one everywhere
    bots: tuple[str, ...] = ()  # extra bot logins for GitHub webhooks (logins ending in [bot] always are)
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"  # NORMAL in WAL survives a killed process
    ingest_writer: bool = True  # SQLite file: one writer process stores every batch (collector_api.writer)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'collector.db').resolve()}"

    @classmethod
    def from_sources(cls, env: Mapping[str, str] | None = None, **flags: Any) -> CollectorSettings:
        """Defaults < SMARTCO_<FIELD> environment variables < flags given (None means not given)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
                if name in _LIST_FIELDS:
                    values[name] = tuple(part.strip() for part in env[key].split(",") if part.strip())
        values.update({k: v for k, v in flags.items() if v is not None})
        return cls.model_validate(values)
