"""Hypothesis: random bytes and random vCard-shaped text never crash the vCard and mailbox readers.

Anything a reader cannot handle must be an InputError, and the accounting must hold:
rows_in = rows staged by the adapter + rows it quarantined.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdq.errors import InputError
from cdq.importers.mailbox import read_mailbox
from cdq.importers.vcard import read_vcard

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["N", "FN", "EMAIL", "TEL", "ADR", "ORG", "BDAY", "PHOTO", "LABEL", "item1.EMAIL",
                         "X-ABLabel", "NOTE", "UID", "REV", "n", "tel", "BEGIN", "END", "AGENT", "VERSION"])
PARAMS = st.lists(st.sampled_from([
    "CELL", "PREF", "TYPE=work,voice", 'TYPE="a,b:c"', "ENCODING=QUOTED-PRINTABLE", "ENCODING=b",
    "CHARSET=shift_jis", "CHARSET=x-bogus", "CHARSET=iso-8859-2", "PREF=x", "PREF=2", "BASE64", "=", ";",
]), max_size=3)
VALUES = st.one_of(st.text(max_size=40), st.sampled_from(["=E4=", "VCARD", "tel:+31;ext=1", "\\", "a;b;c;d;e;f;g;h",
                                                           "=C3=", "\\n\\,\\;", "=\r\n="]))
LINES = st.builds(lambda n, p, v: f"{n}{''.join(';' + x for x in p)}:{v}", NAMES, PARAMS, VALUES)
FOLDS = st.sampled_from(["\r\n", "\n", "\r\n ", "\n\t", "\r", "=\r\n"])


_DIR = Path(tempfile.mkdtemp(prefix="cdq-fuzz-"))  # one folder, each example overwrites its file
atexit.register(shutil.rmtree, _DIR, True)  # hypothesis does not let examples share a function's tmp_path


def _tmp(suffix: str, data: bytes) -> Path:
    path = _DIR / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


def _check(reader, path: Path) -> None:
    try:
        tables = reader(path)
    except InputError:
        return
    for table in tables:
        assert table.rows_in == len(table.frame) + len(table.quarantine)
        assert len(table.rows) == len(table.frame)
        assert table.frame.columns.is_unique
        assert all(v is None or isinstance(v, str) for v in table.frame.to_numpy().ravel())


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_vcard(data):
    _check(read_vcard, _tmp(".vcf", data))


@FUZZ
@given(st.lists(st.tuples(LINES, FOLDS), max_size=12), st.integers(0, 3), st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_random_vcard_shaped_text(lines, cards, encoding):
    body = "".join(line + sep for line, sep in lines)
    text = ("BEGIN:VCARD\r\nVERSION:2.1\r\n" + body + "END:VCARD\r\n") * max(cards, 1)
    _check(read_vcard, _tmp(".vcf", text.encode(encoding, "replace")))


@FUZZ
@given(st.binary(max_size=600), st.sampled_from([".mbox", ".eml", ".msg"]))
def test_random_bytes_mailbox(data, suffix):
    _check(read_mailbox, _tmp(suffix, data))


@FUZZ
@given(st.lists(st.sampled_from([
    "From a@b.nl Mon Jan  1 00:00:00 2024", "From -", "From: \"x, y\" <a@b.nl>", "To: =?utf-8?q?=C3=A9?= <c@d.nl>",
    "Cc: ;;,,<>", "Reply-To: no-reply@x.nl", "Date: garbage", "Date: Mon, 1 Jan 2024 10:00:00 +0100",
    "List-Unsubscribe: <x>", "", "From Russia with love", "To: =?bogus?B?////?= <e@f.nl>",
]), max_size=20))
def test_random_mbox_shaped_text(lines):
    _check(read_mailbox, _tmp(".mbox", "\n".join(lines).encode()))
