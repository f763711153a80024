"""Shared test fixtures.

``shared_data`` points at ``../shared/data`` (labelled benchmarks, Dutch name lists, real files).
``pg_url`` is the PostgreSQL server at 127.0.0.1:5432 (database ``test``). A test that needs either
fails under ``CI=true`` when it is missing (CI must have it) and is skipped elsewhere (a user's fresh
machine has neither).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, what: str) -> None:
    """Fail under CI, skip elsewhere, when a required external resource is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is missing")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    need(SHARED_DATA.is_dir(), f"../shared/data ({SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_files(shared_data: Path) -> Path:
    return shared_data / "real_files"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("CDQ_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as e:  # noqa: BLE001
        need(False, f"PostgreSQL at {url} ({type(e).__name__})")
    return url


@pytest.fixture()
def pg_url(pg_server_url: str):
    """A fresh schema on the PostgreSQL server for one test, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"cdq_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(pg_server_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    yield f"{pg_server_url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    engine.dispose()


@pytest.fixture()
def fixtures_dir() -> Path:
    return FIXTURES
