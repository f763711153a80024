"""Local fakes of SaaS CRM APIs (documented endpoints, status codes and error bodies) for the adapter tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalFake:
    """An HTTP server on 127.0.0.1 (a free port) that hands every request to :meth:`respond`.

    Subclasses set ``methods`` (the HTTP verbs the real API takes) and implement
    ``respond(method, path, headers, raw) -> (status, body bytes, response headers)``; use it as a
    context manager (``with FakeX(token) as fake: ... fake.url``).
    """

    methods: tuple[str, ...] = ("POST",)

    def start_server(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, data, headers = fake.respond(self.command, self.path, dict(self.headers), raw)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        for method in self.methods:
            setattr(Handler, f"do_{method}", Handler._serve)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        raise NotImplementedError

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
