"""Identifying keys of a person's records, hashed with a secret key (erasure tombstones).

After an erasure cdq must recognise the same person when an old export brings them back, without
keeping anything that identifies them. It keeps keyed hashes (HMAC-SHA256) of a few identifying
keys instead: the source record's own ref, name + birth date, name + postcode + house number, and
e-mail or phone *together with* the surname (an e-mail or a landline alone may be shared by a
household, and one person's erasure must not hold back another; the initial is part of every key). The hash key comes from
``CDQ_ERASURE_KEY`` when set, else from a random key the store generates once and keeps.

Examples:
    >>> sorted(identifying_keys({"first_name": "Jan", "last_name": "de Vries", "birth_date": "1970-01-02",
    ...                          "email": "J@x.nl"}))
    ['email|j@x.nl|j|vries', 'name_birth|j|vries|1970-01-02']
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from cdq.store.schema import store_settings

KEY_ENV = "CDQ_ERASURE_KEY"
_SETTING = "erasure_hash_key"
#: Lower-case particles left out of the surname key ("de Vries" and "Vries, de" are one surname).
_PARTICLES = {"van", "de", "der", "den", "het", "ter", "ten", "te", "op", "in", "t", "'t", "von", "la", "le", "du",
              "des", "di", "da", "del", "dos", "el", "al", "bin", "ben", "mc", "mac", "o"}


def _plain(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().lower()
    return text.strip()


def surname_key(last_name: object, infix: object = None) -> str:
    """The surname without particles, letters only: ``surname_key("de Vries-Bakker") == "vriesbakker"``."""
    words = re.split(r"[\s]+", f"{_plain(infix)} {_plain(last_name)}".strip())
    return "".join(re.sub(r"[^a-z]", "", w) for w in words if w not in _PARTICLES)


def initial_of(record: Mapping) -> str:
    for column in ("first_name", "initials"):
        letters = re.sub(r"[^a-z]", "", _plain(record.get(column)))
        if letters:
            return letters[0]
    return ""


def _digits(value: object) -> str:
    return re.sub(r"\D", "", _plain(value))


def identifying_keys(record: Mapping) -> set[str]:
    """The identifying keys of one canonical record (plain text; hash them before storing)."""
    surname = surname_key(record.get("last_name"), record.get("infix"))
    initial = initial_of(record)
    keys = set()
    ref = _plain(record.get("ref"))
    if ref:
        keys.add(f"ref|{ref}")
    birth = _plain(record.get("birth_date"))
    if surname and birth:
        keys.add(f"name_birth|{initial}|{surname}|{birth}")
    postcode = re.sub(r"\s", "", _plain(record.get("postcode")))
    number = _digits(record.get("house_number"))
    if surname and postcode and number:
        keys.add(f"name_address|{initial}|{surname}|{postcode}|{number}")
    email = _plain(record.get("email"))
    if surname and "@" in email:
        keys.add(f"email|{email}|{initial}|{surname}")
    for column in ("phone", "mobile"):
        digits = _digits(record.get(column))
        if surname and len(digits) >= 8:
            keys.add(f"phone|{digits[-9:]}|{initial}|{surname}")
    company = _plain(record.get("company_name"))
    if company and not surname and (email or postcode):
        keys.add(f"company|{company}|{email or postcode}")
    return keys


def stored_secret(conn: sa.Connection, setting: str, env: str) -> bytes:
    """A secret from the environment variable ``env``, else the store's own random one named ``setting``
    (made on first use and kept in ``store_settings``, so every process using the store agrees)."""
    configured = os.environ.get(env)
    if configured:
        return configured.encode()
    found = conn.execute(sa.select(store_settings.c.value).where(store_settings.c.name == setting)).scalar()
    if found is None:
        found = secrets.token_hex(32)
        conn.execute(store_settings.insert().values(name=setting, value=found))
    return found.encode()


def hash_key(conn: sa.Connection) -> bytes:
    """The secret the tombstone hashes use: ``CDQ_ERASURE_KEY``, else the store's own random key."""
    return stored_secret(conn, _SETTING, KEY_ENV)


def hashed(keys: Iterable[str], secret: bytes) -> set[str]:
    """HMAC-SHA256 of each key (hex)."""
    return {hmac.new(secret, k.encode(), hashlib.sha256).hexdigest() for k in keys}
