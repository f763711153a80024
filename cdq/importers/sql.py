"""SQL import: one table or query from any SQLAlchemy database, every cell as text.

The URL may carry the table or query itself (``sqlite:///crm.db?table=klanten``,
``postgresql://u@h/db?query=SELECT ...``); those parameters are removed before the engine is created,
other URL parameters (``options=-csearch_path=...``) stay. Column headers are the database's column
names and go through the ordinary header mapping.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

import pandas as pd

from cdq.errors import InputError, UsageError
from cdq.headers import numbered_duplicates
from cdq.importers.base import RawTable

logger = logging.getLogger(__name__)

_OWN_PARAMS = ("table", "query")


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """``(engine url, table, query)``: the cdq parameters taken out of the URL's query string.

    Examples:
        >>> split_url("sqlite:///db.sqlite?table=klanten")
        ('sqlite:///db.sqlite', 'klanten', None)
        >>> split_url("postgresql://u@h/db?options=-csearch_path%3Dx&query=SELECT+1")
        ('postgresql://u@h/db?options=-csearch_path%3Dx', None, 'SELECT 1')
    """
    base, _, query_string = url.partition("?")
    params = parse_qsl(query_string, keep_blank_values=True)
    own = {k: v for k, v in params if k in _OWN_PARAMS}
    rest = urlencode([(k, v) for k, v in params if k not in _OWN_PARAMS])
    return (f"{base}?{rest}" if rest else base), own.get("table"), own.get("query")


def read_sql(url: str, *, table: str | None = None, query: str | None = None, **_) -> list[RawTable]:
    """Read a table or query into a raw table of text cells; ``rows`` are 1-based row ordinals.

    Args:
        url: an SQLAlchemy URL, optionally with ``?table=`` or ``?query=``.
        table: table name (wins over the URL's).
        query: a SELECT statement (wins over the URL's).
    """
    import sqlalchemy as sa

    engine_url, url_table, url_query = split_url(str(url))
    table, query = table or url_table, query or url_query
    if not table and not query:
        raise UsageError(f"{_safe(engine_url)}: say what to read, e.g. ?table=klanten or ?query=SELECT ...")
    if query:
        check_select(query, _safe(engine_url))
    _check_sqlite_file(engine_url)
    try:
        engine = sa.create_engine(engine_url)
    except Exception as e:  # noqa: BLE001 - bad URLs and missing drivers raise many kinds
        raise InputError(_safe(engine_url), f"cannot use this database URL ({type(e).__name__}: {e})") from e
    try:
        with engine.connect() as conn:
            frame = _read(conn, sa, table, query, engine_url)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001
        raise InputError(_safe(engine_url), f"cannot read from the database ({type(e).__name__})",
                         hint=str(e).splitlines()[0][:200]) from e
    finally:
        engine.dispose()
    logger.info("%s: %d rows, %d columns", table or "query", len(frame), len(frame.columns))
    return [RawTable(frame=_as_text(frame), rows=list(range(1, len(frame) + 1)), source_file=_safe(engine_url),
                     table=table or "query", notes={"columns": len(frame.columns)})]


def _check_sqlite_file(url: str) -> None:
    """An SQLite URL must name an existing file: connecting would create an empty database there.

    Examples:
        >>> _check_sqlite_file("sqlite://")  # in memory
        >>> _check_sqlite_file("sqlite:////nonexistent/x.sqlite")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        cdq.errors.InputError: sqlite:////nonexistent/x.sqlite: database file not found ...
    """
    from pathlib import Path

    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except Exception:  # noqa: BLE001 - create_engine reports a bad URL with its own message
        return
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:") or parsed.query.get("uri"):
        return  # SQLite URI filenames (mode=memory, mode=ro) decide for themselves
    if not Path(database).is_file():
        raise InputError(_safe(url), f"database file not found ({database})",
                         hint="check the path; sqlite:////absolute/path.db has four slashes")


_READING = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*(select|with|values|table)\b", re.I | re.S)


def check_select(query: str, url: str = "query") -> None:
    """Only a single reading statement may be imported: ``SELECT`` / ``WITH`` / ``VALUES`` / ``TABLE``.

    The database enforces it too (:func:`_read_only`); this check gives the clear message.

    Examples:
        >>> check_select("SELECT * FROM klanten")
        >>> check_select("DROP TABLE victim")
        Traceback (most recent call last):
        cdq.errors.UsageError: query: only a SELECT query can be imported (the database is opened read-only)
        >>> check_select("SELECT 1; DROP TABLE victim")
        Traceback (most recent call last):
        cdq.errors.UsageError: query: only one statement can be imported (no ';' between statements)
    """
    if not _READING.match(query):
        raise UsageError(f"{url}: only a SELECT query can be imported (the database is opened read-only)")
    if ";" in query.strip().rstrip(";"):
        raise UsageError(f"{url}: only one statement can be imported (no ';' between statements)")


def _read_only(conn, sa) -> None:
    """Make the connection's transaction read-only in the database itself, whatever the query says."""
    name = conn.dialect.name
    if name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")
    elif name in ("postgresql", "mysql", "mariadb"):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif name == "mssql":
        pass  # no per-transaction switch; the SELECT-only check above still applies


def _read(conn, sa, table: str | None, query: str | None, url: str) -> pd.DataFrame:
    _read_only(conn, sa)
    if query:
        result = conn.execute(sa.text(query))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    names = sa.inspect(conn).get_table_names() + sa.inspect(conn).get_view_names()
    if table not in names:
        raise InputError(_safe(url), f"no table {table!r}; tables: {', '.join(sorted(names)) or '(none)'}",
                         hint="pass ?table=NAME with one of these, or ?query=SELECT ...")
    result = conn.execute(sa.select(sa.table(table, *[sa.column(c["name"]) for c in
                                                      sa.inspect(conn).get_columns(table)])))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as ``str`` or None; bytes decoded, numbers without a spurious ``.0``."""
    def text(value):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    # a query may return two columns of the same name; the second becomes ``name_2``
    headers = numbered_duplicates([str(c) for c in frame.columns], "{name}_{n}")
    columns = [[text(v) for v in frame.iloc[:, i].tolist()] for i in range(frame.shape[1])]
    return pd.DataFrame(dict(zip(headers, columns)), columns=headers, dtype="object")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        import sqlalchemy as sa

        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return url.split("?")[0]
