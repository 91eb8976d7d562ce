"""The report dialog (File > Report…, Ctrl+P): choose, preview, print, save; close quarters.

The report is built on a worker (``ui.workers``) over its own connection to the
inventory file, and PDF and XLSX files are written there too, with a progress bar and a
Cancel button. Preview and Print paint on the main thread (Qt's print dialogs need it)
from the report built on the worker. Closing and reopening a quarter are here as well:
both ask first, and reopening needs a reason (it is logged).

A damaged inventory file found while building, reading the quarter's closing, or
closing or reopening a quarter is announced with :attr:`ReportDialog.damaged`, and the
dialog closes: the window closes the inventory and offers to restore its automatic
backup (:func:`close_quarter` and :func:`reopen_quarter` raise SQLite's report of it to
their caller instead of showing its words in a message box).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QLocale, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import closing, integrity
from core.errors import InventoryDamagedError
from core.inventory import Inventory, os_user
from core.periods import Period, parse_period
from core.report import ReportOptions, build_for_closing, build_report
from core.report_model import SECTIONS, Report, format_number
from ui import report_render
from ui.damage_guard import catching_damage, damage_error
from ui.plain_text import literal
from ui.workers import reading, run_task


class _Relay(QObject):
    """Carries progress from a worker to the dialog (queued to the main thread)."""

    progressed = Signal(float, str)


def recent_quarters(today: dt.date, count: int = 12) -> list[str]:
    """Quarter labels, newest first, starting with the current quarter."""
    q = parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    out = []
    for _ in range(count):
        out.append(q.label)
        q = q.previous()
    return out


def last_complete_quarter(today: dt.date) -> str:
    return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}").previous().label


class ReportDialog(QDialog):
    """Report options and actions for the inventory at ``path``.

    ``inventory`` (the main window's open connection) is used for closing and
    reopening, which write; building the report reads through a worker's connection.
    """

    #: a quarter was closed or reopened (its label)
    closing_changed = Signal(str)
    #: the inventory file is damaged (an InventoryDamagedError); announced once, after
    #: which the dialog closes
    damaged = Signal(object)

    def __init__(
        self, inventory: Inventory, parent: QWidget | None = None, today: dt.date | None = None
    ):
        super().__init__(parent)
        self.inventory = inventory
        self.path = inventory.path
        self.today = today or dt.date.today()
        self.setWindowTitle("Report")
        self._cancel = threading.Event()
        self._busy = False
        self._damage_reported = False
        self.relay = _Relay(self)
        self.relay.progressed.connect(self._on_relay_progressed)
        settings = QSettings()

        # period
        self.kind = QComboBox()
        self.kind.addItems(["Quarter", "Year", "Custom period"])
        self.quarter = QComboBox()
        self.quarter.addItems(recent_quarters(self.today))
        self.quarter.setCurrentText(last_complete_quarter(self.today))
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today.year - 1 if self.today.month < 4 else self.today.year)
        self.start = QDateEdit(QDate(self.today.year, 1, 1))
        self.end = QDateEdit(QDate(self.today.year, self.today.month, 1).addDays(-1))
        for d in (self.start, self.end):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        period_row = QHBoxLayout()
        for w in (self.kind, self.quarter, self.year, self.start, QLabel("to"), self.end):
            period_row.addWidget(w)
        self._to_label = period_row.itemAt(4).widget()
        period_row.addStretch(1)
        self.kind.currentIndexChanged.connect(self._on_kind_current_index_changed)
        self.quarter.currentTextChanged.connect(self._update_status)
        self.year.valueChanged.connect(self._update_status)

        # scope
        self.whole = QRadioButton("Whole inventory")
        self.filtered = QRadioButton("Only entries whose name, model or site contains:")
        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText("e.g. support, Frankfurt, Llama")
        self.whole.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.whole)
        group.addButton(self.filtered)
        self.filter_text.setEnabled(False)
        self.filtered.toggled.connect(self.filter_text.setEnabled)
        self.filtered.toggled.connect(self._update_status)
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.whole)
        scope_row.addWidget(self.filtered)
        scope_row.addWidget(self.filter_text, 1)

        self.org = QLineEdit(str(settings.value("report/organisation", "") or ""))
        self.org.setPlaceholderText("Organisation name for the cover")
        self.preparer = QLineEdit(str(settings.value("report/preparer", "") or os_user()))
        self.paper = QComboBox()
        self.paper.addItem("A4", "a4")
        self.paper.addItem("US Letter", "letter")
        territory = QLocale().territory().name
        self.paper.setCurrentIndex(1 if report_render.default_paper(territory) == "letter" else 0)

        sections = QGroupBox("Sections")
        grid = QGridLayout(sections)
        self.section_boxes: dict[str, QCheckBox] = {}
        for i, (key, title) in enumerate(SECTIONS):
            box = QCheckBox(title)
            box.setChecked(True)
            self.section_boxes[key] = box
            grid.addWidget(box, i // 2, i % 2)

        form = QFormLayout()
        form.addRow("Period:", period_row)
        form.addRow("Scope:", scope_row)
        form.addRow("Organisation:", self.org)
        form.addRow("Prepared by:", self.preparer)
        paper_row = QHBoxLayout()
        paper_row.addWidget(self.paper)
        paper_row.addStretch(1)  # a short choice: no need for the full width
        form.addRow("Paper:", paper_row)

        self.status = QLabel()
        # plain text: it quotes who closed a quarter, file names and reopen reasons
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self._cancel.set)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)

        self.preview_button = QPushButton("Pre&view…")
        self.print_button = QPushButton("&Print…")
        self.pdf_button = QPushButton("Save &PDF…")
        self.xlsx_button = QPushButton("Save &XLSX…")
        self.close_period_button = QPushButton("C&lose Quarter…")
        self.reopen_button = QPushButton("&Reopen Quarter…")
        self.done_button = QPushButton("Close")
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview)
        self.print_button.clicked.connect(self.print_report)
        self.pdf_button.clicked.connect(lambda: self.save_pdf())
        self.xlsx_button.clicked.connect(lambda: self.save_xlsx())
        self.close_period_button.clicked.connect(self.close_period)
        self.reopen_button.clicked.connect(self.reopen_period)
        self.done_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        for b in (self.close_period_button, self.reopen_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (
            self.preview_button,
            self.print_button,
            self.pdf_button,
            self.xlsx_button,
            self.done_button,
        ):
            buttons.addWidget(b)
        self.action_buttons = [
            self.preview_button,
            self.print_button,
            self.pdf_button,
            self.xlsx_button,
            self.close_period_button,
            self.reopen_button,
        ]

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(sections)
        layout.addWidget(self.status)
        layout.addStretch(1)  # extra height below the status, not around it
        layout.addLayout(progress_row)
        layout.addLayout(buttons)
        self._on_kind_current_index_changed(0)
        self.resize(820, 400)

    # -- options --------------------------------------------------------------------

    def _on_kind_current_index_changed(self, index: int) -> None:
        self.quarter.setVisible(index == 0)
        self.year.setVisible(index == 1)
        for w in (self.start, self._to_label, self.end):
            w.setVisible(index == 2)
        self._update_status()

    def period(self) -> Period:
        index = self.kind.currentIndex()
        if index == 0:
            return parse_period(self.quarter.currentText())
        if index == 1:
            return parse_period(str(self.year.value()))
        start = self.start.date().toString("yyyy-MM-dd")
        end = self.end.date().toString("yyyy-MM-dd")
        return parse_period(f"{start}..{end}")

    def options(self) -> ReportOptions:
        return ReportOptions(
            self.period(),
            self.org.text().strip(),
            self.preparer.text().strip(),
            self.filter_text.text() if self.filtered.isChecked() else "",
        )

    def set_quarter(self, label: str) -> None:
        """Preset the period to quarter ``label`` (e.g. ``2026-Q3``), even an old one."""
        if self.quarter.findText(label) < 0:
            labels = sorted(
                {*(self.quarter.itemText(i) for i in range(self.quarter.count()))} | {label},
                reverse=True,
            )
            self.quarter.blockSignals(True)
            self.quarter.clear()
            self.quarter.addItems(labels)
            self.quarter.blockSignals(False)
        self.kind.setCurrentIndex(0)
        self.quarter.setCurrentText(label)
        self._update_status()

    def sections(self) -> list[str]:
        return [k for k, box in self.section_boxes.items() if box.isChecked()]

    def _update_status(self, *_: Any) -> None:
        try:
            period = self.period()
        except Exception:
            return
        try:
            closed = closing.in_force(self.inventory, period.label)
        except sqlite3.DatabaseError as exc:
            if not integrity.is_damage(exc):
                raise
            error = damage_error(self.path, exc)
            # announced from the event loop: this may run while the dialog is built,
            # before anyone has connected to it
            QTimer.singleShot(0, self, lambda: self._damage_found(error))
            return
        is_quarter = self.kind.currentIndex() == 0
        if closed is not None and self.filtered.isChecked():
            text = (
                f"{period.label} was closed on {closed.closed_at[:10]} by {closed.closed_by}. "
                "With a scope filter the figures are computed from the current data; the "
                "cover and the summary compare them with the closed snapshot."
            )
        elif closed is not None:
            text = (
                f"{period.label} was closed on {closed.closed_at[:10]} by {closed.closed_by}. "
                "The report shows its figures as closed; later changes are listed as "
                "restatements."
            )
        else:
            text = f"{period.label} is not closed: the report is a draft of the current figures."
        self.status.setText(text)
        self.close_period_button.setEnabled(is_quarter and closed is None and not self._busy)
        self.reopen_button.setEnabled(is_quarter and closed is not None and not self._busy)

    def _remember(self) -> None:
        settings = QSettings()
        settings.setValue("report/organisation", self.org.text().strip())
        settings.setValue("report/preparer", self.preparer.text().strip())

    # -- work on a worker -----------------------------------------------------------

    def _start(
        self,
        label: str,
        work: Callable[[Callable[[float, str], None], Callable[[], bool]], Any],
        done: Callable[[Any], None],
    ) -> None:
        """Run ``work(progress, cancelled)`` on a worker; ``done(result)`` afterwards."""
        self._remember()
        self._busy = True
        self._cancel.clear()
        for b in self.action_buttons:
            b.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setFormat(f"{label}… %p%")
        self.progress.show()
        self.cancel_button.show()
        relay = self.relay

        def progress(fraction: float, text: str) -> None:
            relay.progressed.emit(fraction, text)

        def finished(result: Any) -> None:
            self._finish()
            done(result)

        def failed(error: BaseException, message: str) -> None:
            self._finish()
            if isinstance(error, InventoryDamagedError):
                self._damage_found(error)
                return
            if self._cancel.is_set():  # ReportCancelled, while building or drawing
                self.status.setText("Cancelled; nothing was written.")
                return
            QMessageBox.warning(self, "Report", literal(f"The report could not be made: {message}"))

        run_task(
            reading(self.path, lambda: work(progress, self._cancel.is_set)),
            finished,
            on_error=failed,
        )

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        if not self._damage_reported:
            self._damage_found(damage_error(self.path, exc))

    def _damage_found(self, error: InventoryDamagedError) -> None:
        """Announce the damage once and close: nothing more can be read from the file
        (the window's message says what to do)."""
        if self._damage_reported:
            return
        self._damage_reported = True
        self.status.setText("The inventory file is damaged; see the message to restore its backup.")
        self.damaged.emit(error)
        self.reject()

    def _finish(self) -> None:
        self._busy = False
        self.progress.hide()
        self.cancel_button.hide()
        for b in self.action_buttons:
            b.setEnabled(True)
        self._update_status()

    def _on_relay_progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.progress.setFormat(f"{text}… %p%")

    def _builder(
        self,
    ) -> Callable[[Callable[[float, str], None], Callable[[], bool]], Report]:
        """A function that builds the report as now chosen; it runs on a worker (with
        its own connection to the file), so the options are read here, first. Its second
        argument is polled between steps: Cancel stops the building too."""
        path, options, sections = self.path, self.options(), self.sections()

        def build(progress: Callable[[float, str], None], cancelled: Callable[[], bool]) -> Report:
            with Inventory.open(path) as inv:
                report = build_report(
                    inv,
                    options,
                    progress=lambda f, t: progress(f * 0.5, t),
                    cancelled=cancelled,
                )
            return report.only(sections)

        return build

    def build_then(self, label: str, done: Callable[[Report], None]) -> None:
        """Build the report on a worker, then call ``done`` with it on the main thread."""
        self._start(label, self._builder(), done)

    # -- actions --------------------------------------------------------------------

    def _printer(self) -> QPrinter:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageLayout(report_render.page_layout(self.paper.currentData()))
        printer.setDocName(f"AI emissions report {self.period().label}")
        return printer

    def preview(self) -> None:
        self.build_then("Building the report", self._show_preview)

    def _show_preview(self, report: Report) -> None:
        printer = self._printer()
        dialog = QPrintPreviewDialog(printer, self)
        dialog.setWindowTitle(f"Preview: report {report.meta.get('period', '')}")
        dialog.paintRequested.connect(lambda p: report_render.render(report, p))
        dialog.resize(1000, 800)
        dialog.exec()

    def print_report(self) -> None:
        self.build_then("Building the report", self._print)

    def _print(self, report: Report) -> None:
        printer = self._printer()
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        target = printer.outputFileName()
        if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and target:
            # "Print to file": Qt's own PDF output reports no write errors (a full disk
            # left an empty file), so it is written as Save PDF writes it
            self._write_pdf(report, target, self.paper.currentData())
            return
        try:
            report_render.render(report, printer)
        except OSError as exc:
            QMessageBox.warning(self, "Report", literal(f"The report could not be printed: {exc}"))

    def _write_pdf(self, report: Report, path: str, paper: str) -> None:
        """Write an already built ``report`` to ``path`` on a worker."""

        def work(progress: Callable[[float, str], None], cancelled: Callable[[], bool]) -> int:
            return report_render.write_pdf(report, path, paper, progress, cancelled)

        self._start("Writing the PDF", work, lambda pages: self._saved(path, f"{pages} pages"))

    def _suggested(self, suffix: str) -> str:
        name = f"{self.path.stem} report {self.period().label}{suffix}".replace("..", " to ")
        return str(self.path.with_name(name))

    def save_pdf(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save report as PDF", self._suggested(".pdf"), "PDF (*.pdf)"
            )
            if not path:
                return
        paper, build = self.paper.currentData(), self._builder()

        def work(progress: Callable[[float, str], None], cancelled: Callable[[], bool]) -> int:
            report = build(progress, cancelled)
            return report_render.write_pdf(
                report, path, paper, lambda f, t: progress(0.5 + f * 0.5, t), cancelled
            )

        self._start("Writing the PDF", work, lambda pages: self._saved(path, f"{pages} pages"))

    def save_xlsx(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Save report tables as XLSX",
                self._suggested(".xlsx"),
                "Excel workbook (*.xlsx)",
            )
            if not path:
                return
        build = self._builder()

        def work(progress: Callable[[float, str], None], cancelled: Callable[[], bool]) -> int:
            from core.report import ReportCancelled
            from core.report_xlsx import write_xlsx

            report = build(progress, cancelled)
            if cancelled():
                raise ReportCancelled
            progress(0.75, "Writing the workbook")
            return len(write_xlsx(report, path))

        self._start("Writing the workbook", work, lambda n: self._saved(path, f"{n} sheets"))

    def _saved(self, path: str, what: str) -> None:
        self.status.setText(f"Saved {Path(path).name} ({what}) in {Path(path).parent}.")

    def close_period(self) -> None:
        period = self.period()
        self._remember()
        report = None
        with catching_damage(self._report_damage):  # the window's restore offer
            report = close_quarter(self, self.inventory, self.options())
        if report is None:
            return
        t = report.totals
        self.status.setText(
            f"Closed {period.label}: {format_number(t['market_kgco2e'])} kgCO2e market-based, "
            f"{format_number(t['location_kgco2e'])} kgCO2e location-based."
        )
        self.closing_changed.emit(period.label)
        self._update_status()

    def reopen_period(self) -> None:
        period = self.period()
        reason = None
        with catching_damage(self._report_damage):  # the window's restore offer
            reason = reopen_quarter(self, self.inventory, period)
        if reason is None:
            return
        self.closing_changed.emit(period.label)
        self._update_status()
        self.status.setText(f"Reopened {period.label}: {reason}")

    def reject(self) -> None:
        self._cancel.set()
        super().reject()


def close_quarter(parent: QWidget, inventory: Inventory, options: ReportOptions) -> Report | None:
    """Ask, then close ``options.period`` with its report (whole inventory) as the
    snapshot. Returns the report kept, or None if the user declined or it failed (the
    reason is shown; the inventory is unchanged then: one transaction). SQLite's report
    of a damaged file is raised instead, for the caller to announce (its restore offer
    says more than SQLite's words): see ``ui.damage_guard``."""
    period = options.period
    answer = QMessageBox.question(
        parent,
        "Close quarter",
        f"Close {period.label}? Its figures, the factors used and the report are kept in "
        "the inventory as reported. Later edits that change them will ask for a reason "
        "and are listed as restatements in the next report.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        report, factors = build_for_closing(inventory, options)
        closing.close_period(inventory, period, report, factors)
    except Exception as exc:  # shown; the inventory is unchanged (one transaction)
        QApplication.restoreOverrideCursor()
        if integrity.is_damage(exc):
            raise
        QMessageBox.warning(parent, "Close quarter", literal(str(exc)))
        return None
    QApplication.restoreOverrideCursor()
    return report


def reopen_quarter(parent: QWidget, inventory: Inventory, period: Period) -> str | None:
    """Ask for the reason, then reopen closed ``period`` (logged). Returns the reason,
    or None if the user cancelled or it failed (the reason is shown). SQLite's report
    of a damaged file is raised instead, as by :func:`close_quarter`."""
    reason, ok = QInputDialog.getText(
        parent,
        "Reopen quarter",
        f"Reopening {period.label} lets its figures change again; it is logged in the "
        "change log.\nReason:",
    )
    if not ok or not reason.strip():
        return None
    try:
        closing.reopen_period(inventory, period, reason)
    except Exception as exc:
        if integrity.is_damage(exc):
            raise
        QMessageBox.warning(parent, "Reopen quarter", literal(str(exc)))
        return None
    return reason.strip()
