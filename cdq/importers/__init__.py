"""Import adapters: one module per input kind, all returning :class:`~cdq.importers.base.RawTable` s.

:func:`read_input` picks the adapter from the path (extension first, then the file's first bytes), so
``cdq import`` takes any mix of files. Adapters load lazily: reading a CSV never imports the mail stack.
"""

from __future__ import annotations

from pathlib import Path

from cdq.errors import InputError
from cdq.importers.base import RawTable
from cdq.registry import Registry, load_lazy

__all__ = ["RawTable", "read_input", "detect_kind", "KINDS"]

#: kind -> ``"module:function"`` of its adapter, ``f(path, **options) -> list[RawTable]``; the module is imported
#: only when a file of its kind is read (reading a CSV never imports the mail stack).
KINDS: Registry[str] = Registry("input kind")
KINDS.add("delimited", "cdq.importers.delimited:read_delimited")
KINDS.add("excel", "cdq.importers.excel:read_excel")
KINDS.add("vcard", "cdq.importers.vcard:read_vcard")
KINDS.add("mailbox", "cdq.importers.mailbox:read_mailbox")
KINDS.add("sql", "cdq.importers.sql:read_sql")
KINDS.add("json", "cdq.importers.json_records:read_json_records")
KINDS.add("parquet", "cdq.importers.parquet:read_parquet")

_EXTENSIONS = {
    ".csv": "delimited", ".txt": "delimited", ".tsv": "delimited", ".tab": "delimited",
    ".xlsx": "excel", ".xlsm": "excel", ".xlsb": "excel", ".xls": "excel", ".ods": "excel",
    ".vcf": "vcard", ".vcard": "vcard",
    ".mbox": "mailbox", ".mbx": "mailbox", ".eml": "mailbox", ".msg": "mailbox",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
    ".parquet": "parquet", ".pq": "parquet",
}
_SQL_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+", "mariadb", "mssql", "oracle")


def detect_kind(path: str | Path) -> str:
    """The adapter kind for an input: by extension, else by sniffing the first bytes.

    Examples:
        >>> detect_kind("klanten.CSV")
        'delimited'
        >>> detect_kind("sqlite:///crm.db?table=klanten")
        'sql'
    """
    text = str(path)
    if text.startswith(_SQL_SCHEMES):
        return "sql"
    p = Path(text)
    if p.is_dir():
        return "mailbox"
    kind = _EXTENSIONS.get(p.suffix.lower())
    if kind:
        return kind
    return _sniff(p)


def _sniff(path: Path) -> str:
    try:
        head = path.open("rb").read(4096)
    except OSError as e:
        raise InputError(path, f"cannot open the file ({e.strerror})") from e
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    if head[:2] in (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08") and head[3:4] == b"\x00":
        return "excel"  # a pre-OLE Excel 2.1-4.0 worksheet
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t")
    if stripped[:11].upper().replace(b"\x00", b"").startswith(b"BEGIN:VCARD"):
        return "vcard"
    if stripped.startswith(b"From ") or b"\nReceived:" in head[:2048] or head.startswith(b"Return-Path:"):
        return "mailbox"
    return "delimited"


def read_input(path: str | Path, kind: str | None = None, **options) -> list[RawTable]:
    """Read one input with the right adapter. Raises InputError (exit code 2) if it cannot be read."""
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise InputError(path, f"unknown input kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind != "sql" and not Path(str(path)).exists():
        raise InputError(path, "file not found", hint="check the path")
    reader = load_lazy(KINDS[kind])
    return reader(path, **options)
