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

The work is split by domain; this module is the public entry point and re-exports it:

- :mod:`ui.report_style`: paper sizes, fonts and colours;
- :mod:`ui.report_canvas`: pages, units, font metrics and the drawing primitives;
- :mod:`ui.report_blocks`: the cover, headings, paragraphs, key figures and sign-off;
- :mod:`ui.report_tables`: tables continued across pages;
- :mod:`ui.report_charts`: column and bar charts;
- :mod:`ui.report_layout`: :class:`ReportLayout` (pagination, running header and
  footer, painting) and :func:`render`;
- :mod:`ui.report_pdf`: :func:`write_pdf` and :func:`write_pdf_headless`.
"""

from __future__ import annotations

from ui.report_canvas import Progress, RenderCancelled
from ui.report_charts import nice_ticks
from ui.report_layout import SECTION_ROOM, ReportLayout, render
from ui.report_pdf import write_pdf, write_pdf_headless
from ui.report_style import (
    ACCENT,
    FONT_FAMILIES,
    HEADER_FILL,
    LETTER_TERRITORIES,
    MUTED,
    PAPERS,
    RULE,
    TEXT,
    ZEBRA,
    default_paper,
    page_layout,
    report_font_family,
)
from ui.report_tables import MIN_TABLE_ROWS

__all__ = [
    "ACCENT",
    "FONT_FAMILIES",
    "HEADER_FILL",
    "LETTER_TERRITORIES",
    "MIN_TABLE_ROWS",
    "MUTED",
    "PAPERS",
    "RULE",
    "SECTION_ROOM",
    "TEXT",
    "ZEBRA",
    "Progress",
    "RenderCancelled",
    "ReportLayout",
    "default_paper",
    "nice_ticks",
    "page_layout",
    "render",
    "report_font_family",
    "write_pdf",
    "write_pdf_headless",
]
