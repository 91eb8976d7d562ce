"""The dashboard's engine session: one engine per open inventory, kept between requests
and shared by the dashboard and the details panel, run on worker threads.

Everything it shows is computed by :mod:`core.dashboard` from the engine's estimates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.dashboard import (
    Cancelled,
    Dashboard,
    DashboardRequest,
    Estimates,
    Filters,
    compute_central,
    compute_period_range,
    compute_ranges,
    compute_trend_ranges,
    entries_for,
    not_cancelled,
)
from core.inventory import Inventory
from core.quiet_gc import quiet_gc

if TYPE_CHECKING:
    from core.estimate import Engine
    from core.scenarios import Scenario


#: change-log tables no engine reads (the dashboard's own scenarios): skipped when
#: catching up, so saving a scenario costs no re-read of the inventory
_NOT_READ_BY_THE_ENGINE = frozenset({"scenarios"})


def _connect_reader(path: Path) -> Inventory:
    """A second, read-only connection to the inventory for the worker threads.

    Reads take deferred transactions (``Inventory.snapshot``: a WAL snapshot), never the
    write lock, so the window saves edits while the engine reads. ``check_same_thread``
    is off because pool threads differ from call to call; the session's lock serialises
    all use.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA reverse_unordered_selects = OFF")  # as Inventory.open sets it
    conn.execute("PRAGMA query_only = ON")  # the dashboard never writes
    return Inventory(path, conn)


class DashboardSession:
    """Engines for one inventory file, kept between requests (thread-safe).

    The methods may run on any thread, one at a time (a lock serialises them). Each
    :meth:`central` first brings the engine up to date: edits recorded in the change log
    since it read the inventory are applied incrementally (``Engine.catch_up``); after
    :meth:`invalidate` (the file changed outside the app) it re-reads everything.
    """

    def __init__(self, path: str | Path, today: dt.date | None = None):
        self.path = Path(path)
        self.today = today
        self._lock = threading.Lock()
        self._inv: Inventory | None = None
        self._engine: Engine | None = None
        self._reload = False
        #: bumped whenever the engine's figures may have changed
        self.version = 0
        self._estimates: OrderedDict[Filters, Estimates] = OrderedDict()
        self._scenarios: dict[str, Engine] = {}
        self._scenario_estimates: OrderedDict[tuple[str, Filters], Estimates] = OrderedDict()

    def invalidate(self) -> None:
        """Re-read the whole inventory before the next computation."""
        self._reload = True

    @property
    def engine(self) -> Engine:
        """The baseline engine, built on first use and brought up to date."""
        from core.estimate import Engine

        if self._inv is None:
            self._inv = _connect_reader(self.path)
        changed = True
        if self._engine is None:
            self._engine = Engine(self._inv, today=self.today)
        elif self._reload:
            self._engine.refresh()
        else:
            changed = self._catch_up(self._engine)
        self._reload = False
        if changed:
            self.version += 1
            self._estimates.clear()
            self._scenarios.clear()
            self._scenario_estimates.clear()
        return self._engine

    @staticmethod
    def _catch_up(engine: Engine) -> bool:
        from core import activity

        with engine.inv.snapshot() as conn:
            changes, mark = activity.changes_since(conn, engine.activity.log_mark)
        if changes and not set(changes) - _NOT_READ_BY_THE_ENGINE:
            engine.activity.log_mark = mark  # nothing the engine reads changed
            return False
        return engine.catch_up()

    def estimates(self, filters: Filters) -> Estimates:
        """The memoised estimates of the (up-to-date) baseline for ``filters``."""
        engine = self.engine
        return self._kept(self._estimates, filters, engine, filters)

    @staticmethod
    def _kept(store: OrderedDict, key: Any, engine: Engine, filters: Filters) -> Estimates:
        if key not in store:
            store[key] = Estimates(engine, entries_for(engine, filters))
            while len(store) > 4:
                store.popitem(last=False)
        store.move_to_end(key)
        return store[key]

    def scenario_engine(self, scenario: Scenario) -> Engine:
        base = self.engine
        key = scenario.key()
        if key not in self._scenarios:
            self._scenarios = {key: base.derive(scenario.apply)}  # keep one: memory
            self._scenario_estimates.clear()
        return self._scenarios[key]

    def run(self, fn: Callable[[Engine], Any]) -> Any:
        """``fn(engine)`` with the up-to-date baseline engine, one caller at a time: other
        views of the same inventory (an entry's details) share this engine."""
        with self._lock:
            return fn(self.engine)

    # -- the stages the page runs one after the other -----------------------------------

    def central(self, request: DashboardRequest) -> Dashboard:
        """The baseline's central figures (no ranges, no scenario)."""
        import time

        with self._lock, quiet_gc():
            t0 = time.perf_counter()
            est = self.estimates(request.filters)
            t1 = time.perf_counter()
            data = compute_central(est.engine, request, est)
            out = Dashboard(data, version=self.version)
            out.timings = {"engine": t1 - t0, "central": time.perf_counter() - t1}
            out.seconds = time.perf_counter() - t0
            return out

    def with_scenario(self, request: DashboardRequest, dashboard: Dashboard) -> Dashboard | None:
        """``dashboard`` with the scenario's central figures beside it (same code path,
        the scenario's derived engine); None if the inventory changed meanwhile."""
        if request.scenario is None or not request.scenario.changes:
            return dashboard
        with self._lock, quiet_gc():
            if dashboard.version != self.version:
                return None
            engine = self.scenario_engine(request.scenario)
            key = (request.scenario.key(), request.filters)
            est = self._kept(self._scenario_estimates, key, engine, request.filters)
            scenario = compute_central(engine, request, est)
            return dataclasses.replace(
                dashboard, scenario=scenario, scenario_name=request.scenario.name
            )

    def with_ranges(
        self,
        request: DashboardRequest,
        dashboard: Dashboard,
        cancelled: Cancelled = not_cancelled,
        part: str = "all",
    ) -> Dashboard | None:
        """``dashboard`` with the baseline's uncertainty ranges: ``part`` ``"period"``
        (the key figure's), ``"trend"`` (every quarter's) or ``"all"``. None when
        cancelled or when the inventory changed since ``dashboard`` was computed."""
        with self._lock, quiet_gc():
            if dashboard.version != self.version or cancelled():
                return None
            est = self._estimates.get(request.filters)
            if est is None:
                return None
            data = dashboard.baseline
            if part == "period":
                data = compute_period_range(est, request, data)
            elif part == "trend":
                data = compute_trend_ranges(est, request, data)
            else:
                data = compute_ranges(est, request, data, cancelled)
            if data is None:
                return None
            return dataclasses.replace(dashboard, baseline=data)

    def compute(self, request: DashboardRequest) -> Dashboard:
        """All stages at once (tests, scripts)."""
        out = self.central(request)
        out = self.with_scenario(request, out) or out
        if request.samples > 0:
            out = self.with_ranges(request, out) or out
        return out

    def close(self) -> None:
        with self._lock:
            if self._inv is not None:
                self._inv.conn.close()
                self._inv = None
            self._engine = None
            self._scenarios.clear()
            self._estimates.clear()
            self._scenario_estimates.clear()
