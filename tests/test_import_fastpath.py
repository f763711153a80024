"""The plain-file fast path of the delimited reader gives exactly the records of the careful line-by-line path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cdq.importers import delimited
from cdq.importers.delimited import _parse_careful, _parse_plain, decode_bytes, detect_delimiter

REAL = Path("/work/shared/data/real_files")
BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _texts() -> list[tuple[str, str]]:
    files = sorted(p for p in REAL.rglob("*") if p.suffix.lower() in (".csv", ".tsv", ".txt")) if REAL.exists() else []
    out = []
    for path in files:
        text, _ = decode_bytes(path, path.read_bytes())
        out.append((path.name, text.lstrip("\ufeff")))
    return out


def _bench_text(tmp_path: Path) -> str:
    sys.path.insert(0, str(BENCH))
    import bench_import

    path = tmp_path / "bench.csv"
    bench_import.write_csv(path, 3000)
    return decode_bytes(path, path.read_bytes())[0]


def _check(name: str, text: str) -> bool:
    sep = detect_delimiter(text)
    plain = _parse_plain(text, sep)
    careful = _parse_careful(name, text, sep)
    if plain is None:
        return False
    assert careful == (plain, {}), name
    return True


def test_fast_path_equals_careful_path_on_real_files_and_bench_file(tmp_path):
    texts = _texts()
    if not texts:
        if os.environ.get("CI") == "true":
            pytest.fail("shared real_files missing under CI")
        pytest.skip("shared real_files not available")
    used = [_check(name, text) for name, text in texts] + [_check("bench", _bench_text(tmp_path))]
    assert used[-1], "the bench file is plain and must take the fast path"
    assert any(used[:-1])


def test_fast_path_declines_what_needs_the_careful_path():
    assert _parse_plain('a;b\n1;"x\ny"\n', ";") is None  # a quoted line break: a record over two lines
    assert _parse_plain('a;b\n1;"x\n2;y\n', ";") is None  # a stray quote
    assert _parse_plain("a;b\n" + ";" * delimited.MAX_FIELDS + "\n", ";") is None  # an oversized line
    assert _parse_plain('a;b\n1;"x;y"\n\n2;z\r\n', ";") == [["a", "b"], ["1", "x;y"], [], ["2", "z"]]
