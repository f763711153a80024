"""``cdq serve``: the real-time service over the golden store (see :func:`create_app`).

Library first: every endpoint calls a library function batch code can call too (``cdq.address.lookup``,
``cdq.leads.validate_record``, ``cdq.leads.index.match_one``, ``cdq.leads.intake``).
"""

from __future__ import annotations

from typing import Any

from cdq.service.app import create_app
from cdq.service.settings import ServiceSettings, load_settings

__all__ = ["ServiceSettings", "create_app", "load_settings", "serve"]


def serve(settings: ServiceSettings) -> None:
    """Run the app on uvicorn until SIGINT/SIGTERM; requests in flight finish first (graceful shutdown).

    uvicorn's access log is off: it would log query strings (postcodes, house numbers). The app logs one
    line per request with the route template, status, time and key id instead.
    """
    import logging

    import uvicorn

    from cdq import log

    log.enable(logging.WARNING)  # the library's per-stage INFO lines would be one per request
    logging.getLogger("cdq.service").setLevel(logging.INFO)  # one line per request, no personal data
    options: dict[str, Any] = {"access_log": False, "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
               "log_level": "info", "server_header": False}
    if settings.workers > 1:
        from cdq.service import workers

        raise SystemExit(workers.run(create_app(settings), settings.host, settings.port, settings.workers, options))
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **options)
