"""Auth for every router: ``Depends(require("match"))`` checks the bearer key, its scope and the rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cdq.service.apikeys import ApiKey
from cdq.service.state import ServiceState

_bearer = HTTPBearer(auto_error=False, description="an API key from `cdq apikey create NAME --scope ...`")


def state_of(request: Request) -> ServiceState:
    """The app's :class:`ServiceState`."""
    return request.app.state.cdq


def _rate(request: Request, who: str) -> None:
    if not state_of(request).allow(who):
        raise HTTPException(429, "too many requests for this key; slow down",
                            headers={"Retry-After": "1"})


def require(scope: str, *, public_if: Callable[[Request], bool] | None = None) -> Callable[..., Awaitable[ApiKey | None]]:
    """A dependency: 401 without a valid key, 403 without ``scope``, 429 over the key's rate limit.

    ``public_if(request)`` true: no key needed (rate-limited per client address instead).
    """

    # async: a sync dependency is a hop to the thread pool and back per request (~0.5 ms); this one only reads
    # the verified-key cache (a store query every KEY_CACHE_SECONDS per key) and the in-memory rate limiter
    async def dependency(request: Request, _shown_in_docs: HTTPAuthorizationCredentials | None = Depends(_bearer)
                         ) -> ApiKey | None:
        header = request.headers.get("authorization")
        if public_if is not None and public_if(request) and not header:
            _rate(request, "ip:" + (request.client.host if request.client else "?"))
            return None
        token = header.split(" ", 1)[1].strip() if header and header.lower().startswith("bearer ") else None
        key = state_of(request).key(token) if token else None
        if key is None:
            raise HTTPException(401, "a valid API key is required (Authorization: Bearer KEY)",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.key = key
        if scope not in key.scopes:
            raise HTTPException(403, f"this key lacks the '{scope}' scope")
        _rate(request, "key:" + key.key_id)
        return key

    dependency.__name__ = f"require_{scope}"
    return dependency

