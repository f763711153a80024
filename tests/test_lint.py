"""Lint: ruff over the library, the tests and the benchmarks, with the rules in pyproject.toml."""

import subprocess
import sys

from conftest import REPO


def test_ruff_reports_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "cdq", "tests", "benchmarks"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-1000:]
