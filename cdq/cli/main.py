"""The ``cdq`` command. Commands live in ``cdq/cli/commands/*.py``; each module has ``register(app)``.

The CLI only validates arguments, calls one library function, renders the result (``cdq.cli.report``)
and maps :class:`cdq.errors.CdqError` to its exit code (0 ok, 1 a gate or check failed, 2 bad usage or
unreadable input). Unexpected failures print one line too; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

import typer

from cdq import log
from cdq.cli import commands

app = typer.Typer(
    name="cdq",
    help="Customer data quality: import, clean, match and merge Dutch customer files into one golden view.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

STATE = {"debug": False}


@app.callback()
def _global_options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log progress (-v) or details (-vv)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors."),
) -> None:
    """Customer data quality for Dutch and Belgian organisations."""
    STATE["debug"] = debug
    if verbose or debug:
        log.enable(logging.DEBUG if (verbose > 1 or debug) else log.VERBOSE)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point."""
    app()
