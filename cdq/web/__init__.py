"""The steward console (``/steward/``) and the customer self-service portal (``/mijn-gegevens/``).

Server-rendered pages (Jinja2, a little plain JavaScript, everything served locally: no CDN) on the same
app as ``cdq serve``: :func:`mount` adds their routers and static files to it. Accounts and sessions:
:mod:`cdq.web.users`; personal links: :mod:`cdq.web.tokens`; the review queue: :mod:`cdq.web.queue`.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Add the console and portal routers and their static files to the service app."""
    from cdq.web import console, portal

    app.include_router(console.router)
    app.include_router(portal.router)
    app.mount("/web-static", StaticFiles(directory=str(resources.files("cdq.web") / "static")), name="web-static")
