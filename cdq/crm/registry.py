"""``--crm URL`` → a :class:`~cdq.crm.CrmTarget`.

Schemes: ``sqlite:``/``postgresql:`` (any SQLAlchemy URL: the SQL target), ``bottlecrm+http(s)://host:port``,
``salesforce+https://instance``, ``dynamics+https://org``, ``hubspot+https://host``,
``teamleader+https://host``. Secrets come only from the environment (``CDQ_CRM_TOKEN``; for a SQL URL it
is the database password): a URL holding a password or token is refused, so no secret lands in shell
history, process lists or logs; so is any query parameter that looks like a credential (``pat``,
``api-key``, ``private_app_token``, ``bearer``, ``sslpassword``, ...), except the few a target needs that
only name a file (:data:`ALLOWED_PARAMS`). Remote CRMs keep their cross-reference and ledger in a local
SQL database: ``?state=URL`` in the CRM URL, else ``CDQ_CRM_STATE``, else the ``state`` argument (a
pipeline passes its golden store), else ``sqlite:///cdq_crm_state.db`` in the working directory.
``?concurrency=N`` bounds parallel calls.

Examples:
    >>> safe_url("postgresql://crm:secret@db/crm")
    'postgresql://crm:***@db/crm'
    >>> target_from_url("bottlecrm+http://u:p@127.0.0.1:8000")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cdq.errors.UsageError: the CRM URL bottlecrm+http://u:***@127.0.0.1:8000 holds a password or token (remove it ...)
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from cdq.crm.base import CrmTarget
from cdq.crm.mapping import CrmMapping
from cdq.errors import UsageError

if TYPE_CHECKING:
    import sqlalchemy as sa

SECRET_PARAMS = {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret",
                 "hapikey", "sig"}
#: A parameter name with one of these in it (``-``/``_`` ignored, any case) is taken for a credential.
_CREDENTIAL = re.compile(r"token|secret|pass|pwd|key|auth|bearer|sig|cred|session|cookie|jwt|otp|^pat$|^code$")
#: Credential-looking names that only name a file or switch (client certificates): allowed.
ALLOWED_PARAMS = {"sslkey", "sslcert", "sslrootcert", "sslcrl", "sslcompression", "sslkeylogfile"}


def credential_params(url: str) -> list[str]:
    """The query parameters of ``url`` that look like credentials.

    Examples:
        >>> credential_params("hubspot+https://h/?pat=x&private_app_token=y&concurrency=2&api-key=z&bearer=b")
        ['pat', 'private_app_token', 'api-key', 'bearer']
        >>> credential_params("postgresql://db/crm?sslmode=require&sslkey=/k.pem&sslpassword=s")
        ['sslpassword']
    """
    names = [k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    found = []
    for name in names:
        plain = name.lower().replace("-", "").replace("_", "")
        if plain not in ALLOWED_PARAMS and (name.lower() in SECRET_PARAMS or _CREDENTIAL.search(plain)):
            found.append(name)
    return found
REMOTE = {"bottlecrm": ("cdq.crm.bottlecrm", "BottleCrmTarget"),
          "salesforce": ("cdq.crm.salesforce", "SalesforceTarget"),
          "dynamics": ("cdq.crm.dynamics", "DynamicsTarget"),
          "hubspot": ("cdq.crm.hubspot", "HubSpotTarget"),
          "teamleader": ("cdq.crm.teamleader", "TeamleaderTarget"),
          "carddav": ("cdq.crm.carddav", "CardDavTarget")}


def safe_url(url: str) -> str:
    """The URL with any password masked (for messages and logs)."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def _refuse_secrets(url: str) -> None:
    parts = urlsplit(url)
    if parts.password or credential_params(url):
        raise UsageError(f"the CRM URL {safe_url(url).split('?')[0]} holds a password or token",
                         hint="remove it from the URL and export CDQ_CRM_TOKEN instead")


def check_url(url: str) -> None:
    """Validate a ``--crm`` URL without connecting: no secrets in it, a scheme cdq knows.

    A pipeline calls it before any stage runs, so a bad CRM URL stops the run before the golden merge.
    """
    _refuse_secrets(url)
    scheme = urlsplit(url).scheme
    kind, _, transport = scheme.partition("+")
    if kind in REMOTE:
        if transport not in ("http", "https"):
            raise UsageError(f"{kind} CRM URL needs +http or +https, got {scheme!r}")
        return
    if not scheme.startswith(("sqlite", "postgresql", "postgres", "mysql", "mssql", "oracle")):
        raise UsageError(f"unknown CRM URL scheme {scheme!r}",
                         hint="use sqlite:///crm.db, postgresql://..., bottlecrm+http://host:port, salesforce+https://..., "
                              "dynamics+https://..., hubspot+https://..., teamleader+https://...")


def target_from_url(url: str, mapping: CrmMapping | None = None, *, state: str | None = None) -> CrmTarget:
    """Open the CRM target a ``--crm`` URL names (see module docstring)."""
    _refuse_secrets(url)
    scheme = urlsplit(url).scheme
    kind, _, transport = scheme.partition("+")
    if kind in REMOTE:
        return _remote(kind, transport, url, mapping, state)
    if scheme.startswith(("sqlite", "postgresql", "postgres", "mysql", "mssql", "oracle")):
        from cdq.crm.sql import SqlCrmTarget

        return SqlCrmTarget(_with_db_password(url), mapping)
    raise UsageError(f"unknown CRM URL scheme {scheme!r}",
                     hint="use sqlite:///crm.db, postgresql://..., bottlecrm+http://host:port, salesforce+https://..., "
                          "dynamics+https://..., hubspot+https://..., teamleader+https://...")


def _with_db_password(url: str) -> str | sa.URL:
    token = os.environ.get("CDQ_CRM_TOKEN")
    if not token or not urlsplit(url).username:
        return url
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(password=token)


def _remote(kind: str, transport: str, url: str, mapping, state: str | None) -> CrmTarget:
    if transport not in ("http", "https"):
        raise UsageError(f"{kind} CRM URL needs +http or +https, got {urlsplit(url).scheme!r}")
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    state = query.pop("state", None) or os.environ.get("CDQ_CRM_STATE") or state or "sqlite:///cdq_crm_state.db"
    if credential_params(state):
        raise UsageError("the CRM state URL holds a token in a query parameter", hint="remove it from the URL")
    options = {"concurrency": int(query.pop("concurrency", 8))}
    if "bulk_min" in query:  # BottleCRM: from how many new contacts on to use its CSV import
        options["bulk_min"] = int(query.pop("bulk_min"))
    base = urlunsplit((transport, parts.netloc, parts.path.rstrip("/"), urlencode(query), ""))
    module, cls = REMOTE[kind]
    import importlib

    try:
        target_cls = getattr(importlib.import_module(module), cls)
    except (ModuleNotFoundError, AttributeError) as e:
        raise UsageError(f"the {kind} CRM target is not available in this version of cdq",
                         hint="write its import file with cdq.crm.files instead") from e
    return target_cls(base, state, mapping=mapping, **options)
