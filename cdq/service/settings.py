"""``cdq serve`` configuration: a YAML file, then ``CDQ_SERVE_*`` environment variables, then CLI options.

Example ``serve.yaml`` (every key optional except ``store``)::

    store: sqlite:////var/lib/cdq/golden.sqlite
    reference: /var/lib/cdq/bag.sqlite        # address reference store (default: the bundled demo table)
    crm: sqlite:////var/lib/cdq/crm.sqlite    # leads go here (SQL CRM or bottlecrm+http://...)
    host: 127.0.0.1
    port: 8080
    workers: 2                                # processes (one per core)
    cors_origins: [https://www.example.nl]
    rate_limit: 600/minute                    # per API key (``limits`` notation)
    max_body_bytes: 65536
    reconcile_public: false                   # true: /reconcile needs no key (read-only)

Environment: ``CDQ_SERVE_STORE``, ``CDQ_SERVE_PORT``, ``CDQ_SERVE_CORS_ORIGINS`` (comma-separated), ...
Secrets (the CRM token) only from the environment (``CDQ_CRM_TOKEN``), never from the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cdq.errors import ConfigError

ENV_PREFIX = "CDQ_SERVE_"


class ServiceSettings(BaseModel):
    """Validated service settings (see module doc)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str = Field(description="golden store URL")
    reference: str | None = Field(None, description="address reference store (default: the demo table)")
    crm: str | None = Field(None, description="CRM URL that leads are pushed to")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit: str = "600/minute"
    max_body_bytes: int = Field(65_536, ge=1024)
    reconcile_public: bool = False
    match_limit: int = Field(10, ge=1, le=100)
    refresh_seconds: float = Field(10.0, gt=0)
    public_url: str | None = Field(None, description="base URL OpenRefine reaches the service at")
    graceful_shutdown_seconds: int = Field(30, ge=0)
    workers: int = Field(1, ge=1, le=64, description="worker processes, forked after the index and model are "
                                                      "ready (one per core; see cdq.service.workers)")
    workdir: str | None = Field(None, description="a pipeline work directory: the console links its run report "
                                                  "and Data Docs")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    return {name: environ[ENV_PREFIX + name.upper()] for name in ServiceSettings.model_fields
            if ENV_PREFIX + name.upper() in environ}


def load_settings(path: str | Path | None = None, environ: dict[str, str] | None = None,
                  **overrides: Any) -> ServiceSettings:
    """File (validated: errors name file, line and key), then environment, then explicit overrides.

    Examples:
        >>> load_settings(environ={"CDQ_SERVE_STORE": "sqlite://", "CDQ_SERVE_CORS_ORIGINS": "https://a.nl, https://b.nl"},
        ...               port=9000).cors_origins
        ['https://a.nl', 'https://b.nl']
    """
    from cdq.config import load_model, read_yaml

    data: dict[str, Any] = {}
    if path is not None:
        load_model(path, _FileSettings)  # validates with file/line/key messages
        data.update(read_yaml(path)[0] or {})
    data.update(_from_env(dict(os.environ if environ is None else environ)))
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServiceSettings.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"cdq serve settings: {problems}",
                          hint="give --store, or store: in the settings file, or CDQ_SERVE_STORE") from e


class _FileSettings(ServiceSettings):
    """The file alone may leave out ``store`` (the environment or ``--store`` gives it)."""

    store: str = ""
