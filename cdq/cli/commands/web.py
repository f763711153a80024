"""``cdq users add|list|remove`` (steward console accounts) and ``cdq portal links`` (personal links)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cdq.cli import report


def register(app: typer.Typer) -> None:
    """Add ``cdq users`` and ``cdq portal`` to the app."""
    users_app = typer.Typer(help="Accounts of the steward console (/steward/).", no_args_is_help=True)
    app.add_typer(users_app, name="users")
    portal_app = typer.Typer(help="The customer self-service portal (/mijn-gegevens/).", no_args_is_help=True)
    app.add_typer(portal_app, name="portal")

    @users_app.command("add")
    @report.handle_errors
    def add_command(
        name: str = typer.Argument(..., help="The user name."),
        role: str = typer.Option(..., "--role", help="viewer (look only), steward (decide, unmerge, split, "
                                 "override) or admin."),
        store: str = typer.Option(..., "--store", help="Golden store URL."),
    ) -> None:
        """Create an account (or reset its password); the password is asked for, or read from CDQ_USER_PASSWORD."""
        from cdq.store import GoldenStore
        from cdq.web.users import add_user

        password = os.environ.get("CDQ_USER_PASSWORD") or typer.prompt("password", hide_input=True,
                                                                       confirmation_prompt=True)
        add_user(GoldenStore(store, must_exist=True), name, role, password)
        report.line(f"user {name} ({role}) saved")

    @users_app.command("list")
    @report.handle_errors
    def list_command(store: str = typer.Option(..., "--store", help="Golden store URL.")) -> None:
        """The accounts, their roles and lock-outs."""
        import pandas as pd

        from cdq.store import GoldenStore
        from cdq.web.users import list_users

        rows = list_users(GoldenStore(store, must_exist=True))
        report.table(pd.DataFrame(rows, columns=["name", "role", "locked_until"]), title="console users")

    @users_app.command("remove")
    @report.handle_errors
    def remove_command(name: str = typer.Argument(...), store: str = typer.Option(..., "--store")) -> None:
        """Remove an account and end its sessions."""
        from cdq.store import GoldenStore
        from cdq.web.users import remove_user

        found = remove_user(GoldenStore(store, must_exist=True), name)
        report.line(f"user {name} {'removed' if found else 'not found'}")

    @portal_app.command("links")
    @report.handle_errors
    def links_command(
        store: str = typer.Option(..., "--store", help="Golden store URL."),
        out: Path = typer.Option(..., "--out", help="CSV with golden_id, link and expires (owner-only)."),
        base_url: str = typer.Option("http://127.0.0.1:8080", "--base-url", help="Where customers reach cdq serve."),
        expires_days: int = typer.Option(30, "--expires-days", help="How long each link works."),
    ) -> None:
        """One personal link per active golden record (signed, expiring, single purpose)."""
        from cdq.store import GoldenStore
        from cdq.web.links import write_links

        n = write_links(GoldenStore(store, must_exist=True), out, base_url=base_url, days=expires_days)
        report.line(f"portal links: {n} written to {out}")
