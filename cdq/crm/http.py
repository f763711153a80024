"""HTTP plumbing shared by the remote CRM adapters: JSON calls, retries, bounded concurrency.

:class:`HttpClient` keeps one persistent connection per thread (stdlib ``http.client``, no extra
dependency), retries 5xx, 429 and timeouts with exponential backoff (honouring ``Retry-After``), and
runs many calls at once with :meth:`HttpClient.map` on a thread pool of ``concurrency`` workers.
Nothing it logs contains the token, a request body or a response body: only method, path without
query, status and timings (query strings can carry e-mail addresses).

Examples:
    >>> backoff(0, 0.5), backoff(3, 0.5), backoff(10, 0.5)
    (0.5, 4.0, 30.0)
    >>> retry_after({"Retry-After": "2"}, 9.0)
    2.0
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from cdq.errors import CdqError

logger = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT = 30.0


class CrmHttpError(CdqError):
    """A CRM call failed for good (after retries), or answered in a way the adapter cannot use."""

    def __init__(self, message: str, status: int | None = None, body=None):
        super().__init__(message)
        self.status, self.body = status, body


@dataclass
class Response:
    """Status, headers and decoded body (JSON when it parses, else text)."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def backoff(attempt: int, base: float) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): base · 2^attempt, at most 30 s."""
    return min(base * 2**attempt, MAX_WAIT)


def retry_after(headers: dict[str, str], default: float) -> float:
    """The server's ``Retry-After`` in seconds when given as a number, else ``default``."""
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return min(max(float(value), 0.0), MAX_WAIT) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Retry:
    """What one call retries: which statuses, whether timeouts and dropped connections too, how many attempts
    and how long to wait (``wait(response, attempt, backoff_seconds)``; default: ``Retry-After`` or backoff).

    The retry loop is written once, in :meth:`HttpClient.request`; an adapter with its own rules (a SOAP fault is
    HTTP 500 and must not be retried; a rate limit that names its reset time) passes its own ``Retry``.
    """

    statuses: frozenset[int] = RETRY_STATUS
    errors: bool = True
    attempts: int | None = None
    wait: Callable[[Response, int, float], float] | None = None


NO_RETRY = Retry(statuses=frozenset(), errors=False, attempts=1)


def sdk_retry(statuses: Iterable[int], backoff_base: float, attempts: int = 5):
    """The retry policy of the hand-written client for the maintained CRM SDKs (urllib3 under requests and under
    HubSpot's client): ``statuses`` waited out honouring ``Retry-After``, else backed off from ``backoff_base``;
    a refused connection retried, a call whose answer was lost not (it may have been applied). The last answer
    is returned, not raised, so the adapter reports the CRM's own reason.
    """
    from urllib3.util.retry import Retry as Urllib3Retry

    return Urllib3Retry(total=attempts - 1, connect=2, read=0, status=attempts - 1, other=0,
                        status_forcelist=frozenset(statuses), allowed_methods=None, backoff_factor=backoff_base,
                        backoff_max=MAX_WAIT, respect_retry_after_header=True, raise_on_status=False)


class HttpClient:
    """JSON over HTTP(S) to one base URL with auth headers, retries and a bounded thread pool."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, *, concurrency: int = 8,
                 retries: int = 4, backoff_base: float = 0.5, timeout: float = 30.0):
        parts = urlsplit(base_url)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname or "127.0.0.1", parts.port
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.concurrency, self.retries, self.backoff_base, self.timeout = concurrency, retries, backoff_base, timeout
        self._local = threading.local()
        self.calls = 0

    def __repr__(self) -> str:  # never shows the headers (they hold the token)
        return f"HttpClient({self.scheme}://{self.host}:{self.port}{self.prefix})"

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = cls(self.host, self.port, timeout=self.timeout)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Response:
        conn = self._conn()
        conn.request(method, self.prefix + path, body=body, headers=headers)
        raw = conn.getresponse()
        data = raw.read()
        text = data.decode("utf-8", "replace")
        try:
            decoded = json.loads(text) if text.strip() else None
        except ValueError:
            decoded = text
        if raw.getheader("Connection", "").lower() == "close":
            self._drop()
        return Response(raw.status, dict(raw.getheaders()), decoded)

    def request(self, method: str, path: str, *, json_body=None, params: dict | None = None,
                data: bytes | None = None, content_type: str | None = None, retry: bool | Retry = True,
                extra_headers: dict[str, str] | None = None) -> Response:
        """One call; 5xx/429/timeouts are retried (``retry``: False for none, or a :class:`Retry`), other answers
        returned as they are."""
        policy = retry if isinstance(retry, Retry) else Retry() if retry else NO_RETRY
        last = (policy.attempts or self.retries + 1) - 1
        body = json.dumps(json_body).encode() if json_body is not None else data
        headers = {**self.headers, **(extra_headers or {})}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        full = path + ("?" + urlencode(params) if params else "")
        for attempt in range(last + 1):
            self.calls += 1
            try:
                response = self._once(method, full, body, headers)
            except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException, OSError) as e:
                self._drop()
                if not policy.errors or attempt == last:
                    raise CrmHttpError(f"{method} {path}: {type(e).__name__} after {attempt + 1} attempt(s)") from e
                wait = backoff(attempt, self.backoff_base)
                logger.info("%s %s: %s, retry in %.1f s", method, path, type(e).__name__, wait)
            else:
                if response.status not in policy.statuses or attempt == last:
                    return response
                default = backoff(attempt, self.backoff_base)
                wait = policy.wait(response, attempt, default) if policy.wait else retry_after(response.headers, default)
                logger.info("%s %s: HTTP %d, retry in %.1f s", method, path, response.status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def map(self, fn: Callable, items: Iterable) -> list:
        """``[fn(item) for item in items]`` on at most ``concurrency`` threads, results in input order."""
        items = list(items)
        if self.concurrency <= 1 or len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            return list(pool.map(fn, items))


def error_text(response: Response) -> str:
    """The CRM's own reason from an error body, flattened to one line (field: message; ...).

    Examples:
        >>> error_text(Response(400, {}, {"error": True, "errors": {"email": ["Contact already exists"]}}))
        'email: Contact already exists'
        >>> error_text(Response(404, {}, {"detail": "Not found."}))
        'Not found.'
    """
    body = response.body
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, dict):
            return "; ".join(f"{k}: {' '.join(map(str, v if isinstance(v, list) else [v]))}"
                             for k, v in errors.items())
        for key in ("detail", "message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return body[key]
        if isinstance(body.get("error"), dict):
            return str(body["error"].get("message", body["error"]))
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return "; ".join(str(b.get("message", b)) for b in body)
    return f"HTTP {response.status}"
