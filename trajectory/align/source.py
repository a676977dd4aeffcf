"""Event sources: an events JSONL file, a collector's read API, or the collector's database, as raw JSON lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from trajectory.align import SourceError

if TYPE_CHECKING:
    import httpx
    import sqlalchemy as sa

log = logging.getLogger(__name__)

PAGE_SIZE = 5000
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


class EventSource(Protocol):
    def lines(self) -> Iterator[bytes]:
        """The events as JSON lines (`event_to_dict` form), in the source's order."""
        ...

    def describe(self) -> str:
        """What was read, for the manifest (never a token or a password)."""
        ...


@dataclass(frozen=True)
class FileSource:
    path: Path

    def lines(self) -> Iterator[bytes]:
        try:
            handle = self.path.open("rb")
        except OSError as err:
            raise SourceError(f"cannot read events file {self.path}: {err.strerror}") from None
        with handle:
            for line in handle:
                if line.strip():
                    yield line.rstrip(b"\r\n")

    def describe(self) -> str:
        return f"file:{self.path.name}"


@dataclass(frozen=True)
class CollectorSource:
    """Pages of `GET /v1/events?after=POS&limit=N` (NDJSON), following `X-Next-After` until it stops moving."""

    url: str
    token: str
    page_size: int = PAGE_SIZE
    timeout_s: float = 60.0

    def lines(self) -> Iterator[bytes]:
        import httpx

        after = 0
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/x-ndjson"}
        with httpx.Client(base_url=self.url.rstrip("/"), headers=headers, timeout=self.timeout_s) as client:
            while True:
                response = self._get(client, after)
                body = response.content
                for line in body.split(b"\n"):
                    if line.strip():
                        yield line
                next_after = response.headers.get("X-Next-After")
                if not body.strip() or next_after is None or int(next_after) <= after:
                    return
                after = int(next_after)

    def _get(self, client: httpx.Client, after: int) -> httpx.Response:
        import httpx

        try:
            response = client.get("/v1/events", params={"after": after, "limit": self.page_size})
        except httpx.HTTPError as err:
            raise SourceError(f"collector at {self.describe()} is not reachable: {type(err).__name__}") from None
        if response.status_code in (401, 403):
            raise SourceError(f"collector refused the token (HTTP {response.status_code}); it needs the read scope")
        if response.status_code != 200:
            raise SourceError(f"collector answered HTTP {response.status_code} to GET /v1/events")
        return response

    def describe(self) -> str:
        """The URL without credentials, query or fragment."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class DatabaseSource:
    """`SELECT body FROM events ORDER BY pos` on the collector's database, streamed."""

    url: str
    batch: int = PAGE_SIZE

    def lines(self) -> Iterator[bytes]:
        import sqlalchemy as sa

        try:
            url = sa.make_url(self.url)
            engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as err:
            raise SourceError(f"bad database URL {self.describe()}: {err}") from None
        if _missing_sqlite_file(url):  # connecting would create an empty database
            raise SourceError(f"database file {url.database} does not exist")
        try:
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=self.batch)
                for (body,) in result.execute(sa.text("SELECT body FROM events ORDER BY pos")):
                    yield body.encode() if isinstance(body, str) else bytes(body)
        except sa.exc.SQLAlchemyError as err:
            reason = str(getattr(err, "orig", None) or type(err).__name__).splitlines()[0]
            raise SourceError(f"cannot read events from {self.describe()}: {reason}") from None
        finally:
            engine.dispose()

    def describe(self) -> str:
        import sqlalchemy as sa

        try:
            return sa.make_url(self.url).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return "database"


def _missing_sqlite_file(url: sa.URL) -> bool:
    return (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(str(url.database)).is_file()
    )


def open_source(spec: str, token: str | None = None) -> EventSource:
    """A source from `--from`: an http(s) collector URL, a database URL, or a path to an events JSONL file."""
    scheme = spec.split("://", 1)[0].split("+", 1)[0].lower() if "://" in spec else ""
    if scheme in ("http", "https"):
        if not token:
            raise SourceError("a collector URL needs a read token (--token or SMARTCO_TOKEN)")
        return CollectorSource(spec, token)
    if scheme in DATABASE_SCHEMES:
        return DatabaseSource(spec)
    if scheme:
        raise SourceError(f"unsupported source scheme {scheme!r}: use http(s)://, a database URL, or a file")
    path = Path(spec)
    if not path.is_file():
        raise SourceError(f"events file {spec} does not exist")
    return FileSource(path)
