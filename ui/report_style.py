"""Paper, fonts and colours of the printed report (laid out by :mod:`ui.report_layout`).

Page margins are in millimetres, font sizes in points; the paper follows the locale's
territory unless the user picks one.
"""

from __future__ import annotations

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPageLayout, QPageSize

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
#: territories that use US Letter paper; everyone else uses A4
LETTER_TERRITORIES = ("UnitedStates", "Canada", "Mexico", "Philippines", "Chile", "Colombia")

TEXT = QColor("#1f2328")
MUTED = QColor("#5a6270")
RULE = QColor("#9aa3ad")
HEADER_FILL = QColor("#e6ebf0")
ZEBRA = QColor("#f5f7f9")
ACCENT = QColor(palette.BLUE)


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
