"""The import wizard's commit page: counts, the first rows with problems marked (or
only the rows with problems, anywhere in the file), and the choice to skip invalid rows
into an errors file.

Part of :mod:`ui.import_pages`, which re-exports :class:`ValidationPage`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.import_jobs import Job
from ui.import_preview import PreviewModel
from ui.import_widgets import BusyBar, WizardPage, _item, _table
from ui.import_wizard import add_titles, sheet_title, table_label
from ui.plain_text import literal

if TYPE_CHECKING:
    from core.importing import ImportPlan

#: at most this many problems are listed (all of them go to the errors file)
MAX_PROBLEMS_LISTED = 2000


# -- the commit page -------------------------------------------------------------------


class ValidationPage(WizardPage):
    """What the import would do: counts, the first rows with problems marked, and the
    choice to skip invalid rows into an errors file. Import commits."""

    COUNT_HEADERS = ("Sheet", "Into", "New", "Changed", "Unchanged", "Invalid")

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Check before importing")
        self.setSubTitle(
            "Nothing has been written yet. Problem cells are marked in red; hover over one "
            "to see why, double-click it (or press F2) to fix it here."
        )
        self.setCommitPage(True)
        self.busy = BusyBar()
        self.counts = _table(list(self.COUNT_HEADERS))
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(self.COUNT_HEADERS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.sheet_box = QComboBox()
        self.sheet_box.setAccessibleName("Sheet shown")
        self.sheet_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sheet_box.currentIndexChanged.connect(self._on_sheet_box_current_index_changed)
        self.sheet_label = QLabel("Sheet:")
        self.preview = QTableView()
        self.preview.setAlternatingRowColors(True)
        self.preview.setWordWrap(False)
        self.preview.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.preview.verticalHeader().setDefaultSectionSize(22)
        # problem cells are fixed in place (PreviewModel.flags says which)
        self.preview.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.problems = _table(["Sheet", "Row", "Column", "Value", "Problem"])
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        problem_header = self.problems.horizontalHeader()
        for col in range(4):
            problem_header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        problem_header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        preview_tab = QWidget()
        preview_layout = QVBoxLayout(preview_tab)
        preview_layout.setContentsMargins(6, 6, 6, 6)
        sheet_row = QHBoxLayout()
        sheet_row.addWidget(self.sheet_label)
        sheet_row.addWidget(self.sheet_box)
        sheet_row.addSpacing(12)
        # the rows with problems beyond the first rows can be fixed here too
        self.only_problems = QCheckBox("Show only rows with &problems")
        self.only_problems.setToolTip(
            "List the rows with problems from anywhere in the file (and the rows fixed "
            "here), with their row numbers in the file, instead of the first rows."
        )
        self.only_problems.toggled.connect(self._on_only_problems_toggled)
        sheet_row.addWidget(self.only_problems)
        self.problem_rows_note = QLabel()
        self.problem_rows_note.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_rows_note.hide()
        sheet_row.addWidget(self.problem_rows_note)
        sheet_row.addStretch(1)
        preview_layout.addLayout(sheet_row)
        preview_layout.addWidget(self.preview, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(preview_tab, "First rows")
        self.tabs.addTab(self.problems, "Problems")

        self.skip = QCheckBox()
        self.skip.toggled.connect(self._on_skip_toggled)
        self.errors_path = QLineEdit()
        self.errors_path.setAccessibleName("Errors file")
        self.errors_path.textChanged.connect(self.completeChanged)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._on_browse_clicked)
        skip_row = QHBoxLayout()
        skip_row.addWidget(self.skip)
        skip_row.addWidget(self.errors_path, 1)
        skip_row.addWidget(self.browse)
        self.skip_box = QWidget()
        self.skip_box.setLayout(skip_row)
        skip_row.setContentsMargins(0, 0, 0, 0)
        self.verdict = QLabel()
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.verdict.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.counts)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.verdict)
        layout.addWidget(self.skip_box)
        self._job: Job | None = None
        self._commit: Job | None = None
        self.models: list[PreviewModel] = []
        #: after a fix: the sheet shown, the row fixed (its number in the file and its
        #: place in the table) and the column, to show that cell again once checked
        self._keep: tuple[int, int, int, int] | None = None

    # -- planning -------------------------------------------------------------------------

    def initializePage(self) -> None:
        wizard = self.wizard()
        self._keep = None
        self._fill_empty()
        if wizard.plans_fresh():
            self._show()
            return
        self._plan("Checking every row")

    def _plan(self, what: str) -> None:
        self._job = self.wizard().start_planning()
        self.busy.follow(self._job, what)
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self.completeChanged.emit()

    def _on_edit(self, model: PreviewModel, row: int, name: str, text: str) -> None:
        """A cell fixed in the preview: check every row again with the fix (the counts,
        duplicates and references of the whole import may change)."""
        wizard = self.wizard()
        choice = wizard.choice_of(model.plan)
        if choice is None or self._job is not None:
            return
        was = next((r.get("raw", {}).get(name) for r in model.rows if r["row"] == row), None)
        if not wizard.set_edit(choice, row, name, text, was):
            return
        index = self.preview.currentIndex()
        self._keep = (self.sheet_box.currentIndex(), row, index.row(), index.column())
        self.preview.setEnabled(False)  # no more edits until the rows are checked again
        self._plan("Checking the rows again")

    def cleanupPage(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _fill_empty(self) -> None:
        self.preview.setEnabled(True)
        self.counts.setRowCount(0)
        self.problems.setRowCount(0)
        self.sheet_box.clear()
        self.preview.setModel(None)
        self.models = []
        self.verdict.setText("")
        self.problem_rows_note.hide()
        self.skip_box.hide()

    def _on_job_finished(self, _plans: object) -> None:
        self._job = None
        self._fill_empty()
        self._show()
        self.completeChanged.emit()

    def _on_job_failed(self, message: str) -> None:
        self._job = None
        self.preview.setEnabled(True)
        self.verdict.setText(f"The files could not be checked: {message}")
        self.completeChanged.emit()

    def _show(self) -> None:
        wizard = self.wizard()
        plans = wizard.plans or []
        self.counts.setRowCount(len(plans))
        self.sheet_box.blockSignals(True)
        for row, plan in enumerate(plans):
            title = sheet_title(plan.sheet)
            cells = [
                _item(title, tip=str(plan.sheet.file)),
                _item(table_label(plan.table)),
                *(
                    _item(f"{n:,}", number=True)
                    for n in (plan.new, plan.changed, plan.unchanged, plan.invalid)
                ),
            ]
            if plan.invalid:
                cells[5].setForeground(QBrush(QColor("#b3261e")))
            for col, item in enumerate(cells):
                self.counts.setItem(row, col, item)
            choice = wizard.choice_of(plan)
            self._add_titles(plan)
            self.models.append(
                PreviewModel(
                    plan,
                    self,
                    on_edit=self._on_edit,
                    edited_from=choice.edited_from if choice is not None else None,
                    problems_only=self.only_problems.isChecked(),
                )
            )
            self.sheet_box.addItem(title)
        self.sheet_box.blockSignals(False)
        self.counts.resizeRowsToContents()
        self._fit_counts()
        several = len(plans) > 1
        self.sheet_label.setVisible(several)
        self.sheet_box.setVisible(several)
        keep, self._keep = self._keep, None
        if self.models and keep is not None and keep[0] < len(self.models):
            # after a fix: the same sheet, and the cell fixed (its row's new status); a
            # row no longer listed leaves the cursor on the row now in its place
            self.sheet_box.setCurrentIndex(keep[0])
            self._show_model(keep[0])
            model = self.models[keep[0]]
            at = model.find_row(keep[1])
            if at is None:
                at = min(keep[2], model.rowCount() - 1)
            index = model.index(at, keep[3])
            if index.isValid():
                self.preview.setCurrentIndex(index)
                self.preview.scrollTo(index)
        elif self.models:  # the first sheet with problems, else the first
            first = next((i for i, p in enumerate(plans) if p.invalid), 0)
            self.sheet_box.setCurrentIndex(first)
            self._show_model(first)
        problems = [p for plan in plans for p in plan.problems]
        shown = problems[:MAX_PROBLEMS_LISTED]
        self.problems.setRowCount(len(shown))
        for row, p in enumerate(shown):
            sheet = p.sheet if p.sheet and p.sheet != Path(p.file).stem else Path(p.file).name
            for col, item in enumerate(
                (
                    _item(sheet, tip=p.file),
                    _item(f"{p.row:,}", number=True),
                    _item(p.column),
                    _item(p.value, tip=p.value),
                    _item(p.reason, tip=p.reason),
                )
            ):
                self.problems.setItem(row, col, item)
        more = f" (first {len(shown):,} listed)" if len(problems) > len(shown) else ""
        self.tabs.setTabText(1, f"Problems ({len(problems):,}){more}")
        invalid = sum(p.invalid for p in plans)
        incoming = sum(p.new + p.changed for p in plans)
        if invalid:
            self.skip.setText(
                f"Skip the {invalid:,} invalid row{'s' if invalid != 1 else ''} and "
                "write them to an errors file:"
            )
            if not self.errors_path.text() and plans:
                first = next(p for p in plans if p.invalid).sheet.file
                self.errors_path.setText(str(first.with_name(f"{first.stem} import errors.csv")))
            self.skip_box.show()
        self._update_verdict(invalid, incoming)

    def _fit_counts(self) -> None:
        """The counts table as tall as its rows (at most four; it scrolls beyond)."""
        rows = min(self.counts.rowCount(), 4)
        height = self.counts.horizontalHeader().height() + 2 * self.counts.frameWidth()
        height += sum(self.counts.rowHeight(r) for r in range(rows))
        self.counts.setFixedHeight(height)

    def _add_titles(self, plan: ImportPlan) -> None:
        """Name the records the problem rows beyond the first rows refer to, as the
        first rows' are named (:func:`ui.import_wizard.add_titles`)."""
        untitled = [r for r in plan.problem_preview if "display" not in r]
        if untitled:
            add_titles(self.wizard().inventory, replace(plan, preview=untitled))

    def _show_model(self, i: int) -> None:
        self.preview.setModel(self.models[i])
        self.preview.resizeColumnsToContents()
        self._update_problem_rows_note()

    def _on_only_problems_toggled(self, checked: bool) -> None:
        for model in self.models:
            model.set_problems_only(checked)
        self.tabs.setTabText(0, "Rows with problems" if checked else "First rows")
        if self.preview.model() is not None:
            self.preview.resizeColumnsToContents()
        self._update_problem_rows_note()

    def _update_problem_rows_note(self) -> None:
        """How many rows with problems the view lists, when it lists only those."""
        model = self.preview.model()
        if not self.only_problems.isChecked() or not isinstance(model, PreviewModel):
            self.problem_rows_note.hide()
            return
        plan = model.plan
        shown = model.problem_rows_shown()
        if plan.problem_preview_omitted and not plan.problem_preview:
            text = "The mapping has problems (see the Problems tab): fix it on its page."
        elif plan.problem_preview_omitted:
            text = f"Showing {shown:,} of {plan.invalid:,} rows with problems"
        elif plan.invalid:
            text = f"{plan.invalid:,} row{'s' if plan.invalid != 1 else ''} with problems"
        else:
            text = "No row has problems"
        self.problem_rows_note.setText(text)
        self.problem_rows_note.show()

    def _on_sheet_box_current_index_changed(self, i: int) -> None:
        if 0 <= i < len(self.models):
            self._show_model(i)

    def _update_verdict(self, invalid: int, incoming: int) -> None:
        if invalid and not self.skip.isChecked():
            self.verdict.setText(
                f"{invalid:,} row{'s have' if invalid != 1 else ' has'} problems (see the "
                "Problems tab). Fix the red cells here (double-click one), fix the file and "
                "import it again, or skip those rows. Cancel leaves the inventory as it is."
            )
        elif incoming == 0 and not invalid:
            self.verdict.setText(
                "Every row is already in the inventory, unchanged. Importing only records "
                "that the file was imported."
            )
        else:
            self.verdict.setText(
                f"Import writes {incoming:,} row{'s' if incoming != 1 else ''} in one step; "
                "Edit > Undo takes the whole import back."
            )

    def _on_skip_toggled(self, _checked: bool) -> None:
        plans = self.wizard().plans or []
        self._update_verdict(sum(p.invalid for p in plans), sum(p.new + p.changed for p in plans))
        self.completeChanged.emit()

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Errors file", self.errors_path.text(), "CSV (*.csv)"
        )
        if name:
            self.errors_path.setText(name)

    def isComplete(self) -> bool:
        wizard = self.wizard()
        if self._job is not None or self._commit is not None or not wizard.plans_fresh():
            return False
        invalid = sum(p.invalid for p in wizard.plans or [])
        return not invalid or (self.skip.isChecked() and bool(self.errors_path.text().strip()))

    # -- committing -----------------------------------------------------------------------

    def validatePage(self) -> bool:
        wizard = self.wizard()
        if wizard.result is not None:
            return True
        if self._commit is not None or not self.isComplete():
            return False
        invalid = sum(p.invalid for p in wizard.plans or [])
        skip = bool(invalid) and self.skip.isChecked()
        errors = Path(self.errors_path.text().strip()) if skip else None
        self._commit = wizard.start_commit(skip, errors)
        self._commit.finished.connect(self._on_commit_finished)
        self._commit.failed.connect(self._on_commit_failed)
        self._commit.cancelled.connect(self._on_commit_cancelled)
        self.completeChanged.emit()
        return False

    def _on_commit_finished(self, _result: object) -> None:
        self._commit = None
        self.wizard().next()

    def _on_commit_failed(self, message: str) -> None:
        self._commit = None
        self.completeChanged.emit()
        QMessageBox.warning(
            self, "Import failed", literal(f"{message}\n\nNothing was written to the inventory.")
        )

    def _on_commit_cancelled(self) -> None:
        self._commit = None
        self.verdict.setText("Import cancelled: nothing was written to the inventory.")
        self.completeChanged.emit()
