"""Annual per-adviser verification printouts: one PDF and one Excel return form per adviser.

:func:`make_printouts` writes, per adviser (plus one for the records without an adviser), a Dutch PDF (a
cover letter, then the adviser's customers in Dutch order with the problems the checks found, tick boxes
and room for corrections) and a matching return form. :func:`apply_returned` reads a returned form and
applies the accepted corrections as the high-trust source ``adviser_verification``.

Examples:
    >>> safe_name("M. de Vries"), safe_name(None), safe_name("Ünal / Öz")
    ('M_de_Vries', 'zonder_adviseur', 'Unal_Oz')
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdq.log import Progress, ProgressLog
from cdq.printouts.apply import ApplyResult, apply_returned
from cdq.printouts.forms import write_form
from cdq.printouts.layout import render_pdf
from cdq.printouts.records import adviser_groups, entries, label_of, load_customers, prepare
from cdq.printouts.sorting import sort_frame

__all__ = ["make_printouts", "printouts_from", "apply_returned", "ApplyResult", "PrintoutRun", "safe_name"]

logger = logging.getLogger(__name__)


@dataclass
class PrintoutRun:
    """What :func:`printouts_from` wrote: one row per adviser (adviser, customers, pages, pdf, form)."""

    summary: pd.DataFrame
    seconds: float = 0.0
    pdfs: list[Path] = field(default_factory=list)


#: Longest adviser part of a file name: far below every file system's 255 bytes, with room for a number.
NAME_LIMIT = 60


def safe_name(adviser: str | None) -> str:
    """A file-name-safe form of an adviser's name (ASCII letters, digits and '_'), at most NAME_LIMIT long."""
    if not adviser:
        return "zonder_adviseur"
    plain = unicodedata.normalize("NFKD", adviser).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_")[:NAME_LIMIT].strip("_") or "adviseur"


def _file_names(advisers: list[str | None]) -> list[str]:
    """``controle_<adviser>`` per adviser, unique even where names sanitise (or case-fold) to one.

    'M. Jansen' and 'M Jansen' are two advisers: the second gets ``_2``, and a number is never one that
    another adviser's own name already took.

    Examples:
        >>> _file_names(["M. Jansen", "M Jansen", "M Jansen 2", "m jansen"])
        ['controle_M_Jansen', 'controle_M_Jansen_2', 'controle_M_Jansen_2_2', 'controle_m_jansen_3']
    """
    taken: set[str] = set()
    names = []
    for adviser in advisers:
        base = f"controle_{safe_name(adviser)}"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        names.append(name)
    return names


def make_printouts(frame: pd.DataFrame, adviser_column: str, out_dir: str | Path,
                   run_date: dt.date | None = None, *, source: str = "", key_kind: str = "record_ref",
                   prepared: bool = False, reference=None) -> list[Path]:
    """Write one PDF and one return form per adviser into ``out_dir``; return the PDF paths.

    Args:
        frame: customers (a staging frame, or golden records); a ``row_key`` column is the stable key of
            each record (default: its ``record_id``).
        adviser_column: the column naming each record's adviser (empty: the "zonder adviseur" printout).
        out_dir: folder for ``controle_<adviser>.pdf`` / ``.xlsx`` and ``overzicht.csv``.
        run_date: the date printed on every page (default: today).
        source: the input file or store URL recorded in the forms. key_kind: what ``row_key`` is.
        prepared: the frame already went through :func:`cdq.printouts.records.prepare`.
        reference: an address reference store for the address checks (optional).
    """
    return _write_all(frame, adviser_column, out_dir, run_date, source=source, key_kind=key_kind,
                      prepared=prepared, reference=reference).pdfs


def printouts_from(source: str | Path, adviser_column: str, out_dir: str | Path, run_date: dt.date | None = None,
                   *, reference=None, progress: Progress | None = None) -> PrintoutRun:
    """Printouts for a customer file or a golden store URL (``sqlite:///golden.sqlite``); ``progress`` is
    called with ``(advisers done, advisers)``."""
    frame = load_customers(source, adviser_column)
    store = "://" in str(source)
    return _write_all(frame, "adviser_label", out_dir, run_date,
                      source=str(source) if store else str(Path(source).resolve()),
                      key_kind="golden_id" if store else "record_ref", reference=reference, progress=progress)


def _write_all(frame: pd.DataFrame, adviser_column: str, out_dir, run_date, *, source: str, key_kind: str,
               prepared: bool = False, reference=None, progress: Progress | None = None) -> PrintoutRun:
    start = time.perf_counter()
    run_date = run_date or dt.date.today()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = frame.copy()
    if "row_key" not in frame:
        frame["row_key"] = frame["record_id"].astype(str)
    if adviser_column != "adviser_label":
        labels = frame[adviser_column].astype(object).where(frame[adviser_column].notna(), "").astype(str)
        frame["adviser_label"] = labels.str.split().str.join(" ").replace("", None)
    if not prepared:
        frame = prepare(frame, reference)
    groups = adviser_groups(frame)
    tick = ProgressLog(logger, "printouts", len(groups), progress=progress)
    rows = []
    for (adviser, part), name in zip(groups, _file_names([a for a, _ in groups])):
        ordered = sort_frame(part)
        ordered["nr"] = range(1, len(ordered) + 1)
        items = entries(ordered)
        pdf, form = out_dir / f"{name}.pdf", out_dir / f"{name}.xlsx"
        pages = render_pdf(pdf, adviser, label_of(adviser), items, run_date)
        write_form(form, items, adviser=adviser, source=source, key_kind=key_kind, run_date=run_date)
        rows.append({"adviser": label_of(adviser), "customers": len(items), "pages": pages, "pdf": pdf.name,
                     "form": form.name})
        tick(len(rows))
    summary = pd.DataFrame(rows, columns=["adviser", "customers", "pages", "pdf", "form"])
    from cdq.export import write_table

    write_table(summary, out_dir / "overzicht.csv")
    seconds = time.perf_counter() - start
    logger.info("printouts: %d advisers, %d customers, %d pages in %.1fs", len(rows), len(frame),
                int(summary["pages"].sum()) if len(summary) else 0, seconds)
    return PrintoutRun(summary, seconds, [out_dir / p for p in summary["pdf"]])
