"""Parquet files (``.parquet``, ``.pq``): data-platform exports, ``cdq synth --out x.parquet``, Spark output.

Every column becomes text, as a person would type it: integers without a decimal point, floats in their shortest
form (``3.0`` → ``3``), booleans as ``true``/``false``, dates as ``YYYY-MM-DD`` and timestamps as
``YYYY-MM-DD HH:MM:SS`` (fractions of a second dropped; as a date where every value of the column is at midnight: a birth date stored as a
timestamp), lists joined with ``;`` and nested structs flattened into dotted headers (``adres.postcode`` →
``postcode`` where that leaf name is unique, as the JSON adapter does). Row numbers are the 1-based record numbers.
A file that is not Parquet, or a text column that is not valid UTF-8, is an :class:`~cdq.errors.InputError`
naming the file (and the column).

Examples:
    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "klanten.parquet"
    >>> pq.write_table(pa.table({"klantnummer": [17, 18], "naam": ["J. de Vries", None],
    ...                          "adres": [{"postcode": "1234AB"}, {"postcode": None}]}), f)
    >>> [table] = read_parquet(f)
    >>> table.frame.to_dict("records"), table.rows
    ([{'klantnummer': '17', 'naam': 'J. de Vries', 'postcode': '1234AB'}, \
{'klantnummer': '18', 'naam': None, 'postcode': None}], [1, 2])
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdq.errors import InputError
from cdq.importers.base import RawTable
from cdq.importers.json_records import _leaf_names, _text

__all__ = ["read_parquet"]


def read_parquet(path: str | Path, **_: object) -> list[RawTable]:
    """Read a Parquet file into one raw table (every value as text, headers as stored)."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as e:
        raise InputError(path, f"cannot read as Parquet ({e})", hint="check that the file is a complete Parquet file") from e
    table = _flattened(table)
    columns = {name: _as_text(column, path, name) for name, column in zip(table.column_names, table.columns)}
    frame = pd.DataFrame(columns, dtype=object) if columns else pd.DataFrame(index=range(table.num_rows))
    frame = frame.rename(columns=_leaf_names(list(frame.columns)))
    return [RawTable(frame, list(range(1, table.num_rows + 1)), str(path))]


def _flattened(table: pa.Table) -> pa.Table:
    """Struct columns as dotted columns, nested structs too (``Table.flatten`` opens one level per call)."""
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    return table


def _as_text(column: pa.ChunkedArray, path: Path, name: str) -> list[str | None]:
    """One column as Python text cells (``None`` for null)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_null(kind):
        return [None] * len(column)
    if pa.types.is_boolean(kind):
        return [None if v is None else ("true" if v else "false") for v in column.to_pylist()]
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [_text(v) for v in column.to_pylist()]
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        try:
            return [None if v is None else v.decode("utf-8") for v in column.to_pylist()]
        except UnicodeDecodeError as e:
            raise InputError(path, f"column {name!r} holds binary data, not UTF-8 text ({e.reason})") from e
    if pa.types.is_timestamp(kind):
        column = _midnight_as_date(column)
        if pa.types.is_timestamp(column.type):  # to whole seconds first: %S would print a ms/us column's fraction
            seconds = pc.cast(column, pa.timestamp("s", kind.tz), safe=False)
            column = pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    try:
        return pc.cast(column, pa.string()).to_pylist()
    except pa.ArrowException as e:
        raise InputError(path, f"column {name!r} of type {kind} cannot be read as text ({e})") from e


def _midnight_as_date(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A timestamp column whose every value is at midnight holds dates (a birth date exported as a timestamp)."""
    if column.null_count == len(column):
        return column
    as_date = pc.cast(column, pa.date32())
    back = pc.cast(pc.cast(as_date, pa.timestamp("s")), column.type) if column.type.tz is None else None
    if back is not None and pc.all(pc.equal(back, column)).as_py():
        return as_date
    return column
