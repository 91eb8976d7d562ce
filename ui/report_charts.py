"""Lays out and paints report charts as vectors: grouped or stacked columns with a value
axis, and horizontal bars with their values. Sizes are device pixels; values are in the
chart's own unit."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from core.report_model import Chart, format_number
from ui import palette
from ui.report_canvas import ReportCanvas
from ui.report_style import MUTED, RULE, TEXT


class ChartPainter(ReportCanvas):
    """Charts of a report, each kept whole on one page."""

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
