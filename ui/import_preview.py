"""The table model of converted rows the import wizard previews, problem cells marked
and fixable in place.

Part of :mod:`ui.import_pages`, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from core import schema
from ui.import_widgets import format_value
from ui.import_wizard import cell_text
from ui.plain_text import literal

if TYPE_CHECKING:
    from core.importing import ImportPlan


_Index = QModelIndex | QPersistentModelIndex

#: problem cells: a soft red that keeps dark text readable in light and dark themes
PROBLEM_BACKGROUND = QColor("#f6c9c4")
PROBLEM_FOREGROUND = QColor("#3a0b06")
#: cells fixed in the preview (and valid now): a soft green, dark text, in italics
FIXED_BACKGROUND = QColor("#d5efd2")
FIXED_FOREGROUND = QColor("#0d3311")


# -- validation preview ---------------------------------------------------------------


STATUS_TEXT = {"new": "New", "changed": "Changed", "unchanged": "Unchanged", "invalid": "Invalid"}


#: ``on_edit(model, row number in the file, field, text typed)``: a cell fixed
EditHandler = Callable[["PreviewModel", int, str, str], None]


class PreviewModel(QAbstractTableModel):
    """Converted rows of a plan (``plan.preview``): a status column, then the fields
    the import fills, headed with their units; problem cells coloured with the reason
    as tooltip. References show the record's name (``row["display"]``, see
    :func:`ui.import_wizard.add_titles`).

    With ``on_edit``, problem cells (and cells fixed before) of fields read from a
    column can be edited (double-click or F2): the text typed replaces the file's cell
    and goes to ``on_edit``, which checks the row again. ``edited_from[(row, field)]``
    is what the file says in each fixed cell (shown in italics, with it as tooltip).

    With ``problems_only`` (see :meth:`set_problems_only`) the rows are those of
    ``plan.problem_preview`` instead: the rows with problems anywhere in the file (and
    the ones fixed here), fixable the same way; the row headers give each row's number
    in the file."""

    def __init__(
        self,
        plan: ImportPlan,
        parent: Any = None,
        *,
        on_edit: EditHandler | None = None,
        edited_from: dict[tuple[int, str], Any] | None = None,
        problems_only: bool = False,
    ):
        super().__init__(parent)
        self.plan = plan
        self.on_edit = on_edit
        self.edited_from = edited_from or {}
        # a CodeCarbon log's cells are read by name, not column by column: not edited
        self.editable = (
            set()
            if on_edit is None or plan.mapping.table == "codecarbon"
            else {c.field for c in plan.mapping.columns if c.field}
        )
        self.problems_only = problems_only
        self.rows = plan.problem_preview if problems_only else plan.preview
        spec = schema.table(plan.table)
        # the columns of both views, so that switching keeps them in place
        used = {
            name
            for r in (*plan.preview, *plan.problem_preview)
            for name, value in (*r["values"].items(), *r["problems"].items())
            if value not in (None, "")
        }
        used |= {c.field for c in plan.mapping.columns if c.field}
        self.fields = [f for f in spec.fields if f.name in used]
        self.labels = ["Status", *(f.header for f in self.fields)]

    def set_problems_only(self, on: bool) -> None:
        """Show the rows with problems anywhere in the file (``on``) or the first rows."""
        if on == self.problems_only:
            return
        self.beginResetModel()
        self.problems_only = on
        self.rows = self.plan.problem_preview if on else self.plan.preview
        self.endResetModel()

    def problem_rows_shown(self) -> int:
        """How many rows with problems the problems-only view lists (the rows fixed
        here that are valid now not counted)."""
        return sum(1 for r in self.plan.problem_preview if r.get("status") == "invalid")

    def find_row(self, number: int) -> int | None:
        """The model row showing row ``number`` of the file, or None."""
        return next((i for i, r in enumerate(self.rows) if r["row"] == number), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.labels)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.labels[section]
        return f"Row {self.rows[section]['row']:,}"

    def field_name(self, column: int) -> str | None:
        return None if column == 0 else self.fields[column - 1].name

    def problem(self, index: _Index) -> str | None:
        """The reason cell ``index`` is marked, or None."""
        name = self.field_name(index.column())
        problems = self.rows[index.row()]["problems"]
        if name is None:
            return "; ".join(problems.values()) or None
        return problems.get(name)

    def edited(self, index: _Index) -> bool:
        name = self.field_name(index.column())
        return name is not None and (self.rows[index.row()]["row"], name) in self.edited_from

    def can_edit(self, index: _Index) -> bool:
        """Whether the cell can be fixed here: a problem cell (or one fixed before) of a
        field read from a column."""
        name = self.field_name(index.column())
        if name is None or name not in self.editable:
            return False
        return self.problem(index) is not None or self.edited(index)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self.can_edit(index):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def raw_text(self, index: _Index) -> str:
        """The cell as the file gives it (or as fixed here), for the editor."""
        name = self.field_name(index.column())
        if name is None:
            return ""
        return cell_text(self.rows[index.row()].get("raw", {}).get(name))

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not self.can_edit(index):
            return False
        text = "" if value is None else str(value).strip()
        name = self.field_name(index.column())
        if text == self.raw_text(index) or self.on_edit is None or name is None:
            return False
        self.on_edit(self, self.rows[index.row()]["row"], name, text)
        return True

    def text(self, index: _Index) -> str:
        row = self.rows[index.row()]
        name = self.field_name(index.column())
        if name is None:
            return STATUS_TEXT.get(row.get("status", ""), row.get("status", ""))
        shown = row.get("display", {})
        if name in shown:
            return shown[name]
        f = self.fields[index.column() - 1]
        value = row["values"].get(name)
        if value is None and name in row["problems"]:
            raw = row.get("raw", {}).get(name)  # what the file says, e.g. unknown hardware
            return "" if raw is None else format_value(raw)
        if f.kind == "choice" and value is not None:
            return f.choice_label(value)
        return format_value(value)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index)
        if role == Qt.ItemDataRole.EditRole:
            return self.raw_text(index)
        if role == Qt.ItemDataRole.FontRole and self.edited(index):
            font = QFont()
            font.setItalic(True)
            return font
        problem = self.problem(index)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            if self.fields[index.column() - 1].is_number:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = [] if problem is None else [problem]
            if self.edited(index):
                key = (self.rows[index.row()]["row"], self.field_name(index.column()))
                tips.append(f"Fixed here; the file says '{cell_text(self.edited_from[key])}'.")
            elif self.can_edit(index):
                tips.append("Double-click or press F2 to fix it here.")
            return literal("\n".join(tips)) if tips else None  # quotes cells of the file
        if problem is None:
            if self.edited(index):
                if role == Qt.ItemDataRole.BackgroundRole:
                    return QBrush(FIXED_BACKGROUND)
                if role == Qt.ItemDataRole.ForegroundRole:
                    return QBrush(FIXED_FOREGROUND)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(PROBLEM_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(PROBLEM_FOREGROUND)
        return None
