"""Lint: ruff over the library, the tests and the benchmarks; mypy over the library (rules in pyproject.toml)."""

import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers import REPO


def test_ruff_reports_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "cdq", "tests", "benchmarks"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-1000:]


def test_mypy_reports_nothing():
    """mypy over cdq/ (settings in pyproject.toml) finds no error: a new one fails here, with mypy's lines."""
    checkout = hashlib.sha1(str(REPO).encode()).hexdigest()[:10]
    cache = Path(tempfile.gettempdir()) / f"cdq-mypy-cache-{checkout}"  # per checkout: reruns take seconds
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)], cwd=REPO, capture_output=True,
                          text=True)
    errors = re.findall(r"^cdq/[^:]+:\d+: error:.*$", done.stdout, re.M)
    assert done.returncode == 0 and not errors, "\n".join(errors[:60]) or done.stdout[-2000:] + done.stderr[-2000:]
