"""JSON exports: a JSON array of records (``.json``) or one record a line (JSON Lines: ``.jsonl``, ``.ndjson``).

Web shops, form tools and CRM APIs export customers this way. Each record is one row; a nested object is
flattened into dotted headers (``{"adres": {"postcode": ..}}`` → ``adres.postcode``, or just ``postcode`` when
no other header ends in that name, so the header synonyms apply), a list of values joined with ``;``. A ``.json`` file may also wrap its array in one object (``{"contacts": [...]}``). A JSON Lines row
that does not parse, or is not an object, is quarantined (``RECORD_UNPARSEABLE``); the others are read.
A ``.json`` file that does not parse at all is an :class:`~cdq.errors.InputError`.

Examples:
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "klanten.jsonl"
    >>> _ = f.write_text('{"naam": "J. de Vries", "adres": {"postcode": "1234AB"}, "tel": ["010-1234567"]}\\n'
    ...                  '{not json}\\n', encoding="utf-8")
    >>> [table] = read_json_records(f)
    >>> table.frame.to_dict("records"), table.rows
    ([{'naam': 'J. de Vries', 'postcode': '1234AB', 'tel': '010-1234567'}], [1])
    >>> table.quarantine[["source_row", "reason_code"]].values.tolist()
    [[2, 'RECORD_UNPARSEABLE']]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from cdq.errors import InputError
from cdq.importers._contact import quarantine_row
from cdq.importers.base import RawTable

__all__ = ["read_json_records"]


def read_json_records(path: str | Path, **_: object) -> list[RawTable]:
    """Read a ``.json`` array or a JSON Lines file into one raw table (every value as text)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read as UTF-8 JSON ({e})") from e
    records, quarantine = (_json_lines(text, str(path)) if path.suffix.lower() in (".jsonl", ".ndjson")
                           else (_json_array(text, path), []))
    rows = [number for number, _ in records]
    frame = pd.DataFrame([_flat(record) for _, record in records], dtype=object)
    frame = frame.astype(object).where(frame.notna(), None).rename(columns=_leaf_names(list(frame.columns)))
    if quarantine:
        return [RawTable(frame, rows, str(path), quarantine=pd.DataFrame(quarantine))]
    return [RawTable(frame, rows, str(path))]


def _json_array(text: str, path: Path) -> list[tuple[int, dict]]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise InputError(path, f"not valid JSON ({e})", hint="export the records as a JSON array or JSON Lines") from e
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        data = next(iter(data.values()))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(path, "the JSON is not an array of records (objects)",
                         hint="export the records as a JSON array of objects, or one object a line (.jsonl)")
    return list(enumerate(data, start=1))


def _json_lines(text: str, source: str) -> tuple[list[tuple[int, dict]], list[dict]]:
    records: list[tuple[int, dict]] = []
    quarantine: list[dict] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            quarantine.append(quarantine_row(source, number, "RECORD_UNPARSEABLE", f"not valid JSON ({e})"))
            continue
        if not isinstance(record, dict):
            quarantine.append(quarantine_row(source, number, "RECORD_UNPARSEABLE", "the line is not an object"))
            continue
        records.append((number, record))
    return records, quarantine


def _flat(record: dict, prefix: str = "") -> dict[str, str | None]:
    """Nested objects as dotted keys; lists joined with ';'; every value as text (None stays None)."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        else:
            out[name] = _text(value)
    return out


def _leaf_names(columns: list[str]) -> dict[str, str]:
    """``adres.postcode`` → ``postcode`` where no other column ends in that name, so the header synonyms apply;
    ``adres.plaats`` and ``bezoek.plaats`` keep their dotted names."""
    leaves = [c.rsplit(".", 1)[-1] for c in columns]
    return {c: leaf for c, leaf in zip(columns, leaves) if c != leaf and leaves.count(leaf) == 1}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ";".join(t for t in (_text(v) for v in value) if t) or None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
