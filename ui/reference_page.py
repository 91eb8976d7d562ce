"""The Reference data page: every shipped factor with its source, and your overrides.

Shipped tables are read-only (they come from ``resources/reference``); an override is a
record of the inventory's ``factor_overrides`` table, edited through the same form, undo
stack and change log as everything else.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import factors
from core.inventory import Inventory
from ui.inventory_page import InventoryPage
from ui.undo import InventoryEditor

_Index = QModelIndex | QPersistentModelIndex


class ReferenceRowsModel(QAbstractTableModel):
    """Read-only rows (dicts) shown in the given columns: ``(key, header)`` pairs."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        columns: list[tuple[str, str]],
        numeric: set[str],
        parent: Any = None,
    ):
        super().__init__(parent)
        self.rows, self.columns, self.numeric = rows, columns, numeric

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self.columns[index.column()][0]
        value = self.rows[index.row()].get(key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if value is None:
                return ""
            return f"{value:,.6g}" if isinstance(value, float) else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in self.numeric:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[index.row()]
        return None


class ReferenceTable(QWidget):
    """A searchable read-only table with an "Override…" button."""

    def __init__(
        self, model: ReferenceRowsModel, note: str, on_override: Any, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.override_button = QPushButton("Override…")
        self.override_button.setToolTip("Use your own value for the selected factor")
        self.override_button.clicked.connect(lambda: on_override(self.selected()))
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.verticalHeader().setVisible(False)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.override_button)
        layout = QVBoxLayout(self)
        label = QLabel(note)
        label.setWordWrap(True)
        layout.addWidget(label)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        for col, width in enumerate((260, 90, 90, 90, 120)):
            self.view.setColumnWidth(col, width)
        for col, (key, _) in enumerate(model.columns):
            if key == "source":  # the column an auditor reads: wide, full text on hover
                self.view.setColumnWidth(col, 340)

    def selected(self) -> dict[str, Any] | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(Qt.ItemDataRole.UserRole) if rows else None


class ReferenceDataPage(QWidget):
    """Shipped factors with their sources, and the inventory's overrides of them."""

    def __init__(
        self, inventory: Inventory, editor: InventoryEditor, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.overrides = InventoryPage(inventory, editor, "factor_overrides")
        params = [
            {
                "key": k,
                "value": f.value,
                "low": f.low,
                "high": f.high,
                "unit": f.unit,
                "source": f.source,
                "year": f.year,
                "licence": f.licence,
                "note": f.note,
            }
            for k, f in sorted(factors.load_parameters().items())
        ]
        grid = factors.load_grid_factors()
        grid_rows = []
        for zone in grid.zones:
            for year in grid.years(zone):
                lk = grid.lookup(zone, year)
                grid_rows.append(
                    {
                        "key": f"grid:{zone}:{year}",
                        "value": lk.value,
                        "gas": lk.gas,
                        "kind": lk.kind,
                        "source": lk.factor.source,
                        "licence": lk.factor.licence,
                    }
                )
        inference = factors.load_inference_energy()
        common = [("source", "Source"), ("year", "Year"), ("licence", "Licence")]
        self.parameters = ReferenceTable(
            ReferenceRowsModel(
                params,
                [
                    ("key", "Parameter"),
                    ("value", "Central"),
                    ("low", "Low"),
                    ("high", "High"),
                    ("unit", "Unit"),
                    *common,
                    ("note", "How it was chosen"),
                ],
                {"value", "low", "high"},
            ),
            "Defaults the engine uses where an entry does not say; the range feeds the "
            "uncertainty analysis.",
            self._on_override,
        )
        self.grid = ReferenceTable(
            ReferenceRowsModel(
                grid_rows,
                [
                    ("key", "Zone and year"),
                    ("value", "g per kWh"),
                    ("gas", "Gas"),
                    ("kind", "Kind"),
                    ("source", "Source"),
                    ("licence", "Licence"),
                ],
                {"value"},
            ),
            f"{len(grid_rows):,} location-based grid factors (g per kWh of the gas shown). "
            "A site's own published factor wins over these.",
            self._on_override,
        )
        self.inference = ReferenceTable(
            ReferenceRowsModel(
                inference,
                [
                    ("key", "Key"),
                    ("central", "Central"),
                    ("low", "Low"),
                    ("high", "High"),
                    ("unit", "Unit"),
                    ("task", "Task"),
                    ("gpu", "GPU"),
                    ("source", "Source"),
                ],
                {"central", "low", "high"},
            ),
            "Published energy measurements per request and per token.",
            self._on_override,
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.overrides, "Your overrides")
        self.tabs.addTab(self.parameters, "Parameters")
        self.tabs.addTab(self.grid, "Grid factors")
        self.tabs.addTab(self.inference, "Inference energy")
        if not inventory.count("factor_overrides"):  # nothing of yours yet: show the factors
            self.tabs.setCurrentWidget(self.parameters)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(QLabel("<h2>Reference data</h2>"))
        layout.addWidget(self.tabs, 1)

    def _on_override(self, row: dict[str, Any] | None) -> None:
        if row is None:
            return
        key, value = row["key"], row.get("value", row.get("central"))
        if "central" in row:  # an inference energy row
            key = f"inference:{key}"
        values = {"key": key, "value": value, "source": row.get("source") or ""}
        self.tabs.setCurrentWidget(self.overrides)
        self.overrides.add_record(values)

    # the main window's page actions (Add, Edit, ...) act on the overrides
    def refresh(self) -> None:
        self.overrides.refresh()

    def add_record(self) -> None:
        self.tabs.setCurrentWidget(self.overrides)
        self.overrides.add_record()

    def edit_record(self) -> None:
        self.overrides.edit_record()

    def duplicate_record(self) -> None:
        self.overrides.duplicate_record()

    def delete_records(self) -> None:
        self.overrides.delete_records()

    def focus_search(self) -> None:
        self.tabs.currentWidget().search.setFocus()

    def explain_record(self) -> None:
        return None  # factors have no explanation of their own
