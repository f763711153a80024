"""Shared test fixtures (plain helpers and constants live in tests/helpers.py).

``shared_data`` points at ``../shared/data`` (labelled benchmarks, Dutch name lists, real files).
``pg_url`` is the PostgreSQL server at 127.0.0.1:5432 (database ``test``). A test that needs either
fails under ``CI=true`` when it is missing (CI must have it) and is skipped elsewhere (a user's fresh
machine has neither).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import FIXTURES, IN_CI, REPO, SHARED_DATA, need  # noqa: F401  (test modules written before helpers.py import them from here)


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A golden store URL, once on SQLite and once on PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'golden.db'}"
    return request.getfixturevalue("pg_url")


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


@dataclass(frozen=True)
class DemoRun:
    """Two ``cdq demo`` runs on one work directory: ``first`` started in ``home`` without ``--workdir`` (so
    into ``home/cdq-demo``), ``second`` with ``--workdir`` on it (a nightly run that should change nothing).
    ``first_store`` and ``first_quarantine`` are copies of ``golden.sqlite`` and ``quarantine.csv`` as the first
    run left them (``first_quarantine`` is None when it wrote none)."""

    home: Path
    workdir: Path
    first: object  # click.testing.Result
    second: object
    first_store: Path
    first_quarantine: Path | None


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The whole pipeline on the bundled fixtures, run once per session for every test that needs its outputs
    (test_demo, test_demo_truth, the service and web tests' demo store): a demo run is the suite's most
    expensive step, and each of them only reads what it left."""
    from typer.testing import CliRunner

    from cdq.cli.main import app

    home = tmp_path_factory.mktemp("demo_home")
    cwd = os.getcwd()
    os.chdir(home)  # from another directory than the repository, with the default work directory
    try:
        first = CliRunner().invoke(app, ["demo"])
    finally:
        os.chdir(cwd)
    workdir = home / "cdq-demo"
    assert first.exit_code == 0, first.output
    first_store = home / "golden_after_first_run.sqlite"
    shutil.copy(workdir / "golden.sqlite", first_store)
    first_quarantine = None
    if (workdir / "quarantine.csv").exists():
        first_quarantine = Path(shutil.copy(workdir / "quarantine.csv", home / "quarantine_after_first_run.csv"))
    second = CliRunner().invoke(app, ["demo", "--workdir", str(workdir)])
    return DemoRun(home, workdir, first, second, first_store, first_quarantine)


# BottleCRM (the e2e CRM target). Local runs use a running instance (BCRM_DIR points at it; the lead's
# shared one: BCRM_DIR=/tmp/cdq-bottlecrm) and start one only when asked (CDQ_START_BOTTLECRM=1): bringing
# it up installs packages and a PostgreSQL cluster as root. Under CI the CI script starts it.
BCRM_DIR = Path(os.environ.get("BCRM_DIR", "/var/lib/cdq-bottlecrm"))
BCRM_SCRIPTS = REPO / "scripts" / "bottlecrm"


def bottlecrm_creds() -> dict[str, str]:
    path = BCRM_DIR / "creds.env"
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def bottlecrm_healthy() -> bool:
    url = bottlecrm_creds().get("BCRM_URL")
    try:
        return bool(url) and urllib.request.urlopen(f"{url}/healthz/", timeout=5).status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def bottlecrm_server():
    started = False
    if not bottlecrm_healthy():
        allowed = IN_CI or os.environ.get("CDQ_START_BOTTLECRM") == "1"
        need(allowed and (BCRM_SCRIPTS / "up.sh").exists() and os.geteuid() == 0,
             f"BottleCRM at {BCRM_DIR} (set BCRM_DIR to a running one, or CDQ_START_BOTTLECRM=1 to start it)")
        try:
            proc = subprocess.run(["bash", str(BCRM_SCRIPTS / "up.sh")], capture_output=True, text=True, timeout=1500,
                                  env={**os.environ, "BCRM_DIR": str(BCRM_DIR)})
        except subprocess.TimeoutExpired:
            proc = None
        started = proc is not None and proc.returncode == 0
        need(started and bottlecrm_healthy(), f"BottleCRM (up.sh failed: {proc and proc.stdout[-2000:]})")
    yield bottlecrm_creds()["BCRM_URL"]
    if started and not IN_CI:
        subprocess.run(["bash", str(BCRM_SCRIPTS / "down.sh")], capture_output=True, timeout=120,
                       env={**os.environ, "BCRM_DIR": str(BCRM_DIR)})


@pytest.fixture()
def bottlecrm_org(bottlecrm_server, monkeypatch):
    """(base URL, token) of a new organisation; CDQ_CRM_TOKEN is set to its token."""
    name = f"cdq-test-{uuid.uuid4().hex[:10]}"
    proc = subprocess.run(["bash", "-c", f'. "{BCRM_DIR}/env.sh" && cd "{BCRM_DIR}/run" && '
                           f'python "{BCRM_SCRIPTS}/bootstrap.py" {name}@example.com {name}'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    token = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)["PAT"]
    monkeypatch.setenv("CDQ_CRM_TOKEN", token)
    return bottlecrm_server, token


@pytest.fixture(scope="session")
def demo_store(demo_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``golden.sqlite`` of one ``cdq demo`` run (the bundled fixtures through the whole pipeline): a copy of the
    session's demo run that only the service and web tests use."""
    target = tmp_path_factory.mktemp("demo_store") / "golden.sqlite"
    shutil.copy(demo_run.first_store, target)
    return target


@pytest.fixture()
def store_copy(demo_store: Path, tmp_path: Path) -> str:
    """A private copy of the demo store; its URL."""
    target = tmp_path / "golden.sqlite"
    shutil.copy(demo_store, target)
    return f"sqlite:///{target}"


@pytest.fixture()
def wide_console(monkeypatch):
    """The CLI's console 250 columns wide for one test, so a table shows whole ids. (``env={"COLUMNS": ...}`` on
    the runner is not enough: rich reads COLUMNS once, when the console is made, so the width a test gets would
    depend on which test first imported the CLI, and on which pytest-xdist worker.)"""
    from rich.console import Console

    from cdq.cli import report

    monkeypatch.setattr(report, "console", Console(width=250))


#: the test modules that read the session's ``cdq demo`` run (``demo_run``, ``demo_store``, ``store_copy``). A new
#: one left out of this list is still right, only slower: its worker makes the demo run again.
DEMO_MODULES = frozenset({"test_demo.py", "test_demo_truth.py", "test_service.py", "test_service_concurrency.py",
                          "test_service_browser.py", "test_web.py", "test_web_browser.py"})


#: the Spark engine's tests (one JVM for the module): few tests, so alone they would be handed out last and the
#: JVM's start would be the run's tail; with the demo modules they start first, on the same worker
FIRST_MODULES = DEMO_MODULES | {"test_spark_engine.py"}


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile`` (pyproject's addopts), with the modules of ``FIRST_MODULES`` as one unit: one worker
    runs them all, so the demo run (the suite's most expensive fixture) is made once, not once per worker. xdist
    hands out the units with the most tests first, so this one starts at once and the other worker takes the
    rest file by file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False  # the order is pytest_collection_modifyitems' (below)

    class DemoOnce(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "demo run and Spark" if module.rsplit("/", 1)[-1] in FIRST_MODULES else module

    return DemoOnce(config, log)


#: few tests but long ones (mypy over cdq/, ~40 s with a cold cache as in a fresh checkout): handed out second,
#: beside the demo unit, instead of last among the small files, where it was the run's tail
EARLY_MODULES = frozenset({"test_lint.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The order in which xdist hands out the files: the demo and Spark unit, then the long few-test files, then
    the rest with the most tests first (xdist's own order otherwise). Within a file the order is kept."""
    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]

    counts: dict[str, int] = {}
    for item in items:
        counts[module(item)] = counts.get(module(item), 0) + 1
    first = sum(counts.get(m, 0) for m in FIRST_MODULES)

    def rank(item: pytest.Item) -> tuple[int, int, str]:
        name = module(item)
        if name in FIRST_MODULES:
            return 0, -first, ""
        return (1 if name in EARLY_MODULES else 2), -counts[name], item.nodeid.split("::", 1)[0]

    items.sort(key=rank)
