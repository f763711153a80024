"""Everything the user sees: rich tables, progress bars and error lines. Nothing else prints."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from cdq.errors import CdqError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cdq.pipeline import RunContext
    from cdq.staging import TableCount

console = Console()
err_console = Console(stderr=True)
#: Global CLI options (``--debug``), set by the app's callback in :mod:`cdq.cli.main`.
STATE: dict[str, bool] = {"debug": False}


def handle_errors(command: Callable) -> Callable:
    """Wrap a command: a CdqError becomes one message line and its exit code; nothing shows a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001 - the last line of defence against tracebacks
            fail(e, debug=bool(STATE.get("debug")))

    return wrapper


def fail(error: BaseException, *, debug: bool = False) -> NoReturn:
    """Print one error line and exit with its code: a CdqError's own, 2 for anything unexpected.

    Messages are printed as text, never as rich markup (a header like ``[/bold]`` is text). An unexpected
    error's own message may quote customer values (a driver echoing a row), so only its type and where it
    happened are printed; ``--debug`` shows everything.
    """
    if isinstance(error, CdqError):
        err_console.print(Text.assemble(("error:", "bold red"), " ", str(error)), highlight=False, soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    err_console.print(Text.assemble(
        ("unexpected error:", "bold red"), f" {type(error).__name__} in {_where(error)} (run with --debug for "
        "details; please report it)"), highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def _where(error: BaseException) -> str:
    """``module.py:line`` of the innermost cdq frame of an error (no values, just the place)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/cdq/" in f.filename.replace("\\", "/")] or frames
    if not ours:
        return "cdq"
    last = ours[-1]
    return f"{last.filename.replace(chr(92), '/').rsplit('/cdq/', 1)[-1]}:{last.lineno}"


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields a ``(done, total)`` callback for the library's ``progress`` argument."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def table(frame: pd.DataFrame, title: str | None = None, max_rows: int = 30) -> None:
    """Render a frame as a rich table on stdout."""
    t = Table(title=Text(title) if title else None, show_lines=False)
    for column in frame.columns:
        t.add_column(Text(str(column)), overflow="fold")
    for row in frame.head(max_rows).itertuples(index=False):  # cells are text, never rich markup
        t.add_row(*[Text("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)) for v in row])
    console.print(t)
    if len(frame) > max_rows:
        console.print(f"... {len(frame) - max_rows} more rows")


def line(text: str) -> None:
    """One plain output line on stdout (machine-readable lines like 'loaded: ...' go through here)."""
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def _short(location: str) -> str:
    """A file's name (a database URL without its folder), so the table fits a terminal."""
    text = str(location)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        return f"{scheme}://…/{rest.rsplit('/', 1)[-1]}" if "/" in rest else text
    return text.replace("\\", "/").rsplit("/", 1)[-1]


def import_summary(tables: Sequence[TableCount], *, mapping: bool = False, explain: bool = False) -> None:
    """Per-table accounting of an import; with ``mapping``, where each input column went and how sure."""
    rows = [
        {"source": t.source, "file": _short(t.file), "rows in": t.rows_in,
         "staged": t.staged, "quarantined": t.quarantined,
         "columns mapped": _mapped_count(t.notes.get("mapping"))}
        for t in tables
    ]
    if rows:
        table(pd.DataFrame(rows), title="import")
    if mapping:
        for t in tables:
            column_mapping(t, explain=explain)


def _mapped_count(matches) -> str:
    if not matches:
        return ""
    return f"{sum(1 for m in matches if m.get('target'))} of {len(matches)}"


def column_mapping(t: TableCount, *, explain: bool = False) -> None:
    """One table: input column -> staging column (or "kept as src:"), confidence, and (explain) why."""
    matches: list = t.notes.get("mapping") or []  # type: ignore[assignment]
    if not matches:
        return
    frame = pd.DataFrame([
        {"input column": m["column"], "goes to": m["target"] or "src: only",
         "confidence": f"{m['confidence']:.2f}" if m["target"] else "",
         **({"block": m.get("group") or "", "why": m["how"]} if explain else {})}
        for m in matches
    ])
    where = _short(t.file) + (f" [{t.table}]" if t.table else "")
    table(frame, title=f"columns of {where}", max_rows=len(frame))


def run_summary(ctx: RunContext) -> None:
    """What a pipeline run did: inputs, headline numbers, stage timings, outputs; the load line last."""
    results = ctx.results
    killed = results.killed_runs
    if killed is not None:
        for run in killed.itertuples():
            err_console.print(f"warning: earlier run {run.run_id} ({run.kind}, started {run.started_at}, pid {run.pid}) "
                              "did not finish and was marked killed; nothing of it was committed but whole "
                              "transactions, and this run goes on", highlight=False, markup=False, soft_wrap=True)
    tables = results.tables
    if tables:
        import_summary(tables)
    headline = []
    staging = ctx.frames.get("staging")
    quarantine = ctx.frames.get("quarantine")
    rows_in = sum(t.rows_in for t in tables)
    if staging is not None:
        headline.append(("rows in", rows_in))
        headline.append(("staged", len(staging)))
    # rows in = staged + quarantined at import; records held later are counted on their own lines
    at_import = results.quarantined_at_import
    if at_import is None:
        at_import = len(quarantine) if quarantine is not None else 0
    if quarantine is not None:
        headline.append(("quarantined", at_import))
    for key, value in results.headline.items():
        headline.append((key, value))
    if headline:
        table(pd.DataFrame(headline, columns=["what", "count"]), title=f"run {ctx.spec.name}")
    if staging is not None and quarantine is not None:
        line(f"{rows_in} rows in = {len(staging)} staged + {at_import} quarantined")
    timings = pd.DataFrame(
        [(name, f"{seconds:.2f}") for name, seconds in ctx.timings.items()], columns=["stage", "seconds"]
    )
    table(timings, title="stages")
    for label, path in results.outputs.items():
        line(f"{label}: {path}")
    if results.load is not None:
        load_lines(results.load)


def load_lines(result) -> None:
    """The end of every CRM load: refused changes (if any), then the one machine-readable ``loaded:`` line."""
    if result.dry_run:
        line(result.would() + " (dry run: nothing loaded)")
        return
    if result.rejected_line():
        line(result.rejected_line())
    if result.erased_line():
        line(result.erased_line())
    line(result.line())
