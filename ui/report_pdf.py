"""Writes the printed report as a PDF file, from the app or from the command line
(headless)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QGuiApplication, QPdfWriter

from core import APP_NAME
from core.output_file import check_folder, write_file
from core.report_model import Report
from ui.report_canvas import Progress
from ui.report_layout import render
from ui.report_style import page_layout

WHAT = "the report PDF"


def write_pdf(
    report: Report,
    path: str | os.PathLike[str],
    paper: str = "a4",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write ``report`` as a PDF at ``path``; returns the page count.

    Qt's PDF writer does not report a failed write (a full disk gave an empty file and
    a page count), so the pages are painted into memory and the bytes written from
    Python through a synced temporary file beside ``path`` (``core.output_file``): the
    file is whole or not there. A full disk, a read-only or missing folder raise
    :class:`core.errors.LedgerError` naming the file and the reason."""
    check_folder(path, WHAT)  # before painting: a large report takes a while
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(1200)
    writer.setPageLayout(page_layout(paper))
    writer.setTitle(f"{report.meta.get('title', 'Report')} {report.meta.get('period', '')}")
    writer.setCreator(f"{APP_NAME} {report.meta.get('app_version', '')}")
    try:
        pages = render(report, writer, progress, cancelled)
        del writer  # the PDF is complete in the buffer once painting has ended
        content = bytes(buffer.data())
    finally:
        buffer.close()
    write_file(path, content, WHAT)
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
