"""The verification PDF of one adviser (reportlab): a cover letter, then one block per customer.

A4 portrait, 20 mm margins. Every page has a header (title, adviser, run date) and a footer ("pagina X
van Y"); the page total is known only after the whole document is laid out, so the canvas keeps each
page's state and draws the footers at the end (:class:`_NumberedCanvas`). A customer block is one table
that never splits across pages; the locations of one organisation follow a group heading.

The layout takes plain :class:`Entry` objects (built by :mod:`cdq.printouts`), not frames, so it can be
tested and reused without pandas.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cdq.printouts.dutch import STATUSES, cover_letter, date_nl

__all__ = ["Entry", "render_pdf", "TITLE"]

logger = logging.getLogger(__name__)

TITLE = "Jaarlijkse controle klantgegevens"
MARGIN = 20 * mm
WIDTH = A4[0] - 2 * MARGIN
_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
_ACCENT = colors.HexColor("#1F3A5F")
_WARN = colors.HexColor("#9C1C1C")
_GREY = colors.HexColor("#5A5A5A")
_LIGHT = colors.HexColor("#EEF2F7")


@dataclass
class Entry:
    """One customer on the printout (all values already formatted for print)."""

    nr: int
    key: str
    name_lines: list[str]
    address_lines: list[str]
    contact: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    group_heading: str | None = None  # set on the first location of an organisation with several


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """Regular and bold font names: DejaVu Sans when installed (wide Unicode), else reportlab's Vera."""
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("CdqSans", str(regular)))
            pdfmetrics.registerFont(TTFont("CdqSans-Bold", str(bold)))
            return "CdqSans", "CdqSans-Bold"
    pdfmetrics.registerFont(TTFont("CdqSans", "Vera.ttf"))
    pdfmetrics.registerFont(TTFont("CdqSans-Bold", "VeraBd.ttf"))
    return "CdqSans", "CdqSans-Bold"


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11.5)
    return {
        "base": base,
        "letter": ParagraphStyle("letter", parent=base, fontSize=10.5, leading=15, spaceAfter=8),
        "meta": ParagraphStyle("meta", parent=base, fontSize=10, leading=14),
        "subject": ParagraphStyle("subject", parent=base, fontName=bold, fontSize=12, leading=16,
                                  spaceBefore=10, spaceAfter=12, textColor=_ACCENT),
        "name": ParagraphStyle("name", parent=base, fontName=bold, fontSize=10, leading=12.5),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9, textColor=_GREY),
        "key": ParagraphStyle("key", parent=base, fontSize=7.5, leading=9, textColor=_GREY, alignment=TA_RIGHT),
        "label": ParagraphStyle("label", parent=base, fontName=bold, fontSize=8, leading=10, textColor=_GREY),
        "warn": ParagraphStyle("warn", parent=base, fontSize=8.5, leading=10.5, textColor=_WARN),
        "group": ParagraphStyle("group", parent=base, fontName=bold, fontSize=10, leading=13, textColor=_ACCENT,
                                spaceBefore=6, spaceAfter=3),
    }


#: Longest text printed in one field: a runaway value would be taller than a page (reportlab cannot
#: split a table cell), so it is cut with :data:`CUT` and the reader sees that it was.
FIELD_LIMIT = 300
CUT = " …[afgekapt]"


def fit(text: str, limit: int = FIELD_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with a visible marker.

    Examples:
        >>> fit("Jansen"), fit("x" * 20, 15)
        ('Jansen', 'xxx …[afgekapt]')
    """
    text = str(text)
    return text if len(text) <= limit else text[: max(limit - len(CUT), 0)] + CUT


def _p(text: str, style: str) -> Paragraph:
    """A paragraph of plain text (escaped: a customer's '&' or '<' is text, not markup), cut to fit."""
    return Paragraph(escape(fit(text)), _styles()[style])


class _NumberedCanvas(rl_canvas.Canvas):
    """Keeps every page's state so the footer can say 'pagina X van Y' once Y is known."""

    def __init__(self, *args, header=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._header = header

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._header(self, self._pageNumber, total)
            super().showPage()
        super().save()


def _page_furniture(adviser_label: str, run_date: dt.date):
    """A function drawing header and footer on a page (called with the page number and total)."""
    regular, bold = fonts()

    def draw(c: rl_canvas.Canvas, page: int, total: int) -> None:
        c.saveState()
        top = A4[1] - 12 * mm
        c.setFillColor(_ACCENT)
        c.setFont(bold, 9)
        c.drawString(MARGIN, top, TITLE)
        c.setFont(regular, 9)
        c.drawRightString(A4[0] - MARGIN, top, f"Adviseur: {adviser_label}")
        c.setFillColor(_GREY)
        c.setFont(regular, 7.5)
        c.drawRightString(A4[0] - MARGIN, top - 10, f"Rundatum: {date_nl(run_date)}")
        c.setStrokeColor(_ACCENT)
        c.setLineWidth(0.6)
        c.line(MARGIN, top - 14, A4[0] - MARGIN, top - 14)
        c.setLineWidth(0.3)
        c.line(MARGIN, 14 * mm, A4[0] - MARGIN, 14 * mm)
        c.setFont(regular, 7.5)
        c.drawString(MARGIN, 10 * mm, f"Vertrouwelijk: bevat persoonsgegevens  ·  {adviser_label}")
        c.drawRightString(A4[0] - MARGIN, 10 * mm, f"pagina {page} van {total}")
        c.restoreState()

    return draw


def _cover(adviser: str | None, adviser_label: str, entries: list[Entry], run_date: dt.date) -> list:
    """The cover letter flowables (one page)."""
    deadline = run_date + dt.timedelta(weeks=4)
    paragraphs = cover_letter(adviser, len(entries), run_date, deadline)
    flagged = sum(1 for e in entries if e.problems)
    meta = Table([[_p("Aan", "meta"), _p(adviser_label, "meta")],
                  [_p("Datum", "meta"), _p(date_nl(run_date), "meta")],
                  [_p("Aantal klanten", "meta"), _p(f"{len(entries)} (waarvan {flagged} met opvallende punten)",
                                                   "meta")],
                  [_p("Retour vóór", "meta"), _p(date_nl(deadline), "meta")]],
                 colWidths=[38 * mm, WIDTH - 38 * mm])
    meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("TOPPADDING", (0, 0), (-1, -1), 1)]))
    story = [Spacer(1, 12 * mm), meta, Spacer(1, 6 * mm), _p(f"Onderwerp: {TITLE.lower()} {run_date.year}",
                                                               "subject")]
    story += [_p(text, "letter") for text in paragraphs[:-2]]
    story += [Spacer(1, 4 * mm), _p(paragraphs[-2], "letter"), _p(paragraphs[-1], "letter"), PageBreak()]
    return story


def _boxes() -> Table:
    """The tick boxes (drawn cells, so they print in any font)."""
    cells = []
    for status in STATUSES:
        cells += ["", _p(status, "base")]
    regular, _ = fonts()
    text = [pdfmetrics.stringWidth(s, regular, 9) + 10 for s in STATUSES]
    spare = (WIDTH - 18 * mm - len(STATUSES) * 4 * mm - sum(text)) / len(STATUSES)
    widths = []
    for w in text:
        widths += [4 * mm, w + max(spare, 0)]
    table = Table([cells], colWidths=widths, rowHeights=[4.2 * mm])
    style: list[tuple[object, ...]] = [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 3),
             ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]
    style += [("BOX", (2 * i, 0), (2 * i, 0), 0.7, colors.black) for i in range(len(STATUSES))]
    table.setStyle(TableStyle(style))
    return table


def _block(entry: Entry) -> Table:
    """One customer: number and name, address | contact, problems, tick boxes, room for corrections."""
    left = [_p(line, "name") for line in entry.name_lines] + [_p(line, "base") for line in entry.address_lines]
    right = [Paragraph(f"<font color='#5A5A5A'>{escape(label)}</font>  {escape(fit(value))}", _styles()["base"])
             for label, value in entry.contact] or [_p("geen contactgegevens", "small")]
    rows = [[_p(f"Nr.\u00a0{entry.nr}", "name"), left, right],
            ["", _p(f"Sleutel: {entry.key}", "small"), ""]]
    if entry.problems:
        rows.append(["", [_p("Opvallend:", "label")] + [_p(f"• {t}", "warn") for t in entry.problems], ""])
    rows.append(["", _boxes(), ""])
    rows.append(["", _p("Correcties:", "label"), ""])
    rows += [["", "", ""], ["", "", ""], ["", "", ""]]  # two writing lines and a margin under them
    nr_w, right_w = 18 * mm, 62 * mm
    table = Table(rows, colWidths=[nr_w, WIDTH - nr_w - right_w, right_w],
                  rowHeights=[None] * (len(rows) - 3) + [6.5 * mm, 6.5 * mm, 2 * mm])
    n = len(rows) - 1
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOX", (0, 0), (-1, -1), 0.6, _ACCENT),
        ("BACKGROUND", (0, 0), (0, -1), _LIGHT),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("TOPPADDING", (0, 0), (-1, 0), 4),
        ("SPAN", (1, 2), (2, 2)), ("SPAN", (1, 3), (2, 3)),
        ("LINEBELOW", (1, n - 2), (2, n - 2), 0.3, _GREY), ("LINEBELOW", (1, n - 1), (2, n - 1), 0.3, _GREY),
    ]
    if entry.problems:
        style.append(("SPAN", (1, 4), (2, 4)))
    table.setStyle(TableStyle(style))
    return table


def render_pdf(path: str | Path, adviser: str | None, adviser_label: str, entries: list[Entry],
               run_date: dt.date) -> int:
    """Write the printout of one adviser to ``path``; return the number of pages.

    Args:
        path: the PDF to write.
        adviser: the adviser's name for the letter's salutation (None: records without an adviser).
        adviser_label: what the header and footer call the adviser.
        entries: the customers in print order.
        run_date: the date printed on every page.
    """
    path = Path(path)
    adviser_label = fit(adviser_label, 60)  # one header line
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN + 4 * mm, bottomMargin=MARGIN, title=f"{TITLE} {run_date.year}",
                            author="cdq", subject=adviser_label, invariant=1)
    story = _cover(adviser, adviser_label, entries, run_date)
    for entry in entries:
        block = [_block(entry), Spacer(1, 3 * mm)]
        if entry.group_heading:
            block.insert(0, _p(entry.group_heading, "group"))
        story.append(KeepTogether(block))
    furniture = _page_furniture(adviser_label, run_date)
    pages = {}

    def maker(*args, **kwargs):
        c = _NumberedCanvas(*args, header=furniture, **kwargs)
        pages["canvas"] = c
        return c

    doc.build(story, canvasmaker=maker)
    count = len(pages["canvas"]._pages)
    logger.info("printout: %d customers, %d pages", len(entries), count)
    return count
