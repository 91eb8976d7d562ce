"""A table model over one inventory table that never loads the whole table.

It keeps the ordered id list for the current sort and search (computed in SQL by
``Inventory.ordered_ids``) and fetches displayed rows in pages as views ask for them,
keeping a bounded cache of pages, as Anki's browser does.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from core import schema
from core.formatting import format_cell
from core.inventory import Inventory

PAGE_ROWS = 200
MAX_PAGES = 50  # at most 10,000 rows held at once

_Index = QModelIndex | QPersistentModelIndex


class InventoryTableModel(QAbstractTableModel):
    """Rows of ``table`` in the current sort and search order."""

    def __init__(self, inventory: Inventory, table: str, parent: Any = None):
        super().__init__(parent)
        self._inv = inventory
        self.spec = schema.table(table)
        self.fields = inventory.display_fields(table)
        self._sort_field: str | None = self.spec.default_sort
        self._descending = False
        self._search = ""
        self._ids = np.empty(0, dtype=np.int64)
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()
        self._set_ids(self._query())

    # -- Qt model interface -----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.fields)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.fields):
            f = self.fields[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return f.header
            if role == Qt.ItemDataRole.ToolTipRole:
                return f.help or f.header
        elif orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.fields[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_cell(f, self._row(index.row())[index.column()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if f.is_number:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole and f.kind in ("text", "ref"):
            value = self._row(index.row())[index.column()]
            return str(value) if value else None
        if role == Qt.ItemDataRole.UserRole:
            return int(self._ids[index.row()])
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.fields):
            return
        field = self.fields[column].name
        descending = order == Qt.SortOrder.DescendingOrder
        if (field, descending) == (self._sort_field, self._descending):
            return  # views re-announce the current order (e.g. when sorting is enabled)
        self._sort_field, self._descending = field, descending
        self.refresh()

    # -- our interface ----------------------------------------------------------------

    @property
    def search(self) -> str:
        return self._search

    def set_search(self, text: str) -> None:
        if text != self._search:
            self._search = text
            self.refresh()

    def sort_column(self) -> int:
        names = [f.name for f in self.fields]
        return names.index(self._sort_field) if self._sort_field in names else -1

    def refresh(self) -> None:
        """Re-run the current sort and search (after edits or a new search)."""
        ids = self._query()
        if len(ids) != len(self._ids):
            self.beginResetModel()
            self._set_ids(ids)
            self.endResetModel()
        else:  # same row count: a layout change keeps the view's scroll position
            self.layoutAboutToBeChanged.emit()
            self._set_ids(ids)
            self.layoutChanged.emit()

    def id_at(self, row: int) -> int:
        return int(self._ids[row])

    def row_of(self, row_id: int) -> int:
        """The row showing record ``row_id``, or -1 if the search hides it."""
        hits = np.flatnonzero(self._ids == row_id)
        return int(hits[0]) if len(hits) else -1

    def total_rows(self) -> int:
        return self._inv.count(self.spec.name)

    # -- internals --------------------------------------------------------------------

    def _query(self) -> np.ndarray:
        return self._inv.ordered_ids(
            self.spec.name, self._sort_field, self._descending, self._search
        )

    def _set_ids(self, ids: np.ndarray) -> None:
        self._ids = ids
        self._pages.clear()

    def _row(self, row: int) -> tuple[Any, ...]:
        page_no = row // PAGE_ROWS
        page = self._pages.get(page_no)
        if page is None:
            page_ids = [int(i) for i in self._ids[page_no * PAGE_ROWS : (page_no + 1) * PAGE_ROWS]]
            by_id = self._inv.display_rows(self.spec.name, page_ids)
            blank = (None,) * len(self.fields)
            page = [by_id.get(i, blank) for i in page_ids]
            self._pages[page_no] = page
            if len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[row - page_no * PAGE_ROWS]
