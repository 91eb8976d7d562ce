"""The import wizard's page for references not found in the inventory (hardware,
sites, models).

Part of :mod:`ui.import_pages`, which re-exports these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHeaderView, QLabel, QVBoxLayout

from core import schema
from core.importing.matching import ACCEPT
from core.importing.resolving import CREATABLE
from ui.import_jobs import Job, catching_wizard_damage
from ui.import_widgets import BusyBar, WizardPage, _item, _table

if TYPE_CHECKING:
    from core.importing import Unresolved


# -- unmatched references ---------------------------------------------------------------

#: what "create" makes, by the table a reference points to (offered only for the tables
#: an import can create records of: ``core.importing.resolving.CREATABLE``)
_CREATES = {"hardware": "hardware type", "sites": "site", "models": "model"}


def reference_table(field: str) -> str:
    """The inventory table an unresolved value of ``field`` would be found in."""
    for spec in schema.TABLES.values():
        for f in spec.fields:
            if f.name == field and f.ref:
                return f.ref
    lowered = field.lower()
    if "hardware" in lowered or "gpu" in lowered or "cpu" in lowered:
        return "hardware"
    if "model" in lowered:
        return "models"
    return "sites"  # sites, regions, countries


def reference_label(field: str) -> str:
    table = reference_table(field)
    return {"hardware": "Hardware", "sites": "Site or region", "models": "Model"}.get(
        table, schema.TABLES[table].singular.capitalize() if table in schema.TABLES else field
    )


def suggestion_text(name: str, confidence: float) -> str:
    """``"NVIDIA A100 SXM4 80 GB  (85% match)"``; a match too weak to be taken without
    asking says so."""
    weak = ", weak" if confidence < ACCEPT else ""
    return f"{name}  ({confidence:.0%} match{weak})"


class ReferencesPage(WizardPage):
    """Each hardware, region or other reference not found in the inventory, once, with
    the closest matches: pick one, create a new entry, or leave those rows invalid.

    A close match (at least ``core.importing.matching.ACCEPT``) is chosen for the user
    to confirm; a weak one never is: the value is created as a new entry where an
    import can create one, and otherwise the user must choose (Next waits)."""

    LEAVE = "leave"
    #: the combo's "Choose…" entry: nothing chosen yet (Next waits)
    CHOOSE = "choose"
    KIND, VALUE, ROWS, CLOSEST, USE = range(5)

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Match hardware and regions")
        self.setSubTitle(
            "These values were not found in the inventory. Pick the matching entry, or "
            "create a new one."
        )
        self.busy = BusyBar()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.status.setWordWrap(True)
        self.table = _table(["Kind", "Value in the file", "Rows", "Closest match", "Use"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.KIND, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.VALUE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.ROWS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.CLOSEST, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.USE, QHeaderView.ResizeMode.Stretch)
        self.hint = QLabel()
        self.hint.setTextFormat(Qt.TextFormat.PlainText)  # names values of the file
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #b3261e")
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        #: every unmatched value shown so far, by (field, value)
        self.items: dict[tuple[str, str], Unresolved] = {}
        #: the combo of each value shown, by (field, value)
        self.combos: dict[tuple[str, str], QComboBox] = {}
        #: values the user chose to leave unmatched (not given a default again)
        self._left: set[tuple[str, str]] = set()
        self._job: Job | None = None

    def initializePage(self) -> None:
        wizard = self.wizard()
        self.table.setRowCount(0)
        self.combos = {}
        self.hint.hide()
        if wizard.plans_fresh():
            self._show()
            return
        self.status.setText("")
        self._job = wizard.start_planning()
        self.busy.follow(self._job, "Reading every row")
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _on_job_finished(self, _plans: object) -> None:
        self._job = None
        with catching_wizard_damage(self.wizard()):  # each choice lists the records
            self._show()
            self.completeChanged.emit()

    def _on_job_failed(self, message: str) -> None:
        self._job = None
        self.status.setText(f"The files could not be read to the end: {message}")
        self.completeChanged.emit()

    def _show(self) -> None:
        wizard = self.wizard()
        assert wizard.plans is not None
        for plan in wizard.plans:
            for u in plan.unresolved:
                self.items[(u.field, u.value)] = u
        keys = [
            k
            for k in self.items
            if k in wizard.resolutions
            or any((u.field, u.value) == k for p in wizard.plans for u in p.unresolved)
        ]
        self.table.setRowCount(len(keys))
        self.combos = {}
        for row, key in enumerate(keys):
            u = self.items[key]
            self.table.setItem(row, self.KIND, _item(reference_label(u.field)))
            self.table.setItem(row, self.VALUE, _item(u.value, tip=u.value))
            self.table.setItem(row, self.ROWS, _item(f"{u.count:,}", number=True))
            closest = suggestion_text(*u.suggestions[0][1:]) if u.suggestions else "no match"
            tip = "\n".join(suggestion_text(n, c) for _, n, c in u.suggestions)
            self.table.setItem(row, self.CLOSEST, _item(closest, tip=tip))
            combo = self._combo(u)
            self.combos[key] = combo
            self.table.setCellWidget(row, self.USE, combo)
        self.table.resizeRowsToContents()
        if keys:
            self.status.setText(
                f"{len(keys)} value{'s' if len(keys) != 1 else ''} to match. Only close "
                f"matches ({ACCEPT:.0%} or more) are chosen for you; check each choice. "
                "Rows left unmatched are reported as invalid on the next page."
            )
        else:
            self.status.setText(
                "Every hardware, site and region in the files matched the inventory: "
                "nothing to do here."
            )
        self._update_hint()

    def default_choice(self, u: Unresolved) -> int | str:
        """What a value is matched to until the user chooses: the best suggestion when
        it is close enough to be trusted, else a new entry where an import can create
        one, else nothing (:attr:`CHOOSE`: the user must choose)."""
        if u.suggestions and u.suggestions[0][2] >= ACCEPT:
            return u.suggestions[0][0]
        if reference_table(u.field) in CREATABLE:
            return "create"
        return self.CHOOSE

    def _combo(self, u: Unresolved) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(f"Match for {u.value}")
        combo.setMaxVisibleItems(20)
        table = reference_table(u.field)
        key = (u.field, u.value)
        current = self.wizard().resolutions.get(key)
        if current == "create" and table not in CREATABLE:
            current = None  # not offered: the import would refuse it
            self.wizard().resolutions.pop(key, None)
        if current is None:
            current = self.LEAVE if key in self._left else self.default_choice(u)
            if current not in (self.LEAVE, self.CHOOSE):
                self.wizard().resolutions[key] = current
        if current == self.CHOOSE:
            combo.addItem("Choose…", self.CHOOSE)
        for record_id, name, confidence in u.suggestions:
            combo.addItem(suggestion_text(name, confidence), record_id)
        if table in CREATABLE:
            what = _CREATES.get(table) or schema.table(table).singular
            combo.addItem(f"Create a new {what} '{u.value}'", "create")
        combo.addItem("Leave unmatched (rows are invalid)", self.LEAVE)
        # any other record of that table, for when the closest matches are not it
        suggested = {s[0] for s in u.suggestions}
        others = [o for o in self.wizard().inventory.ref_options(table) if o[0] not in suggested]
        if others:
            combo.insertSeparator(combo.count())
            for record_id, title in others:
                combo.addItem(title, record_id)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.currentIndexChanged.connect(
            lambda _i, k=key, box=combo: self._on_combo_current_index_changed(k, box)
        )
        return combo

    def _on_combo_current_index_changed(self, key: tuple[str, str], combo: QComboBox) -> None:
        value = combo.currentData()
        resolutions = self.wizard().resolutions
        if value == self.CHOOSE:
            resolutions.pop(key, None)
        elif value == self.LEAVE:
            resolutions.pop(key, None)
            self._left.add(key)
        else:
            resolutions[key] = value
            self._left.discard(key)
        if value != self.CHOOSE:  # chosen: the placeholder is not offered again
            placeholder = combo.findData(self.CHOOSE)
            if placeholder >= 0:
                combo.blockSignals(True)
                combo.removeItem(placeholder)
                combo.blockSignals(False)
        self._update_hint()
        self.completeChanged.emit()

    def unchosen(self) -> list[tuple[str, str]]:
        """The values still waiting for the user's choice."""
        return [k for k, box in self.combos.items() if box.currentData() == self.CHOOSE]

    def _update_hint(self) -> None:
        waiting = self.unchosen()
        if not waiting:
            self.hint.hide()
            return
        tables = sorted({schema.table(reference_table(f)).plural_noun for f, _ in waiting})
        values = ", ".join(f"'{v}'" for _, v in waiting[:3]) + (", …" if len(waiting) > 3 else "")
        self.hint.setText(
            f"Choose what {values} {'is' if len(waiting) == 1 else 'are'} in the inventory "
            f"(no close match was found, and an import cannot create {' or '.join(tables)}), "
            "or leave the rows unmatched. Next is available once every value has a choice."
        )
        self.hint.show()

    def isComplete(self) -> bool:
        return self._job is None and self.wizard().plans is not None and not self.unchosen()

    def validatePage(self) -> bool:
        # QWizard.next() does not ask isComplete: a value waiting for a choice stops it
        return not self.unchosen()
