"""The import wizard's pages other than column mapping (see ``ui.import_mapping``).

The pages are split by domain; this module keeps the summary page and re-exports
the rest:

- :mod:`ui.import_widgets`: the page base class, read-only tables, value formatting
  and the busy bar;
- :mod:`ui.import_files`: the files page and the sheets page;
- :mod:`ui.import_references`: the page for unmatched references;
- :mod:`ui.import_preview`: :class:`PreviewModel`, the previewed rows;
- :mod:`ui.import_validation`: :class:`ValidationPage`, the commit page.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout

from ui.import_files import FilesPage, SheetsPage, _sheets_text
from ui.import_preview import (
    FIXED_BACKGROUND,
    FIXED_FOREGROUND,
    PROBLEM_BACKGROUND,
    PROBLEM_FOREGROUND,
    STATUS_TEXT,
    EditHandler,
    PreviewModel,
    _Index,
)
from ui.import_references import (
    _CREATES,
    ReferencesPage,
    reference_label,
    reference_table,
    suggestion_text,
)
from ui.import_validation import MAX_PROBLEMS_LISTED, ValidationPage
from ui.import_widgets import BusyBar, WizardPage, _item, _table, format_value
from ui.import_wizard import table_label

__all__ = [
    "FIXED_BACKGROUND",
    "FIXED_FOREGROUND",
    "MAX_PROBLEMS_LISTED",
    "PROBLEM_BACKGROUND",
    "PROBLEM_FOREGROUND",
    "STATUS_TEXT",
    "_CREATES",
    "BusyBar",
    "EditHandler",
    "FilesPage",
    "PreviewModel",
    "ReferencesPage",
    "SheetsPage",
    "SummaryPage",
    "ValidationPage",
    "WizardPage",
    "_Index",
    "_item",
    "_sheets_text",
    "_table",
    "format_value",
    "reference_label",
    "reference_table",
    "suggestion_text",
]


# -- summary ----------------------------------------------------------------------------


class SummaryPage(WizardPage):
    """What the import did, per table."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Import finished")
        self.counts = _table(["Table", "New", "Changed", "Unchanged", "Skipped"])
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 5):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setTextFormat(Qt.TextFormat.RichText)
        self.errors.linkActivated.connect(self._on_errors_link_activated)
        self.undo_hint = QLabel(
            "The import is one step in Edit > Undo (Ctrl+Z): undoing it removes every "
            "row it added and restores every row it changed."
        )
        self.undo_hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.errors)
        layout.addWidget(self.undo_hint)
        layout.addStretch(1)

    def initializePage(self) -> None:
        import html

        result = self.wizard().result
        assert result is not None
        tables = list(result.counts.items())
        self.counts.setRowCount(len(tables))
        totals = dict.fromkeys(("new", "changed", "unchanged", "skipped"), 0)
        for row, (table, counts) in enumerate(tables):
            self.counts.setItem(row, 0, _item(table_label(table)))
            for col, key in enumerate(totals, start=1):
                n = counts.get(key, 0)
                totals[key] += n
                self.counts.setItem(row, col, _item(f"{n:,}", number=True))
        self.counts.resizeRowsToContents()
        height = self.counts.horizontalHeader().height() + 2 * self.counts.frameWidth()
        height += sum(self.counts.rowHeight(r) for r in range(len(tables)))
        self.counts.setFixedHeight(height)
        self.setSubTitle(
            f"{totals['new']:,} new, {totals['changed']:,} changed, "
            f"{totals['unchanged']:,} unchanged and {totals['skipped']:,} skipped rows."
        )
        if result.errors_file:
            path = Path(result.errors_file)
            self.errors.setText(
                f"The skipped rows, with row number, column and reason, are in "
                f'<a href="{html.escape(QUrl.fromLocalFile(str(path)).toString())}">'
                f"{html.escape(str(path))}</a>."
            )
            self.errors.show()
        else:
            self.errors.hide()

    def nextId(self) -> int:
        return -1  # the last page (mapping pages have higher ids)

    def _on_errors_link_activated(self, link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))
