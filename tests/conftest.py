"""Shared fixtures: database URLs (SQLite always, PostgreSQL when SMARTCO_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ENV = "SMARTCO_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "SMARTCO_REQUIRE_POSTGRES"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def postgres_url_or_skip() -> str:
    """The PostgreSQL URL for tests; skip with a reason locally, fail where CI requires PostgreSQL."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    reason = f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
    if os.environ.get(REQUIRE_POSTGRES_ENV):
        pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test (dropped afterwards), as a SQLAlchemy URL."""
    base = postgres_url_or_skip()
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as err:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"PostgreSQL at {base} is not reachable: {err}")
        pytest.skip(f"PostgreSQL at {base} is not reachable")
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'collector.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'collector.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA
