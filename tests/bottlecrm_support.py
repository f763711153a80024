"""Bring-up of the local BottleCRM for the e2e tests (used by tests/test_crm_bottlecrm*.py).

``bottlecrm_server`` (session): the running BottleCRM from ``scripts/bottlecrm/up.sh`` (started here when
it is not running, and stopped again at the end if this session started it; under CI the CI script
starts it in the background and the up script's lock makes this wait for it). ``bottlecrm_org``: a fresh
BottleCRM organisation with its own token per test (row-level security isolates orgs completely).
Under ``CI=true`` a BottleCRM that cannot be brought up fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import IN_CI, REPO, need

BCRM_DIR = Path(os.environ.get("BCRM_DIR", "/tmp/cdq-bottlecrm"))
SCRIPTS = REPO / "scripts" / "bottlecrm"


def creds() -> dict[str, str]:
    path = BCRM_DIR / "creds.env"
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def healthy() -> bool:
    url = creds().get("BCRM_URL")
    try:
        return bool(url) and urllib.request.urlopen(f"{url}/healthz/", timeout=5).status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def bottlecrm_server():
    started = False
    if not healthy():
        allowed = IN_CI or os.environ.get("CDQ_START_BOTTLECRM", "1") == "1"
        need(allowed and (SCRIPTS / "up.sh").exists() and os.geteuid() == 0, "BottleCRM (scripts/bottlecrm/up.sh)")
        try:
            proc = subprocess.run(["bash", str(SCRIPTS / "up.sh")], capture_output=True, text=True, timeout=1500)
        except subprocess.TimeoutExpired:
            proc = None
        started = proc is not None and proc.returncode == 0
        need(started and healthy(), f"BottleCRM (up.sh failed: {proc and proc.stdout[-2000:]})")
    yield creds()["BCRM_URL"]
    if started and not IN_CI:
        subprocess.run(["bash", str(SCRIPTS / "down.sh")], capture_output=True, timeout=120)


@pytest.fixture()
def bottlecrm_org(bottlecrm_server, monkeypatch):
    """(base URL, token) of a new organisation; CDQ_CRM_TOKEN is set to its token."""
    name = f"cdq-test-{uuid.uuid4().hex[:10]}"
    proc = subprocess.run(["bash", "-c", f'. "{BCRM_DIR}/env.sh" && cd "{BCRM_DIR}/run" && '
                           f'python "{SCRIPTS}/bootstrap.py" {name}@example.com {name}'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    token = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)["PAT"]
    monkeypatch.setenv("CDQ_CRM_TOKEN", token)
    return bottlecrm_server, token
