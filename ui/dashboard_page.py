"""The dashboard: key figures, trends, top emitters and breakdowns, with what-if scenarios.

Everything shown comes from ``core.dashboard`` (engine estimates). The engine runs on the
thread pool (``ui.workers.run_task``) with its own connection, in stages shown as each
ends: the central figures first (no Monte Carlo: fast), then a scenario's figures if one
is chosen, then the period's uncertainty range, then the trend's (one Monte Carlo run
each). While it computes, a busy bar shows and the last figures stay visible. Requests
made meanwhile are merged: the running stage is told to stop at its next check, the
stages still to come are dropped, and only the latest request is computed next. Edits
recompute at once if the page is visible (the session applies them to its engine
incrementally), else when it is next shown. A damaged inventory file found by the
engine, or when the filter and scenario lists are filled again on the UI thread, is
announced with :attr:`DashboardPage.damaged` (the window offers the automatic backup),
not shown as SQLite's words; met while the page is built, it is raised to the window,
whose reads guard the building of its pages.
"""

from __future__ import annotations

import datetime as dt
import html
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core import dashboard as dash
from core import scenarios as scen
from core.dashboard_session import DashboardSession
from core.errors import InventoryDamagedError
from core.inventory import Inventory
from ui import palette
from ui.charts import BarChart, LocationMarketChart, TrendChart
from ui.damage_guard import catching_damage, damage_error
from ui.dashboard_widgets import FigureCard, MultiChoice, period_choices
from ui.plain_text import literal
from ui.restore_backup import DAMAGED_FIGURES_TEXT as DAMAGED_TEXT
from ui.workers import Task, reading, run_task

#: longest time (s) a thread keeps the interpreter lock while another waits for it. The
#: default 5 ms is paid again each time the UI thread returns from a Qt call during a
#: paint (PySide releases the lock around them) while the engine computes: a chart's
#: paint then took 250 ms instead of 25 ms on the large inventory
SWITCH_INTERVAL = 0.001

#: ms between the steps of showing a result or making the charts. Not 0: a zero-delay
#: single shot is a posted event, and posted events posted while others are handled run
#: in the same pass, so a chain of them would hold the UI thread as long as one step
#: of the whole; a real timer lets input, paints and other timers in between.
STEP_MS = 1

#: each chart's title while it waits for its first figures
CHART_TITLES = {
    "trend": "Emissions over time by lifecycle phase",
    "market": "Location- vs market-based emissions",
    "top": "Top emitters",
    "scope": "By scope and category",
    "quality": "Data quality: emissions by method",
    "sites": "By site and region",
}

#: each chart's cell in the dashboard's grid: (row, column[, rows, columns])
CHART_CELLS = {
    "trend": (0, 0),
    "market": (0, 1),
    "top": (1, 0, 2, 1),
    "scope": (1, 1),
    "quality": (2, 1),
    "sites": (3, 0, 1, 2),
}

#: what the status line says while each stage runs
STAGE_TEXT = {
    "central": "Computing…",
    "scenario": "Computing the scenario…",
    "range": "Computing the uncertainty range…",
    "band": "Computing the ranges over time…",
}

TIER_LABELS = {
    "measured": "Measured energy",
    "activity-based": "Activity-based (device-hours)",
    "token-based": "Per request or token",
    "default": "Defaults (assumed)",
}
TIER_COLORS = {
    "measured": palette.BLUISH_GREEN,
    "activity-based": palette.SKY_BLUE,
    "token-based": palette.ORANGE,
    "default": palette.VERMILLION,
}
FIGURE_ORDER = tuple(dash.FIGURE_LABELS)


class DashboardPage(QWidget):
    """The first page a sustainability lead opens."""

    #: (table, record id) to show in its inventory page
    entry_activated = Signal(str, int)
    #: the central figures of a request are shown (ranges may still be computing)
    figures_shown = Signal()
    #: every stage of a request finished and its figures are shown
    updated = Signal()
    #: the inventory file is damaged (an InventoryDamagedError), found by the engine;
    #: announced once, and nothing more is computed
    damaged = Signal(object)

    def __init__(
        self,
        inventory: Inventory,
        parent: QWidget | None = None,
        session: DashboardSession | None = None,
        editor: Any = None,
    ):
        """``session``: the engine session to share with other views of the inventory;
        ``editor``: the window's ``ui.undo.InventoryEditor`` (scenario edits are undoable
        through it; without one they are saved directly)."""
        super().__init__(parent)
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)  # process-wide; see SWITCH_INTERVAL
        self.inventory = inventory
        self.editor = editor
        self.session = session or DashboardSession(inventory.path)
        self.data: dash.Dashboard | None = None
        self._task: Task | None = None
        #: the stage to start once the UI thread has drawn what the last one gave
        self._deferred: tuple[str, dash.DashboardRequest, dash.Dashboard | None] | None = None
        #: parts of the last result still to show, and what follows them
        self._steps: list[Callable[[], None]] = []
        self._steps_done: Callable[[], None] | None = None
        self._stage = ""
        self._cancel = threading.Event()
        self._pending = False
        self._stale = True
        self._closed = False
        self._damage_reported = False
        self._request: dash.DashboardRequest | None = None
        self._build()
        self._fill_filters()
        self._fill_scenarios()
        QTimer.singleShot(STEP_MS, self, self._on_chart_timeout)

    # -- layout -------------------------------------------------------------------------

    def _chart_steps(self) -> Iterator[Callable[[], None]]:
        """Each chart made and placed in the grid, one step per chart."""

        def place(key: str, chart: QWidget) -> None:
            # hidden until its first data: the page's first paint stays light, and each
            # chart is painted the first time in a step of its own (_display_steps)
            chart.hide()
            self.charts[key] = chart
            self._slots[key].layout().addWidget(chart)

        def trend() -> None:
            self.trend_chart = TrendChart()
            self.trend_chart.title.setText("<b>Emissions over time by lifecycle phase</b>")
            self.trend_chart.layout().itemAt(0).layout().insertWidget(1, self.granularity)
            place("trend", self.trend_chart)

        def market() -> None:
            self.market_chart = LocationMarketChart()
            place("market", self.market_chart)

        def top() -> None:
            self.top_chart = BarChart(
                "Top emitters", color_of=self._top_color, legend=self._top_legend
            )
            self.top_chart.layout().itemAt(0).layout().insertWidget(1, self.top_by)
            self.top_chart.bar_clicked.connect(self._on_chart_bar_clicked)
            self.top_chart.max_label = 40
            place("top", self.top_chart)

        def scope() -> None:
            self.scope_chart = BarChart("By scope and category")
            place("scope", self.scope_chart)

        def quality() -> None:
            self.quality_chart = BarChart(
                "Data quality: emissions by method",
                market=False,
                color_of=lambda b, dark: _tier_color(b.id, dark),
                legend=lambda dark: [],
            )
            self.quality_chart.max_label = 40  # "Activity-based (device-hours) (20 %)"
            place("quality", self.quality_chart)

        def sites() -> None:
            self.site_chart = BarChart("By site and region (grid factor on hover)")
            self.site_chart.bar_clicked.connect(self._on_chart_bar_clicked)
            self.site_chart.max_label = 40
            place("sites", self.site_chart)

        yield from (trend, market, top, scope, quality, sites)

    def _reveal(self, key: str) -> None:
        """Show chart ``key`` in place of its slot's waiting note (once it has data)."""
        if self.charts[key].isHidden():
            self._waiting[key].hide()
            self.charts[key].show()

    @property
    def charts_ready(self) -> bool:
        """Every chart is made (they are, a few event-loop passes after the page)."""
        return not self._chart_makers

    def _on_chart_timeout(self) -> None:
        if self._closed or not self._chart_makers:
            return
        self._chart_makers.pop(0)()
        if self._chart_makers:
            QTimer.singleShot(STEP_MS, self, self._on_chart_timeout)
        elif self._stale and self.isVisible():  # shown (or edited) before they were made
            QTimer.singleShot(0, self, self._on_shown_timeout)

    def _build(self) -> None:
        today = dt.date.today()
        self.period = QComboBox()
        self.period.setToolTip("The reporting period; figures compare it with the one before")
        for label, value in period_choices(today):
            self.period.addItem(label, value)
        self.period.addItem("Custom range…", "custom")
        default = dash.default_period(today)
        self.period.setCurrentIndex(max(0, self.period.findData(default)))
        self.start_date, self.end_date = QDateEdit(), QDateEdit()
        for edit in (self.start_date, self.end_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setVisible(False)
            edit.dateChanged.connect(self._on_range_date_changed)
        self.start_date.setDate(QDate(today.year, 1, 1))
        self.end_date.setDate(QDate(today.year, today.month, today.day))
        self.team, self.model, self.site, self.tag = (
            MultiChoice(text) for text in ("All teams", "All models", "All sites", "All tags")
        )
        for combo in (self.team, self.model, self.site, self.tag):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
            combo.choice_changed.connect(self._on_filter_choice_changed)
        self.granularity = QComboBox()
        self.granularity.addItem("by quarter", "quarter")
        self.granularity.addItem("by month", "month")
        self.scenario = QComboBox()
        self.scenario.setToolTip("Compare the baseline with a saved what-if scenario")
        self.scenario.setMinimumContentsLength(12)
        self.scenario.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.scenario_button = QPushButton("Scenarios…")
        self.scenario_button.setToolTip("Create, change or delete what-if scenarios")
        self.scenario_button.clicked.connect(self._on_scenario_button_clicked)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setEnabled(False)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        for label, widget in (
            ("Period", self.period),
            (None, self.start_date),
            (None, self.end_date),
            ("Compare with scenario", self.scenario),
        ):
            if label:
                bar.addWidget(QLabel(f"{label}:"))
            bar.addWidget(widget)
        bar.addWidget(self.scenario_button)
        bar.addStretch(1)
        bar.addWidget(self.status)
        bar.addWidget(self.busy)
        filters = QHBoxLayout()
        filters.setSpacing(6)
        filters.addWidget(QLabel("Show only:"))
        for label, widget in (
            ("Team", self.team),
            ("Model", self.model),
            ("Site", self.site),
            ("Tag", self.tag),
        ):
            filters.addWidget(QLabel(f"{label}:"))
            filters.addWidget(widget, 1)
        filters.addStretch(1)

        self.cards = {key: FigureCard() for key in FIGURE_ORDER}
        for key, card in self.cards.items():
            card.show_waiting(dash.FIGURE_LABELS[key])
        cards = QGridLayout()
        cards.setSpacing(6)
        for i, key in enumerate(FIGURE_ORDER):
            cards.addWidget(self.cards[key], i // 4, i % 4)
        self.equivalences = QHBoxLayout()
        self.equivalences.setSpacing(14)
        self.equivalence_labels: list[QLabel] = []
        self.notes = QLabel()
        # plain text: the notes quote sites' region codes ("no factor for aws:...") and
        # error messages
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setWordWrap(True)
        self.notes.setEnabled(False)

        self.top_by = QComboBox()
        for key, label in dash.TOP_GROUPINGS.items():
            self.top_by.addItem(f"by {label.lower()}", key)
        # The charts are made one per pass of the event loop (``_on_chart_timeout``):
        # each takes 20-30 ms, all six at once would hold the window ~180 ms.
        self.charts: dict[str, QWidget] = {}
        self._chart_makers = list(self._chart_steps())
        self.grid = grid = QGridLayout()
        grid.setSpacing(8)
        # a cell for each chart, made now so that placing a chart later leaves the
        # others' size alone (re-laying out and re-painting all of them cost 60-110 ms)
        self._slots: dict[str, QWidget] = {}
        self._waiting: dict[str, QLabel] = {}  # what a slot says until its chart shows
        for key, cell in CHART_CELLS.items():
            slot = self._slots[key] = QWidget()
            slot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            box = QVBoxLayout(slot)
            box.setContentsMargins(0, 0, 0, 0)
            waiting = self._waiting[key] = QLabel(f"{CHART_TITLES[key]}: computing…")
            waiting.setEnabled(False)
            waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
            waiting.setFrameShape(QFrame.Shape.StyledPanel)
            box.addWidget(waiting)
            grid.addWidget(slot, *cell)
        for row, height in ((0, 270), (1, 190), (2, 190), (3, 300)):
            grid.setRowMinimumHeight(row, height)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(10, 6, 10, 10)
        column.addLayout(cards)
        column.addLayout(self.equivalences)
        column.addLayout(grid, 1)
        column.addWidget(self.notes)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        top = QWidget()
        rows = QVBoxLayout(top)
        rows.setContentsMargins(10, 0, 10, 2)
        rows.setSpacing(4)
        rows.addLayout(bar)
        rows.addLayout(filters)
        layout.addWidget(top)
        layout.addWidget(scroll, 1)

        for combo in (
            self.period,
            self.granularity,
            self.top_by,
            self.scenario,
        ):
            combo.currentIndexChanged.connect(self._on_control_changed)

    def _fill_filters(self) -> None:
        options = dash.filter_options(self.inventory)
        for combo, key in (
            (self.team, "owners"),
            (self.model, "models"),
            (self.site, "sites"),
            (self.tag, "tags"),
        ):
            combo.blockSignals(True)
            combo.set_options(options[key])
            combo.blockSignals(False)

    def _fill_scenarios(self, select: str | None = None) -> None:
        current = select if select is not None else self.scenario.currentText()
        self.scenario.blockSignals(True)
        self.scenario.clear()
        self.scenario.addItem("None (baseline only)", None)
        for s in scen.list_scenarios(self.inventory):
            self.scenario.addItem(s.name, s)
        index = self.scenario.findText(current) if current else 0
        self.scenario.setCurrentIndex(max(0, index))
        self.scenario.blockSignals(False)

    # -- requests -----------------------------------------------------------------------

    def request(self) -> dash.DashboardRequest:
        """What the controls ask for now."""
        period = self.period.currentData()
        if period == "custom":
            a, b = self.start_date.date(), self.end_date.date()
            if b < a:
                a, b = b, a
            period = f"{a.toString('yyyy-MM-dd')}..{b.toString('yyyy-MM-dd')}"
        filters = dash.Filters(
            self.team.values(), self.model.values(), self.site.values(), self.tag.values()
        )
        return dash.DashboardRequest(
            period=period,
            filters=filters,
            granularity=self.granularity.currentData(),
            top_by=self.top_by.currentData(),
            scenario=self.scenario.currentData(),
        )

    @property
    def computing(self) -> bool:
        """Whether figures are being computed or shown, or the charts still made."""
        return (
            self._task is not None
            or self._deferred is not None
            or bool(self._steps)
            or not self.charts_ready
        )

    def recompute(self) -> None:
        """Compute for the current controls now, or as soon as the running stage ends
        (it is asked to stop early; the stages it would have led to are dropped)."""
        if self._damage_reported:  # the window closes the inventory
            return
        if not self.charts_ready:  # computed once they are
            self._stale = True
            return
        self._stale = False
        if self._task is not None:
            self._pending = True
            self._cancel.set()
            return
        self._start("central", self.request())

    def _start_later(
        self, stage: str, request: dash.DashboardRequest, shown: dash.Dashboard | None = None
    ) -> None:
        """Start ``stage`` once what was just shown is laid out and painted.

        Drawing a full view takes the UI thread about 60 ms on the large inventory; a
        worker computing at the same time competes for Python's interpreter lock and
        stretches it past 100 ms. So the layout and paint events are handled first, with
        the UI thread to itself, and the worker starts after them."""
        self._deferred = (stage, request, shown)
        QTimer.singleShot(0, self, self._on_deferred_timeout)

    def _on_deferred_timeout(self) -> None:
        if self._deferred is None or self._task is not None or self._closed:
            return  # started, superseded or closed meanwhile
        QApplication.sendPostedEvents()  # layout, resizes and paints of what was shown
        if self._deferred is not None and self._task is None:
            self._start(*self._deferred)

    def _start(
        self, stage: str, request: dash.DashboardRequest, shown: dash.Dashboard | None = None
    ) -> None:
        self._deferred = None
        self._steps, self._steps_done = [], None  # what is still to show of the last result
        self._stage, self._request = stage, request
        self._cancel = cancel = threading.Event()
        session = self.session
        if stage == "central":
            work = lambda: session.central(request)  # noqa: E731
        elif stage == "scenario":
            work = lambda: session.with_scenario(request, shown)  # noqa: E731
        else:
            part = "period" if stage == "range" else "trend"
            work = lambda: session.with_ranges(request, shown, cancel.is_set, part)  # noqa: E731
        self.busy.setVisible(True)
        self.status.setText(STAGE_TEXT[stage])
        self._task = run_task(
            reading(session.path, work), self._on_task_finished, on_error=self._on_task_error
        )

    def _next_stage(self, request: dash.DashboardRequest) -> str | None:
        order = ["central"]
        if request.scenario is not None and request.scenario.changes:
            order.append("scenario")
        if request.samples > 0:
            order += ["range", "band"]
        at = order.index(self._stage)
        return order[at + 1] if at + 1 < len(order) else None

    def inventory_edited(self, tables: frozenset[str] = frozenset()) -> None:
        """The inventory changed: recompute now if shown, else when next shown (the
        session applies the logged edits to its engine)."""
        if self._damage_reported:  # the window closes the inventory
            return
        with catching_damage(self._report_damage):  # the lists read on this thread
            if tables & {"models", "sites", "training_runs", "deployments"} or not tables:
                self._fill_filters()
            if "scenarios" in tables:
                self._fill_scenarios()
        if self.isVisible():
            self.recompute()
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:  # after the first paint, which then has the UI thread to itself
            QTimer.singleShot(0, self, self._on_shown_timeout)

    def _on_shown_timeout(self) -> None:
        if self._closed or not self._stale or self._task is not None:
            return  # closed, or computing already
        QApplication.sendPostedEvents()  # the first layout and paint, uncontended
        self.recompute()

    def shutdown(self) -> None:
        """Release the session's connection (on a pool thread: it may still be computing)."""
        self._pending, self._closed = False, True
        self._cancel.set()
        session = self.session
        run_task(session.close, lambda _r: None, lambda _m: None)

    # -- slots --------------------------------------------------------------------------

    def _on_control_changed(self, _index: int) -> None:
        custom = self.period.currentData() == "custom"
        self.start_date.setVisible(custom)
        self.end_date.setVisible(custom)
        self.recompute()

    def _on_filter_choice_changed(self) -> None:
        self.recompute()

    def _on_range_date_changed(self, _date: QDate) -> None:
        if self.period.currentData() == "custom":
            self.recompute()

    def _on_task_finished(self, result: dash.Dashboard | None) -> None:
        self._task = None
        if self._closed:
            return
        request = self._request
        if self._pending or request is None:
            self._pending = False
            self._start("central", self.request())
            return
        if result is None:  # an edit arrived between stages: start again from it
            self._start("central", request)
            return
        stage = self._stage
        if stage in ("range", "band") and self.data is not None:
            # only the range card and the trend change
            steps = [lambda: self.show_ranges(result)]
        else:
            steps = self._display_steps(result)
        self._steps = steps
        self._steps_done = lambda: self._after_shown(stage, request, result)
        QTimer.singleShot(STEP_MS, self, self._on_step_timeout)

    def _on_step_timeout(self) -> None:
        """Show the next part of a result: one part per pass of the event loop, so that
        each part's update and paint are a short stall of their own."""
        if self._closed or not self._steps:
            return  # a new computation started (it dropped these steps) or closed
        self._steps.pop(0)()
        if self._steps:
            QTimer.singleShot(STEP_MS, self, self._on_step_timeout)
            return
        done, self._steps_done = self._steps_done, None
        if done is not None:
            done()

    def _after_shown(
        self, stage: str, request: dash.DashboardRequest, result: dash.Dashboard
    ) -> None:
        if stage == "central":
            self.figures_shown.emit()
        following = self._next_stage(request)
        if following is not None:
            self._start_later(following, request, result)
            return
        self.busy.setVisible(False)
        self.status.setText(f"Updated {dt.datetime.now():%H:%M:%S}")
        self.updated.emit()

    def _on_task_error(self, error: BaseException, message: str) -> None:
        if not isinstance(error, InventoryDamagedError):
            self._on_task_failed(message)
            return
        self._task = None
        if not self._closed:
            self._show_damage(error)

    def _on_task_failed(self, message: str) -> None:
        self._task = None
        if self._closed:
            return
        if self._pending:
            self._pending = False
            self._start("central", self.request())
            return
        self.busy.setVisible(False)
        self.status.setText("Could not compute the figures.")
        self.notes.setText(f"Could not compute the figures: {message}")
        for key, waiting in self._waiting.items():  # charts never shown yet
            waiting.setText(f"{CHART_TITLES[key]}: could not be computed (see below)")

    def _show_damage(self, error: InventoryDamagedError) -> None:
        """Say the file is damaged (the window's message says what to do) and announce
        it once; the requests still waiting are dropped."""
        self._pending, self._deferred, self._steps = False, None, []
        self.busy.setVisible(False)
        self.status.setText("The inventory file is damaged.")
        self.notes.setText(DAMAGED_TEXT)
        for key, waiting in self._waiting.items():
            waiting.setText(f"{CHART_TITLES[key]}: not computed (the inventory file is damaged)")
        if not self._damage_reported:
            self._damage_reported = True
            self.damaged.emit(error)

    def _report_damage(self, exc: sqlite3.DatabaseError) -> None:
        """Damage met by a read on this thread (the filter and scenario lists)."""
        if not self._damage_reported:
            self._show_damage(damage_error(self.inventory.path, exc))

    def _on_chart_bar_clicked(self, bar: dash.Bar) -> None:
        if bar.target is not None:
            self.entry_activated.emit(*bar.target)

    def _on_scenario_button_clicked(self) -> None:
        from ui.scenario_dialog import ScenarioDialog

        # the dialog lists the saved scenarios, and the list here is filled again, on
        # this thread: a damaged page met then brings the window's restore offer
        with catching_damage(self._report_damage):
            dialog = ScenarioDialog(self.inventory, self, editor=self.editor)
            dialog.exec()
            self._fill_scenarios(dialog.chosen)
        self.recompute()

    # -- showing ------------------------------------------------------------------------

    def show_ranges(self, data: dash.Dashboard) -> None:
        """Show ``data``, which differs from what is shown only by its ranges."""
        self.data = data
        b, s = data.baseline, data.scenario
        for key in ("location", "range"):
            self.cards[key].show_figure(
                b.figures[key], b.previous.label, s.figures[key] if s else None
            )
        note = b.range_note if b.ranges_ready else "P5–P95 ranges: computing…"
        self.trend_chart.set_data(b.trend, s.trend if s else None, data.scenario_name, note)

    def show_data(self, data: dash.Dashboard) -> None:
        """Show every figure and chart of ``data`` now."""
        for step in self._display_steps(data):
            step()

    def _display_steps(self, data: dash.Dashboard) -> list[Callable[[], None]]:
        """Showing ``data`` in steps of a few milliseconds each: the key figures and
        notes, then one chart at a time (each chart's update and paint take 5-20 ms)."""
        b, s = data.baseline, data.scenario
        prev = b.previous.label

        def figures() -> None:
            self.data = data
            for key, card in self.cards.items():
                card.show_figure(b.figures[key], prev, s.figures[key] if s else None)
            self._show_equivalences(b)
            notes = [n for n in b.notes if "not varied" not in n]
            filt = " Filtered view." if b.filters.active else ""
            self.notes.setText(
                f"Period {b.period.label} ({b.period.start:%d %b %Y} – "
                f"{b.period.end:%d %b %Y}), compared with {prev}.{filt} " + " ".join(notes)
            )

        def trend() -> None:
            note = b.range_note if b.ranges_ready else "P5–P95 ranges: computing…"
            self.trend_chart.set_data(b.trend, s.trend if s else None, data.scenario_name, note)
            self._reveal("trend")

        def market() -> None:
            self.market_chart.set_data(b.trend, s.trend if s else None, data.scenario_name)
            self._reveal("market")

        def top() -> None:
            what = dash.TOP_GROUPINGS[b.top_by].lower()
            total = b.figures["location"].value
            shown = sum(x.location for x in b.top)
            share = f", {shown / total * 100:.0f} % of the total" if total > 0 else ""
            self.top_chart.set_bars(b.top, f"{len(b.top)} of {b.top_total}{share}")
            self.top_chart.subtitle.setToolTip(f"Grouped by {what}")
            self._reveal("top")

        def scopes() -> None:
            self.scope_chart.set_bars(b.scopes)
            self._reveal("scope")

        def sites() -> None:
            self.site_chart.set_bars(
                b.sites[:12], f"{min(12, len(b.sites))} of {len(b.sites)} sites"
            )
            self._reveal("sites")

        def quality() -> None:
            total = sum(b.quality.values())
            self.quality_chart.set_bars(
                [
                    dash.Bar(
                        t,
                        f"{TIER_LABELS[t]} ({v / total * 100:.0f} %)" if total else TIER_LABELS[t],
                        v,
                        v,
                        detail=f"{v / total * 100:.0f} % of location-based emissions"
                        if total
                        else "",
                    )
                    for t, v in b.quality.items()
                ]
            )
            self._reveal("quality")

        return [figures, trend, market, top, scopes, sites, quality]

    def _show_equivalences(self, b: dash.DashboardData) -> None:
        """One label per equivalence, each with its factor and source on hover."""
        while self.equivalences.count():
            item = self.equivalences.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.equivalence_labels = []
        if not b.equivalences:
            return
        head = QLabel("Location-based total equals:")
        head.setEnabled(False)
        head.setWordWrap(True)
        self.equivalences.addWidget(head, 1)
        for e in b.equivalences:
            label = QLabel(f"<b>{dash.number(e['value'])}</b> {html.escape(e['what'])}")
            label.setWordWrap(True)
            # the source of an overridden factor is the override's reason: user text
            label.setToolTip(
                literal(f"{e['factor']:g} {e['unit']}\nSource: {e['source']} ({e['year']})")
            )
            self.equivalences.addWidget(label, 1)
            self.equivalence_labels.append(label)

    def _top_color(self, bar: dash.Bar, dark: bool) -> str:
        colors = palette.phase_colors(dark)
        return colors.get(bar.kind) or palette.series_colors(dark)["location"]

    def _top_legend(self, dark: bool) -> list[tuple[str, str]]:
        if self.top_by.currentData() != "deployment":
            return [("Location-based", palette.series_colors(dark)["location"])]
        colors = palette.phase_colors(dark)
        return [(dash.PHASE_LABELS[k], colors[k]) for k in ("training", "inference", "api")]


def _tier_color(tier: str, dark: bool) -> str:
    c = TIER_COLORS.get(tier, palette.NEUTRAL)
    return palette.dark_variant(c) if dark else c
