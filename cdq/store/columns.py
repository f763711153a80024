"""Column types shared by the store's table modules (schema, online, web): apart, so that none of them imports another."""

from __future__ import annotations

import sqlalchemy as sa

#: golden ids, record refs and other keys of the store
ID = sa.String(24)
