"""The wheel carries everything it needs: build it, install it non-editable into a fresh venv, run it.

Slow (a fresh venv installs every dependency): excluded from the default run, run by ``.ci/run``'s second step.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.slow

SMALL_PIPELINE = """\
name: small
inputs:
  - path: "{fixtures}/backoffice_export.csv"
  - path: "{fixtures}/contacts.vcf"
reference: "{reference_data}/demo_bag.csv"
stages: [normalize, address, names, linkage, golden, load]
"""


def _run(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built the way a release is: sdist first, then the wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], cwd=out)
    (built,) = out.glob("cdq-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (not editable); returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    constraints = REPO / ".ci" / "constraints.txt"
    _run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(constraints), str(wheel)], cwd=venv, timeout=1500)
    return venv / "bin"


def test_wheel_carries_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("rules", "reference_data", "pipelines", "fixtures"):
        expected = {f"cdq/data/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts}
        assert expected and expected <= names, sorted(expected - names)[:5]


def test_version_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    proc = _run([str(installed / "python"), "-c", "import cdq; print(cdq.__version__, cdq.__file__)"], cwd=tmp_path)
    version, location = proc.stdout.split()
    assert version == _source_version()
    assert "site-packages" in location and not location.startswith(str(REPO))


def test_demo_in_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    proc = _run([str(installed / "cdq"), "demo"], cwd=tmp_path)
    created = re.findall(r"^loaded: (\d+) created, 0 updated, 0 merged, 0 unchanged$", proc.stdout, re.M)
    assert created and int(created[-1]) > 100, proc.stdout[-2000:]
    assert (tmp_path / "cdq-demo" / "crm.sqlite").is_file()


def test_a_small_pipeline(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL_PIPELINE, encoding="utf-8")
    proc = _run([str(installed / "cdq"), "run", "small.yaml", "--workdir", "out"], cwd=tmp_path)
    assert re.search(r"^loaded: [1-9]\d* created, 0 updated, 0 merged, 0 unchanged$", proc.stdout, re.M), proc.stdout
    assert (tmp_path / "out" / "golden.sqlite").is_file()


def test_the_library_reads_bundled_rules(installed: Path, tmp_path: Path) -> None:
    code = ("from cdq.resources import resource; import cdq; p = resource('rules', 'matching.yaml'); "
            "print(p, p.is_file()); print(cdq.clean_files([resource('fixtures', 'contacts.vcf')]).summary_line())")
    proc = _run([str(installed / "python"), "-c", code], cwd=tmp_path)
    assert "/site-packages/cdq/data/rules/matching.yaml True" in proc.stdout
    assert re.search(r"cleaned: [1-9]\d* rows", proc.stdout)


def _source_version() -> str:
    return re.search(r'^__version__ = "(.+)"$', (REPO / "cdq" / "__init__.py").read_text(), re.M).group(1)
