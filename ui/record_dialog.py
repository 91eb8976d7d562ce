"""The add/edit form for one record, built from the table's field specs.

Every number has its unit beside it; references are dropdowns; dates have a calendar.
Each change re-validates the whole record with ``core.validation``; an invalid field is
marked with its reason and Save stays disabled until the record is valid.

:meth:`RecordDialog.changed_values` gives only the fields the user changed (compared
with what the form showed when it opened), so that saving an edit never writes back
a field the user did not touch.

The form reads the inventory while it is in use (a training run's hardware power, to
check the average power against it): a damaged page of the file met then is announced
with :attr:`RecordDialog.damaged` and the form closes. Reads while it is built (its
dropdown lists) are guarded by whoever builds it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core import schema
from core.commands import hardware_tdp
from core.inventory import Inventory
from core.sourcing_notices import supplier_factors, supplier_overlap_notices
from core.validation import parse_value, power_problem, record_problems
from ui.damage_guard import catching_damage, damage_error

_BLANK_DATE = QDate(1900, 1, 1)  # shown as "—": the date edit's way to say "no date"
_ERROR_STYLE = (
    "color: palette(bright-text); background: #b3261e; border-radius: 3px; padding: 1px 4px;"
)


class _DateField(QDateEdit):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(_BLANK_DATE)
        self.setSpecialValueText("—")
        self.setDate(_BLANK_DATE)

    def iso(self) -> str | None:
        d = self.date()
        return None if d == _BLANK_DATE else d.toString("yyyy-MM-dd")

    def set_iso(self, text: str | None) -> None:
        if text:
            day = dt.date.fromisoformat(text)
            self.setDate(QDate(day.year, day.month, day.day))
        else:
            self.setDate(_BLANK_DATE)


class RecordDialog(QDialog):
    """Add or edit one record of ``table``; :meth:`values` gives the stored values,
    :meth:`changed_values` those the user changed."""

    validated = Signal(bool)
    #: the inventory file is damaged (an InventoryDamagedError), met while the form is
    #: in use; announced once, and the form closes (what was typed cannot be saved)
    damaged = Signal(object)

    def __init__(
        self,
        inventory: Inventory,
        table: str,
        values: dict[str, Any] | None = None,
        *,
        title: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.spec = schema.table(table)
        self.setWindowTitle(title or f"Add {self.spec.singular}")
        self.setMinimumWidth(520)
        self._inv = inventory
        self._editors: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._parse_errors: dict[str, str] = {}
        # Problems show on fields the user has touched (or all of them when editing an
        # existing record); Save stays disabled either way.
        self._touched: set[str] = set()
        #: reads while building raise (the builder's guard); once built, damage met is
        #: announced with :attr:`damaged`
        self._built = False
        self._damage_reported = False

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for f in self.spec.fields:
            editor = self._make_editor(f)
            self._editors[f.name] = editor
            row = QHBoxLayout()
            row.addWidget(editor, 1)
            if f.unit:
                unit = QLabel(f.unit)
                unit.setMinimumWidth(72)
                unit.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
                unit.setAccessibleName(f"{f.label} unit")
                row.addWidget(unit)
            error = QLabel()
            error.setStyleSheet(_ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            error.setObjectName(f"error_{f.name}")
            self._errors[f.name] = error
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addLayout(row)
            box.addWidget(error)
            label = QLabel(f.label + (" *" if f.required else ""))
            label.setBuddy(editor)
            if f.help:
                label.setToolTip(f.help)
                editor.setToolTip(f.help)
            form.addRow(label, box)

        inner = QWidget()
        column = QVBoxLayout(inner)
        column.addLayout(form)
        column.addStretch(1)  # spare height goes below the fields, not between them
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("summary")
        #: heads-ups that do not stop saving (supplier-specific factors sharing days)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setObjectName("notice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)  # record names shown as typed
        self.notice.setVisible(False)
        self._record_id = (values or {}).get("id")
        self._others: list[dict[str, Any]] | None = None  # read when first needed

        layout = QVBoxLayout(self)
        note = QLabel("Fields marked * are required.")
        note.setEnabled(False)
        layout.addWidget(note)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.notice)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

        if values:
            self.set_values(values)
            self._touched.update(self._editors)
        self._revalidate()
        #: the values the form showed when it opened (read back through the editors,
        #: so that an untouched field always compares equal)
        self._initial = self.values()
        available = self.screen().availableGeometry().height()
        self.resize(580, min(int(available * 0.9), 140 + 40 * len(self.spec.fields)))
        first = self._editors[self.spec.fields[0].name]
        first.setFocus(Qt.FocusReason.OtherFocusReason)
        self._built = True

    # -- editors ----------------------------------------------------------------------

    def _on_field_edited(self, *_: object) -> None:
        sender = self.sender()
        for name, w in self._editors.items():
            if w is sender:
                self._touched.add(name)
        self._revalidate()

    def _make_editor(self, f: schema.FieldSpec) -> QWidget:
        if f.kind == "longtext":
            w = QPlainTextEdit()
            w.setTabChangesFocus(True)
            w.setFixedHeight(64)
            w.textChanged.connect(self._on_field_edited)
            return w
        if f.kind == "date":
            w = _DateField()
            w.dateChanged.connect(self._on_field_edited)
            return w
        if f.kind in ("choice", "ref"):
            w = QComboBox()
            if not f.required:
                w.addItem("—", None)
            if f.kind == "choice":
                for stored, label in f.choices:
                    w.addItem(label, stored)
            else:
                assert f.ref
                for row_id, title in self._inv.ref_options(f.ref):
                    w.addItem(title, row_id)
                w.setEditable(True)
                w.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
                completer = w.completer()
                completer.setFilterMode(Qt.MatchFlag.MatchContains)
                completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
            if f.required:
                w.setCurrentIndex(-1)
            w.currentIndexChanged.connect(self._on_field_edited)
            if w.isEditable():
                w.editTextChanged.connect(self._on_field_edited)
            return w
        w = QLineEdit()
        if f.is_number:
            w.setAlignment(Qt.AlignmentFlag.AlignRight)
            w.setPlaceholderText("—")
        w.textChanged.connect(self._on_field_edited)
        return w

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def error_text(self, name: str) -> str:
        label = self._errors[name]
        return label.text() if label.isVisibleTo(self) else ""

    # -- values -----------------------------------------------------------------------

    def set_values(self, values: dict[str, Any]) -> None:
        for f in self.spec.fields:
            w = self._editors[f.name]
            value = values.get(f.name)
            if isinstance(w, QPlainTextEdit):
                w.setPlainText(value or "")
            elif isinstance(w, _DateField):
                w.set_iso(value)
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(
                    w.findData(value) if value is not None else (0 if not f.required else -1)
                )
            elif isinstance(w, QLineEdit):
                w.setText("" if value is None else _number_text(value) if f.is_number else value)
        self._revalidate()

    def values(self) -> dict[str, Any]:
        """The stored values the form holds now (fields that do not parse are None)."""
        out: dict[str, Any] = {}
        self._parse_errors = {}
        for f in self.spec.fields:
            w = self._editors[f.name]
            if isinstance(w, QPlainTextEdit):
                raw: Any = w.toPlainText()
            elif isinstance(w, _DateField):
                raw = w.iso()
            elif isinstance(w, QComboBox):
                raw = self._combo_value(f, w)
            else:
                assert isinstance(w, QLineEdit)
                raw = w.text()
            try:
                out[f.name] = parse_value(f, raw)
            except ValueError as exc:
                out[f.name] = None
                self._parse_errors[f.name] = str(exc)
        return out

    def changed_values(self) -> dict[str, Any]:
        """The stored values of the fields the user changed since the form opened (or
        since :meth:`rebase`)."""
        return {k: v for k, v in self.values().items() if v != self._initial.get(k)}

    def rebase(self, stored: dict[str, Any]) -> None:
        """Show ``stored`` (the record as it is now) with the user's changes on top, and
        compare with ``stored`` from now on: after another program changed the record
        while the form was open."""
        typed = self.changed_values()
        self.set_values(stored)
        self._initial = self.values()
        self.set_values({**stored, **typed})

    def _combo_value(self, f: schema.FieldSpec, w: QComboBox) -> Any:
        if w.isEditable():
            # typed text must match an entry exactly; a partial name is not a choice
            index = w.findText(w.currentText(), Qt.MatchFlag.MatchFixedString)
            if index < 0:
                if w.currentText().strip() and w.currentText() != "—":
                    self._parse_errors[f.name] = "pick an entry from the list"
                return None
            return w.itemData(index)
        return w.currentData() if w.currentIndex() >= 0 else None

    def problems(self) -> dict[str, str]:
        values = self.values()
        problems = dict(record_problems(self.spec.name, values))
        if self.spec.name == "training_runs" and "avg_power_w" not in problems:
            reason = power_problem(values, self._hardware_tdp(values))
            if reason:
                problems["avg_power_w"] = reason
        problems.update(self._parse_errors)
        return problems

    def _hardware_tdp(self, values: dict[str, Any]) -> float | None:
        """The power (W) of the hardware ``values`` name, read from the inventory; None
        if it names none, or once the file turned out damaged (announced)."""
        if not self._built:
            return hardware_tdp(self._inv, values)
        tdp = None
        if not self._damage_reported:
            with catching_damage(self._report_damage):
                tdp = hardware_tdp(self._inv, values)
        return tdp

    def _notices(self) -> list[str]:
        """Heads-ups on the sourcing record as typed (see ``core.sourcing_notices``);
        the other records are read once, when first needed."""
        if self._others is None:
            if not self._built:
                self._others = supplier_factors(self._inv.conn)
            elif not self._damage_reported:
                with catching_damage(self._report_damage):
                    self._others = supplier_factors(self._inv.conn)
        return supplier_overlap_notices(self.values(), self._record_id, self._others or [])

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(damage_error(self._inv.path, exc))
        self.reject()  # nothing typed here can be saved to a damaged file

    def _revalidate(self) -> None:
        problems = self.problems()
        for name, label in self._errors.items():
            reason = problems.get(name) if name in self._touched else None
            label.setText(f"{self.spec.field(name).label} {reason}" if reason else "")
            label.setVisible(bool(reason))
        ok = not problems
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)
        n = len(problems)
        names = ", ".join(self.spec.field(k).label for k in problems)
        self.summary.setText("" if ok else f"To fix before saving ({n}): {names}.")
        notices = self._notices() if self.spec.name == "sourcing" else []
        self.notice.setText("\n".join(f"Note: {text}" for text in notices))
        self.notice.setVisible(bool(notices))
        self.validated.emit(ok)

    def accept(self) -> None:
        if not self.problems() and not self._damage_reported:
            super().accept()


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
