"""Local fakes of SaaS CRM APIs (documented endpoints, status codes and error bodies) for the adapter tests."""

from __future__ import annotations

import os
import ssl
import threading
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@cache
def _authority():
    import trustme

    return trustme.CA()


class LocalFake:
    """An HTTP server on 127.0.0.1 (a free port) that hands every request to :meth:`respond`.

    Subclasses set ``methods`` (the HTTP verbs the real API takes) and implement
    ``respond(method, path, headers, raw) -> (status, body bytes, response headers)``; use it as a
    context manager (``with FakeX(token) as fake: ... fake.url``).
    """

    methods: tuple[str, ...] = ("POST",)
    #: Serve HTTPS with a certificate of a test authority, for clients that speak HTTPS only (simple-salesforce).
    #: While the fake runs, ``REQUESTS_CA_BUNDLE`` names that authority, so ``requests`` trusts it and no
    #: verification is switched off.
    tls = False

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
        scheme = "http"
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            _authority().issue_cert("127.0.0.1").configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        raise NotImplementedError

    def __enter__(self):
        if self.tls:
            self._bundle = os.environ.get("REQUESTS_CA_BUNDLE")
            self._ca_file = _authority().cert_pem.tempfile()
            os.environ["REQUESTS_CA_BUNDLE"] = self._ca_file.__enter__()
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        if self.tls:
            if self._bundle is None:
                os.environ.pop("REQUESTS_CA_BUNDLE", None)
            else:
                os.environ["REQUESTS_CA_BUNDLE"] = self._bundle
            self._ca_file.__exit__(None, None, None)
