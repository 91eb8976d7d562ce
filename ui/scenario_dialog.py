"""Create, change and delete what-if scenarios (saved in the inventory by name).

Saving and deleting go through ``core.commands`` on the window's editor when one is given,
so Edit > Undo takes them back; a change naming a record the inventory no longer holds is
marked in the list and the scenario is not saved until it is removed or replaced.

Once open, the dialog reads the inventory in its own handlers (the saved scenarios, the
records a change names): a damaged page of the file met there closes the dialog, and
:meth:`ScenarioDialog.exec` raises SQLite's error when it returns, for the opener's read
guard to announce (``ui.damage_guard``; the window offers the automatic backup). Reads
while it is built raise as they are, for the same guard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core import scenarios as scen
from core.commands import Command, DeleteScenario, SaveScenario
from core.errors import InventoryDamagedError, LedgerError
from core.inventory import Inventory
from ui.damage_guard import catching_damage
from ui.plain_text import literal

KIND_LABELS = {
    "move_deployment": "Move a deployment to another site, region or provider",
    "move_site": "Move all of a site's load to another site",
    "switch_hardware": "Switch hardware",
    "set_pue": "Change PUE",
    "add_sourcing": "Add a renewable contract (PPA share or certificates)",
    "scale_requests": "Change requests per month",
    "embodied_convention": "Change the embodied-emissions convention",
}
INSTRUMENTS = (
    ("ppa", "Power purchase agreement"),
    ("eac", "Certificates (EAC/REC/GO)"),
    ("green-tariff", "Green tariff"),
)


def _combo(options: list[tuple[object, str]], everything: str | None = None) -> QComboBox:
    combo = QComboBox()
    if everything:
        combo.addItem(everything, None)
    for value, label in options:
        combo.addItem(label, value)
    combo.setMaximumWidth(420)
    return combo


class ScenarioDialog(QDialog):
    """Saved scenarios on the left; the chosen one's changes on the right."""

    def __init__(self, inventory: Inventory, parent: QWidget | None = None, editor: Any = None):
        """``editor``: a ``ui.undo.InventoryEditor`` to save and delete through (undoable)."""
        super().__init__(parent)
        self.setWindowTitle("What-if scenarios")
        self.resize(900, 520)
        self.inventory = inventory
        self.editor = editor
        self.chosen: str | None = None
        #: SQLite's report of damage met by a handler (the dialog closed then)
        self.damage: sqlite3.DatabaseError | None = None
        inv = inventory
        self.refs = {t: inv.ref_options(t) for t in ("deployments", "sites", "hardware")}
        self.names = {t: dict(v) for t, v in self.refs.items()}

        self.saved = QListWidget()
        self.saved.currentItemChanged.connect(self._on_saved_current_item_changed)
        new, delete = QPushButton("New"), QPushButton("Delete")
        new.clicked.connect(self._on_new_clicked)
        delete.clicked.connect(self._on_delete_clicked)
        left = QVBoxLayout()
        left.addWidget(QLabel("Saved scenarios:"))
        left.addWidget(self.saved, 1)
        row = QHBoxLayout()
        row.addWidget(new)
        row.addWidget(delete)
        left.addLayout(row)

        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Move EU inference to Stockholm")
        self.description = QLineEdit()
        self.changes = QListWidget()
        remove = QPushButton("Remove change")
        remove.clicked.connect(self._on_remove_clicked)

        self.kind = QComboBox()
        for key, label in KIND_LABELS.items():
            self.kind.addItem(label, key)
        self.forms = QStackedWidget()
        self.fields: dict[str, dict[str, QWidget]] = {}
        for key in KIND_LABELS:
            self.forms.addWidget(self._form(key))
        self.kind.currentIndexChanged.connect(self.forms.setCurrentIndex)
        add = QPushButton("Add change")
        add.clicked.connect(self._on_add_clicked)
        box = QGroupBox("Add a change")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.kind)
        box_layout.addWidget(self.forms)
        box_layout.addWidget(add, 0, Qt.AlignmentFlag.AlignRight)

        right = QVBoxLayout()
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Description:", self.description)
        right.addLayout(form)
        right.addWidget(
            QLabel("Changes (applied in order; the inventory itself is never changed):")
        )
        right.addWidget(self.changes, 1)
        right.addWidget(remove, 0, Qt.AlignmentFlag.AlignRight)
        right.addWidget(box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("Save scenario")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self._fill_saved()

    # -- forms ----------------------------------------------------------------------------

    def _form(self, kind: str) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        f: dict[str, QWidget] = {}
        deps, sites, hw = self.refs["deployments"], self.refs["sites"], self.refs["hardware"]
        if kind == "move_deployment":
            f["deployment_id"] = _combo(deps)
            f["to_site_id"] = _combo(sites)
            form.addRow("Deployment:", f["deployment_id"])
            form.addRow("Move to:", f["to_site_id"])
        elif kind == "move_site":
            f["site_id"] = _combo(sites)
            f["to_site_id"] = _combo(sites)
            form.addRow("All load of:", f["site_id"])
            form.addRow("Move to:", f["to_site_id"])
        elif kind == "switch_hardware":
            f["from_hardware_id"] = _combo(hw)
            f["to_hardware_id"] = _combo(hw)
            f["deployment_id"] = _combo(deps, "Every run and deployment using it")
            form.addRow("Replace:", f["from_hardware_id"])
            form.addRow("With:", f["to_hardware_id"])
            form.addRow("Where:", f["deployment_id"])
        elif kind == "set_pue":
            f["site_id"] = _combo(sites, "Every site")
            spin = QDoubleSpinBox()
            spin.setRange(1.0, 3.0)
            spin.setDecimals(2)
            spin.setSingleStep(0.05)
            spin.setValue(1.1)
            f["pue"] = spin
            form.addRow("Site:", f["site_id"])
            form.addRow("PUE (ratio):", spin)
        elif kind == "add_sourcing":
            f["instrument"] = _combo(list(INSTRUMENTS))
            f["site_id"] = _combo(sites)
            share = QDoubleSpinBox()
            share.setRange(0, 100)
            share.setSuffix(" %")
            share.setValue(100)
            f["share_pct"] = share
            year = dt.date.today().year
            f["period_start"], f["period_end"] = (
                QDateEdit(QDate(year, 1, 1)),
                QDateEdit(QDate(year, 12, 31)),
            )
            for e in (f["period_start"], f["period_end"]):
                e.setCalendarPopup(True)
                e.setDisplayFormat("yyyy-MM-dd")
            form.addRow("Instrument:", f["instrument"])
            form.addRow("Covers site:", f["site_id"])
            form.addRow("Share of consumption:", share)
            form.addRow("From:", f["period_start"])
            form.addRow("To:", f["period_end"])
        elif kind == "scale_requests":
            f["deployment_id"] = _combo(deps, "Every deployment")
            spin = QDoubleSpinBox()
            spin.setRange(0.01, 100)
            spin.setDecimals(2)
            spin.setValue(2.0)
            spin.setPrefix("× ")
            f["factor"] = spin
            form.addRow("Deployment:", f["deployment_id"])
            form.addRow("Requests per month:", spin)
        elif kind == "embodied_convention":
            f["convention"] = _combo(
                [
                    ("amortised", "Amortised over the lifetime"),
                    ("capital-goods", "Capital goods (in full when bought)"),
                ]
            )
            form.addRow("Convention:", f["convention"])
        self.fields[kind] = f
        return w

    def change_from_form(self) -> dict:
        kind = self.kind.currentData()
        change: dict = {"kind": kind}
        for name, widget in self.fields[kind].items():
            if isinstance(widget, QComboBox):
                value = widget.currentData()
            elif isinstance(widget, QDoubleSpinBox):
                value = round(widget.value(), 4)
            elif isinstance(widget, QDateEdit):
                value = widget.date().toString("yyyy-MM-dd")
            else:
                continue
            if value is not None:
                change[name] = value
        return change

    def describe(self, change: dict) -> str:
        """A change in words, with the names of the records it names."""
        text = scen.describe(change)
        for key, table in (
            ("deployment_id", "deployments"),
            ("site_id", "sites"),
            ("to_site_id", "sites"),
            ("from_hardware_id", "hardware"),
            ("to_hardware_id", "hardware"),
        ):
            if change.get(key) is not None:
                try:
                    rid = int(change[key])
                except (TypeError, ValueError):  # a damaged or hand-made scenario: the
                    continue  # change is marked, reference_problems says what is wrong
                name = self.names[table].get(rid, f"#{change[key]}")
                noun = {"deployments": "deployment", "sites": "site", "hardware": "hardware"}[table]
                text = text.replace(f"{noun} #{change[key]}", f"'{name}'", 1).replace(
                    f"#{change[key]}", f"'{name}'", 1
                )
        return text

    # -- list of saved scenarios ----------------------------------------------------------

    def _fill_saved(self, select: str | None = None) -> None:
        self.saved.blockSignals(True)
        self.saved.clear()
        for s in scen.list_scenarios(self.inventory):
            item = QListWidgetItem(s.name)
            item.setData(Qt.ItemDataRole.UserRole, s)
            self.saved.addItem(item)
            if s.name == select:
                self.saved.setCurrentItem(item)
        self.saved.blockSignals(False)

    def _show(self, s: scen.Scenario | None) -> None:
        self.name.setText(s.name if s else "")
        self.description.setText(s.description if s else "")
        self.changes.clear()
        for change in s.changes if s else []:
            self._append_change(change)

    def _append_change(self, change: dict) -> None:
        item = QListWidgetItem(self.describe(change))
        item.setData(Qt.ItemDataRole.UserRole, change)
        problems = scen.reference_problems(self.inventory, scen.Scenario("", [change]))
        if problems:
            item.setText("⚠ " + item.text() + " (a record it names no longer exists)")
            # the problems quote record names and values: shown as written
            item.setToolTip(
                literal(" ".join(p.replace("Change 1", "This change", 1) for p in problems))
            )
        self.changes.addItem(item)

    def _on_saved_current_item_changed(self, item: QListWidgetItem | None, _prev) -> None:
        s = item.data(Qt.ItemDataRole.UserRole) if item else None
        with self._reading():
            self._show(s)
        if s is not None:
            self.chosen = s.name

    def _on_new_clicked(self) -> None:
        self.saved.setCurrentItem(None)
        self._show(None)
        self.name.setFocus()

    def _on_delete_clicked(self) -> None:
        with self._reading():
            self._delete_chosen()

    def _delete_chosen(self) -> None:
        item = self.saved.currentItem()
        if item is None:
            return
        name = item.text()
        answer = QMessageBox.question(
            self, "Delete scenario", literal(f"Delete the scenario '{name}'?")
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        if not self._run(DeleteScenario(name), "Scenario not deleted"):
            return
        if self.chosen == name:
            self.chosen = ""
        self._fill_saved()
        self._show(None)

    def _on_add_clicked(self) -> None:
        with self._reading():
            self._append_change(self.change_from_form())

    def _on_remove_clicked(self) -> None:
        row = self.changes.currentRow()
        if row >= 0:
            self.changes.takeItem(row)

    def scenario(self) -> scen.Scenario:
        changes = [
            self.changes.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.changes.count())
        ]
        return scen.Scenario(self.name.text().strip(), changes, self.description.text().strip())

    def save(self) -> bool:
        """Save the scenario shown (Save scenario); whether it was saved."""
        saved = False
        with self._reading():
            saved = self._save()
        return saved

    def _save(self) -> bool:
        s = self.scenario()
        if not s.name:
            QMessageBox.warning(self, "Scenario not saved", "Give the scenario a name.")
            return False
        if not s.changes:
            QMessageBox.warning(self, "Scenario not saved", "Add at least one change.")
            return False
        if not self._run(SaveScenario(s), "Scenario not saved"):
            return False
        self.chosen = s.name
        self._fill_saved(s.name)
        return True

    def _run(self, command: Command, title: str) -> bool:
        """Apply ``command`` through the editor (undoable; the window says why not) or
        directly (this dialog says why not)."""
        if self.editor is not None:
            done = bool(self.editor.run(command))
            if isinstance(self.editor.last_error, InventoryDamagedError):
                self.reject()  # the editor announced it: the window offers the backup
            return done
        try:
            command.apply(self.inventory)
        except LedgerError as exc:
            QMessageBox.warning(self, title, literal(str(exc)))
            return False
        return True

    # -- damage ---------------------------------------------------------------------------

    def _reading(self) -> contextlib.AbstractContextManager[None]:
        """A handler's block that reads (or writes) the inventory: damage SQLite reports
        on the way closes the dialog and is kept for :meth:`exec` to raise; other errors
        go on."""
        return catching_damage(self._damage_met)

    def _damage_met(self, exc: sqlite3.DatabaseError) -> None:
        if self.damage is None:
            self.damage = exc
        self.reject()  # what it shows is stale, and nothing more can be read

    def exec(self) -> int:
        """Run the dialog; raises the damage a handler met (after closing), for the
        opener's read guard to announce once."""
        code = super().exec()
        if self.damage is not None:
            raise self.damage
        return code
