"""``cdq serve`` (the real-time service), ``cdq apikey create|list|revoke`` and ``cdq leads drain``."""

from __future__ import annotations

from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq serve``, ``cdq apikey`` and ``cdq serve-unlock`` to the app."""

    @app.command("serve")
    @report.handle_errors
    def serve_command(
        store: str | None = typer.Option(None, "--store", help="Golden store URL, e.g. sqlite:///golden.sqlite"),
        reference: str | None = typer.Option(None, "--reference",
                                             help="Address reference store (default: the bundled demo table)."),
        host: str | None = typer.Option(None, "--host", help="Address to listen on (default 127.0.0.1)."),
        port: int | None = typer.Option(None, "--port", help="Port (default 8080)."),
        crm: str | None = typer.Option(None, "--crm", help="CRM URL leads are pushed to."),
        config: Path | None = typer.Option(None, "--config", help="Settings YAML (keys as the CDQ_SERVE_* variables)."),
        workers: int | None = typer.Option(None, "--workers", help="Worker processes (default 1; one per core)."),
    ) -> None:
        """Serve address completion, validation, matching, web leads and OpenRefine reconciliation (/docs)."""
        from cdq.service import load_settings, serve

        settings = load_settings(config, store=store, reference=reference, host=host, port=port, crm=crm,
                                 workers=workers)
        report.line(f"cdq serve on http://{settings.host}:{settings.port} (docs at /docs); Ctrl+C stops")
        serve(settings)

    apikey = typer.Typer(help="API keys of `cdq serve` (stored hashed in the golden store).", no_args_is_help=True)
    app.add_typer(apikey, name="apikey")

    @apikey.command("create")
    @report.handle_errors
    def create_command(
        name: str = typer.Argument(..., help="Who uses the key, e.g. website or adviser-portal."),
        scope: list[str] = typer.Option(..., "--scope", help="read, match or leads (repeat for several)."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
    ) -> None:
        """Create a key and print it once (only its hash is stored)."""
        from cdq.service.apikeys import create_key
        from cdq.store import GoldenStore

        key = create_key(GoldenStore(store, must_exist=True), name, scope)
        report.line(key)

    @apikey.command("list")
    @report.handle_errors
    def list_command(store: str = typer.Option(..., "--store", help="Golden store URL.")) -> None:
        """List keys: id, name, scopes, created, revoked."""
        from cdq.service.apikeys import list_keys
        from cdq.store import GoldenStore

        keys = list_keys(GoldenStore(store, must_exist=True))
        for row in keys.itertuples(index=False):
            report.line(f"{row.key_id}  {row.name}  [{row.scopes}]  created {row.created_at}"
                        + (f"  REVOKED {row.revoked_at}" if row.revoked_at else ""))
        report.line(f"{len(keys)} keys")

    @apikey.command("revoke")
    @report.handle_errors
    def revoke_command(
        key: str = typer.Argument(..., help="Key id (the 8 characters after cdq_) or key name."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
    ) -> None:
        """Revoke a key (a running service stops accepting it within seconds)."""
        from cdq.errors import UsageError
        from cdq.service.apikeys import revoke_key
        from cdq.store import GoldenStore

        n = revoke_key(GoldenStore(store, must_exist=True), key)
        if not n:
            raise UsageError(f"no active key {key!r}", hint="see `cdq apikey list --store URL`")
        report.line(f"revoked {n} key(s)")

    @app.command("serve-unlock")
    @report.handle_errors
    def unlock_command(store: str = typer.Option(..., "--store", help="Golden store URL.")) -> None:
        """Release the store lock left by a run that crashed (check that no run is going on first)."""
        from cdq.leads.lock import held_by, release
        from cdq.store import GoldenStore

        golden = GoldenStore(store, must_exist=True)
        holder = held_by(golden)
        release(golden)
        report.line(f"released the store lock (was: {holder or 'free'})")
