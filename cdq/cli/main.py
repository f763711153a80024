"""The ``cdq`` command. Commands live in ``cdq/cli/commands/*.py``; each module has ``register(app)``.

The CLI only validates arguments, calls one library function, renders the result (``cdq.cli.report``)
and maps :class:`cdq.errors.CdqError` to its exit code (0 ok, 1 a gate or check failed, 2 bad usage or
unreadable input). Unexpected failures print one line too; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil

import typer

from cdq import log
from cdq.cli import commands, report

app = typer.Typer(
    name="cdq",
    help="Customer data quality: import, clean, match and merge Dutch customer files into one golden view.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

STATE = report.STATE
#: Files cdq writes hold personal data: by default only their owner may read them (0600, folders 0700).
DEFAULT_UMASK = "077"


def _umask(text: str) -> int:
    """An octal umask such as ``077`` (owner only) or ``007`` (owner and group)."""
    from cdq.errors import UsageError

    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o777:
        raise UsageError(f"--umask {text!r} is not an octal file mode mask", hint="e.g. 077 (owner only) or 007")
    return value


@app.callback()
def _global_options(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log progress (-v) or details (-vv)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors."),
    umask: str = typer.Option(DEFAULT_UMASK, "--umask", envvar="CDQ_UMASK", help="File mode mask for every file "
                              "cdq writes (stores, CRM database, workbooks, PDFs, reports); 007 shares with "
                              "the group."),
) -> None:
    """Customer data quality for Dutch and Belgian organisations."""
    from cdq.cli.report import fail

    try:
        os.umask(_umask(umask))
    except Exception as e:  # noqa: BLE001 - a CdqError here must exit like any other
        fail(e)
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
