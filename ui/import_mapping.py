"""The import wizard's column-mapping page: one per chosen sheet.

The proposed mapping is a table (column in the file, examples, what it imports as, unit,
how sure the match is); any target can be changed or the column ignored. Below it the
first rows read with the current mapping, converted to the inventory's units, with
problem cells marked; it is recomputed on a worker shortly after each change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core import importing, schema
from core.errors import LedgerError
from ui.import_jobs import Job, catching_wizard_damage
from ui.import_pages import (
    BusyBar,
    PreviewModel,
    WizardPage,
    _item,
    _table,
    format_value,
)
from ui.import_wizard import SheetChoice, add_titles, read_mapping, table_label
from ui.plain_text import literal

if TYPE_CHECKING:
    from core.importing import ColumnMapping, ImportPlan, SheetMapping

#: wait this long after a change before recomputing the preview (ms)
PREVIEW_DELAY_MS = 400
#: rows shown in the converted preview
PREVIEW_ROWS = 20
IGNORE = "(ignore this column)"
#: matches below this confidence are marked for a second look
UNSURE = 0.6
UNSURE_BACKGROUND = QColor("#fbe7b5")
UNSURE_FOREGROUND = QColor("#3d2e00")


def stored_unit(table: str, field: str) -> str:
    """The unit the inventory keeps ``field`` in ("" when it has none)."""
    spec = schema.TABLES.get("training_runs" if table == "codecarbon" else table)
    if spec is None or field not in spec.field_names:
        return ""
    return spec.field(field).unit


def unit_text(mapping: ColumnMapping, table: str) -> str:
    """``"MWh → kWh"`` when converted, ``"kWh"`` when read as stored, else ``""``."""
    target = stored_unit(table, mapping.field) if mapping.field else ""
    if mapping.unit and target and mapping.unit != target:
        return f"{mapping.unit} → {target}"
    return mapping.unit or target


def examples(rows: list[list[Any]], index: int, n: int = 3) -> str:
    """The first ``n`` non-empty raw values of column ``index``."""
    seen = []
    for row in rows:
        if index < len(row) and row[index] not in (None, ""):
            seen.append(format_value(row[index]))
            if len(seen) == n:
                break
    return ", ".join(seen)


def ambiguous_example(rows: list[list[Any]], mapping: SheetMapping) -> str | None:
    """A raw date cell that reads either way ("03/04/2025"), to show in the question."""
    for c in mapping.columns:
        if c.field is None or ("date" not in c.field and "period" not in c.field):
            continue
        for row in rows:
            value = row[c.index] if c.index < len(row) else None
            if isinstance(value, str) and value.count("/") == 2:
                day, month = value.split("/")[:2]
                if day.isdigit() and month.isdigit() and int(day) <= 12 and int(month) <= 12:
                    return value
    return None


def default_fields(mapping: SheetMapping) -> list[schema.FieldSpec]:
    """Fields of the target table the user may set for every row of the sheet.

    Choices and references that no column provides (a CodeCarbon log provides its own,
    but its site may be set for the whole file: its geolocation is unreliable).
    """
    spec = schema.table(mapping.target)
    if mapping.table == "codecarbon":
        names = ("kind", "site_id") if mapping.target == "training_runs" else ("deployment_id",)
        return [spec.field(n) for n in names]
    mapped = {c.field for c in mapping.columns if c.field}
    return [f for f in spec.fields if f.kind in ("choice", "ref") and f.name not in mapped]


def convert_preview(
    path: Any, info: Any, mapping: SheetMapping, resolutions: Any, n: int = PREVIEW_ROWS
) -> ImportPlan:
    """Runs on a worker: the first ``n`` rows of a sheet converted through ``mapping``
    (as ``plan.preview``) and the problems of the mapping as a whole (``plan.problems``),
    by the core's :func:`core.importing.preview_import` (reads only those rows)."""
    from core.inventory import Inventory

    with Inventory.open(path) as inv:
        plan = importing.preview_import(inv, info, mapping, n, resolutions=resolutions)
        return add_titles(inv, plan)


def apply_saved_mappings(
    path: Any, infos: list[Any], name: str
) -> tuple[list[SheetMapping | None], dict[tuple[str, str], int | str]]:
    """Runs on a worker: the preset ``name`` applied to each sheet by the core's
    :func:`core.importing.presets.apply_preset` (columns matched by header text, the
    sheet's date order settled from the whole column when the preset has none);
    None for a sheet none of whose columns the preset knows. Also the reference
    choices saved with the preset (records still there under the same title)."""
    from core.importing.presets import apply_preset as core_apply_preset
    from core.importing.presets import load_preset_resolutions
    from core.inventory import Inventory

    with Inventory.open(path) as inv:
        saved = importing.load_preset(inv, name)
        choices = load_preset_resolutions(inv, name)
    return [core_apply_preset(info, saved) for info in infos], choices


class MappingPage(WizardPage):
    """The columns of the ``index``-th chosen sheet and what each imports as."""

    HEADER, EXAMPLES, TARGET, UNIT, MATCH = range(5)

    def __init__(self, index: int):
        super().__init__()
        self.index = index
        self.choice: SheetChoice | None = None
        self.combos: list[QComboBox] = []
        self._load: Job | None = None
        self._preview_job: Job | None = None
        self.preview_plan: ImportPlan | None = None
        #: problems of the mapping as a whole, from the last preview
        self.core_problems: list[str] = []

        self.busy = BusyBar()
        self.columns = _table(["Column in the file", "Examples", "Imports as", "Unit", "Match"])
        header = self.columns.horizontalHeader()
        header.setSectionResizeMode(self.HEADER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.EXAMPLES, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.TARGET, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.UNIT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.MATCH, QHeaderView.ResizeMode.ResizeToContents)
        self.columns.setAccessibleName("Column mapping")

        # dd/mm or mm/dd, asked only when the whole column does not tell
        self.dates = QGroupBox("Dates")
        self.dates_label = QLabel()
        self.dates_label.setTextFormat(Qt.TextFormat.PlainText)  # quotes a cell
        self.dates_label.setWordWrap(True)
        self.dmy = QRadioButton("Day/month/year (03/04/2025 is 3 April 2025)")
        self.mdy = QRadioButton("Month/day/year (03/04/2025 is March 4, 2025)")
        self.date_group = QButtonGroup(self)
        self.date_group.addButton(self.dmy)
        self.date_group.addButton(self.mdy)
        self.date_group.buttonToggled.connect(self._on_date_group_button_toggled)
        dates_layout = QVBoxLayout(self.dates)
        dates_layout.addWidget(self.dates_label)
        dates_row = QHBoxLayout()
        dates_row.addWidget(self.dmy)
        dates_row.addWidget(self.mdy)
        dates_row.addStretch(1)
        dates_layout.addLayout(dates_row)
        self.dates.hide()

        # values for every row: choices and references no column provides
        self.defaults_form = QFormLayout()
        self.defaults_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.defaults_note = QLabel()
        self.defaults_note.setWordWrap(True)
        defaults_inner = QWidget()
        defaults_layout = QVBoxLayout(defaults_inner)
        defaults_layout.addWidget(self.defaults_note)
        defaults_layout.addLayout(self.defaults_form)
        defaults_layout.addStretch(1)
        self.defaults_scroll = QScrollArea()
        self.defaults_scroll.setWidgetResizable(True)
        self.defaults_scroll.setWidget(defaults_inner)
        self.defaults_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.defaults_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.defaults = QGroupBox("Values for every row")
        box_layout = QVBoxLayout(self.defaults)
        box_layout.setContentsMargins(4, 4, 4, 4)
        box_layout.addWidget(self.defaults_scroll)
        self.default_combos: dict[str, QComboBox] = {}

        self.preview_label = QLabel(f"The first {PREVIEW_ROWS} rows as they will be imported:")
        self.preview_label.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.preview = QTableView()
        self.preview.setWordWrap(False)
        self.preview.setAlternatingRowColors(True)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.setAccessibleName("Converted preview")
        self.warning = QLabel()
        # plain text: the problems quote column headers, units and cells of the file
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b3261e;")

        self.presets = QComboBox()
        self.presets.setAccessibleName("Saved mappings")
        self.presets.setMinimumContentsLength(18)
        self.apply_preset_button = QPushButton("Apply")
        self.apply_preset_button.setToolTip("Use a saved mapping for the sheets of this import")
        self.save_preset_button = QPushButton("Save Mapping…")
        self.save_preset_button.setToolTip(
            "Save the tables and columns chosen for every sheet under a name, in the "
            "inventory, for next quarter's file"
        )
        self.apply_preset_button.clicked.connect(self._on_apply_preset_button_clicked)
        self.save_preset_button.clicked.connect(self._on_save_preset_button_clicked)
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Saved mappings:"))
        preset_row.addWidget(self.presets)
        preset_row.addWidget(self.apply_preset_button)
        preset_row.addStretch(1)
        preset_row.addWidget(self.save_preset_button)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.columns)
        top.addWidget(self.defaults)
        top.setChildrenCollapsible(False)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([680, 300])
        self.top_splitter = top
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.preview_label)
        bottom_layout.addWidget(self.preview)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.dates)
        layout.addWidget(self.warning)
        layout.addLayout(preset_row)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._on_preview_timer_timeout)

    # -- filling --------------------------------------------------------------------------

    def initializePage(self) -> None:
        wizard = self.wizard()
        chosen = wizard.chosen()
        self.choice = choice = chosen[self.index]
        assert choice.table is not None
        self.setTitle(  # the sheet's title holds the file name: shown as written
            literal(
                f"Columns of {choice.title}"
                + (f"  ({self.index + 1} of {len(chosen)})" if len(chosen) > 1 else "")
            )
        )
        self.setSubTitle(
            f"Imports into {table_label(choice.table)}. Check what each column is read as; "
            "change any that is wrong, or ignore it."
        )
        self._fill_presets()
        mapping = choice.mapping
        if mapping is not None and mapping.table == choice.table and choice.raw_preview:
            self._fill()
            return
        self.columns.setRowCount(0)
        info, table = choice.info, choice.table
        self._load = wizard.start_job(lambda _p, _c: read_mapping(info, table, mapping))
        self.busy.follow(self._load, "Reading the columns")
        self._load.finished.connect(self._on_load_finished)
        self._load.failed.connect(self._on_load_failed)
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        self._preview_timer.stop()
        for job in (self._load, self._preview_job):
            if job is not None:
                job.cancel()
        self._load = self._preview_job = None

    def _on_load_finished(self, outcome: tuple[SheetMapping, list[list[Any]]]) -> None:
        self._load = None
        assert self.choice is not None
        self.choice.mapping, self.choice.raw_preview = outcome
        with catching_wizard_damage(self.wizard()):  # its lists of records are read
            self._fill()
            self.completeChanged.emit()

    def _on_load_failed(self, message: str) -> None:
        self._load = None
        self.warning.setText(f"The sheet could not be read: {message}")
        self.completeChanged.emit()

    def _fill(self) -> None:
        choice = self.choice
        assert choice is not None and choice.mapping is not None and choice.table is not None
        mapping = choice.mapping
        rows = choice.raw_preview or []
        targets = importing.target_fields(choice.table)
        self.columns.setRowCount(len(mapping.columns))
        self.combos = []
        for row, column in enumerate(mapping.columns):
            letter = choice.info.column_letter(column.index)
            self.columns.setItem(
                row, self.HEADER, _item(column.header or f"Column {letter}", tip=f"Column {letter}")
            )
            sample = examples(rows, column.index)
            self.columns.setItem(row, self.EXAMPLES, _item(sample, tip=sample))
            combo = QComboBox()
            combo.setAccessibleName(f"Import {column.header} as")
            combo.addItem(IGNORE, None)
            for name, label in targets:
                combo.addItem(label, name)
            combo.setCurrentIndex(max(0, combo.findData(column.field)))
            combo.currentIndexChanged.connect(
                lambda _i, r=row: self._on_combo_current_index_changed(r)
            )
            self.columns.setCellWidget(row, self.TARGET, combo)
            self.combos.append(combo)
            self._fill_row_state(row)
        self.columns.resizeRowsToContents()
        self._fill_defaults()
        self._fill_dates()
        self._update_warning()
        self._schedule_preview(at_once=True)

    def _fill_row_state(self, row: int) -> None:
        """Unit and match columns of ``row`` after its target is (re)set."""
        assert self.choice is not None and self.choice.mapping is not None
        column = self.choice.mapping.columns[row]
        table = self.choice.table or ""
        unit = _item(unit_text(column, table) if column.field else "")
        if column.field is None:
            match = _item("ignored")
            match.setForeground(QBrush(QColor("#767676")))
        else:
            match = _item(f"{column.confidence:.0%}", number=True)
            if column.confidence < UNSURE:
                match.setToolTip("An uncertain match: check this column")
                match.setBackground(QBrush(UNSURE_BACKGROUND))
                match.setForeground(QBrush(UNSURE_FOREGROUND))
        self.columns.setItem(row, self.UNIT, unit)
        self.columns.setItem(row, self.MATCH, match)

    def _fill_dates(self) -> None:
        assert self.choice is not None and self.choice.mapping is not None
        mapping = self.choice.mapping
        self.dates.setVisible(mapping.ambiguous_dates)
        if not mapping.ambiguous_dates:
            return
        example = ambiguous_example(self.choice.raw_preview or [], mapping)
        self.dates_label.setText(
            "Every date in this sheet reads both ways"
            + (f" (for example {example})" if example else "")
            + ". How are they written?"
        )
        self.date_group.blockSignals(True)
        self.dmy.setChecked(mapping.date_order == "dmy")
        self.mdy.setChecked(mapping.date_order == "mdy")
        if mapping.date_order is None:  # neither: the user answers
            self.date_group.setExclusive(False)
            self.dmy.setChecked(False)
            self.mdy.setChecked(False)
            self.date_group.setExclusive(True)
        self.date_group.blockSignals(False)

    def _fill_defaults(self) -> None:
        """One combo per field that can be set for every row."""
        assert self.choice is not None and self.choice.mapping is not None
        mapping = self.choice.mapping
        while self.defaults_form.rowCount():
            self.defaults_form.removeRow(0)
        self.default_combos = {}
        inventory = self.wizard().inventory
        codecarbon = mapping.table == "codecarbon"
        if codecarbon:
            into = QComboBox()
            into.setAccessibleName("CodeCarbon rows become")
            into.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            into.setMinimumContentsLength(10)
            into.addItem("Training runs", "training_runs")
            into.addItem("Usage records", "usage")
            into.setCurrentIndex(max(0, into.findData(mapping.target)))
            into.currentIndexChanged.connect(
                lambda _i, box=into: self._on_into_current_index_changed(box)
            )
            self.defaults_form.addRow("Rows become:", into)
        for f in default_fields(mapping):
            combo = QComboBox()
            combo.setAccessibleName(f"{f.label} for every row")
            # long site names must not widen the panel: the combo shrinks, its list does not
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
            combo.addItem("(from the file)" if codecarbon else "(none)", None)
            if f.kind == "choice":
                for value, label in f.choices:
                    combo.addItem(label, value)
            else:
                assert f.ref is not None
                for record_id, title in inventory.ref_options(f.ref):
                    combo.addItem(title, record_id)
            combo.setCurrentIndex(max(0, combo.findData(mapping.defaults.get(f.name))))
            combo.currentIndexChanged.connect(
                lambda _i, name=f.name, box=combo: self._on_default_current_index_changed(name, box)
            )
            label = f.label + (" *" if f.required else "")
            self.defaults_form.addRow(f"{label}:", combo)
            self.default_combos[f.name] = combo
        if codecarbon:
            self.defaults_note.setText(
                "CodeCarbon's own location is often wrong: set the site here to use one "
                "site for the whole file."
            )
        elif self.default_combos:
            self.defaults_note.setText("For what no column holds (* needed by every row).")
        else:
            self.defaults_note.setText("Every field that can be set here comes from a column.")

    def _on_into_current_index_changed(self, box: QComboBox) -> None:
        assert self.choice is not None and self.choice.mapping is not None
        mapping = self.choice.mapping
        mapping.into = box.currentData()
        mapping.defaults = {"kind": "experiments"} if mapping.into == "training_runs" else {}
        with catching_wizard_damage(self.wizard()):  # its lists of records are read
            self._fill_defaults()
            self._update_warning()
            self._schedule_preview()

    def _on_default_current_index_changed(self, name: str, box: QComboBox) -> None:
        assert self.choice is not None and self.choice.mapping is not None
        value = box.currentData()
        if value is None:
            self.choice.mapping.defaults.pop(name, None)
        else:
            self.choice.mapping.defaults[name] = value
        self._update_warning()
        self._schedule_preview()

    def _fill_presets(self) -> None:
        self.presets.clear()
        names = importing.list_presets(self.wizard().inventory)
        for name in names:
            self.presets.addItem(name)
        if not names:
            self.presets.addItem("None saved yet")
        self.presets.setEnabled(bool(names))
        self.apply_preset_button.setEnabled(bool(names))

    # -- changes --------------------------------------------------------------------------

    def _on_combo_current_index_changed(self, row: int) -> None:
        assert self.choice is not None and self.choice.mapping is not None
        columns = self.choice.mapping.columns
        chosen = self.combos[row].currentData()
        columns[row].field = chosen
        columns[row].confidence = 1.0  # the user said so
        if chosen is not None:  # one column per field: the other one is now ignored
            for other, column in enumerate(columns):
                if other != row and column.field == chosen:
                    column.field = None
                    self.combos[other].blockSignals(True)
                    self.combos[other].setCurrentIndex(0)
                    self.combos[other].blockSignals(False)
                    self._fill_row_state(other)
        self._fill_row_state(row)
        if chosen is not None:
            self.choice.mapping.defaults.pop(chosen, None)
        with catching_wizard_damage(self.wizard()):  # its lists of records are read
            self._fill_defaults()
            self._update_warning()
            self._schedule_preview()
            self.completeChanged.emit()

    def _on_date_group_button_toggled(self, _button: QRadioButton, _checked: bool) -> None:
        assert self.choice is not None and self.choice.mapping is not None
        order = "dmy" if self.dmy.isChecked() else "mdy" if self.mdy.isChecked() else None
        self.choice.mapping.date_order = order
        self._schedule_preview()
        self.completeChanged.emit()

    def _update_warning(self) -> None:
        """Fields every row needs that nothing provides (known at once), and the other
        problems of the mapping as a whole the last preview found (e.g. a unit that
        does not convert)."""
        assert self.choice is not None and self.choice.mapping is not None
        mapping = self.choice.mapping
        lines = []
        if mapping.table in schema.TABLES:
            given = {c.field for c in mapping.columns if c.field} | set(mapping.defaults)
            missing = [
                f.header
                for f in schema.table(mapping.table).fields
                if f.required and f.name not in given
            ]
            if missing:
                lines.append(
                    f"Every row needs {', '.join(missing)}: choose the column that holds "
                    "it, or a value for every row."
                )
        lines += [p for p in self.core_problems if "required field" not in p]
        self.warning.setText("\n".join(lines))

    # -- converted preview ----------------------------------------------------------------

    @property
    def updating(self) -> bool:
        """Whether the columns or the converted preview are still being worked out."""
        return (
            self._load is not None
            or self._preview_job is not None
            or self._preview_timer.isActive()
        )

    def _schedule_preview(self, *, at_once: bool = False) -> None:
        if self._preview_job is not None:
            self._preview_job.cancel()
            self._preview_job = None
        self.preview_label.setText(
            f"The first {PREVIEW_ROWS} rows as they will be imported (updating…):"
        )
        if at_once:
            self._on_preview_timer_timeout()
        else:
            self._preview_timer.start()

    def _on_preview_timer_timeout(self) -> None:
        wizard = self.wizard()
        choice = self.choice
        assert choice is not None and choice.mapping is not None
        mapping = _copy_mapping(choice.mapping)  # the worker reads its own copy
        path, info, resolutions = wizard.inventory.path, choice.info, dict(wizard.resolutions)
        job = wizard.start_job(lambda _p, _c: convert_preview(path, info, mapping, resolutions))
        self._preview_job = job
        job.finished.connect(lambda plan, j=job: self._on_preview_finished(j, plan))
        job.failed.connect(lambda message, j=job: self._on_preview_failed(j, message))

    def _on_preview_finished(self, job: Job, plan: ImportPlan) -> None:
        if job is not self._preview_job:
            return  # a newer preview is on its way
        self._preview_job = None
        self.preview_plan = plan
        self.core_problems = [f"{p.column}: {p.reason}" for p in plan.problems]
        self._update_warning()
        self.preview.setModel(PreviewModel(plan, self))
        self.preview.resizeColumnsToContents()
        marked = sum(1 for r in plan.preview if r["problems"])
        note = (
            f"; {marked} of them with problems, marked in red (hover for the reason)"
            if marked
            else ""
        )
        self.preview_label.setText(
            f"The first {len(plan.preview)} rows as they will be imported{note}:"
        )

    def _on_preview_failed(self, job: Job, message: str) -> None:
        if job is not self._preview_job:
            return
        self._preview_job = None
        self.preview.setModel(None)
        self.preview_label.setText(f"No preview: {message}")

    # -- presets --------------------------------------------------------------------------

    def _on_save_preset_button_clicked(self) -> None:
        wizard = self.wizard()
        name, ok = QInputDialog.getText(
            self, "Save mapping", "Name of this mapping (e.g. Quarterly GPU report):"
        )
        name = name.strip()
        if not ok or not name:
            return
        mappings = [s.mapping for s in wizard.chosen() if s.mapping is not None]
        with catching_wizard_damage(wizard):  # written and listed again on this thread
            try:
                # with the reference choices made so far: next quarter's file asks nothing
                importing.save_preset(wizard.inventory, name, mappings, dict(wizard.resolutions))
            except LedgerError as exc:
                QMessageBox.warning(self, "Cannot save the mapping", literal(str(exc)))
                return
            self._fill_presets()
            self.presets.setCurrentText(name)

    def _on_apply_preset_button_clicked(self) -> None:
        wizard = self.wizard()
        name = self.presets.currentText()
        chosen = [c for c in wizard.chosen()]
        path, infos = wizard.inventory.path, [c.info for c in chosen]
        if self._load is not None:
            self._load.cancel()
        self._load = wizard.start_job(lambda _p, _c: apply_saved_mappings(path, infos, name))
        self.busy.follow(self._load, f"Applying the mapping '{name}'")
        self._load.finished.connect(
            lambda result, job=self._load, n=name: self._on_preset_finished(job, n, *result)
        )
        self._load.failed.connect(
            lambda message, job=self._load: self._on_preset_failed(job, message)
        )
        self.completeChanged.emit()

    def _on_preset_finished(
        self,
        job: Job,
        name: str,
        mappings: list[SheetMapping | None],
        choices: dict[tuple[str, str], int | str],
    ) -> None:
        if job is not self._load:
            return
        self._load = None
        for key, value in choices.items():  # choices made in this wizard win
            self.wizard().resolutions.setdefault(key, value)
        unfit = []
        for choice, mapping in zip(self.wizard().chosen(), mappings, strict=False):
            if mapping is None:
                unfit.append(choice.title)
                continue
            choice.table = mapping.table
            choice.mapping = mapping
        if unfit:
            QMessageBox.information(
                self,
                "Mapping applied in part",
                literal(
                    f"The mapping '{name}' knows none of the columns of: {', '.join(unfit)}. "
                    "Those sheets keep their mapping."
                ),
            )
        with catching_wizard_damage(self.wizard()):  # its lists of records are read
            self._fill()
            self.completeChanged.emit()

    def _on_preset_failed(self, job: Job, message: str) -> None:
        if job is not self._load:
            return
        self._load = None
        QMessageBox.warning(self, "Cannot use the mapping", literal(message))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        choice = self.choice
        if self._load is not None or choice is None or choice.mapping is None:
            return False
        mapping = choice.mapping
        return not (mapping.ambiguous_dates and mapping.date_order is None)

    def nextId(self) -> int:
        return self.wizard().next_after_mapping(self.index)


def _copy_mapping(mapping: SheetMapping) -> SheetMapping:
    import copy

    return copy.deepcopy(mapping)
