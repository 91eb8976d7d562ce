"""The page machinery under the printed report: device units, fonts and their metrics,
the list of pages (each a list of drawing steps) and the cursor that fills them, and the
two drawing primitives (plain text and horizontal rules) every painter uses.

All positions are device pixels of the paint device (``pt`` converts points); the
painters in :mod:`ui.report_blocks`, :mod:`ui.report_tables` and :mod:`ui.report_charts`
build on :class:`ReportCanvas`, and :class:`ui.report_layout.ReportLayout` combines them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPagedPaintDevice, QPainter, QPen

from core.report import ReportCancelled
from core.report_model import Report
from ui.report_style import RULE, report_font_family

Progress = Callable[[float, str], None]


class RenderCancelled(ReportCancelled):
    """Rendering was cancelled by the user (nothing is written)."""


@dataclass
class _Page:
    steps: list[Callable[[QPainter], None]] = field(default_factory=list)
    cover: bool = False


class ReportCanvas:
    """Pages, the layout cursor ``y`` and the fonts for one report on one paint device."""

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

    def _rule(
        self, p: QPainter, y: float, width_pt: float, x0: float = 0.0, x1: float | None = None
    ) -> None:
        p.setPen(QPen(RULE, self.pt(width_pt)))
        p.drawLine(QPointF(x0, y), QPointF(self.width if x1 is None else x1, y))
