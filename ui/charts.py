"""Dashboard charts on pyqtgraph: stacked trend, location vs market, horizontal bars.

Imported only when the dashboard is first shown (pyqtgraph is not loaded at start-up).
Every chart is a :class:`ChartPanel`: a title, a legend row above the plot (legends never
cover data), the plot, and buttons to reset the view and to export the chart as a PNG
(twice the screen resolution), to the clipboard, or its data as CSV. The plot items are
kept in ``ChartPanel.items`` by series name so tests can read what each was handed.

Emissions arrive in kgCO2e; each chart scales them to kgCO2e or tCO2e by magnitude and
says which in its axis title. Axis numbers carry thousands separators.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from core.dashboard import PHASE_LABELS, PHASES, Bar, Trend, mass_unit, number
from core.importing.plan import escape_text
from ui import palette

pg.setConfigOptions(antialias=True)


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


class NumberAxis(pg.AxisItem):
    """Tick labels with thousands separators and no scientific notation."""

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            v = v * scale
            if spacing >= 1 or v == 0:
                out.append(f"{v:,.0f}")
            else:
                decimals = min(6, max(0, int(-np.floor(np.log10(spacing)))))
                out.append(f"{v:,.{decimals}f}")
        return out


class LabelAxis(pg.AxisItem):
    """Category labels at integer positions (quarters, names)."""

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self.labels: list[str] = []

    def set_labels(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.setTicks([[(i, t) for i, t in enumerate(self.labels)], []])


class ChartPanel(QFrame):
    """A titled chart with a legend row, export buttons and hover tooltips."""

    bar_clicked = Signal(object)  # the Bar under the mouse

    def __init__(self, title: str, parent: QWidget | None = None, *, left_labels: bool = False):
        super().__init__(parent)
        self.setObjectName("chartPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"<b>{html.escape(title)}</b>")
        self.title.setWordWrap(True)  # wraps rather than widen the page in a narrow window
        self.subtitle = QLabel()
        self.subtitle.setEnabled(False)
        self.subtitle.setWordWrap(True)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.reset_button = self._tool("Reset", "Reset zoom and pan (or double-click the chart)")
        self.reset_button.clicked.connect(self.reset_view)
        self.export_button = self._tool(
            "Export", "Save the chart as PNG, copy it, or save its data"
        )
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Save as PNG…", self.export_png)
        menu.addAction("Copy image", self.copy_image)
        menu.addAction("Save data as CSV…", self.export_csv)
        self.export_button.setMenu(menu)

        self.x_axis = LabelAxis("bottom") if not left_labels else NumberAxis("bottom")
        self.y_axis = LabelAxis("left") if left_labels else NumberAxis("left")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.x_axis, "left": self.y_axis})
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(180)
        self.view = self.plot.getPlotItem().getViewBox()
        self.items: dict[str, pg.GraphicsObject] = {}
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

        head = QHBoxLayout()
        head.addWidget(self.title, 3)
        head.addWidget(self.subtitle, 2)
        head.addWidget(self.reset_button)
        head.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        self.apply_palette()

    def _tool(self, text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        policy = b.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # hidden while exporting: nothing moves
        b.setSizePolicy(policy)
        return b

    # -- palette ------------------------------------------------------------------------

    @property
    def dark(self) -> bool:
        return is_dark(self)

    def apply_palette(self) -> None:
        pal = self.palette()
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        fg = pal.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(fg))
            axis.setTextPen(pg.mkPen(fg))
        self.plot.showGrid(x=False, y=False)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (event.Type.PaletteChange, event.Type.ApplicationPaletteChange):
            self.apply_palette()
            self.redraw()

    def redraw(self) -> None:
        """Draw again from the data last set (palette changes)."""

    def _finish_time_axes(
        self, legend: Sequence[tuple[str, str]], labels: Sequence[str], left: str
    ) -> None:
        """Legend, bucket labels, axis titles and limits of a chart over quarters or months."""
        self.set_legend(legend)
        self.x_axis.set_labels(labels)
        self.plot.setLabel("left", left)
        self.plot.setLabel("bottom", "Quarter" if labels and "Q" in labels[0] else "Month")
        self.view.setLimits(xMin=-1, xMax=len(labels), yMin=0)
        self.reset_view()

    def set_legend(self, entries: Sequence[tuple[str, str]]) -> None:
        """Coloured squares and names above the plot."""
        parts = [
            f"<span style='color:{c}'>&#9632;</span>&nbsp;{_unbreakable(n)}" for n, c in entries
        ]
        # entries never break inside, but the line may break between them: a narrow
        # window wraps the legend instead of widening the page past the screen
        self.legend.setText("&nbsp;&nbsp; ".join(parts))
        self.legend.setVisible(bool(entries))

    # -- interaction --------------------------------------------------------------------

    def reset_view(self) -> None:
        self.view.autoRange(padding=0.05)

    def tooltip_at(self, x: float, y: float) -> str | None:
        return None

    def bar_at(self, x: float, y: float) -> Bar | None:
        return None

    def _view_point(self, scene_pos: QPointF) -> QPointF | None:
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        return self.view.mapSceneToView(scene_pos)

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        p = self._view_point(pos)
        text = self.tooltip_at(p.x(), p.y()) if p is not None else None
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot)
        else:
            QToolTip.hideText()
        bar = self.bar_at(p.x(), p.y()) if p is not None else None
        clickable = bar is not None and bar.target is not None
        self.plot.viewport().setCursor(
            Qt.CursorShape.PointingHandCursor if clickable else Qt.CursorShape.ArrowCursor
        )

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if event.double():
            self.reset_view()
            return
        p = self._view_point(event.scenePos())
        bar = self.bar_at(p.x(), p.y()) if p is not None else None
        if bar is not None:
            self.bar_clicked.emit(bar)

    # -- export -------------------------------------------------------------------------

    def image(self, scale: float = 2.0) -> QImage:
        """The whole panel (title, legend, plot) rendered at ``scale`` x its size."""
        size = self.size()
        img = QImage(
            int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_ARGB32
        )
        img.setDevicePixelRatio(scale)
        img.fill(self.palette().color(QPalette.ColorRole.Window))
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.reset_button.hide()
        self.export_button.hide()
        try:
            self.render(painter, QPoint())
        finally:
            painter.end()
            self.reset_button.show()
            self.export_button.show()
        return img

    def table(self) -> tuple[list[str], list[list[object]]]:
        """The chart's data: header (with units) and rows."""
        return [], []

    def export_png(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save chart", self._file_stem() + ".png", "PNG image (*.png)"
            )
            if not path:
                return None
        self.image().save(str(path), "PNG")
        return Path(path)

    def copy_image(self) -> None:
        QGuiApplication.clipboard().setImage(self.image())

    def export_csv(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save chart data", self._file_stem() + ".csv", "CSV (*.csv)"
            )
            if not path:
                return None
        header, rows = self.table()
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            # names and details come from the inventory: neutralise text a spreadsheet runs
            writer.writerows([escape_text(c) if isinstance(c, str) else c for c in r] for r in rows)
        return Path(path)

    def _file_stem(self) -> str:
        text = self.title.text().replace("<b>", "").replace("</b>", "")
        return "".join(c if c.isalnum() else "-" for c in html.unescape(text)).strip("-").lower()

    def _clear(self) -> None:
        for item in self.items.values():
            self.plot.removeItem(item)
        self.items.clear()


def _unbreakable(name: str) -> str:
    """A legend name that never wraps inside itself (spaces and hyphens kept together)."""
    return html.escape(name).replace(" ", "&nbsp;").replace("-", NB_HYPHEN)


NB_HYPHEN = "\u2011"


def _brush(color: str, alpha: int = 255) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class TrendChart(ChartPanel):
    """Location-based emissions per quarter or month, stacked by lifecycle phase, with
    error bars for the P5-P95 range of the total (where known: buckets whose range is NaN
    have none); a scenario's total as a dashed line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Emissions over time by lifecycle phase", parent)
        self.trend: Trend | None = None
        self.scenario: Trend | None = None
        self.scenario_name = ""
        self.range_note = ""
        self.view.setMouseEnabled(x=True, y=False)
        self.divisor, self.unit = 1.0, "kgCO2e"

    def set_data(
        self,
        trend: Trend,
        scenario: Trend | None = None,
        scenario_name: str = "",
        range_note: str = "",
    ) -> None:
        """``range_note``: why some or all ranges are missing (shown under the title)."""
        self.trend, self.scenario, self.scenario_name = trend, scenario, scenario_name
        self.range_note = range_note
        self.subtitle.setText(range_note)
        self.redraw()

    def _top(self) -> float:
        t = self.trend
        if t is None:
            return 0.0
        high = t.high[np.isfinite(t.high)]
        return float(max(high.max(initial=0), t.location.max(initial=0)))

    def redraw(self) -> None:
        t = self.trend
        if t is None:
            return
        self._clear()
        colors = palette.phase_colors(self.dark)
        series = palette.series_colors(self.dark)
        self.divisor, self.unit = mass_unit(self._top())
        d = self.divisor
        x = np.arange(len(t.labels), dtype=float)
        sel_lo, sel_hi = t.selected
        region = pg.LinearRegionItem((sel_lo - 0.5, sel_hi + 0.5), movable=False)
        region.setBrush(_brush(series["neutral"], 28))
        for line in region.lines:
            line.setPen(pg.mkPen(None))
        region.setZValue(-10)
        self.plot.addItem(region)
        self.items["selected"] = region
        bottom = np.zeros(len(x))
        legend = []
        for kind in PHASES:
            values = t.phases[kind] / d
            if not np.any(values):
                continue
            item = pg.BarGraphItem(
                x=x,
                y0=bottom.copy(),
                height=values,
                width=0.62,
                brush=_brush(colors[kind]),
                pen=pg.mkPen(_brush(colors[kind]).darker(130)),
            )
            self.plot.addItem(item)
            self.items[kind] = item
            legend.append((PHASE_LABELS[kind], colors[kind]))
            bottom += values
        known = np.isfinite(t.low) & np.isfinite(t.high)
        if known.any():
            band = pg.ErrorBarItem(
                x=x[known],
                y=t.location[known] / d,
                top=(t.high - t.location)[known] / d,
                bottom=(t.location - t.low)[known] / d,
                beam=0.18,
                pen=pg.mkPen(series["neutral"], width=1.5),
            )
            self.plot.addItem(band)
            self.items["range"] = band
            legend.append(("P5\u2011P95 range of the total", series["neutral"]))
        if self.scenario is not None:
            s = self.scenario
            line = pg.PlotDataItem(
                x=x,
                y=s.location / d,
                pen=pg.mkPen(series["neutral"], width=2, style=Qt.PenStyle.DashLine),
                symbol="d",
                symbolSize=9,
                symbolBrush=series["neutral"],
            )
            self.plot.addItem(line)
            self.items["scenario"] = line
            legend.append((f"Scenario '{self.scenario_name}': total", series["neutral"]))
        self._finish_time_axes(legend, t.labels, f"Location-based emissions ({self.unit})")

    def reset_view(self) -> None:
        if self.trend is None:
            return
        top = self._top()
        if self.scenario is not None:
            top = max(top, float(self.scenario.location.max(initial=0)))
        self.view.setRange(
            xRange=(-0.6, len(self.trend.labels) - 0.4),
            yRange=(0, top / self.divisor * 1.08 or 1),
            padding=0,
        )

    def tooltip_at(self, x: float, y: float) -> str | None:
        t = self.trend
        i = round(x)
        if t is None or not 0 <= i < len(t.labels) or abs(x - i) > 0.35:
            return None
        lines = [f"<b>{t.labels[i]}</b>"]
        for kind in reversed(PHASES):
            if t.phases[kind][i]:
                lines.append(f"{PHASE_LABELS[kind]}: {_mass(t.phases[kind][i])}")
        lines.append(f"<b>Total: {_mass(t.location[i])}</b>")
        if np.isfinite(t.low[i]) and np.isfinite(t.high[i]):
            lines.append(f"P5–P95: {_mass(t.low[i])} – {_mass(t.high[i])}")
        if self.scenario is not None:
            lines.append(
                f"Scenario '{html.escape(self.scenario_name)}': {_mass(self.scenario.location[i])}"
            )
        return "<br>".join(lines)

    def table(self):
        t = self.trend
        if t is None:
            return [], []
        header = [
            "period",
            *(f"{k}_location_kgco2e" for k in PHASES),
            "total_location_kgco2e",
            "p5_kgco2e",
            "p95_kgco2e",
        ]
        if self.scenario is not None:
            header.append("scenario_total_location_kgco2e")
        rows = []
        for i, label in enumerate(t.labels):
            row = [
                label,
                *(round(float(t.phases[k][i]), 3) for k in PHASES),
                round(float(t.location[i]), 3),
                *("" if not np.isfinite(v) else round(float(v), 3) for v in (t.low[i], t.high[i])),
            ]
            if self.scenario is not None:
                row.append(round(float(self.scenario.location[i]), 3))
            rows.append(row)
        return header, rows


def _mass(kg: float) -> str:
    d, u = mass_unit(kg)
    return f"{number(kg / d)} {u}"


class LocationMarketChart(ChartPanel):
    """Location- against market-based emissions over time; the gap between them (the
    savings from renewable sourcing) shaded. A scenario's two lines are dashed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Location- vs market-based emissions", parent)
        self.trend: Trend | None = None
        self.scenario: Trend | None = None
        self.scenario_name = ""
        self.view.setMouseEnabled(x=True, y=False)
        self.divisor, self.unit = 1.0, "kgCO2e"

    def set_data(
        self, trend: Trend, scenario: Trend | None = None, scenario_name: str = ""
    ) -> None:
        self.trend, self.scenario, self.scenario_name = trend, scenario, scenario_name
        self.redraw()

    def redraw(self) -> None:
        t = self.trend
        if t is None:
            return
        self._clear()
        c = palette.series_colors(self.dark)
        self.divisor, self.unit = mass_unit(
            float(max(t.location.max(initial=0), t.market.max(initial=0)))
        )
        d = self.divisor
        x = np.arange(len(t.labels), dtype=float)
        # the location line is drawn wider, under the market line: where the two are
        # equal (no sourcing) both stay visible, blue inside an orange edge
        loc = pg.PlotDataItem(
            x=x,
            y=t.location / d,
            pen=pg.mkPen(c["location"], width=5.5),
            symbol="o",
            symbolSize=12,
            symbolBrush=c["location"],
            symbolPen=None,
        )
        mkt = pg.PlotDataItem(
            x=x,
            y=t.market / d,
            pen=pg.mkPen(c["market"], width=2.5),
            symbol="s",
            symbolSize=7,
            symbolBrush=c["market"],
            symbolPen=None,
        )
        gap = pg.FillBetweenItem(loc, mkt, brush=_brush(c["savings"], 90))
        gap.setZValue(-5)
        for name, item in (("savings", gap), ("location", loc), ("market", mkt)):
            self.plot.addItem(item)
            self.items[name] = item
        legend = [
            ("Location-based", c["location"]),
            ("Market-based", c["market"]),
            ("Savings from renewable sourcing", c["savings"]),
        ]
        if self.scenario is not None:
            s = self.scenario
            for name, values, color in (
                ("scenario_location", s.location, c["location"]),
                ("scenario_market", s.market, c["market"]),
            ):
                item = pg.PlotDataItem(
                    x=x, y=values / d, pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
                )
                self.plot.addItem(item)
                self.items[name] = item
            legend.append((f"dashed: scenario '{self.scenario_name}'", c["neutral"]))
        self._finish_time_axes(legend, t.labels, f"Emissions ({self.unit})")

    def reset_view(self) -> None:
        if self.trend is None:
            return
        top = max(
            float(self.trend.location.max(initial=0)), float(self.trend.market.max(initial=0))
        )
        if self.scenario is not None:
            top = max(top, float(self.scenario.location.max(initial=0)))
        self.view.setRange(
            # half a bucket and more on each side, as the bar chart has: the first and
            # last labels are centred on the end points and need the room
            xRange=(-0.6, len(self.trend.labels) - 0.4),
            yRange=(0, top / self.divisor * 1.08 or 1),
            padding=0,
        )

    def tooltip_at(self, x: float, y: float) -> str | None:
        t = self.trend
        i = round(x)
        if t is None or not 0 <= i < len(t.labels) or abs(x - i) > 0.3:
            return None
        lines = [
            f"<b>{t.labels[i]}</b>",
            f"Location-based: {_mass(t.location[i])}",
            f"Market-based: {_mass(t.market[i])}",
            f"<b>Savings: {_mass(t.savings[i])}</b>",
        ]
        if t.instruments[i]:
            lines.append("Instruments in force:")
            lines += [f"&nbsp;• {html.escape(n)}" for n in t.instruments[i]]
        elif t.savings[i] <= 0:
            lines.append("No renewable instrument covers this period.")
        if self.scenario is not None:
            s = self.scenario
            lines.append(
                f"Scenario '{html.escape(self.scenario_name)}': location {_mass(s.location[i])}, "
                f"market {_mass(s.market[i])}"
            )
        return "<br>".join(lines)

    def table(self):
        t = self.trend
        if t is None:
            return [], []
        header = ["period", "location_kgco2e", "market_kgco2e", "savings_kgco2e", "instruments"]
        rows = [
            [
                label,
                round(float(t.location[i]), 3),
                round(float(t.market[i]), 3),
                round(float(t.savings[i]), 3),
                "; ".join(t.instruments[i]),
            ]
            for i, label in enumerate(t.labels)
        ]
        return header, rows


class BarChart(ChartPanel):
    """Horizontal bars, largest at the top: location-based emissions per group, with the
    market-based figure as a narrower bar inside (optional). Clicking a bar emits
    ``bar_clicked``."""

    def __init__(
        self,
        title: str,
        parent: QWidget | None = None,
        *,
        market: bool = True,
        color_of: Callable[[Bar, bool], str] | None = None,
        legend: Callable[[bool], list[tuple[str, str]]] | None = None,
        value_label: str = "Location-based emissions",
    ):
        super().__init__(title, parent, left_labels=True)
        self.bars: list[Bar] = []
        self.show_market = market
        self.color_of = color_of
        self.legend_of = legend
        self.value_label = value_label
        self.view.setMouseEnabled(x=False, y=True)
        self.divisor, self.unit = 1.0, "kgCO2e"
        self.max_label = 34

    def set_bars(self, bars: Sequence[Bar], subtitle: str = "") -> None:
        self.bars = list(bars)
        self.subtitle.setText(subtitle)
        self.redraw()

    def redraw(self) -> None:
        self._clear()
        dark = self.dark
        c = palette.series_colors(dark)
        n = len(self.bars)
        peak = max((max(b.location, b.market) for b in self.bars), default=0.0)
        self.divisor, self.unit = mass_unit(peak)
        d = self.divisor
        y = np.arange(n, dtype=float)[::-1]  # first bar at the top
        loc = np.array([b.location for b in self.bars]) / d
        brushes = [
            _brush(self.color_of(b, dark) if self.color_of else c["location"]) for b in self.bars
        ]
        item = pg.BarGraphItem(
            x0=np.zeros(n), y=y, width=loc, height=0.72, brushes=brushes, pen=pg.mkPen(None)
        )
        self.plot.addItem(item)
        self.items["location"] = item
        legend = (
            list(self.legend_of(dark)) if self.legend_of else [("Location-based", c["location"])]
        )
        if self.show_market and n:
            mkt = np.array([b.market for b in self.bars]) / d
            inner = pg.BarGraphItem(
                x0=np.zeros(n),
                y=y,
                width=mkt,
                height=0.26,
                brush=_brush(c["market"]),
                pen=pg.mkPen(_brush(c["market"]).darker(150)),
            )
            self.plot.addItem(inner)
            self.items["market"] = inner
            legend.append(("Market-based (inner bar)", c["market"]))
        self.set_legend(legend)
        labels = [self._short(b.name) for b in self.bars][::-1]
        self.y_axis.set_labels(labels)
        metrics = QFontMetrics(self.y_axis.font() if hasattr(self.y_axis, "font") else self.font())
        widest = max((metrics.horizontalAdvance(s) for s in labels), default=20)
        self.y_axis.setWidth(min(300, widest + 18))
        self.plot.setLabel("bottom", f"{self.value_label} ({self.unit})")
        self.view.setLimits(yMin=-1, yMax=max(n, 1), xMin=0)
        self.reset_view()

    def _short(self, name: str) -> str:
        return name if len(name) <= self.max_label else name[: self.max_label - 1] + "…"

    def reset_view(self) -> None:
        peak = max((max(b.location, b.market) for b in self.bars), default=0.0) / self.divisor
        self.view.setRange(
            xRange=(0, peak * 1.05 or 1), yRange=(-0.6, max(len(self.bars), 1) - 0.4), padding=0
        )

    def bar_at(self, x: float, y: float) -> Bar | None:
        n = len(self.bars)
        i = n - 1 - round(y)
        if not 0 <= i < n or abs(y - round(y)) > 0.36:
            return None
        return self.bars[i]

    def tooltip_at(self, x: float, y: float) -> str | None:
        b = self.bar_at(x, y)
        if b is None:
            return None
        lines = [f"<b>{html.escape(b.name)}</b>", f"Location-based: {_mass(b.location)}"]
        if self.show_market:
            lines.append(f"Market-based: {_mass(b.market)}")
        if b.detail:
            lines.append(html.escape(b.detail))
        if b.target is not None:
            lines.append("<i>Click to open it in the inventory</i>")
        return "<br>".join(lines)

    def table(self):
        header = ["id", "name", "location_kgco2e", "market_kgco2e", "detail"]
        rows = [
            [b.id, b.name, round(b.location, 3), round(b.market, 3), b.detail] for b in self.bars
        ]
        return header, rows
