"""Tables of the steward console and the customer portal (``/steward/``, ``/mijn-gegevens/``), created by
migration ``0003_web_console``.

- ``web_users``: console accounts (role ``viewer``/``steward``/``admin``), an Argon2 password hash, the count
  of failed logins and the time a lock-out ends;
- ``web_sessions``: the SHA-256 of each session id (the cookie holds the id), its user, CSRF token, expiry;
- ``portal_tokens``: the SHA-256 of each personal link's token, its golden id, purpose, expiry, use;
- ``portal_corrections``: every correction a customer confirmed (values as JSON), when it was applied;
- ``console_audit``: every console action (who, when, what, on which golden id; no values).
"""

from __future__ import annotations

import sqlalchemy as sa

from cdq.store.columns import ID

metadata = sa.MetaData()

web_users = sa.Table(
    "web_users", metadata,
    sa.Column("name", sa.String(100), primary_key=True), sa.Column("role", sa.String(10), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False), sa.Column("failed", sa.Integer, default=0),
    sa.Column("locked_until", sa.String(40)), sa.Column("created_at", sa.String(40)),
)
web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True), sa.Column("user", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False), sa.Column("expires_at", sa.String(40), nullable=False),
)
portal_tokens = sa.Table(
    "portal_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True), sa.Column("golden_id", ID, nullable=False, index=True),
    sa.Column("purpose", sa.String(30), nullable=False), sa.Column("created_at", sa.String(40)),
    sa.Column("expires_at", sa.String(40), nullable=False), sa.Column("used_at", sa.String(40)),
)
portal_corrections = sa.Table(
    "portal_corrections", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("golden_id", ID, index=True),
    sa.Column("submitted_at", sa.String(40)), sa.Column("values", sa.Text), sa.Column("applied_run", sa.Integer),
)
console_audit = sa.Table(
    "console_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), sa.Column("at", sa.String(40)),
    sa.Column("actor", sa.String(100)), sa.Column("action", sa.String(40)), sa.Column("target", sa.String(200)),
    sa.Column("detail", sa.Text),
)


def create_web_tables(conn: sa.Connection) -> None:
    """Migration ``0003_web_console``."""
    metadata.create_all(conn, checkfirst=True)
