"""API keys: ``cdq apikey create NAME --scope read --scope leads``, stored hashed in the golden store.

A key is ``cdq_<key id>_<secret>``: the key id (8 hex) finds the row, the secret (32 random bytes,
URL-safe) is checked against its SHA-256. A fast hash is right here, unlike for passwords: the secret is
256 random bits, so there is nothing to guess or look up in a table, and a slow hash (argon2) would add tens
of milliseconds to every request. The comparison is constant-time. Revoked keys stay in the table (audit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from cdq.errors import UsageError
from cdq.store import GoldenStore
from cdq.store.online import api_keys
from cdq.store.schema import now

SCOPES = ("read", "match", "leads")


@dataclass(frozen=True)
class ApiKey:
    """A verified key: who (``key_id``, ``name``) and what it may do (``scopes``)."""

    key_id: str
    name: str
    scopes: frozenset[str]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: GoldenStore, name: str, scopes: list[str]) -> str:
    """Create a key; returns the full key (shown once, never stored)."""
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise UsageError(f"unknown scope(s) {', '.join(bad) or '(none given)'}", hint=f"valid: {', '.join(SCOPES)}")
    key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    with store.begin() as conn:
        conn.execute(api_keys.insert().values(key_id=key_id, name=name, secret_hash=_digest(secret),
                                              scopes=" ".join(sorted(set(scopes))), created_at=now()))
    return f"cdq_{key_id}_{secret}"


def revoke_key(store: GoldenStore, key_id_or_name: str) -> int:
    """Revoke by key id or by name; returns how many keys were revoked."""
    with store.begin() as conn:
        return conn.execute(api_keys.update().where(
            (api_keys.c.key_id == key_id_or_name) | (api_keys.c.name == key_id_or_name),
            api_keys.c.revoked_at.is_(None)).values(revoked_at=now())).rowcount


def list_keys(store: GoldenStore) -> pd.DataFrame:
    """Key id, name, scopes, created and revoked times (never the hash)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(api_keys.c.key_id, api_keys.c.name, api_keys.c.scopes, api_keys.c.created_at,
                                      api_keys.c.revoked_at).order_by(api_keys.c.created_at)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["key_id", "name", "scopes", "created_at", "revoked_at"])


def verify_key(conn: sa.Connection, key: str) -> ApiKey | None:
    """The key's identity and scopes, or ``None`` (malformed, unknown, wrong secret, revoked).

    Examples:
        >>> store = GoldenStore("sqlite://")
        >>> key = create_key(store, "website", ["read", "leads"])
        >>> with store.engine.connect() as c:
        ...     sorted(verify_key(c, key).scopes), verify_key(c, key[:-1] + "x")
        (['leads', 'read'], None)
    """
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "cdq" or len(parts[1]) != 8:
        return None
    row = conn.execute(sa.select(api_keys).where(api_keys.c.key_id == parts[1])).mappings().first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["secret_hash"], _digest(parts[2])):
        return None
    return ApiKey(row["key_id"], row["name"], frozenset(row["scopes"].split()))
