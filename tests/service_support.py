"""A real ``cdq serve`` for tests: uvicorn on a free loopback port in a thread, and a small HTTP client.

``demo_store`` (session): a golden store filled by ``cdq demo`` once; ``store_copy`` gives each test its own
copy. ``running(settings)``: the app on uvicorn (real sockets, real HTTP), stopped again after the test.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn

from cdq.service import create_app, load_settings
from cdq.service.apikeys import create_key
from cdq.store import GoldenStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """JSON over HTTP/1.1 to the test server (one connection per call: threads may share a client)."""

    def __init__(self, port: int, key: str | None = None):
        self.port, self.key = port, key

    def call(self, method: str, path: str, body: Any = None, *, key: str | None = "default",
             headers: dict[str, str] | None = None, params: dict | None = None,
             raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = dict(headers or {})
        token = self.key if key == "default" else key
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path + ("?" + urlencode(params) if params else ""), body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            payload: Any = json.loads(text)
        except json.JSONDecodeError:
            payload = text
        return r.status, payload, {k.lower(): v for k, v in r.getheaders()}


class Running:
    """A started server: ``port``, ``client`` (with a key holding every scope), ``state``, ``store``."""

    def __init__(self, server: uvicorn.Server, port: int, app: Any, key: str):
        self.server, self.port, self.app, self.key = server, port, app, key
        self.state = app.state.cdq
        self.store: GoldenStore = self.state.store
        self.client = Client(port, key)
        self.url = f"http://127.0.0.1:{port}"


@contextmanager
def running(**settings: Any) -> Iterator[Running]:
    """Serve ``create_app(load_settings(**settings))`` on a free port until the block ends."""
    port = free_port()
    settings.setdefault("refresh_seconds", 3600)  # tests call state.tick() themselves
    app = create_app(load_settings(environ={}, port=port, **settings))
    key = create_key(app.state.cdq.store, "tests", ["read", "match", "leads"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield Running(server, port, app, key)
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture(scope="session")
def demo_store(demo_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``golden.sqlite`` of one ``cdq demo`` run (the bundled fixtures through the whole pipeline): a copy of the
    session's demo run (``demo_run`` in conftest.py) that only these tests use."""
    target = tmp_path_factory.mktemp("demo_store") / "golden.sqlite"
    shutil.copy(demo_run.first_store, target)
    return target


@pytest.fixture()
def store_copy(demo_store: Path, tmp_path: Path) -> str:
    """A private copy of the demo store; its URL."""
    target = tmp_path / "golden.sqlite"
    shutil.copy(demo_store, target)
    return f"sqlite:///{target}"
