"""About AI Carbon Ledger: version, licence, the open inventory, and every data source."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from core import APP_NAME, __version__
from core.reference import reference_dir


class AboutDialog(QDialog):
    """Shows the credits of every shipped dataset (``resources/reference/SOURCES.md``)."""

    def __init__(self, inventory_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(760, 560)
        where = html.escape(str(inventory_path)) if inventory_path else "no inventory is open"
        header = QLabel(
            f"<h2>{APP_NAME} {html.escape(__version__)}</h2>"
            "<p>An inventory of your organisation's AI and its greenhouse-gas emissions. "
            "Free software under the MIT licence; the reference data below keep their own "
            f"licences.</p><p>Inventory: <tt>{where}</tt></p>"
        )
        header.setWordWrap(True)
        self.sources = QTextBrowser()
        self.sources.setOpenExternalLinks(True)
        self.sources.setAccessibleName("Data sources and licences")
        path = reference_dir() / "SOURCES.md"
        try:
            self.sources.setMarkdown(path.read_text(encoding="utf-8"))
        except OSError as exc:
            self.sources.setPlainText(f"The list of data sources could not be read: {exc}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(QLabel("<b>Data sources and licences</b>"))
        layout.addWidget(self.sources, 1)
        layout.addWidget(buttons)
