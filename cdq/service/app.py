"""The ASGI app: ``create_app(settings)`` (FastAPI), routers over library functions, shared auth and config.

Further pages (the steward console, the customer portal) are added as more routers on the same app
(``app.include_router``), using :func:`cdq.service.auth.require` and ``app.state.cdq`` like these.

Cross-cutting here: request size limit (413), CORS allow-list, one log line per request with the route
template (never the query string or body: they hold postcodes, names and e-mails), an audit row for
every error, 422 answers that name the bad field (and never echo its value), and no traceback ever in
an answer.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cdq.errors import CdqError
from cdq.service.settings import ServiceSettings
from cdq.service.state import ServiceState

logger = logging.getLogger("cdq.service")
VERSION = "1"


class BodyLimit:
    """413 for a body larger than ``limit`` bytes, by Content-Length or while it streams in."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(send, self.limit)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class AccessLog:
    """One log line per request: method, route template, status, time and key id (never the query string or
    body). A plain ASGI middleware: ``@app.middleware("http")`` costs a task and a stream per request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            key = (scope.get("state") or {}).get("key")
            logger.info("%s %s %d %.1f ms key=%s", scope.get("method"), route, status,
                        (time.perf_counter() - started) * 1000, key.key_id if key else "-")


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    response = JSONResponse({"error": "request_too_large", "detail": f"the body may be at most {limit} bytes"},
                            status_code=413)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def _audit_error(request: Request, status: int, detail: str | None) -> None:
    from cdq.leads import audit

    state: ServiceState = request.app.state.cdq
    key = getattr(request.state, "key", None)
    try:
        with state.store.begin() as conn:
            audit(conn, "error", key_id=key.key_id if key else None, status=status, path=_route(request),
                  detail=detail)
    except Exception as e:  # noqa: BLE001 - auditing must not turn an answer into a 500
        logger.error("audit failed: %s", type(e).__name__)


def _fields(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as ``{field, message}``; the offending value is never echoed."""
    out = []
    for err in errors:
        if err.get("type") == "json_invalid":  # loc holds a character position, not a field
            out.append({"field": "body", "message": f"not valid JSON ({err.get('ctx', {}).get('error', 'invalid')})"})
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "header")]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    return out


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _fields(list(exc.errors()))
        _audit_error(request, 422, ",".join(f["field"] for f in fields)[:500])
        return JSONResponse({"error": "invalid_request", "fields": fields}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        _audit_error(request, exc.status_code, str(exc.detail)[:200])
        headers = getattr(exc, "headers", None)
        return JSONResponse({"error": _ERRORS.get(exc.status_code, "error"), "detail": exc.detail},
                            status_code=exc.status_code, headers=headers)

    @app.exception_handler(CdqError)
    async def _cdq(request: Request, exc: CdqError) -> JSONResponse:
        _audit_error(request, 400, type(exc).__name__)
        return JSONResponse({"error": "bad_request", "detail": exc.message}, status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        # the exception's message may quote data: log its type and where it happened, not its text
        where = "".join(traceback.format_tb(exc.__traceback__, limit=-3)).replace("\n", " | ")
        logger.error("request %s failed: %s at %s", request_id, type(exc).__name__, where)
        _audit_error(request, 500, f"{type(exc).__name__} request {request_id}")
        return JSONResponse({"error": "internal_error", "request_id": request_id}, status_code=500)


_ERRORS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
           409: "conflict", 413: "request_too_large", 429: "rate_limited", 503: "unavailable"}


def create_app(settings: ServiceSettings, *, state: ServiceState | None = None) -> FastAPI:
    """The service app for ``settings`` (opens the store and reference now; the index is built at startup).

    Examples:
        >>> from cdq.service.settings import load_settings
        >>> app = create_app(load_settings(environ={}, store="sqlite://"))
        >>> sorted(app.openapi()["paths"])[:4]
        ['/health', '/reconcile', '/reconcile/preview', '/v1/address']
    """
    from cdq.service.routers import address, health, leads, pages, reconcile, records

    service = state or ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield
        service.stop()  # after uvicorn has let the requests in flight finish (graceful shutdown)

    app = FastAPI(title="cdq", version=VERSION, lifespan=lifespan,
                  description="Data quality at the point of entry: address completion, validation, duplicate "
                              "prevention, web leads and OpenRefine reconciliation over the golden store.")
    app.state.cdq = service
    for router in (health.router, address.router, records.router, leads.router, reconcile.router, pages.router):
        app.include_router(router)
    from cdq.web import mount

    mount(app)  # the steward console and the customer portal (issue 22) on the same app
    static = resources.files("cdq.service") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _install_handlers(app)

    app.add_middleware(AccessLog)
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type", "Idempotency-Key"], max_age=600)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
