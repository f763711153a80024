"""Personal links to the customer portal: signed, expiring, single-purpose tokens; no ids in the URL.

A token is 32 random bytes plus an HMAC-SHA256 signature over them and its purpose, made with the store's
link key (``CDQ_WEB_SECRET`` when set, else a random key the store generates once). The store keeps only the
SHA-256 of the token with its golden id, purpose and expiry, so neither the link nor a copy of the store
gives anyone else's link away. A tampered token fails the signature; an unknown, expired, revoked or used
one is refused; a token of another purpose opens nothing here. Confirming a correction uses the token up.

Examples:
    >>> from cdq.store import GoldenStore
    >>> store = GoldenStore("sqlite://")
    >>> token = issue(store, "G0000001", days=30)
    >>> check(store, token), check(store, token[:-1] + ("A" if token[-1] != "A" else "B"))
    ('G0000001', None)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets

import sqlalchemy as sa

from cdq.privacy.keys import stored_secret
from cdq.store import GoldenStore
from cdq.store.schema import now, store_settings
from cdq.store.web import portal_tokens

__all__ = ["PURPOSE", "issue", "check", "use", "link_key"]

PURPOSE = "self_service"
KEY_ENV = "CDQ_WEB_SECRET"
_SETTING = "portal_link_key"


def link_key(conn: sa.Connection) -> bytes:
    """``CDQ_WEB_SECRET``, else the store's own random key (made on first use)."""
    return stored_secret(conn, _SETTING, KEY_ENV)


def store_key(store: GoldenStore) -> bytes:
    """:func:`link_key` for a request: a read, and a write transaction only the first time the key is made
    (every write transaction takes the writer lock and moves the store's generation, which would make a
    nightly run that is matching at that moment match again)."""
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(store_settings.c.value).where(store_settings.c.name == _SETTING)).scalar()
    if found is not None:
        return found.encode()
    with store.begin() as conn:
        return link_key(conn)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signature(key: bytes, body: str, purpose: str) -> str:
    return _b64(hmac.new(key, f"{purpose}:{body}".encode(), hashlib.sha256).digest()[:16])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(store: GoldenStore, golden_id: str, *, days: int = 30, purpose: str = PURPOSE) -> str:
    """A new token for ``golden_id`` valid for ``days`` (earlier tokens of the record stay valid)."""
    body = _b64(secrets.token_bytes(32))
    with store.begin() as conn:
        token = f"{body}.{_signature(link_key(conn), body, purpose)}"
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat(timespec="seconds")
        conn.execute(portal_tokens.insert().values(token_hash=_hash(token), golden_id=golden_id, purpose=purpose,
                                                   created_at=now(), expires_at=expires))
    return token


def check(store: GoldenStore, token: str | None, purpose: str = PURPOSE) -> str | None:
    """The golden id a valid token opens, or None (tampered, unknown, expired, used, other purpose)."""
    if not token or token.count(".") != 1 or len(token) > 200:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature.encode(), _signature(store_key(store), body, purpose).encode()):
        return None
    with store.engine.connect() as conn:  # a read: opening a link must not take the store's writer lock
        row = conn.execute(sa.select(portal_tokens).where(portal_tokens.c.token_hash == _hash(token))).mappings().first()
    if row is None or row["purpose"] != purpose or row["used_at"] or row["expires_at"] <= now():
        return None
    return row["golden_id"]


def use(conn: sa.Connection, token: str) -> bool:
    """Claim a token (atomically: of two requests with one token, only one gets True)."""
    return conn.execute(portal_tokens.update().where(portal_tokens.c.token_hash == _hash(token),
                                                     portal_tokens.c.used_at.is_(None))
                        .values(used_at=now())).rowcount == 1


def release(conn: sa.Connection, token: str) -> None:
    """Give a claimed token back (what it was claimed for failed)."""
    conn.execute(portal_tokens.update().where(portal_tokens.c.token_hash == _hash(token)).values(used_at=None))
