"""About AI Carbon Ledger: version, licence, the open inventory, and every data source."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from core import APP_NAME, __version__
from core.reference import reference_dir
from ui.crash import log_dir, open_log_folder
from ui.plain_text import literal


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
            f"licences.</p><p>Inventory: <tt>{where}</tt><br>"
            f"Logs: <tt>{html.escape(str(log_dir()))}</tt></p>{_bundled_fonts_note()}"
        )
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.log_folder_button = buttons.addButton(
            "Open &Log Folder", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.log_folder_button.setToolTip(
            literal(f"Show the folder with the app's logs: {log_dir()}")  # a path, as written
        )
        self.log_folder_button.clicked.connect(open_log_folder)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(QLabel("<b>Data sources and licences</b>"))
        layout.addWidget(self.sources, 1)
        layout.addWidget(buttons)


def _bundled_fonts_note() -> str:
    """A credit for the fonts the installed app ships (a source checkout ships none)."""
    if not (reference_dir().parent / "fonts").is_dir():
        return ""
    return (
        "<p>Bundled fonts: DejaVu (DejaVu Fonts licence, a free Bitstream Vera "
        "derivative; its text is in <tt>resources/fonts</tt>).</p>"
    )
