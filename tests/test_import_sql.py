"""SQL import against SQLite (a temporary file) and PostgreSQL (the ``pg_url`` fixture)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cdq.errors import InputError, UsageError
from cdq.importers import read_input
from cdq.importers.sql import read_sql
from cdq.staging import import_inputs

ROWS = [
    {"klantnummer": 1001, "voornaam": "Jan", "achternaam": "de Vries", "postcode": "1012 AB", "saldo": 12.5},
    {"klantnummer": 1002, "voornaam": "Anna", "achternaam": "Bakker", "postcode": None, "saldo": 3.0},
]


def _fill(url: str) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table("klanten", meta, sa.Column("klantnummer", sa.Integer), sa.Column("voornaam", sa.String),
                     sa.Column("achternaam", sa.String), sa.Column("postcode", sa.String),
                     sa.Column("saldo", sa.Float))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), ROWS)
    engine.dispose()


@pytest.fixture()
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    _fill(url)
    return url


def _check_table(tables):
    (table,) = tables
    assert table.table == "klanten"
    assert table.rows == [1, 2]
    assert table.frame.to_dict("records") == [
        {"klantnummer": "1001", "voornaam": "Jan", "achternaam": "de Vries", "postcode": "1012 AB", "saldo": "12.5"},
        {"klantnummer": "1002", "voornaam": "Anna", "achternaam": "Bakker", "postcode": None, "saldo": "3"},
    ]


def test_sqlite_table_in_url(sqlite_url):
    _check_table(read_input(sqlite_url + "?table=klanten"))


def test_sqlite_table_keyword(sqlite_url):
    _check_table(read_sql(sqlite_url, table="klanten"))


def test_sqlite_query_in_url(sqlite_url):
    (table,) = read_sql(sqlite_url + "?query=SELECT voornaam, voornaam FROM klanten ORDER BY klantnummer DESC")
    assert table.frame.columns.tolist() == ["voornaam", "voornaam_2"]
    assert table.frame["voornaam"].tolist() == ["Anna", "Jan"]


def test_unknown_table_names_the_tables(sqlite_url):
    with pytest.raises(InputError, match=r"no table 'clients'; tables: klanten"):
        read_sql(sqlite_url + "?table=clients")


@pytest.mark.parametrize("url, error, match", [
    ("sqlite:///{tmp}/crm.sqlite", UsageError, "say what to read"),
    ("sqlite:///{tmp}/crm.sqlite?query=SELECT nonsense FROM nowhere", InputError, "cannot read from the database"),
    ("nosuchdb://x/y?table=t", InputError, "cannot use this database URL"),
])
def test_bad_requests(sqlite_url, tmp_path, url, error, match):
    with pytest.raises(error, match=match):
        read_sql(url.format(tmp=tmp_path))


@pytest.mark.parametrize("name", ["nofile.sqlite", "missing/dir/x.db"])
def test_missing_sqlite_file_is_not_created(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(InputError, match="database file not found"):
        read_sql(f"sqlite:///{path}?table=x")
    assert not path.exists()


def test_cli_missing_sqlite_file_exits_2(tmp_path):
    from cdq.cli.main import app

    path = tmp_path / "nofile.sqlite"
    result = CliRunner().invoke(app, ["import", f"sqlite:///{path}?table=x", "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "database file not found" in result.output
    assert "Traceback" not in result.output and not path.exists()


def test_sqlite_in_memory_is_not_a_missing_file():
    with pytest.raises(InputError, match=r"no table 'x'; tables: \(none\)"):
        read_sql("sqlite://?table=x")


def test_staging_maps_headers_and_source_key(sqlite_url):
    result = import_inputs([sqlite_url + "?table=klanten"])
    staged = result.staging
    assert staged["first_name"].tolist() == ["Jan", "Anna"]
    assert staged["source_key"].tolist() == ["1001", "1002"]
    assert result.accounting_line() == "2 rows in = 2 staged + 0 quarantined"


def test_cli_import_sql(sqlite_url, tmp_path):
    from cdq.cli.main import app

    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["import", sqlite_url + "?table=klanten", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 rows in = 2 staged + 0 quarantined" in result.output
    bad = CliRunner().invoke(app, ["import", sqlite_url + "?table=nope", "--out", str(out)])
    assert bad.exit_code == 2 and "tables: klanten" in bad.output


@pytest.mark.postgres
def test_postgres_table_and_query(pg_url):
    _fill(pg_url)
    _check_table(read_sql(pg_url + "&table=klanten"))
    (table,) = read_sql(pg_url, query="SELECT achternaam FROM klanten WHERE klantnummer = 1002")
    assert table.frame["achternaam"].tolist() == ["Bakker"]
    with pytest.raises(InputError, match="tables: klanten"):
        read_sql(pg_url, table="missing")
