"""The dashboard's small widgets: key-figure cards and the multiple-choice filter box,
and the periods the period box offers."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from core import dashboard as dash
from ui.plain_text import literal


def period_choices(today: dt.date) -> list[tuple[str, str]]:
    """(label, period) offered: the last eight quarters, this and the last two years."""
    out = []
    year, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(8):
        suffix = " (in progress)" if (year, q) == (today.year, (today.month - 1) // 3 + 1) else ""
        out.append((f"{year}-Q{q}{suffix}", f"{year}-Q{q}"))
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    for y in (today.year, today.year - 1, today.year - 2):
        out.append((f"Year {y}" + (" (to date)" if y == today.year else ""), str(y)))
    return out


class FigureCard(QFrame):
    """One key figure: name, value with unit, change against the previous period."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLabel()
        self.name.setEnabled(False)
        self.value = QLabel()
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.value.setFont(font)
        self.change = QLabel()
        self.change.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(1)
        layout.addWidget(self.name)
        layout.addWidget(self.value)
        layout.addWidget(self.change)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_waiting(self, label: str) -> None:
        """The figure's name while its value is first computed."""
        self.name.setText(label)
        self.value.setText("…")
        self.change.setText("computing")

    def show_figure(
        self, f: dash.Figure, previous_label: str, scenario: dash.Figure | None
    ) -> None:
        self.name.setText(f.label)
        if f.unit == "kg/1000" and not math.isfinite(f.value):
            self.value.setText("–")
        elif f.key == "range" and f.low is None:
            self.value.setText("computing…")
        elif f.key == "range":
            self.value.setText(range_text(f.low or 0.0, f.high or 0.0))
        else:
            self.value.setText(dash.format_quantity(f.value, f.unit))
        parts = []
        if f.key == "range" and f.low is None:
            parts.append("Monte Carlo over every input's range")
        elif f.key == "range":
            centre = (f.low or 0) + (f.high or 0)
            parts.append(f"± {f.value / centre * 100:.0f} % around the centre" if centre else "")
        elif f.unit == "share" and f.previous is not None:
            diff = (f.value - f.previous) * 100
            parts.append(f"{_arrow(diff)} {abs(diff):.0f} points vs {previous_label}")
        elif f.change is not None:
            parts.append(f"{_arrow(f.change)} {abs(f.change) * 100:.0f} % vs {previous_label}")
        elif f.previous == 0 and f.value:
            parts.append(f"none in {previous_label}")
        if scenario is not None and f.key != "range":
            parts.append(_scenario_text(f, scenario))
        self.change.setText("<br>".join(p for p in parts if p) or "&nbsp;")
        tip = [f.note] if f.note else []
        if f.previous is not None and f.key != "range":
            prev = (
                "–"
                if f.unit == "kg/1000" and not math.isfinite(f.previous)
                else dash.format_quantity(f.previous, f.unit)
            )
            tip.append(f"{previous_label}: {prev}")
        self.setToolTip("\n".join(tip))


def range_text(low: float, high: float) -> str:
    """``"2.81 – 3.36 tCO2e"``: both ends in the unit of the larger one (narrow cards)."""
    div, unit = dash.mass_unit(max(abs(low), abs(high)))
    return f"{dash.number(low / div)} – {dash.number(high / div)} {unit}"


def _arrow(change: float) -> str:
    return "▲" if change > 0 else "▼" if change < 0 else "="


def _scenario_text(base: dash.Figure, s: dash.Figure) -> str:
    if base.unit == "share":
        diff = (s.value - base.value) * 100
        return f"<i>Scenario: {dash.format_quantity(s.value, 'share')} ({diff:+.0f} points)</i>"
    if not math.isfinite(s.value):
        return "<i>Scenario: –</i>"
    rel = f" ({(s.value - base.value) / abs(base.value) * 100:+.0f} %)" if base.value else ""
    return f"<i>Scenario: {dash.format_quantity(s.value, base.unit)}{rel}</i>"


class MultiChoice(QComboBox):
    """A drop-down list of checkable values (several may be chosen; none = all).

    The closed box shows the chosen labels, or ``everything`` when none is chosen. A click
    on a value ticks or unticks it and keeps the list open; the first line clears them.
    """

    #: the set of chosen values changed
    choice_changed = Signal()

    def __init__(self, everything: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.everything = everything
        self._model = QStandardItemModel(self)
        self.setModel(self._model)
        self._keep_open = False
        self.view().pressed.connect(self._on_view_pressed)
        self.set_options([])

    def set_options(self, options: Sequence[tuple[Any, str]]) -> None:
        """Offer ``(value, label)`` pairs; values still offered stay chosen."""
        chosen = set(self.values())
        self._model.clear()
        first = QStandardItem(self.everything)
        first.setData(None, Qt.ItemDataRole.UserRole)
        self._model.appendRow(first)
        for value, label in options:
            item = QStandardItem(str(label))
            item.setData(value, Qt.ItemDataRole.UserRole)
            item.setCheckable(True)
            item.setCheckState(
                Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked
            )
            self._model.appendRow(item)
        self._update_text()

    def values(self) -> tuple:
        """The chosen values, in the list's order."""
        if not hasattr(self, "_model"):
            return ()
        return tuple(
            self._model.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(1, self._model.rowCount())
            if self._model.item(row).checkState() == Qt.CheckState.Checked
        )

    def set_values(self, values: Sequence[Any]) -> None:
        """Choose exactly ``values`` (those offered); emits ``choice_changed`` on change."""
        before = self.values()
        wanted = set(values)
        for row in range(1, self._model.rowCount()):
            item = self._model.item(row)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._update_text()
        if self.values() != before:
            self.choice_changed.emit()

    def labels(self) -> list[str]:
        return [
            self._model.item(row).text()
            for row in range(1, self._model.rowCount())
            if self._model.item(row).checkState() == Qt.CheckState.Checked
        ]

    def text(self) -> str:
        """What the closed box shows."""
        labels = self.labels()
        if not labels:
            return self.everything
        if len(labels) <= 2:
            return ", ".join(labels)
        return f"{labels[0]} and {len(labels) - 1} more"

    def _update_text(self) -> None:
        labels = self.labels()
        self.setToolTip(
            literal("Shown: " + ", ".join(labels) + " (click to change)")
            if labels
            else f"{self.everything}: click to show only some"
        )
        self.update()

    def _on_view_pressed(self, index: QModelIndex) -> None:
        self._keep_open = True
        if index.row() == 0:
            self.set_values(())
            self._keep_open = False  # "All": done choosing
            return
        item = self._model.itemFromIndex(index)
        on = item.checkState() != Qt.CheckState.Checked
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._update_text()
        self.choice_changed.emit()

    def hidePopup(self) -> None:
        if self._keep_open:  # the click that ticked a value: keep choosing
            self._keep_open = False
            return
        super().hidePopup()

    def paintEvent(self, _event) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self.text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
