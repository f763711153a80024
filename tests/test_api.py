"""The public Python API: ``import cdq`` is cheap, every exported name resolves, docs/api.md runs."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest
from helpers import REPO

import cdq


def test_import_cdq_loads_no_heavy_dependency() -> None:
    code = "import sys, cdq; print(cdq.__version__, sorted(m for m in ('pandas', 'numpy', 'sqlalchemy', " \
           "'great_expectations', 'typer') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split(maxsplit=1) == [cdq.__version__, "[]\n"]


def test_all_lists_every_export_once() -> None:
    assert sorted(cdq.__all__) == sorted({"__version__", *cdq._EXPORTS})
    assert len(cdq.__all__) == len(set(cdq.__all__))


@pytest.mark.parametrize("name", [n for n in cdq.__all__ if n != "__version__"])
def test_every_export_resolves_and_is_documented(name: str) -> None:
    value = getattr(cdq, name)
    assert value.__doc__, f"cdq.{name} has no docstring"
    assert f"`{name}`" in (REPO / "docs" / "api.md").read_text(encoding="utf-8"), f"docs/api.md misses {name}"


def test_stage_subpackages_are_attributes() -> None:
    assert cdq.linkage.dedupe is cdq.dedupe
    assert callable(cdq.normalize.normalize)
    with pytest.raises(AttributeError):
        _ = cdq.no_such_name


def test_docs_api_examples_run(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write files into the current directory
    failures, tried = doctest.testfile(str(REPO / "docs" / "api.md"), module_relative=False,
                                       optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert tried >= 10 and failures == 0
