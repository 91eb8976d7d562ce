"""Pages without an inventory table: the first-run welcome, the empty state, placeholders."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core import APP_NAME


def _centered_column(widget: QWidget) -> QVBoxLayout:
    outer = QVBoxLayout(widget)
    outer.addStretch(1)
    column = QVBoxLayout()
    column.setSpacing(12)
    outer.addLayout(column)
    outer.addStretch(2)
    outer.setContentsMargins(48, 24, 48, 24)
    return column


def _big_button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setMinimumHeight(44)
    button.setMinimumWidth(360)
    button.setToolTip(tip)
    return button


class WelcomePanel(QWidget):
    """First run: open the demo, import a spreadsheet or start empty."""

    demo_requested = Signal()
    import_requested = Signal()
    start_empty_requested = Signal()

    def __init__(self, inventory_path: str, parent: QWidget | None = None):
        super().__init__(parent)
        column = _centered_column(self)
        title = QLabel(f"<h1>Welcome to {APP_NAME}</h1>")
        body = QLabel(
            "Keep an inventory of your organisation's AI — models, training runs, "
            "deployments and API usage — and estimate its greenhouse-gas emissions for "
            "your quarterly reporting.<br><br>"
            f"Your inventory is saved as you work, in <tt>{html.escape(inventory_path)}</tt>."
        )
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        body.setFixedWidth(600)
        column.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(body, 0, Qt.AlignmentFlag.AlignHCenter)
        self.demo_button = _big_button(
            "Explore the demo inventory",
            "Opens an example inventory with realistic models, runs and deployments",
        )
        self.import_button = _big_button(
            "Import a spreadsheet or CodeCarbon log…  (Ctrl+I)",
            "Bring in your inventory from XLSX, ODS or CSV files, or CodeCarbon emissions.csv",
        )
        self.empty_button = _big_button(
            "Start with an empty inventory", "Add your models and deployments by hand"
        )
        self.demo_button.clicked.connect(self.demo_requested)
        self.import_button.clicked.connect(self.import_requested)
        self.empty_button.clicked.connect(self.start_empty_requested)
        for b in (self.demo_button, self.import_button, self.empty_button):
            column.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)


class NoInventoryPanel(QWidget):
    """Shown when no inventory is open (after File > Close)."""

    new_requested = Signal()
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        column = _centered_column(self)
        column.addWidget(QLabel("<h2>No inventory is open</h2>"), 0, Qt.AlignmentFlag.AlignHCenter)
        self.new_button = _big_button("New inventory…  (Ctrl+N)", "Create a new inventory file")
        self.open_button = _big_button("Open inventory…  (Ctrl+O)", "Open an inventory file")
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        column.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)


class LoadingPage(QWidget):
    """A moment's notice while a page loads: its text and a busy bar."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        column = _centered_column(self)
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # set_text may quote an error
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(360)  # a centred wrapping label is given too little
        self.label.setMaximumWidth(560)
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # busy, no percentage
        self.busy.setMaximumWidth(240)
        self.busy.setTextVisible(False)
        column.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignHCenter)

    def set_text(self, text: str) -> None:
        """Say something else (a failure): the busy bar goes."""
        self.label.setText(text)
        self.busy.hide()


class PlaceholderPage(QWidget):
    """A page whose feature arrives later; says so plainly."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        column = _centered_column(self)
        column.addWidget(QLabel(f"<h2>{html.escape(title)}</h2>"), 0, Qt.AlignmentFlag.AlignHCenter)
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setMaximumWidth(560)
        label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
