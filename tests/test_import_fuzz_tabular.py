"""Hypothesis: whatever bytes or CSV-ish text a delimited file holds, the reader raises only InputError,
keeps every cell text, and its accounting holds (rows in = rows read + rows quarantined)."""

from __future__ import annotations

import atexit
import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cdq.errors import InputError
from cdq.importers.delimited import read_delimited
from cdq.importers.excel import read_excel

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cell = st.text(alphabet=st.sampled_from(list("abcXYZ019 ;,\t|\"'\r\n@éë€") + ["\x00", "\ufeff"]), max_size=12)
csvish = st.lists(st.lists(cell, min_size=0, max_size=6), min_size=0, max_size=12)


def _check(path: Path, quarantine_codes=frozenset({"ROW_TOO_MANY_FIELDS", "ROW_UNBALANCED_QUOTE"})) -> None:
    try:
        tables = read_delimited(path)
    except InputError as e:
        assert str(e) and "\n" not in e.problem
        return
    [table] = tables
    assert table.rows_in == len(table.frame) + len(table.quarantine)
    assert len(table.rows) == len(table.frame)
    assert table.rows == sorted(table.rows) and len(set(table.rows)) == len(table.rows)
    assert table.frame.columns.is_unique
    assert all(v is None or isinstance(v, str) for v in table.frame.to_numpy().ravel())
    if len(table.quarantine):
        assert set(table.quarantine["reason_code"]) <= quarantine_codes
        assert not set(table.quarantine["source_row"]) & set(table.rows)


def _check_forced(path: Path, sep: str, encoding: str) -> None:
    try:
        [table] = read_delimited(path, delimiter=sep, encoding=encoding)
    except InputError:
        return
    assert "ROW_UNBALANCED_QUOTE" not in set(table.quarantine["reason_code"])
    assert table.rows_in == len(table.frame) + len(table.quarantine)


_FOLDER = Path(tempfile.mkdtemp(prefix="cdq_fuzz_"))
atexit.register(shutil.rmtree, _FOLDER, True)  # hypothesis does not let examples share a function's tmp_path


def _write(data: bytes, suffix: str = ".csv") -> Path:
    """One reused file per suffix: hypothesis runs examples one after another."""
    path = _FOLDER / f"in{suffix}"
    path.write_bytes(data)
    return path


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data):
    _check(_write(data))


@FUZZ
@given(
    csvish,
    st.sampled_from([";", ",", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.sampled_from(["\r\n", "\n"]),
)
def test_csvish_text_never_crashes_and_accounts(rows, sep, encoding, newline):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=newline).writerows(rows)
    data = buffer.getvalue().encode(encoding, errors="replace")
    path = _write(data)
    _check(path)
    # well-formed CSV read with its own delimiter never has a stray quote
    _check_forced(path, sep, encoding)


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_unicode_text_never_crashes(text):
    _check(_write(text.encode("utf-8")))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b""]))
@example(b"\t\x00", b"")  # the first two bytes of an old Excel BIFF record and nothing after them (IndexError once)
def test_random_workbook_bytes_raise_only_input_error(data, magic):
    try:
        read_excel(_write(magic + data, ".xlsx"))
    except InputError as e:
        assert str(e)
