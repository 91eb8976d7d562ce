"""The Details dock: the selected training run's or deployment's figures and explanation.

:class:`EntryDetailPanel` sits on the right of the main window (View > Details, F9). For
the entry selected on the Training runs or Deployments page it shows, for a chosen
period, location- and market-based emissions with the P5-P95 range, facility energy,
on-site water, method tier and scope, and ``core.explain``'s explanation: every formula
with its numbers, every factor with its source, year and licence, and the defaults used.

The engine runs on the thread pool (``ui.workers.run_task``) through the window's one
``core.dashboard_session.DashboardSession``, which keeps one engine per open inventory in its own
connection and applies logged edits incrementally (``Engine.catch_up``). Selecting rows
quickly computes only the last one (150 ms debounce), and a result that arrives for an
entry or period no longer asked for is dropped. A damaged inventory file found by the
engine, or when the entry's title is read on the UI thread, is announced with
:attr:`EntryDetailPanel.damaged` (the window offers the automatic backup), not shown as
SQLite's words.

Units: emissions kgCO2e (tCO2e from 1,000 kg), energy kWh of the facility (MWh, GWh),
water litres (m³ from 10,000 L). Periods are ``core.periods`` labels.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.errors import InventoryDamagedError
from ui.damage_guard import catching_damage, damage_error
from ui.restore_backup import DAMAGED_FIGURES_TEXT as DAMAGED_TEXT
from ui.workers import reading, run_task

if TYPE_CHECKING:  # the engine (numpy) loads with the first entry shown, not at start-up
    from core.dashboard_session import DashboardSession
    from core.estimate import Engine, Estimate
    from core.explain import Explanation
    from core.inventory import Inventory

#: pages whose rows are emission entries (``core.engine.ENTRY_TABLES``, in that order)
ENTRY_PAGES = ("training_runs", "deployments")
#: ``core.engine.KINDS``: the order parts of an entry are listed in
KINDS = ("training", "inference", "api", "embodied")
DEBOUNCE_MS = 150
#: uncertainty draws and seed: the same as ``explain`` and the CLI's defaults
SAMPLES, SEED = 1000, 0
#: period selector values that are not period labels
LATEST, ALL_TIME = "latest", "all"

TIER_LABELS = {
    "measured": "Measured energy",
    "activity-based": "Activity-based (device-hours x power)",
    "token-based": "Per request or token (published measurements)",
    "default": "Defaults (assumed inputs)",
}
KIND_LABELS = {
    "training": "training",
    "inference": "inference",
    "api": "API usage",
    "embodied": "embodied hardware",
}
HINTS = {
    "no_inventory": "Open an inventory to see the details of its entries here.",
    "other_page": "Details show for training runs and deployments: open Training runs or "
    "Deployments and select a row to see its emissions and how they were reached.",
    "no_selection": "Select a training run or deployment to see its emissions for a "
    "period and how they were reached.",
}


# -- computing (worker thread) ------------------------------------------------------------


@dataclass
class EntryDetails:
    """What the panel shows for one entry and period (figures from one engine estimate)."""

    entry: str  # "training_runs:12"
    title: str
    choice: str  # what was asked: LATEST, ALL_TIME or a period label
    period: str | None  # the period computed (None: all time)
    latest: str | None  # the entry's latest quarter with activity (None: it has none)
    span: tuple[dt.date, dt.date] | None  # the whole inventory's dated activity
    estimate: Estimate
    explanation: Explanation
    seconds: float = 0.0


def entry_quarters(engine: Engine, table: int, rid: int) -> list[str]:
    """The quarters (labels, newest first) in which an entry has dated activity."""
    import numpy as np

    from core.periods import quarter_label

    lines, p = engine.lines, engine.pieces
    mine = (lines.entry_table == table) & (lines.entry_id == rid)
    sel = mine[p.line] & p.alive & p.dated
    if not sel.any():
        return []
    months = np.unique(p.start[sel].astype("datetime64[M]"))
    return sorted({quarter_label(m) for m in months}, reverse=True)


def activity_span(engine: Engine) -> tuple[dt.date, dt.date] | None:
    """First and last day of the inventory's dated activity (None: there is none)."""
    import numpy as np

    p = engine.pieces
    sel = p.alive & p.dated
    if not sel.any():
        return None
    first = np.datetime64(int(p.first_day[sel].min()), "D").astype(dt.date)
    last = np.datetime64(int(p.last_day[sel].max()), "D").astype(dt.date)
    return first, last


def compute_details(engine: Engine, entry: str, choice: str) -> EntryDetails:
    """Figures and explanation of ``entry`` (``training_runs:12``) for ``choice``: LATEST
    (the entry's latest quarter with activity, else all time), ALL_TIME or a period."""
    from core.explain import explain, parse_entry
    from core.periods import Period, parse_period

    t0 = time.perf_counter()
    table, rid = parse_entry(entry)
    quarters = entry_quarters(engine, table, rid)
    latest = quarters[0] if quarters else None
    label = latest if choice == LATEST else None if choice == ALL_TIME else choice
    period: Period | None = parse_period(label) if label else None
    explanation = explain(engine, entry, period, samples=SAMPLES, seed=SEED)  # checks the id
    estimate = engine.estimate(period, by="entry", samples=SAMPLES, seed=SEED, entry=(table, rid))
    return EntryDetails(
        entry=explanation.entry,
        title=explanation.title,
        choice=choice,
        period=period.label if period else None,
        latest=latest,
        span=activity_span(engine),
        estimate=estimate,
        explanation=explanation,
        seconds=time.perf_counter() - t0,
    )


# -- presenting (pure functions, tested directly) -------------------------------------------


def period_choices(
    span: tuple[dt.date, dt.date] | None, latest: str | None
) -> list[tuple[str, str]]:
    """(label, value) for the period selector: the entry's latest quarter with activity,
    all time, then each year of the inventory's dated activity (newest first), each
    followed by its quarters (indented)."""
    first_text = f"Latest with activity ({latest})" if latest else "Latest with activity"
    out = [(first_text, LATEST), ("All time", ALL_TIME)]
    if span is None:
        return out
    start, end = span
    for year in range(end.year, start.year - 1, -1):
        out.append((f"Year {year}", str(year)))
        last_q = (end.month - 1) // 3 + 1 if year == end.year else 4
        first_q = (start.month - 1) // 3 + 1 if year == start.year else 1
        out.extend((f"    {year}-Q{q}", f"{year}-Q{q}") for q in range(last_q, first_q - 1, -1))
    return out


def figure_texts(estimate: Estimate) -> dict[str, str]:
    """The panel's figures as shown: ``location``, ``range``, ``market``, ``savings``,
    ``energy``, ``water``, ``tier`` and ``scope`` (plain text with units)."""
    from core.dashboard import format_quantity

    t = estimate.totals
    operational = [r for r in estimate.rows if r.kind != "embodied"]
    main = max(operational or estimate.rows, key=lambda r: r.location_kgco2e, default=None)
    scopes = []
    for r in sorted(estimate.rows, key=lambda r: KINDS.index(r.kind)):
        scopes.append(f"{r.scope} ({KIND_LABELS.get(r.kind, r.kind)})")
    low, high = (format_quantity(t[k], "kg") for k in ("low_kgco2e", "high_kgco2e"))
    low_n, _, low_unit = low.partition(" ")
    if low_unit == high.partition(" ")[2]:  # "0.616 – 1.03 kgCO2e", one unit
        low = low_n
    return {
        "location": format_quantity(t["location_kgco2e"], "kg"),
        "range": f"{low} – {high}",
        "market": format_quantity(t["market_kgco2e"], "kg"),
        "savings": format_quantity(t["savings_kgco2e"], "kg"),
        "energy": format_quantity(t["energy_kwh"], "kWh"),
        "water": format_quantity(t["water_l"], "L"),
        "tier": TIER_LABELS.get(main.method_tier, main.method_tier) if main else "–",
        "scope": "\n".join(scopes) if scopes else "–",
    }


def explanation_html(x: Explanation) -> str:
    """``x`` as rich text for a QTextBrowser: a heading per section and one paragraph per
    line; a factor line (``core.explain.SUB`` in front: the source of a figure in the
    line above) is indented under its formula. Every string from the inventory is
    escaped (names show literally)."""
    parts = []
    for heading, lines in x.sections:
        parts.append(f"<h4 style='margin: 10px 0 3px 0'>{html.escape(heading)}</h4>")
        for line in lines:
            factor = line.startswith("  ")
            style = "margin: 0 0 2px 28px" if factor else "margin: 4px 0 2px 10px"
            text = html.escape(line[2:] if factor else line)
            parts.append(f"<p style='{style}'>{text}</p>")
    return "\n".join(parts)


# -- the dock ---------------------------------------------------------------------------------


class EntryDetailPanel(QDockWidget):
    """The Details dock of the main window (see the module docstring)."""

    #: a computation finished and its figures are shown
    updated = Signal()
    #: the inventory file is damaged (an InventoryDamagedError), found by the engine;
    #: announced once per inventory
    damaged = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Details", parent)
        self.setObjectName("entryDetails")  # saveState/restoreState key
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self._inventory: Inventory | None = None
        self._session: DashboardSession | None = None
        self._page: QWidget | None = None
        self._page_key: str | None = None
        self._entry: str | None = None  # the entry wanted ("training_runs:12")
        self._serial = 0  # bumped by every request; results of older ones are dropped
        self._running: int | None = None  # serial of the computation on the pool
        self._stale = False  # a request waits until the dock is shown
        self._damage_reported = False
        self.details: EntryDetails | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._build()
        self.visibilityChanged.connect(self._on_visibility_changed)
        self._show_hint("no_inventory")

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setEnabled(False)
        self.hint.setMargin(16)

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # names never read as markup
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setEnabled(False)

        self.period = QComboBox()
        self.period.setToolTip("The period the figures and the explanation cover")
        self.period.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.period.setMinimumContentsLength(14)
        self.period.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.period.addItem("Latest quarter", LATEST)
        self.period.addItem("All time", ALL_TIME)
        self.period.currentIndexChanged.connect(self._on_period_current_index_changed)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # busy indicator while the engine runs
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(70)
        self.busy.setMaximumHeight(12)
        self.busy.setVisible(False)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the explanation as plain text (for notes or audit)")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        title_row = QHBoxLayout()
        title_row.setSpacing(6)
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        period_row = QHBoxLayout()
        period_row.setSpacing(6)
        period_row.addWidget(QLabel("Period:"))
        period_row.addWidget(self.period, 1)
        period_row.addWidget(self.busy)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may hold an error message
        self.status.setWordWrap(True)
        self.status.setEnabled(False)

        self.figures = QFrame()
        self.figures.setFrameShape(QFrame.Shape.StyledPanel)
        form = QFormLayout(self.figures)
        form.setContentsMargins(10, 8, 10, 8)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(4)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.values: dict[str, QLabel] = {}
        for key, label, tip in (
            ("location", "Location-based", "Grid-average factors of the places used"),
            ("range", "P5–P95 range", "Location-based; from the Monte Carlo over defaults"),
            ("market", "Market-based", "After renewable sourcing (GHG Protocol Scope 2)"),
            ("energy", "Energy", "Facility energy: IT energy x PUE"),
            ("water", "Water", "On-site cooling water (IT energy x WUE)"),
            ("tier", "Method", "How the energy was found"),
            ("scope", "Scope", "GHG Protocol scope and category of each part"),
        ):
            name = QLabel(f"{label}:")
            name.setToolTip(tip)
            value = QLabel("–")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key in ("location", "market"):
                bold = value.font()
                bold.setBold(True)
                value.setFont(bold)
            form.addRow(name, value)
            self.values[key] = value

        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.document().setDocumentMargin(2)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(8, 4, 8, 8)
        column.setSpacing(6)
        column.addLayout(title_row)
        column.addWidget(self.subtitle)
        column.addLayout(period_row)
        column.addWidget(self.status)
        column.addWidget(self.figures)
        column.addWidget(self.text, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(content)
        self.content = content
        self.stack.setMinimumWidth(300)
        self.setWidget(self.stack)

    # -- what the window tells it -------------------------------------------------------

    def set_inventory(self, inventory: Inventory, session: DashboardSession) -> None:
        """Show entries of ``inventory``, computed through ``session`` (shared)."""
        self._inventory, self._session = inventory, session
        self._damage_reported = False
        self._entry = None
        self.details = None
        self._serial += 1
        self._show_hint("other_page")

    def clear_inventory(self) -> None:
        """The inventory closed: forget it (a computation still running is ignored)."""
        self.set_page(None, None)
        self._inventory = self._session = None
        self._entry = None
        self.details = None
        self._serial += 1
        self._timer.stop()
        self._show_hint("no_inventory")

    def set_page(self, key: str | None, page: QWidget | None) -> None:
        """The window shows ``page`` (navigation key ``key``): follow its selection if it
        lists entries, else say what the panel is for."""
        if self._page is not None and hasattr(self._page, "selection_changed"):
            with contextlib.suppress(RuntimeError, TypeError):  # gone with its page
                self._page.selection_changed.disconnect(self._on_page_selection_changed)
        self._page = page if key in ENTRY_PAGES else None
        self._page_key = key
        if self._page is None:
            self._entry = None
            self._serial += 1
            self._timer.stop()
            self._show_hint("other_page" if self._inventory is not None else "no_inventory")
            return
        self._page.selection_changed.connect(self._on_page_selection_changed)
        self._on_page_selection_changed(self._page.current_id())

    def show_entry(self, table: str, row_id: int | None) -> None:
        """Show ``table``'s record ``row_id`` (None: nothing selected), after a short
        pause so that moving through rows computes only where the user stops."""
        if row_id is None or self._inventory is None:
            self._entry = None
            self._serial += 1
            self._timer.stop()
            self._show_hint("no_selection" if self._inventory is not None else "no_inventory")
            return
        entry = f"{table}:{row_id}"
        if entry == self._entry:
            return
        self._entry = entry
        self._serial += 1  # a result still to come for another entry is not wanted
        shown = self.details is not None and self.details.entry == entry
        if not shown:  # say at once which entry this is; the figures follow
            title = None
            with catching_damage(self._report_damage):  # read here, on the UI thread
                title = self._inventory.title(table, row_id)
            if title is None:
                return  # the inventory is damaged: the window closes it
            self.title.setText(title)
            self.subtitle.setText(_kind_text(table, row_id))
            self._set_dimmed(True)
            self.stack.setCurrentWidget(self.content)
        self._timer.start()

    def inventory_edited(self, _tables: frozenset[str] = frozenset()) -> None:
        """The inventory changed: recompute the entry shown (the session applies the
        logged edits to its engine)."""
        if self._entry is not None:
            self.request()

    # -- computing ----------------------------------------------------------------------

    @property
    def computing(self) -> bool:
        return self._running is not None

    def request(self) -> None:
        """Compute the wanted entry for the chosen period now (or after the running one);
        while the dock is hidden, when it is next shown."""
        self._timer.stop()
        if self._entry is None or self._session is None:
            return
        self._serial += 1
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        if self._running is None:
            self._start()

    def _start(self) -> None:
        session, entry = self._session, self._entry
        if session is None or entry is None:
            return
        choice = self.period.currentData() or LATEST
        serial = self._serial
        self._running = serial
        self.busy.setVisible(True)
        self.status.setText("Computing…")
        run_task(
            reading(
                session.path,
                lambda: session.run(lambda engine: compute_details(engine, entry, choice)),
            ),
            lambda result: self._on_task_finished(serial, result),
            on_error=lambda error, message: self._on_task_error(serial, error, message),
        )

    def _finish(self, serial: int) -> bool:
        """A computation ended: True when its result is still wanted, else start the
        one now wanted (if any)."""
        self._running = None
        if serial == self._serial:
            self.busy.setVisible(False)
            return True
        wanted = self._entry is not None and self._session is not None and self.isVisible()
        if wanted and not self._timer.isActive():  # (else the pause after a selection
            self._start()  # asks when it ends)
        elif not wanted:
            self.busy.setVisible(False)
        return False

    # -- slots --------------------------------------------------------------------------

    def _on_page_selection_changed(self, row_id: object) -> None:
        if self._page_key in ENTRY_PAGES:
            self.show_entry(self._page_key, row_id if isinstance(row_id, int) else None)

    def _on_timer_timeout(self) -> None:
        self.request()

    def _on_period_current_index_changed(self, _index: int) -> None:
        self.request()

    def _on_visibility_changed(self, visible: bool) -> None:
        if visible and self._stale:
            self.request()

    def _on_task_finished(self, serial: int, result: EntryDetails) -> None:
        if self._finish(serial):
            self.show_details(result)
            self.updated.emit()

    def _on_task_error(self, serial: int, error: BaseException, message: str) -> None:
        if not isinstance(error, InventoryDamagedError) or not self._shows_file(error.path):
            self._on_task_failed(serial, message)
            return
        # whichever entry it was computed for: the file is what is damaged
        self._running = None
        self.busy.setVisible(False)
        self._damage_found(error)

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        """Damage met by a read on this thread (the entry's title); a computation still
        running ends unwanted (nothing is asked after it)."""
        if self._inventory is not None and not self._damage_reported:
            self._entry = None
            self.stack.setCurrentWidget(self.content)
            self._damage_found(damage_error(self._inventory.path, exc))

    def _damage_found(self, error: InventoryDamagedError) -> None:
        """Say the file is damaged (the window's message says what to do); announce it
        once."""
        self._serial += 1  # nothing more for this inventory (the window closes it)
        self._timer.stop()
        self._show_failure(DAMAGED_TEXT)
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(error)

    def _on_task_failed(self, serial: int, message: str) -> None:
        if self._finish(serial):
            self._show_failure(f"Could not compute the figures: {message}")

    def _shows_file(self, path: Path | None) -> bool:
        """Whether ``path`` is the inventory shown now (not one closed meanwhile)."""
        session = self._session
        return session is not None and path is not None and Path(path) == session.path

    def _show_failure(self, text: str) -> None:
        self.details = None
        self.status.setText(text)
        self.text.clear()
        for value in self.values.values():
            value.setText("–")
        self._set_dimmed(False)

    def _on_copy_button_clicked(self) -> None:
        if self.details is not None:
            QGuiApplication.clipboard().setText(self.details.explanation.text())

    # -- showing ------------------------------------------------------------------------

    def show_details(self, d: EntryDetails) -> None:
        self.details = d
        self.stack.setCurrentWidget(self.content)
        table, _, rid = d.entry.partition(":")
        self.title.setText(d.title)
        self.subtitle.setText(_kind_text(table, int(rid)))
        self._fill_periods(d)
        texts = figure_texts(d.estimate)
        for key, label in self.values.items():
            label.setText(texts[key])
        t = d.estimate.totals
        self.values["market"].setToolTip(
            f"Savings from renewable sourcing: {texts['savings']}"
            if t["savings_kgco2e"] > 0
            else "No renewable sourcing covers this entry in the period"
        )
        where = f"in {d.period}" if d.period else "over all time"
        if not d.estimate.rows:
            what = f"No activity {where}."
            if d.latest is None:
                what += " This entry has no dated activity."
        else:
            incl = any(r.kind == "embodied" for r in d.estimate.rows)
            what = f"Figures {where}" + (", embodied hardware included." if incl else ".")
        self.status.setText(what)
        self.text.setHtml(explanation_html(d.explanation))
        self._set_dimmed(False)

    def _fill_periods(self, d: EntryDetails) -> None:
        """The selector's choices for this entry, keeping the current choice."""
        current = self.period.currentData() or LATEST
        choices = period_choices(d.span, d.latest)
        values = [v for _, v in choices]
        if current not in values:
            choices.append((f"{current} (no activity)", current))
        self.period.blockSignals(True)
        self.period.clear()
        for label, value in choices:
            self.period.addItem(label, value)
        self.period.setCurrentIndex(max(0, self.period.findData(current)))
        self.period.blockSignals(False)

    def _show_hint(self, key: str) -> None:
        self.hint.setText(HINTS[key])
        self.stack.setCurrentWidget(self.hint)

    def _set_dimmed(self, dimmed: bool) -> None:
        for w in (self.figures, self.text):
            w.setEnabled(not dimmed)


def _kind_text(table: str, row_id: int) -> str:
    what = "Training run" if table == "training_runs" else "Deployment"
    return f"{what} · id {row_id}"
