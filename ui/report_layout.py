"""Cuts a :class:`core.report_model.Report` into pages and paints them with QPainter.

Layout first, paint second: :meth:`ReportLayout.layout` decides where each section starts
and lets the block, table and chart painters fill the pages with drawing steps, so the
running header and footer painted by :meth:`ReportLayout.paint` can say "Page 3 of 12".
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPagedPaintDevice, QPainter

from core import APP_NAME
from core.report_model import Chart, KeyFigure, Paragraph, Report, SignOff, Table
from ui.report_blocks import BlockPainter
from ui.report_canvas import Progress, RenderCancelled
from ui.report_charts import ChartPainter
from ui.report_style import MUTED, TEXT
from ui.report_tables import TablePainter

#: sections that start a new page unless this share of the page is still free below
#: (so a short section does not leave most of a page empty); the summary and the charts
#: always start a page
SECTION_ROOM = {"breakdown": 0.4, "methodology": 0.3}


class ReportLayout(BlockPainter, TablePainter, ChartPainter):
    """Cuts a report into pages for one paint device and paints them."""

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

    # -- running header and footer, painting ----------------------------------------

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
            # name the file where the device has one (a printer printing to a file); the
            # command line shows an OSError as "FILE: REASON"
            target = getattr(self.device, "outputFileName", str)()
            folder = os.path.dirname(os.path.abspath(target)) if target else ""
            if target and not os.path.isdir(folder):
                raise OSError(
                    errno.ENOENT,
                    f"the folder {folder} does not exist; nothing was written",
                    target,
                )
            raise OSError(
                errno.EIO,
                "cannot write the report there: the file or its folder is missing, "
                "read-only or on a full disk; nothing was written",
                target or None,
            )
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
