"""vCard import (2.1, 3.0 and 4.0 as real clients write them): one staging row per card.

A tolerant line parser of our own, because strict parsers (vobject) reject many real exports. It works on
bytes so each value can be decoded with its own charset: unfold (also folds inside a UTF-8 character,
QUOTED-PRINTABLE soft breaks, 2.1 backslash continuations), split ``group.NAME;params:value``, decode
QUOTED-PRINTABLE and CHARSET, then map properties to canonical columns (see :mod:`cdq.importers._contact`).
Photos, logos, sounds and keys are skipped. A card whose text cannot be parsed goes to the quarantine
(``VCARD_UNPARSEABLE``); a file without any ``BEGIN:VCARD`` is an :class:`~cdq.errors.InputError`.
"""

from __future__ import annotations

import codecs
import logging
import quopri
import re
from dataclasses import dataclass, field
from pathlib import Path

from cdq.errors import InputError
from cdq.importers._contact import contact_table, quarantine_row
from cdq.importers._vcard_map import record as _record
from cdq.importers.base import RawTable

logger = logging.getLogger(__name__)

_PROP = re.compile(rb"^[ \t]*((?:[A-Za-z0-9_-]+\.)?)([A-Za-z][A-Za-z0-9_-]*)(?=[;:])")
_QP_TEXT = re.compile(rb"=[0-9A-Fa-f]{2}")
_ENCODINGS = {"QUOTED-PRINTABLE", "QP", "BASE64", "B", "8BIT", "7BIT"}
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY", "X-MS-CARDPICTURE", "X-MS-OL-DESIGN", "AGENT"}
#: Encodings tried (in this order) for raw 8-bit values without a CHARSET that are not UTF-8.
#: The most properties one card may have; a card with more is quarantined (real cards have dozens).
MAX_PROPERTIES = 5_000
_FALLBACKS = ["cp1252", "iso8859_2", "shift_jis", "cp1253", "cp1251", "euc_jp"]


@dataclass
class Prop:
    """One property of a card, value still bytes until the file's fallback charset is known."""

    group: str
    name: str
    params: dict[str, list[str]]
    raw: bytearray
    text: str = ""

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(t for t in self.params.get("TYPE", []) if t and t != "pref")

    @property
    def pref(self) -> int | None:
        if "pref" in self.params.get("TYPE", []):
            return 1
        prefs = self.params.get("PREF")
        value = prefs[0] if prefs else None
        if value is None:
            return None
        return int(value) if value.isdigit() else 1

    @property
    def encoding(self) -> str:
        return (self.params.get("ENCODING") or [""])[0].upper()


@dataclass
class Card:
    """The properties of one ``BEGIN:VCARD`` ... ``END:VCARD`` block and its ordinal in the file."""

    ordinal: int
    props: list[Prop] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    bad_lines: int = 0
    too_many: bool = False


def read_vcard(path: str | Path, **_) -> list[RawTable]:
    """Read a .vcf file (any number of cards) into one raw table with canonical column names.

    Args:
        path: the vCard file.

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.vcf"
        >>> _ = f.write_bytes(b"BEGIN:VCARD\\r\\nVERSION:2.1\\r\\nN:Vries;Jan;de\\r\\nTEL;CELL:06-12345678\\r\\nEND:VCARD\\r\\n")
        >>> t = read_vcard(f)[0]
        >>> t.frame[["first_name", "infix", "last_name", "mobile"]].iloc[0].tolist()
        ['Jan', 'de', 'Vries', '06-12345678']
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(path, f"cannot read the file ({e.strerror})") from e
    cards, outside = _split_cards(_lines(_to_utf8_bytes(data)))
    if not cards:
        raise InputError(path, "no vCard found (no BEGIN:VCARD line)", hint="is this really a .vcf file?")
    fallback = _fallback_encoding(cards)
    records, rows, quarantine = [], [], []
    for card in cards:
        try:
            if not card.props:
                raise ValueError("no property line could be read")
            if card.too_many:
                raise ValueError(f"it has more than {MAX_PROPERTIES:,} properties (cdq's limit per card)")
            for prop in card.props:
                prop.text = _decode(prop, fallback)
            records.append(_record(card))
            rows.append(card.ordinal)
        except Exception as e:  # noqa: BLE001 - one bad card must not stop the file
            logger.warning("%s: card %d unparseable (%s)", path, card.ordinal, type(e).__name__)
            raw = b"\n".join(card.lines[:200]).decode("utf-8", "replace")
            quarantine.append(quarantine_row(str(path), card.ordinal, "VCARD_UNPARSEABLE",
                                             f"vCard {card.ordinal} cannot be parsed: {e}", raw))
    notes = {"cards": len(cards), "fallback_encoding": fallback,
             "lines_outside_cards": outside, "unreadable_lines": sum(c.bad_lines for c in cards)}
    logger.info("%s: %d cards, %d quarantined", path, len(cards), len(quarantine))
    return [contact_table(records, rows, str(path), quarantine=quarantine, rows_in=len(cards), notes=notes)]


def _to_utf8_bytes(data: bytes) -> bytes:
    """Strip a BOM and re-encode UTF-16 (with or without BOM) as UTF-8; 8-bit files stay as they are."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:]
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16", "replace").encode("utf-8")
    head = data[:200]
    if head and head.count(0) * 3 > len(head):
        codec = "utf-16-be" if head[0] == 0 else "utf-16-le"
        return data[: len(data) // 2 * 2].decode(codec, "replace").encode("utf-8")
    return data


def _lines(data: bytes) -> list[bytes]:
    """Logical lines: physical lines (a bare CR inside a value is kept unless the file uses CR alone as
    line end) with folded ones joined first (RFC 6350 3.2), so a fold anywhere -- even inside the
    parameter list, before the colon -- belongs to its own property.

    A line after a QUOTED-PRINTABLE soft break (ending in ``=``) is left to the card parser, which
    joins it without dropping its first character.

    Examples:
        >>> _lines(b"TEL;TYPE=VOICE,M\\r\\n\\tSG,WORK:+1-555\\r\\nEND:VCARD")
        [b'TEL;TYPE=VOICE,MSG,WORK:+1-555', b'END:VCARD']
    """
    if b"\n" not in data and b"\r" in data:
        physical = data.split(b"\r")
    else:
        physical = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    out: list[bytes] = []
    parts: list[bytes] = []
    for line in physical:
        if parts and line[:1] in (b" ", b"\t") and not parts[-1].endswith(b"="):
            parts.append(line[1:])
            continue
        if parts:
            out.append(b"".join(parts))
        parts = [line]
    if parts:
        out.append(b"".join(parts))
    return out


def _split_cards(lines: list[bytes]) -> tuple[list[Card], int]:
    """Group unfolded properties into cards; returns the cards and the count of lines outside any card."""
    cards: list[Card] = []
    card: Card | None = None
    depth, outside, ordinal = 0, 0, 0
    for line in lines:
        if card is not None:
            card.lines.append(line)
        if card is not None and card.props and _absorbed(card.props[-1], line):
            continue
        parsed = _parse_line(line)
        name = parsed[1].upper() if parsed else ""
        value = bytes(parsed[3]).strip().upper() if parsed else b""
        if name == "BEGIN" and value == b"VCARD":
            if card is not None and _nested(card):
                depth += 1
                continue
            ordinal += 1
            card = Card(ordinal, lines=[line])
            cards.append(card)
            depth = 0
        elif card is None:
            outside += bool(line.strip())
        elif name == "END" and value == b"VCARD":
            if depth:
                depth -= 1
            else:
                card = None
        elif depth:
            continue
        elif parsed:
            if len(card.props) >= MAX_PROPERTIES:
                card.too_many = True
                continue
            card.props.append(Prop(parsed[0], name, _params(parsed[2]), bytearray(parsed[3])))
        elif line.strip():
            card.bad_lines += 1
    return cards, outside


def _nested(card: Card) -> bool:
    """A BEGIN:VCARD right after an empty AGENT property is an embedded card (vCard 2.1), not a new one."""
    return bool(card.props) and card.props[-1].name == "AGENT" and not bytes(card.props[-1].raw).strip()


def _absorbed(prev: Prop, line: bytes) -> bool:
    """Append ``line`` to the previous property if it continues it; True when it did."""
    if prev.encoding in ("QUOTED-PRINTABLE", "QP") and prev.raw.endswith(b"="):
        del prev.raw[-1]
        prev.raw += line
        return True
    if line[:1] in (b" ", b"\t"):
        prev.raw += line[1:]
        return True
    if not line.strip() or _parse_line(line):
        return False
    if prev.raw.endswith(b"\\"):  # vCard 2.1 writers continue a value with a trailing backslash
        del prev.raw[-1]
    elif not (_is_binary(prev) or (prev.encoding in ("QUOTED-PRINTABLE", "QP") and _QP_TEXT.search(line))):
        return False
    prev.raw += b"\n" + line
    return True


def _parse_line(line: bytes) -> tuple[str, str, bytes, bytes] | None:
    """``(group, NAME, params, value)`` of a ``group.NAME;params:value`` line, or None."""
    m = _PROP.match(line)
    if not m:
        return None
    quoted = False
    for i in range(m.end(), len(line)):
        c = line[i]
        if c == 0x22:
            quoted = not quoted
        elif c == 0x3A and not quoted:
            group = m.group(1)[:-1].decode("ascii").lower()
            return group, m.group(2).decode("ascii"), line[m.end():i], line[i + 1:]
    return None


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes, in one pass (a long parameter list stays linear).

    Examples:
        >>> _split_outside_quotes('TYPE="work;voice";PREF=1', ";")
        ['TYPE="work;voice"', 'PREF=1']
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _params(raw: bytes) -> dict[str, list[str]]:
    """Parameters as ``{NAME: [values]}``; 2.1 bare parameters (``TEL;CELL;PREF``) become TYPE/ENCODING.

    Examples:
        >>> _params(b';CELL;VOICE;ENCODING=QUOTED-PRINTABLE;TYPE="work,voice"')
        {'TYPE': ['cell', 'voice', 'work', 'voice'], 'ENCODING': ['QUOTED-PRINTABLE']}
    """
    params: dict[str, list[str]] = {}
    for part in _split_outside_quotes(raw.decode("utf-8", "replace"), ";"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().strip('"').upper()
        if not sep:
            key, value = ("ENCODING" if key in _ENCODINGS else "TYPE"), key
        values = [v.strip().strip('"') for v in value.strip().strip('"').split(",")]
        values = [v for v in values if v]
        if key == "TYPE":
            values = [v.lower() for v in values]
        params.setdefault(key, []).extend(values)
    return params


def _is_binary(prop: Prop) -> bool:
    return prop.name in _BINARY or prop.encoding in ("BASE64", "B")


def _qp(prop: Prop) -> bytes:
    raw = bytes(prop.raw)
    return quopri.decodestring(raw) if prop.encoding in ("QUOTED-PRINTABLE", "QP") else raw


def _fallback_encoding(cards: list[Card]) -> str:
    """The charset for 8-bit values without CHARSET that are not UTF-8 (Outlook writes the ANSI code page)."""
    blobs = []
    for card in cards:
        for prop in card.props:
            if _is_binary(prop) or "CHARSET" in prop.params:
                continue
            raw = _qp(prop)
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                blobs.append(raw)
    return _guess(b"\n".join(blobs)) if blobs else "utf-8"


def _guess(blob: bytes) -> str:
    """Best legacy code page for ``blob``; windows-1252 unless another candidate reads it clearly better."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(blob, cp_isolation=_FALLBACKS).best()
    except Exception:  # noqa: BLE001 - guessing is best effort
        best = None
    return best.encoding if best is not None and best.encoding != "ascii" else "cp1252"


def _decode(prop: Prop, fallback: str) -> str:
    """The property's text: QUOTED-PRINTABLE undone, then its CHARSET, UTF-8, or the file's fallback."""
    if _is_binary(prop):
        return ""
    raw = _qp(prop)
    for charset in (*(prop.params.get("CHARSET") or [])[:1], "utf-8"):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode(fallback, "replace")
