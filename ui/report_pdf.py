"""Writes the printed report as a PDF file, from the app or from the command line
(headless)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QPdfWriter

from core import APP_NAME
from core.report_model import Report
from ui.report_canvas import Progress
from ui.report_layout import render
from ui.report_style import page_layout


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
