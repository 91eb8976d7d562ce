"""Lays out a :class:`core.report_model.Report` on pages and paints it with QPainter.

The same code paints a PDF (``QPdfWriter``), a printer and the print preview (both
``QPrinter``): layout measures text with the device's own font metrics, so what is
previewed is what prints. Everything is drawn as vectors (text, rules, chart bars), so
print is sharp at any resolution; fonts are embedded by Qt's PDF engine.

Layout first, paint second: the layout pass cuts the report into pages (each a list of
drawing steps), so the running footer can say "Page 3 of 12". Tables continue across
pages with their title and header repeated; a row is never split; numbers are
right-aligned and their units are in the header. All text is drawn with
``QPainter.drawText`` as plain text, so a model called ``<b>x</b>`` prints literally.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from core import APP_NAME
from core.report import ReportCancelled
from core.report_model import (
    Chart,
    KeyFigure,
    Paragraph,
    Report,
    SignOff,
    Table,
    format_number,
)
from ui import palette

#: preferred families in order; the first installed one is used (all embeddable)
FONT_FAMILIES = (
    "Source Sans 3",
    "Segoe UI",
    "Helvetica Neue",
    "Arial",
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
)
PAPERS = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
#: sections that start a new page unless this share of the page is still free below
#: (so a short section does not leave most of a page empty); the summary and the charts
#: always start a page
SECTION_ROOM = {"breakdown": 0.4, "methodology": 0.3}
#: a table starts on the current page when its title, header and this many rows fit
#: (all of them if it has fewer); the rest continues on the next page
MIN_TABLE_ROWS = 3
#: territories that use US Letter paper; everyone else uses A4
LETTER_TERRITORIES = ("UnitedStates", "Canada", "Mexico", "Philippines", "Chile", "Colombia")

TEXT = QColor("#1f2328")
MUTED = QColor("#5a6270")
RULE = QColor("#9aa3ad")
HEADER_FILL = QColor("#e6ebf0")
ZEBRA = QColor("#f5f7f9")
ACCENT = QColor(palette.BLUE)

Progress = Callable[[float, str], None]


class RenderCancelled(ReportCancelled):
    """Rendering was cancelled by the user (nothing is written)."""


def default_paper(locale_territory: str) -> str:
    """``letter`` for territories that use US Letter, else ``a4``."""
    return "letter" if locale_territory in LETTER_TERRITORIES else "a4"


def page_layout(paper: str) -> QPageLayout:
    size = QPageSize(PAPERS.get(paper.lower(), QPageSize.PageSizeId.A4))
    return QPageLayout(
        size,
        QPageLayout.Orientation.Portrait,
        QMarginsF(16, 14, 16, 14),
        QPageLayout.Unit.Millimeter,
    )


def report_font_family() -> str:
    families = set(QFontDatabase.families())
    return next((f for f in FONT_FAMILIES if f in families), QFont().family())


@dataclass
class _Page:
    steps: list[Callable[[QPainter], None]] = field(default_factory=list)
    cover: bool = False


class ReportLayout:
    """Cuts a report into pages for one paint device and paints them."""

    def __init__(
        self,
        report: Report,
        device: QPagedPaintDevice,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        self.report = report
        self.device = device
        self.progress = progress or (lambda _f, _t: None)
        self.cancelled = cancelled or (lambda: False)
        self.dpi = device.logicalDpiY()
        rect = device.pageLayout().paintRectPixels(self.dpi)
        self.width, self.height = float(rect.width()), float(rect.height())
        family = report_font_family()
        self.fonts = {
            "body": self._font(family, 9.5),
            "small": self._font(family, 8),
            "table": self._font(family, 8),
            "table_bold": self._font(family, 8, bold=True),
            "h1": self._font(family, 16, bold=True),
            "h2": self._font(family, 11, bold=True),
            "title": self._font(family, 24, bold=True),
            "kf_value": self._font(family, 15, bold=True),
            "kf_label": self._font(family, 8.5, bold=True),
        }
        self.metrics = {k: QFontMetricsF(f, device) for k, f in self.fonts.items()}
        self.header_h = self.pt(22)
        self.footer_h = self.pt(22)
        self.top = self.header_h
        self.bottom = self.height - self.footer_h
        self.pages: list[_Page] = []
        self.y = 0.0
        self._last_style = ""  # style of the last paragraph laid out ("" after others)

    # -- units and fonts ------------------------------------------------------------

    def pt(self, points: float) -> float:
        """Points (1/72 inch) in device pixels."""
        return points * self.dpi / 72.0

    def _font(self, family: str, size: float, bold: bool = False) -> QFont:
        font = QFont(family)
        font.setPointSizeF(size)
        font.setBold(bold)
        font.setKerning(True)
        # no ligatures: text copied or searched in the PDF reads "file", not "ﬁle"
        for tag in ("liga", "clig"):
            font.setFeature(QFont.Tag(tag), 0)
        return font

    def text_height(self, text: str, font: str, width: float) -> float:
        fm = self.metrics[font]
        if "\n" not in text and fm.horizontalAdvance(text) <= width:
            return fm.height()
        flags = int(Qt.TextFlag.TextWordWrap)
        return fm.boundingRect(QRectF(0, 0, width, 1e7), flags, text).height()

    # -- pages ----------------------------------------------------------------------

    def new_page(self, cover: bool = False) -> None:
        self.pages.append(_Page(cover=cover))
        self.y = 0.0 if cover else self.top + self.pt(6)
        self._last_style = ""

    def at_top(self) -> bool:
        """Nothing has been laid out on the current page yet."""
        return self.y <= self.top + self.pt(6)

    def room(self) -> float:
        return self.bottom - self.pt(4) - self.y

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the current position."""
        if height > self.room():
            self.new_page()

    def add(self, step: Callable[[QPainter], None]) -> None:
        self.pages[-1].steps.append(step)

    # -- layout ---------------------------------------------------------------------

    def layout(self) -> int:
        """Lay out the whole report; returns the number of pages."""
        self.pages = []
        self.new_page(cover=True)
        self._cover()
        n = max(1, sum(len(s.blocks) for s in self.report.sections))
        done = 0
        page_h = self.bottom - self.top
        for section in self.report.sections:
            if self.pages[-1].cover or section.key in ("summary", "charts"):
                self.new_page()
            elif section.key in SECTION_ROOM:
                if self.room() < SECTION_ROOM[section.key] * page_h:
                    self.new_page()
            elif section.key == "signoff":
                self.ensure(self._sign_off_height(section.blocks))
            else:
                self.ensure(self.pt(120))
            if not self.at_top():
                self.y += self.pt(12)  # room above a section that starts mid-page
            self._heading(section.title)
            blocks = section.blocks
            i = 0
            while i < len(blocks):
                if self.cancelled():
                    raise RenderCancelled
                block = blocks[i]
                if isinstance(block, KeyFigure):
                    run = []
                    while i < len(blocks) and isinstance(blocks[i], KeyFigure):
                        run.append(blocks[i])
                        i += 1
                    self._key_figures(run)
                    continue
                if not isinstance(block, Paragraph):
                    self._last_style = ""
                if isinstance(block, Table):
                    self._table(block)
                elif isinstance(block, Chart):
                    self._chart(block)
                elif isinstance(block, SignOff):
                    self._sign_off(block)
                elif isinstance(block, Paragraph):
                    self._paragraph(block)
                i += 1
                done += 1
                self.progress(0.8 * done / n, f"Laying out {section.title.lower()}")
        return len(self.pages)

    def _heading(self, title: str) -> None:
        h = self.text_height(title, "h1", self.width)
        self.ensure(h + self.pt(80))
        y = self.y
        self.add(
            lambda p, y=y: self._draw_text(p, QRectF(0, y, self.width, h), title, "h1", ACCENT)
        )
        self.y += h + self.pt(10)

    def _cover(self) -> None:
        m = self.report.meta
        w = self.width
        y = self.height * 0.16
        org = m.get("organisation") or ""
        lines: list[tuple[str, str, QColor, float]] = []
        if org:
            lines.append((org, "h2", MUTED, 10))
        lines.append((m.get("title", "Report"), "title", TEXT, 8))
        lines.append((f"{m.get('period', '')}  ({m.get('period_dates', '')})", "h1", ACCENT, 30))
        for text, font, color, gap in lines:
            h = self.text_height(text, font, w)
            self.add(
                lambda p, t=text, f=font, c=color, y=y, h=h: self._draw_text(
                    p, QRectF(0, y, w, h), t, f, c
                )
            )
            y += h + self.pt(gap)
        rows = [
            ("Inventory file", m.get("inventory", "")),
            ("Scope", m.get("scope", "")),
            ("Prepared by", m.get("preparer", "")),
            ("Status", m.get("status", "")),
            *([("Closed snapshot", m["snapshot"])] if m.get("snapshot") else []),
            ("Embodied convention", m.get("convention", "")),
            ("Uncertainty", m.get("uncertainty", "")),
            ("Generated", m.get("generated", "")),
            ("Application", f"{APP_NAME} {m.get('app_version', '')}"),
        ]
        label_w = self.pt(120)
        for label, value in rows:
            h = max(self.text_height(value, "body", w - label_w), self.metrics["body"].height())
            self.add(
                lambda p, label=label, value=value, y=y, h=h: (
                    self._draw_text(p, QRectF(0, y, label_w, h), label, "kf_label", MUTED),
                    self._draw_text(p, QRectF(label_w, y, w - label_w, h), value, "body", TEXT),
                )
            )
            y += h + self.pt(5)
        y += self.pt(18)
        t = self.report.totals
        figures = [
            ("Market-based emissions", f"{format_number(t.get('market_kgco2e'))} kgCO2e"),
            ("Location-based emissions", f"{format_number(t.get('location_kgco2e'))} kgCO2e"),
            ("Energy", f"{format_number(t.get('energy_kwh'))} kWh"),
        ]
        box_w = (w - 2 * self.pt(10)) / 3
        box_h = self.pt(52)
        for i, (label, value) in enumerate(figures):
            x = i * (box_w + self.pt(10))
            self.add(
                lambda p, x=x, y=y, label=label, value=value: self._card(
                    p, QRectF(x, y, box_w, box_h), label, value, ""
                )
            )
        self.y = y + box_h

    def _paragraph(self, para: Paragraph) -> None:
        font = {"note": "small", "heading": "h2"}.get(para.style, "body")
        indent = self.pt(14) if para.style in ("formula", "bullet") else 0.0
        w = self.width - indent
        h = self.text_height(para.text, font, w)
        listed = para.style in ("formula", "bullet")
        gap = self.pt(3) if listed else self.pt(7)
        if para.style == "heading":
            self.ensure(h + self.pt(40))
            self.y += self.pt(4)
        else:
            self.ensure(h)
            if not listed and self._last_style in ("formula", "bullet") and not self.at_top():
                self.y += self.pt(5)  # a list of formulas or bullets ends: set it apart
        self._last_style = para.style
        y = self.y
        color = MUTED if para.style == "note" else TEXT

        def draw(p: QPainter, y: float = y) -> None:
            if para.style == "bullet":
                self._draw_text(p, QRectF(self.pt(4), y, indent, h), "•", font, MUTED)
            self._draw_text(p, QRectF(indent, y, w, h), para.text, font, color)

        self.add(draw)
        self.y += h + gap

    def _key_figures(self, figures: list[KeyFigure]) -> None:
        cols = 2
        gap = self.pt(10)
        box_w = (self.width - gap * (cols - 1)) / cols
        inner = box_w - self.pt(16)
        heights = [
            self.pt(16)
            + self.metrics["kf_label"].height()
            + self.metrics["kf_value"].height()
            + self.text_height(f.detail, "small", inner)
            + self.pt(6)
            for f in figures
        ]
        for row in range(0, len(figures), cols):
            h = max(heights[row : row + cols])
            self.ensure(h)
            for c, f in enumerate(figures[row : row + cols]):
                x = c * (box_w + gap)
                value = f.text if f.value is not None else f.detail
                detail = f.detail if f.value is not None else ""
                self.add(
                    lambda p, x=x, y=self.y, f=f, v=value, d=detail, h=h: self._card(
                        p, QRectF(x, y, box_w, h), f.label, v, d
                    )
                )
            self.y += h + gap
        self.y += self.pt(2)

    def _card(self, p: QPainter, r: QRectF, label: str, value: str, detail: str) -> None:
        p.setPen(QPen(RULE, self.pt(0.5)))
        p.setBrush(QColor("#fafbfc"))
        p.drawRect(r)
        p.fillRect(QRectF(r.left(), r.top(), self.pt(3), r.height()), ACCENT)
        x, w = r.left() + self.pt(10), r.width() - self.pt(16)
        y = r.top() + self.pt(7)
        lh = self.metrics["kf_label"].height()
        self._draw_text(p, QRectF(x, y, w, lh), label, "kf_label", MUTED)
        y += lh + self.pt(2)
        vh = self.metrics["kf_value"].height()
        self._draw_text(p, QRectF(x, y, w, vh), value, "kf_value", TEXT)
        y += vh + self.pt(1)
        if detail:
            self._draw_text(p, QRectF(x, y, w, r.bottom() - y), detail, "small", MUTED)

    # -- tables ---------------------------------------------------------------------

    def _table(self, table: Table) -> None:
        pad = self.pt(3)
        rows = [(table.formatted(r), "table", i % 2 == 1) for i, r in enumerate(table.rows)]
        if table.total is not None:
            rows.append((table.formatted(table.total), "table_bold", False))
        widths = self._column_widths(table, rows, pad)
        xs = [sum(widths[:i]) for i in range(len(widths))]
        title_h = self.text_height(table.title, "h2", self.width) + self.pt(4)
        header_cells = [c.title for c in table.columns]
        header_h = (
            max(
                self.text_height(t, "table_bold", w - 2 * pad)
                for t, w in zip(header_cells, widths, strict=True)
            )
            + 2 * pad
        )

        def row_height(cells: list[str], font: str) -> float:
            h = 0.0
            for text, w, col in zip(cells, widths, table.columns, strict=True):
                if col.numeric:
                    continue
                h = max(h, self.text_height(text, font, w - 2 * pad))
            return max(h, self.metrics[font].height()) + 2 * pad

        def start(continued: bool) -> None:
            title = table.title + ("  (continued)" if continued else "")
            y = self.y
            self.add(
                lambda p, y=y: self._draw_text(
                    p, QRectF(0, y, self.width, title_h), title, "h2", TEXT
                )
            )
            y += title_h
            self.add(
                lambda p, y=y: self._header_row(
                    p, y, header_h, header_cells, xs, widths, table, pad
                )
            )
            self.y = y + header_h

        # start here if the title, the header and the first rows fit, else on a new page
        first_h = sum(row_height(c, f) for c, f, _ in rows[:MIN_TABLE_ROWS])
        if len(rows) == MIN_TABLE_ROWS + 1:  # never leave the total row alone
            first_h += row_height(rows[-1][0], rows[-1][1])
        self.ensure(title_h + header_h + first_h)
        start(False)
        if not rows:
            h = self.metrics["table"].height() + 2 * pad
            self.add(
                lambda p, y=self.y: self._draw_text(
                    p,
                    QRectF(pad, y + pad, self.width, h),
                    "No entries in this period.",
                    "table",
                    MUTED,
                )
            )
            self.y += h
        for n, (cells, font, zebra) in enumerate(rows):
            if n % 500 == 0 and self.cancelled():
                raise RenderCancelled
            h = row_height(cells, font)
            if h > self.room():
                self.new_page()
                start(True)
            is_total = font == "table_bold" and table.total is not None and n == len(rows) - 1
            self.add(
                lambda p, y=self.y, c=cells, f=font, z=zebra, h=h, t=is_total: self._body_row(
                    p, y, h, c, xs, widths, table, pad, f, z, t
                )
            )
            self.y += h
        self.add(lambda p, y=self.y: self._rule(p, y, 0.8))
        self.y += self.pt(4)
        if table.note:
            h = self.text_height(table.note, "small", self.width)
            self.ensure(h)
            self.add(
                lambda p, y=self.y, h=h: self._draw_text(
                    p, QRectF(0, y, self.width, h), table.note, "small", MUTED
                )
            )
            self.y += h
        self.y += self.pt(12)

    def _column_widths(
        self, table: Table, rows: list[tuple[list[str], str, bool]], pad: float
    ) -> list[float]:
        """Column widths in proportion to ``Column.width``, widened where a header word
        or a number (neither wraps) would not fit, taking the room from columns with
        room to spare."""
        total_w = sum(c.width for c in table.columns)
        widths = [self.width * c.width / total_w for c in table.columns]
        bold = self.metrics["table_bold"]
        need = []
        for i, col in enumerate(table.columns):
            words = col.title.split()
            w = max((bold.horizontalAdvance(word) for word in words), default=0.0)
            if col.numeric:  # numbers never wrap: the widest must fit (totals are bold)
                w = max([w, *(bold.horizontalAdvance(cells[i]) for cells, _, _ in rows)])
            need.append(w + 2 * pad + self.pt(1))
        short = sum(max(n - w, 0.0) for n, w in zip(need, widths, strict=True))
        spare = [max(w - n, 0.0) for n, w in zip(need, widths, strict=True)]
        if short <= 0 or sum(spare) <= short:
            return widths  # fits as is, or cannot be helped (text then wraps or clips)
        scale = short / sum(spare)
        return [
            max(n, w - s * scale) if n > w else w - s * scale
            for n, w, s in zip(need, widths, spare, strict=True)
        ]

    def _header_row(self, p, y, h, cells, xs, widths, table, pad) -> None:
        p.fillRect(QRectF(0, y, self.width, h), HEADER_FILL)
        self._rule(p, y, 0.8)
        for text, x, w, col in zip(cells, xs, widths, table.columns, strict=True):
            align = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            self._draw_text(
                p,
                QRectF(x + pad, y + pad, w - 2 * pad, h - 2 * pad),
                text,
                "table_bold",
                TEXT,
                align | Qt.AlignmentFlag.AlignBottom,
            )
        self._rule(p, y + h, 0.5)

    def _body_row(self, p, y, h, cells, xs, widths, table, pad, font, zebra, total) -> None:
        if zebra:
            p.fillRect(QRectF(0, y, self.width, h), ZEBRA)
        if total:
            self._rule(p, y, 0.6)
        for text, x, w, col in zip(cells, xs, widths, table.columns, strict=True):
            align = Qt.AlignmentFlag.AlignRight if col.numeric else Qt.AlignmentFlag.AlignLeft
            self._draw_text(
                p,
                QRectF(x + pad, y + pad, w - 2 * pad, h - 2 * pad),
                text,
                font,
                TEXT,
                align | Qt.AlignmentFlag.AlignTop,
            )

    def _rule(
        self, p: QPainter, y: float, width_pt: float, x0: float = 0.0, x1: float | None = None
    ) -> None:
        p.setPen(QPen(RULE, self.pt(width_pt)))
        p.drawLine(QPointF(x0, y), QPointF(self.width if x1 is None else x1, y))

    # -- charts ---------------------------------------------------------------------

    def _chart(self, chart: Chart) -> None:
        title_h = self.text_height(chart.title, "h2", self.width) + self.pt(4)
        n = len(chart.categories)
        plot_h = self.pt(170) if chart.kind != "bars" else self.pt(19) * max(n, 1) + self.pt(30)
        self.ensure(title_h + plot_h)
        y = self.y
        self.add(
            lambda p, y=y: self._draw_text(
                p, QRectF(0, y, self.width, title_h), chart.title, "h2", TEXT
            )
        )
        rect = QRectF(0, y + title_h, self.width, plot_h)
        draw = self._draw_bars if chart.kind == "bars" else self._draw_columns
        self.add(lambda p, r=rect: draw(p, r, chart))
        self.y = y + title_h + plot_h + self.pt(16)

    def _color(self, key: str) -> QColor:
        named = {"location": palette.LOCATION, "market": palette.MARKET, "savings": palette.SAVINGS}
        return QColor(palette.PHASE_COLORS.get(key) or named.get(key) or palette.NEUTRAL)

    def _legend(self, p: QPainter, x: float, y: float, items: list[tuple[str, str]]) -> float:
        fm = self.metrics["small"]
        sw = self.pt(8)
        for name, key in items:
            p.fillRect(QRectF(x, y + (fm.height() - sw) / 2, sw, sw), self._color(key))
            x += sw + self.pt(4)
            tw = fm.horizontalAdvance(name)
            self._draw_text(p, QRectF(x, y, tw + self.pt(2), fm.height()), name, "small", TEXT)
            x += tw + self.pt(14)
        return fm.height()

    def _draw_columns(self, p: QPainter, r: QRectF, chart: Chart) -> None:
        fm = self.metrics["small"]
        legend_h = self._legend(p, r.left(), r.top(), [(s.name, s.color) for s in chart.series])
        stacked = chart.kind == "stacked"
        n = len(chart.categories)
        if stacked:
            tops = [sum(max(s.values[i], 0) for s in chart.series) for i in range(n)]
            lows = [sum(min(s.values[i], 0) for s in chart.series) for i in range(n)]
        else:
            tops = [max([0.0, *(s.values[i] for s in chart.series)]) for i in range(n)]
            lows = [min([0.0, *(s.values[i] for s in chart.series)]) for i in range(n)]
        ticks = nice_ticks(min(lows, default=0.0), max(tops, default=0.0))
        step = ticks[1] - ticks[0]
        labels = [format_number(t, 0 if step >= 1 else 2) for t in ticks]
        axis_w = max(fm.horizontalAdvance(t) for t in labels) + self.pt(6)
        unit_y = r.top() + legend_h + self.pt(4)
        plot = QRectF(r.left() + axis_w, unit_y + fm.height() + self.pt(8), r.width() - axis_w, 0)
        plot.setBottom(r.bottom() - fm.height() - self.pt(6))
        lo, hi = ticks[0], ticks[-1]

        def ypos(v: float) -> float:
            return plot.bottom() - (v - lo) / (hi - lo) * plot.height()

        for t, label in zip(ticks, labels, strict=True):
            y = ypos(t)
            p.setPen(QPen(QColor("#d5dae0") if t else RULE, self.pt(0.4 if t else 0.8)))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            self._draw_text(
                p,
                QRectF(r.left(), y - fm.height() / 2, axis_w - self.pt(4), fm.height()),
                label,
                "small",
                MUTED,
                Qt.AlignmentFlag.AlignRight,
            )
        self._draw_text(
            p, QRectF(r.left(), unit_y, self.width, fm.height()), chart.unit, "small", MUTED
        )
        slot = plot.width() / max(n, 1)
        for i, cat in enumerate(chart.categories):
            x0 = plot.left() + i * slot
            self._draw_text(
                p,
                QRectF(x0, plot.bottom() + self.pt(3), slot, fm.height()),
                cat,
                "small",
                TEXT,
                Qt.AlignmentFlag.AlignHCenter,
            )
            if stacked:
                bw = slot * 0.56
                x = x0 + (slot - bw) / 2
                pos = neg = 0.0
                for s in chart.series:
                    v = s.values[i]
                    base = pos if v >= 0 else neg
                    top = base + v
                    y1, y2 = ypos(base), ypos(top)
                    p.fillRect(QRectF(x, min(y1, y2), bw, abs(y1 - y2)), self._color(s.color))
                    if v >= 0:
                        pos = top
                    else:
                        neg = top
            else:
                k = len(chart.series)
                bw = slot * 0.72 / k
                for j, s in enumerate(chart.series):
                    x = x0 + slot * 0.14 + j * bw
                    y1, y2 = ypos(0.0), ypos(s.values[i])
                    p.fillRect(
                        QRectF(x + bw * 0.06, min(y1, y2), bw * 0.88, abs(y1 - y2)),
                        self._color(s.color),
                    )

    def _draw_bars(self, p: QPainter, r: QRectF, chart: Chart) -> None:
        fm = self.metrics["small"]
        values = chart.series[0].values if chart.series else []
        kinds = sorted(set(chart.category_colors), key=list(palette.PHASE_COLORS).index)
        legend_h = self._legend(p, r.left(), r.top(), [(k.capitalize(), k) for k in kinds])
        label_w = r.width() * 0.34
        value_w = self.pt(70)
        plot = QRectF(
            r.left() + label_w, r.top() + legend_h + self.pt(8), r.width() - label_w - value_w, 0
        )
        plot.setBottom(r.bottom() - self.pt(4))
        top = max([0.0, *values])
        row_h = plot.height() / max(len(values), 1)
        for i, (cat, v) in enumerate(zip(chart.categories, values, strict=True)):
            y = plot.top() + i * row_h
            name = fm.elidedText(cat, Qt.TextElideMode.ElideRight, label_w - self.pt(6))
            self._draw_text(
                p,
                QRectF(r.left(), y, label_w - self.pt(6), row_h),
                name,
                "small",
                TEXT,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            )
            bw = plot.width() * (max(v, 0.0) / top if top else 0.0)
            color = chart.category_colors[i] if i < len(chart.category_colors) else "neutral"
            p.fillRect(QRectF(plot.left(), y + row_h * 0.18, bw, row_h * 0.64), self._color(color))
            self._draw_text(
                p,
                QRectF(plot.left() + bw + self.pt(4), y, value_w + plot.width() - bw, row_h),
                f"{format_number(v)} {chart.unit}",
                "small",
                MUTED,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            )
        p.setPen(QPen(RULE, self.pt(0.8)))
        p.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.left(), plot.bottom()))

    # -- sign-off -------------------------------------------------------------------

    SIGN_ROW = 56.0  # points per signature row

    def _sign_off_height(self, blocks: list) -> float:
        """The whole sign-off section's height: it is kept on one page."""
        h = self.text_height("Sign-off", "h1", self.width) + self.pt(10)
        for b in blocks:
            if isinstance(b, Paragraph):
                h += self.text_height(b.text, "body", self.width) + self.pt(7)
            elif isinstance(b, SignOff):
                h += self.pt(self.SIGN_ROW) * len(b.roles)
        return h + self.pt(12)

    def _sign_off(self, block: SignOff) -> None:
        row_h = self.pt(self.SIGN_ROW)
        self.y += self.pt(6)
        self.ensure(row_h * len(block.roles))
        for role, name in block.roles:
            y = self.y
            self.add(lambda p, y=y, role=role, name=name: self._sign_row(p, y, role, name))
            self.y += row_h

    def _sign_row(self, p: QPainter, y: float, role: str, name: str) -> None:
        lh = self.metrics["body"].height()
        self._draw_text(p, QRectF(0, y, self.width * 0.3, lh), role, "kf_label", MUTED)
        line_y = y + self.pt(30)
        cols = (("Name", 0.0, 0.38), ("Signature", 0.42, 0.78), ("Date", 0.82, 1.0))
        for label, a, b in cols:
            x0, x1 = self.width * a, self.width * b
            self._rule(p, line_y, 0.6, x0, x1)
            self._draw_text(p, QRectF(x0, line_y + self.pt(1), x1 - x0, lh), label, "small", MUTED)
        if name:
            self._draw_text(
                p, QRectF(0, line_y - lh - self.pt(2), self.width * 0.38, lh), name, "body", TEXT
            )

    # -- painting -------------------------------------------------------------------

    def _draw_text(
        self,
        p: QPainter,
        r: QRectF,
        text: str,
        font: str,
        color: QColor,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    ) -> None:
        p.setFont(self.fonts[font])
        p.setPen(color)
        p.drawText(r, int(align) | int(Qt.TextFlag.TextWordWrap), text)

    def _running(self, p: QPainter, number: int, total: int) -> None:
        m = self.report.meta
        fm = self.metrics["small"]
        h = fm.height()
        left = " · ".join(x for x in (m.get("organisation"), m.get("title"), m.get("period")) if x)
        if number > 1:
            status = m.get("header_status") or m.get("status", "")
            half = self.width * 0.62
            self._draw_text(
                p,
                QRectF(0, 0, half, h),
                fm.elidedText(left, Qt.TextElideMode.ElideRight, half),
                "small",
                MUTED,
            )
            right = fm.elidedText(
                status, Qt.TextElideMode.ElideRight, self.width - half - self.pt(8)
            )
            self._draw_text(
                p,
                QRectF(half, 0, self.width - half, h),
                right,
                "small",
                MUTED,
                Qt.AlignmentFlag.AlignRight,
            )
            self._rule(p, h + self.pt(4), 0.5)
        y = self.height - h
        self._rule(p, y - self.pt(5), 0.5)
        foot = (
            f"{m.get('inventory', '')} · generated {m.get('generated', '')} · "
            f"{APP_NAME} {m.get('app_version', '')}"
        )
        page = f"Page {number} of {total}"
        pw = fm.horizontalAdvance(page) + self.pt(4)
        self._draw_text(
            p,
            QRectF(0, y, self.width - pw - self.pt(8), h),
            fm.elidedText(foot, Qt.TextElideMode.ElideMiddle, self.width - pw - self.pt(8)),
            "small",
            MUTED,
        )
        self._draw_text(
            p, QRectF(self.width - pw, y, pw, h), page, "small", TEXT, Qt.AlignmentFlag.AlignRight
        )

    def paint(self, painter: QPainter | None = None) -> int:
        """Paint the laid-out pages on the device; returns the number of pages."""
        if not self.pages:
            self.layout()
        own = painter is None
        p = painter or QPainter()
        if own and not p.begin(self.device):
            raise OSError("cannot start painting (is the output file writable?)")
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            total = len(self.pages)
            for i, page in enumerate(self.pages):
                if self.cancelled():
                    raise RenderCancelled
                if i:
                    self.device.newPage()
                for step in page.steps:
                    step(p)
                self._running(p, i + 1, total)
                self.progress(0.8 + 0.2 * (i + 1) / total, f"Drawing page {i + 1} of {total}")
        finally:
            if own:
                p.end()
        return len(self.pages)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks covering ``low``..``high`` (always including 0)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        return [0.0, 1.0]
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(low / step) * step
    ticks = []
    t = start
    while t < high + step * 0.999:
        ticks.append(round(t, 10))
        t += step
    return ticks


def render(
    report: Report,
    device: QPagedPaintDevice,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Lay out and paint ``report`` on a printer or PDF writer; returns the page count."""
    layout = ReportLayout(report, device, progress, cancelled)
    layout.layout()
    return layout.paint()


def write_pdf(
    report: Report,
    path: str | os.PathLike[str],
    paper: str = "a4",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write ``report`` as a PDF at ``path`` (written beside it, then renamed into
    place, so a failed run leaves no half-written file). Returns the page count."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    writer = QPdfWriter(str(tmp))
    writer.setResolution(1200)
    writer.setPageLayout(page_layout(paper))
    writer.setTitle(f"{report.meta.get('title', 'Report')} {report.meta.get('period', '')}")
    writer.setCreator(f"{APP_NAME} {report.meta.get('app_version', '')}")
    try:
        pages = render(report, writer, progress, cancelled)
        del writer  # closes the file
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return pages


def write_pdf_headless(report: Report, path: str | os.PathLike[str], paper: str = "a4") -> int:
    """:func:`write_pdf` from the command line: starts Qt without a window (offscreen
    when there is no display) if no application runs yet."""
    if QGuiApplication.instance() is None:
        headless = not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
        if sys.platform.startswith("linux") and headless:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication([])
        try:
            return write_pdf(report, path, paper)
        finally:
            del app
    return write_pdf(report, path, paper)
