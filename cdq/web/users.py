"""Console accounts and sessions in the golden store.

Passwords are Argon2id hashes (``argon2-cffi``). Five failed logins in a row lock an account for 15
minutes. A login answers the same for an unknown name, a wrong password and a locked account (and spends
the same time on a hash), so the form never tells whether a user name exists. A session is a random id in
an HttpOnly, SameSite=Strict cookie; the store keeps only its SHA-256, the user, a CSRF token and the expiry;
logging out deletes it.

Examples:
    >>> from cdq.store import GoldenStore
    >>> store = GoldenStore("sqlite://")
    >>> add_user(store, "piet", "steward", "a long passphrase")
    >>> login(store, "piet", "wrong") is None, login(store, "nobody", "x") is None
    (True, True)
    >>> session = login(store, "piet", "a long passphrase")
    >>> user_of(store, session.session_id).user.role
    'steward'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cdq.errors import UsageError
from cdq.store import GoldenStore
from cdq.store.schema import now
from cdq.store.web import console_audit, web_sessions, web_users

__all__ = ["ROLES", "User", "Session", "add_user", "remove_user", "list_users", "login", "logout", "user_of", "audit"]

ROLES = ("viewer", "steward", "admin")
MAX_FAILED = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8
MIN_PASSWORD = 12
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("an unknown user's password is checked against this")


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def may(self, action: str) -> bool:
        """``view`` for everyone; ``change`` (decide pairs, unmerge, split, override) for stewards and admins."""
        return action == "view" or self.role in ("steward", "admin")


@dataclass(frozen=True)
class Session:
    session_id: str
    csrf: str
    user: User


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _later(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).isoformat(timespec="seconds")


def add_user(store: GoldenStore, name: str, role: str, password: str) -> None:
    """Create or reset an account (a reset clears its lock-out)."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must have at least {MIN_PASSWORD} characters")
    if not name.strip() or len(name) > 100:
        raise UsageError("give a user name of 1 to 100 characters")
    row = {"role": role, "password_hash": _hasher.hash(password), "failed": 0, "locked_until": None}
    with store.begin() as conn:
        conn.execute(web_users.delete().where(web_users.c.name == name))
        conn.execute(web_users.insert().values(name=name, created_at=now(), **row))
        conn.execute(web_sessions.delete().where(web_sessions.c.user == name))


def remove_user(store: GoldenStore, name: str) -> bool:
    with store.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.user == name))
        return bool(conn.execute(web_users.delete().where(web_users.c.name == name)).rowcount)


def list_users(store: GoldenStore) -> list[tuple[str, str, str | None]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(web_users.c.name, web_users.c.role, web_users.c.locked_until)
                                               .order_by(web_users.c.name)).all()]


def login(store: GoldenStore, name: str, password: str) -> Session | None:
    """A new session for the right name and password of an account that is not locked; else None."""
    with store.begin() as conn:
        row = conn.execute(sa.select(web_users).where(web_users.c.name == name)).mappings().first()
        if row is None:  # the same work as a wrong password (a hash and a write), so timing tells nothing
            _verify(_DUMMY, password)
            audit(conn, "?", "login_failed", "", "")
            return None
        if row["locked_until"] and row["locked_until"] > now():
            _verify(_DUMMY, password)  # the same time and answer as any other failure
            audit(conn, name, "login_refused", "", "locked")
            return None
        if not _verify(row["password_hash"], password):
            _count_failure(conn, name)
            return None
        conn.execute(web_users.update().where(web_users.c.name == name).values(failed=0, locked_until=None))
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), User(name, row["role"]))
        conn.execute(web_sessions.insert().values(id_hash=_hash(session.session_id), user=name, csrf=session.csrf,
                                                  expires_at=_later(hours=SESSION_HOURS)))
        audit(conn, name, "login", "", "")
    return session


def _count_failure(conn: sa.Connection, name: str) -> None:
    """One failed log-in, counted in the database itself (parallel guesses are each counted); the fifth in
    a row locks the account."""
    failed = conn.execute(web_users.update().where(web_users.c.name == name)
                          .values(failed=web_users.c.failed + 1).returning(web_users.c.failed)).scalar() or 0
    lock = failed >= MAX_FAILED
    if lock:
        conn.execute(web_users.update().where(web_users.c.name == name).values(
            failed=0, locked_until=_later(minutes=LOCK_MINUTES)))
    audit(conn, name, "login_failed", "", "locked" if lock else "")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def user_of(store: GoldenStore, session_id: str | None) -> Session | None:
    """The live session of a cookie's id (None when unknown or expired)."""
    if not session_id:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(web_sessions.c.user, web_sessions.c.csrf, web_sessions.c.expires_at,
                                     web_users.c.role)
                           .select_from(web_sessions.join(web_users, web_users.c.name == web_sessions.c.user))
                           .where(web_sessions.c.id_hash == _hash(session_id))).first()
    if row is None or row.expires_at <= now():
        return None
    return Session(session_id, row.csrf, User(row.user, row.role))


def logout(store: GoldenStore, session_id: str) -> None:
    with store.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == _hash(session_id)))


def audit(conn: sa.Connection, actor: str, action: str, target: str, detail: str) -> None:
    """One console audit row (ids and outcomes only: never a customer's values)."""
    conn.execute(console_audit.insert().values(at=now(), actor=actor, action=action, target=target,
                                               detail=detail[:500]))
