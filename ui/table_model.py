"""A table model over one inventory table that never loads the whole table.

It keeps the ordered id list for the current sort and search (``Inventory.ordered_ids``)
and fetches displayed rows in pages as views ask for them, keeping a bounded cache of
pages, as Anki's browser does. A large table first shows only its first page of ids
(``Inventory.first_ids``, when an index or a cached order gives it cheaply) and the row
count; the full id list is computed when something needs it: a row past the first
page, a search, or finding a record's row.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from core import schema
from core.formatting import format_cell
from core.inventory import Inventory
from ui.plain_text import literal

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
        #: the row count while ``_ids`` holds only the first page (None: all ids held)
        self._lazy_count: int | None = None
        self._pages: OrderedDict[int, list[tuple[Any, ...]]] = OrderedDict()
        self._set_ids(*self._query())

    # -- Qt model interface -----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._ids) if self._lazy_count is None else self._lazy_count

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
            return literal(str(value)) if value else None
        if role == Qt.ItemDataRole.UserRole:
            return self.id_at(index.row())
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
        ids, count = self._query()
        if count != self.rowCount():
            self.beginResetModel()
            self._set_ids(ids, count)
            self.endResetModel()
        else:  # same row count: a layout change keeps the view's scroll position
            self.layoutAboutToBeChanged.emit()
            self._set_ids(ids, count)
            self.layoutChanged.emit()

    def id_at(self, row: int) -> int:
        if row >= len(self._ids):
            self._complete()
        return int(self._ids[row])

    def row_of(self, row_id: int) -> int:
        """The row showing record ``row_id``, or -1 if the search hides it."""
        hits = np.flatnonzero(self._ids == row_id)
        if not len(hits) and self._lazy_count is not None:
            self._complete()
            hits = np.flatnonzero(self._ids == row_id)
        return int(hits[0]) if len(hits) else -1

    def total_rows(self) -> int:
        return self._inv.count(self.spec.name)

    # -- internals --------------------------------------------------------------------

    def _query(self) -> tuple[np.ndarray, int]:
        """``(ids, row count)``: all ids, or only the first page of a large table."""
        table = self.spec.name
        if not self._search and self._inv.count(table) > PAGE_ROWS:
            first = self._inv.first_ids(table, self._sort_field, self._descending, PAGE_ROWS)
            if first is not None:
                return first, self._inv.count(table)
        ids = self._inv.ordered_ids(table, self._sort_field, self._descending, self._search)
        return ids, len(ids)

    def _set_ids(self, ids: np.ndarray, count: int) -> None:
        self._ids = ids
        self._lazy_count = count if count != len(ids) else None
        self._pages.clear()

    def _complete(self) -> None:
        """Replace the first page of ids by the full list, keeping the row count views
        were told (if the inventory changed since, a refresh brings the new count)."""
        if self._lazy_count is None:
            return
        count, first = self._lazy_count, self._ids
        ids = self._inv.ordered_ids(
            self.spec.name, self._sort_field, self._descending, self._search
        )
        if len(ids) != count:  # changed by another process meanwhile: absent rows blank
            ids = np.concatenate((ids[:count], np.full(max(count - len(ids), 0), -1)))
        if not np.array_equal(ids[: len(first)], first):
            self._pages.clear()
        self._ids, self._lazy_count = ids, None

    def _row(self, row: int) -> tuple[Any, ...]:
        if row >= len(self._ids):
            self._complete()
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
