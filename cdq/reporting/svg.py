"""Tiny inline-SVG charts (horizontal bars, grouped bars, histograms with marker lines).

The run report must be one self-contained file that opens anywhere, offline, without JavaScript, so
charts are drawn as SVG text here instead of pulling in a plotting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

PALETTE = ["#2f6fab", "#e08a2c", "#3a9a5b", "#b8443f", "#7a5ba8", "#8c8c8c"]
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _fmt(value: float) -> str:
    """Compact number labels: 1234 → '1,234', 0.25 → '0.25'.

    Examples:
        >>> _fmt(1234), _fmt(0.25), _fmt(3.0)
        ('1,234', '0.25', '3')
    """
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}"


def empty(title: str, message: str = "no data in this run") -> str:
    """A placeholder box so that every section keeps its place."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="60" role="img" aria-label="{escape(title)}">'
            f'<rect width="560" height="60" fill="#f6f6f6"/><text x="12" y="35" {_FONT} fill="#666">'
            f'{escape(message)}</text></svg>')


def bars(labels: Sequence[str], series: dict[str, Sequence[float]], title: str, *, width: int = 640,
         percent: bool = False) -> str:
    """Horizontal bars, one group per label, one bar per series (legend when more than one).

    Examples:
        >>> svg = bars(["a", "b"], {"rows": [3, 1]}, "Rows")
        >>> svg.startswith("<svg") and svg.count("<rect") == 3
        True
    """
    if not len(labels):
        return empty(title)
    names = list(series)
    bar_h, gap, left, top = 14, 8, min(260, 20 + 7 * max(len(str(x)) for x in labels)), 24 if len(names) > 1 else 8
    group_h = bar_h * len(names) + gap
    height = top + group_h * len(labels) + 8
    peak = max(max((float(v) for v in vals), default=0) for vals in series.values()) or 1.0
    scale = (width - left - 70) / (100.0 if percent else peak)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><rect width="{width}" height="{height}" fill="white"/>']
    if len(names) > 1:
        for k, name in enumerate(names):
            parts.append(f'<rect x="{left + k * 130}" y="4" width="12" height="12" fill="{PALETTE[k % 6]}"/>'
                         f'<text x="{left + k * 130 + 16}" y="14" {_FONT}>{escape(name)}</text>')
    for i, label in enumerate(labels):
        y0 = top + i * group_h
        parts.append(f'<text x="{left - 6}" y="{y0 + group_h / 2 + 2}" text-anchor="end" {_FONT}>'
                     f'{escape(str(label))}</text>')
        for k, name in enumerate(names):
            value = float(series[name][i])
            y = y0 + k * bar_h
            parts.append(f'<rect x="{left}" y="{y}" width="{max(value * scale, 0.5):.1f}" height="{bar_h - 2}" '
                         f'fill="{PALETTE[k % 6]}"><title>{escape(name)}: {_fmt(value)}</title></rect>'
                         f'<text x="{left + value * scale + 4:.1f}" y="{y + bar_h - 4}" {_FONT} font-size="11">'
                         f'{_fmt(value)}{"%" if percent else ""}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float] | np.ndarray, title: str, *, bins: int | Sequence[float] | np.ndarray = 20,
              markers: dict[str, float] | None = None, x_label: str = "", width: int = 640,
              height: int = 260) -> str:
    """A histogram of ``values``; ``markers`` draws labelled vertical lines (e.g. thresholds).

    Examples:
        >>> svg = histogram([0.1, 0.2, 0.9], "Scores", bins=[0, 0.5, 1], markers={"review": 0.6})
        >>> "review" in svg and svg.count('class="bin"') == 2
        True
    """
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if not len(finite):
        return empty(title)
    counts, edges = np.histogram(finite, bins=bins)
    lo, hi = float(edges[0]), float(edges[-1])
    for value in (markers or {}).values():
        lo, hi = min(lo, value), max(hi, value)
    left, right, top, bottom = 50, 20, 18, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    x = lambda v: left + (v - lo) / ((hi - lo) or 1.0) * plot_w  # noqa: E731
    peak = counts.max() or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" {_FONT}>{_fmt(peak)}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" {_FONT}>0</text>']
    for count, a, b in zip(counts, edges[:-1], edges[1:]):
        h = count / peak * plot_h
        parts.append(f'<rect class="bin" x="{x(a) + 0.5:.1f}" y="{top + plot_h - h:.1f}" '
                     f'width="{max(x(b) - x(a) - 1, 0.5):.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
                     f'<title>{_fmt(a)} to {_fmt(b)}: {_fmt(count)}</title></rect>')
    for tick in np.linspace(lo, hi, 6):
        parts.append(f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" {_FONT}>'
                     f'{tick:.3g}</text>')
    for k, (name, value) in enumerate((markers or {}).items()):
        parts.append(f'<line x1="{x(value):.1f}" y1="{top}" x2="{x(value):.1f}" y2="{top + plot_h}" '
                     f'stroke="{PALETTE[3 - k % 2]}" stroke-width="2" stroke-dasharray="5,3"/>'
                     f'<text x="{x(value) + 4:.1f}" y="{top + 12 + 14 * k}" {_FONT} fill="{PALETTE[3 - k % 2]}">'
                     f'{escape(name)}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" {_FONT}>'
                 f'{escape(x_label)}</text></svg>')
    return "".join(parts)
