"""The golden store's tables (SQLAlchemy Core) and its migrations, recorded in ``_cdq_migrations``.

Tables: ``runs``; ``counters`` (monotonic golden-id and change-sequence allocation); ``source_records``
(one row per source record, keyed by ``ref`` = ``source|source_key`` or ``source|file#row``, with a
content hash and the canonical values as JSON); ``xref`` (source record → golden id, match score, rule,
pinned by a steward); ``golden_records`` (current version, status ``active``/``retired``/``deleted``,
``merged_into``, values and lineage as JSON, ``seq`` = the change sequence the CRM load reads from);
``golden_versions`` (every version); ``events`` (merge, unmerge, split); ``overrides`` (steward values);
``erasures``, ``erasure_keys`` (tombstones of erased data subjects), ``store_settings``; ``golden_organisations``,
``golden_organisation_versions``, ``golden_organisation_members`` (the golden organisation above its locations and contacts).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa

from cdq.store.columns import ID

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

migrations = sa.Table(
    "_cdq_migrations", metadata,
    sa.Column("name", sa.String(100), primary_key=True), sa.Column("applied_at", sa.String(40)),
)
runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(40)), sa.Column("started_at", sa.String(40)),
    sa.Column("finished_at", sa.String(40)), sa.Column("status", sa.String(20)), sa.Column("counts", sa.Text),
)
counters = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.String(40), primary_key=True), sa.Column("value", sa.BigInteger, nullable=False),
)
source_records = sa.Table(
    "source_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(500), nullable=False, unique=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("content_hash", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("first_run", sa.Integer), sa.Column("last_run", sa.Integer),
    sa.Column("deleted_run", sa.Integer),
    # The store generation of the transaction that last wrote the row (see GoldenStore.generation): unlike
    # run ids (taken when a run starts) it grows in commit order, so "changed since generation g" is exact.
    sa.Column("generation", sa.BigInteger, index=True),
)
xref = sa.Table(
    "xref", metadata,
    sa.Column("source_record_id", sa.Integer, sa.ForeignKey("source_records.id"), primary_key=True),
    sa.Column("golden_id", ID, nullable=False, index=True),
    sa.Column("match_score", sa.Float), sa.Column("rule", sa.String(60)),
    sa.Column("pinned", sa.Boolean, nullable=False, default=False), sa.Column("run_id", sa.Integer),
)
golden_records = sa.Table(
    "golden_records", metadata,
    sa.Column("golden_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False), sa.Column("status", sa.String(10), nullable=False),
    sa.Column("merged_into", ID), sa.Column("data", sa.Text), sa.Column("lineage", sa.Text),
    sa.Column("data_hash", sa.String(40)), sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("created_run", sa.Integer), sa.Column("updated_run", sa.Integer),
)
golden_versions = sa.Table(
    "golden_versions", metadata,
    sa.Column("golden_id", ID, primary_key=True), sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(10)), sa.Column("merged_into", ID), sa.Column("data", sa.Text),
    sa.Column("lineage", sa.Text), sa.Column("run_id", sa.Integer),
)
events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer), sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("survivor_id", ID, index=True), sa.Column("retired_id", ID, index=True),
    sa.Column("detail", sa.Text), sa.Column("undone_by", sa.Integer), sa.Column("created_at", sa.String(40)),
)
overrides = sa.Table(
    "overrides", metadata,
    sa.Column("golden_id", ID, primary_key=True), sa.Column("column", sa.String(60), primary_key=True),
    sa.Column("value", sa.Text), sa.Column("set_by", sa.String(100), nullable=False),
    sa.Column("set_at", sa.String(40)),
)


#: The two-level model: a golden organisation above its golden records of its locations (branches) and
#: contacts. ``data``: the organisation's own values (name, legal form, KvK, VAT) survived from its members.
organisations = sa.Table(
    "golden_organisations", metadata,
    sa.Column("organisation_id", ID, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False), sa.Column("status", sa.String(10), nullable=False),
    sa.Column("merged_into", ID), sa.Column("data", sa.Text), sa.Column("lineage", sa.Text),
    sa.Column("data_hash", sa.String(40)), sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("created_run", sa.Integer), sa.Column("updated_run", sa.Integer),
)
organisation_versions = sa.Table(
    "golden_organisation_versions", metadata,
    sa.Column("organisation_id", ID, primary_key=True), sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("status", sa.String(10)), sa.Column("merged_into", ID), sa.Column("data", sa.Text),
    sa.Column("lineage", sa.Text), sa.Column("run_id", sa.Integer),
)
#: golden record (a location or a contact) → its organisation; a retired golden record keeps its row, so an
#: unmerge brings it back into its organisation.
organisation_members = sa.Table(
    "golden_organisation_members", metadata,
    sa.Column("golden_id", ID, primary_key=True), sa.Column("organisation_id", ID, nullable=False, index=True),
    sa.Column("run_id", sa.Integer),
)


#: One row per erased data subject (AVG art. 17): no personal data, only what proves the erasure happened.
erasures = sa.Table(
    "erasures", metadata,
    sa.Column("golden_id", ID, primary_key=True), sa.Column("erased_at", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text), sa.Column("erased_by", sa.String(100)), sa.Column("counts", sa.Text),
    sa.Column("lifted_at", sa.String(40)), sa.Column("lifted_by", sa.String(100)),
)
#: Keyed hashes of an erased subject's identifying keys: a later import of the same person is recognised.
erasure_keys = sa.Table(
    "erasure_keys", metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True), sa.Column("golden_id", ID, nullable=False, index=True),
)
#: Store-wide settings cdq generates itself (the erasure hash key when CDQ_ERASURE_KEY is not set).
store_settings = sa.Table(
    "store_settings", metadata,
    sa.Column("name", sa.String(60), primary_key=True), sa.Column("value", sa.Text, nullable=False),
)
#: Which process a run belongs to, so the next run can tell a killed run from a running one.
run_owners = sa.Table(
    "run_owners", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True), sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
)


def now() -> str:
    """UTC timestamp text (portable across SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _initial(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t is not migrations])
    conn.execute(counters.insert(), [{"name": "golden", "value": 0}, {"name": "seq", "value": 0}])


def _review_tables(conn: sa.Connection) -> None:
    from cdq.review.tables import migrate_review_tables

    migrate_review_tables(conn)


def _privacy(conn: sa.Connection) -> None:
    for table in (erasures, erasure_keys, store_settings):
        table.create(conn, checkfirst=True)


def _online_service(conn: sa.Connection) -> None:
    from cdq.store.online import create_online_tables

    create_online_tables(conn)


def _web_console(conn: sa.Connection) -> None:
    from cdq.store.web import create_web_tables

    create_web_tables(conn)


def _run_lock(conn: sa.Connection) -> None:
    """The write generation counter (see ``GoldenStore.generation``) and the runs' owning processes."""
    run_owners.create(conn, checkfirst=True)
    if conn.execute(sa.select(counters.c.name).where(counters.c.name == "generation")).first() is None:
        conn.execute(counters.insert().values(name="generation", value=0))


def _source_generation(conn: sa.Connection) -> None:
    """``source_records.generation`` (indexed), and the match index rebuilt from scratch once.

    The match index of ``cdq serve`` followed the store by run ids, which are taken when a run starts and
    so are not in commit order; it now follows this column. Its old state cannot tell which rows it saw,
    so it is emptied and rebuilt (at the service's next start, or the next lead).
    """
    from cdq.store.online import match_index_state, match_keys

    if "generation" not in {c["name"] for c in sa.inspect(conn).get_columns("source_records")}:
        conn.execute(sa.text("ALTER TABLE source_records ADD COLUMN generation BIGINT"))
    for index in source_records.indexes:
        if index.name == "ix_source_records_generation":
            index.create(conn, checkfirst=True)
    conn.execute(match_keys.delete())
    conn.execute(match_index_state.delete())


def _organisations(conn: sa.Connection) -> None:
    """The golden organisation above its locations (two-level model) and its id counter (``O0000001``)."""
    for table in (organisations, organisation_versions, organisation_members):
        table.create(conn, checkfirst=True)
    if conn.execute(sa.select(counters.c.name).where(counters.c.name == "organisation")).first() is None:
        conn.execute(counters.insert().values(name="organisation", value=0))


#: Applied in order, each once; a new schema change is a new entry (never edit an applied one).
MIGRATIONS: list[tuple[str, Callable[[sa.Connection], None]]] = [
    ("0001_initial", _initial),
    ("0002_privacy_erasures", _privacy),
    ("0003_review_notes_and_open_pairs", _review_tables),
    ("0004_online_service", _online_service),
    ("0005_web_console", _web_console),
    ("0006_run_lock", _run_lock),
    ("0007_source_generation", _source_generation),
    ("0008_organisations", _organisations),
]


def _pending(engine: sa.Engine) -> bool:
    """Whether any migration is not applied yet (read only: an up-to-date store takes no lock to open)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(migrations.name):
            return True
        done = set(conn.execute(sa.select(migrations.c.name)).scalars())
    return any(name not in done for name, _ in MIGRATIONS)


def migrate(engine: sa.Engine) -> list[str]:
    """Create the tables / apply pending migrations; return the names applied now.

    Under the store's writer lock (``BEGIN IMMEDIATE`` / an advisory lock), so two first runs on one
    empty store do not both create it: the second waits, then finds it done.
    """
    from cdq.store import lock

    if not _pending(engine):
        return []
    with lock.writer_connection(engine, wait=600) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            lock.acquire_pg(conn, lock.PG_MIGRATE_KEY, wait=600)
        migrations.create(conn, checkfirst=True)
        done = set(conn.execute(sa.select(migrations.c.name)).scalars())
        applied = []
        for name, step in MIGRATIONS:
            if name not in done:
                step(conn)
                conn.execute(migrations.insert().values(name=name, applied_at=now()))
                applied.append(name)
    if applied:
        logger.info("golden store: applied migrations %s", ", ".join(applied))
    return applied

