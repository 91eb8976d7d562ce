"""What-if scenarios: named changes of assumptions, applied to a copy of the activity.

A :class:`Scenario` is a list of *changes*, each a plain dict with a ``kind`` (see
:data:`CHANGE_KINDS`) and its parameters. :meth:`Scenario.apply` changes an
:class:`core.activity.Activity` in place; :func:`scenario_engine` hands it to
:meth:`core.estimate.Engine.derive`, so the scenario is computed by exactly the same code
as the baseline, and the inventory's records are never touched.

Changes (ids are inventory record ids):

* ``move_deployment``  ``deployment_id`` -> ``to_site_id`` or a new ``to_site`` (a dict of
  site fields: ``name``, ``kind``, ``provider``, ``region_code``, ``country``,
  ``grid_region``, ``pue``): the deployment runs in another region or with another provider;
* ``move_site``        ``site_id`` -> ``to_site_id`` / ``to_site``: all the training runs and
  deployments of a site move;
* ``switch_hardware``  ``from_hardware_id`` -> ``to_hardware_id`` (optionally only for
  ``deployment_id``): energy estimated from device-hours follows the new hardware's TDP,
  embodied emissions its embodied figure; measured energy stays as measured;
* ``set_pue``          ``pue`` (ratio >= 1) for ``site_id``, or for every site when omitted;
* ``add_sourcing``     a renewable contract: ``instrument`` ``ppa`` or ``eac`` (also
  ``green-tariff``, ``onsite``), ``site_id`` or ``grid_region``, ``share_pct`` (0-100) or
  ``mwh``, ``period_start``/``period_end`` (ISO dates), ``factor_g_per_kwh`` (default 0);
* ``scale_requests``   ``factor`` (> 0) for ``deployment_id``, or every deployment when
  omitted: requests, tokens, device-hours and measured energy of its usage scale alike
  (more requests per month need proportionally more of each);
* ``embodied_convention``  ``convention``: ``amortised`` or ``capital-goods``.

Saved scenarios live in the inventory's ``scenarios`` table (name, description, changes
as JSON); saving, renaming and deleting are logged in the change log. Saving checks that
every record a change names exists (:func:`reference_problems`); the undoable commands
are ``core.commands.SaveScenario`` and ``DeleteScenario``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core import schema
from core.errors import LedgerError, RecordNotFoundError

if TYPE_CHECKING:
    from core.activity import Activity
    from core.estimate import Engine
    from core.inventory import Inventory

CHANGE_KINDS = (
    "move_deployment",
    "move_site",
    "switch_hardware",
    "set_pue",
    "add_sourcing",
    "scale_requests",
    "embodied_convention",
)
CONVENTIONS = ("amortised", "capital-goods")
_USAGE_SCALED = ("requests", "input_tokens", "output_tokens", "device_hours", "energy_kwh")


class ScenarioError(LedgerError):
    """A scenario change that cannot be applied (unknown record, bad value)."""


@dataclass
class Scenario:
    """A named list of changes; ``id`` is set once saved in an inventory."""

    name: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    id: int | None = None

    def key(self) -> str:
        """A stable text of the changes, for caching engines per scenario."""
        return json.dumps(self.changes, sort_keys=True)

    def apply(self, act: Activity) -> None:
        """Apply every change, in order, to ``act`` (a copy; changed in place)."""
        for number, change in enumerate(self.changes, 1):
            kind = change.get("kind")
            handler = _HANDLERS.get(str(kind))
            if handler is None:
                raise ScenarioError(
                    f"Scenario '{self.name}', change {number}: unknown kind {kind!r} "
                    f"(known: {', '.join(CHANGE_KINDS)})."
                )
            try:
                handler(act, change)
            except ScenarioError as exc:
                raise ScenarioError(f"Scenario '{self.name}', change {number}: {exc}") from None

    def summary(self) -> list[str]:
        """One plain-English line per change (ids, not names: no inventory at hand)."""
        return [describe(c) for c in self.changes]


def scenario_engine(base: Engine, scenario: Scenario) -> Engine:
    """The what-if engine of ``scenario`` over ``base`` (same code path, copied activity)."""
    return base.derive(scenario.apply)


def describe(change: dict[str, Any]) -> str:
    """A change in words, e.g. ``"PUE 1.1 at site #3"``."""
    k = change.get("kind")
    target = _target_words(change)
    if k == "move_deployment":
        return f"Move deployment #{change.get('deployment_id')} to {target}"
    if k == "move_site":
        return f"Move all load of site #{change.get('site_id')} to {target}"
    if k == "switch_hardware":
        only = f" for deployment #{change['deployment_id']}" if change.get("deployment_id") else ""
        return (
            f"Switch hardware #{change.get('from_hardware_id')} to "
            f"#{change.get('to_hardware_id')}{only}"
        )
    if k == "set_pue":
        where = f"site #{change['site_id']}" if change.get("site_id") else "every site"
        return f"PUE {change.get('pue')} at {where}"
    if k == "add_sourcing":
        amount = (
            f"{change['share_pct']:g} % of consumption"
            if change.get("share_pct") is not None
            else f"{change.get('mwh', 0):,.0f} MWh"
        )
        where = (
            f"site #{change['site_id']}"
            if change.get("site_id")
            else f"grid {change.get('grid_region')}"
        )
        return (
            f"Add {change.get('instrument', 'ppa')} covering {amount} at {where}, "
            f"{change.get('period_start')}..{change.get('period_end')}"
        )
    if k == "scale_requests":
        who = f"deployment #{change['deployment_id']}" if change.get("deployment_id") else "all"
        return f"Requests x {change.get('factor')} ({who})"
    if k == "embodied_convention":
        return f"Embodied convention: {change.get('convention')}"
    return str(change)


def _target_words(change: dict[str, Any]) -> str:
    if change.get("to_site_id") is not None:
        return f"site #{change['to_site_id']}"
    spec = change.get("to_site") or {}
    bits = [spec.get("provider"), spec.get("region_code") or spec.get("grid_region")]
    bits.append(spec.get("country"))
    return spec.get("name") or " ".join(str(b) for b in bits if b) or "another site"


# -- changes -------------------------------------------------------------------------------


def _need(change: dict[str, Any], key: str) -> Any:
    if change.get(key) is None:
        raise ScenarioError(f"'{change.get('kind')}' needs '{key}'.")
    return change[key]


def _number(change: dict[str, Any], key: str, minimum: float, exclusive: bool = False) -> float:
    raw = _need(change, key)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ScenarioError(f"'{key}' must be a number, not {raw!r}.") from None
    if not math.isfinite(value) or value < minimum or (exclusive and value == minimum):
        op = ">" if exclusive else ">="
        raise ScenarioError(f"'{key}' must be a number {op} {minimum:g}, not {raw!r}.")
    return value


def _site_index(act: Activity, site_id: Any) -> int:
    ids = act.sites.ids
    pos = np.flatnonzero(ids == int(site_id))
    if not len(pos):
        raise ScenarioError(f"there is no site with id {site_id}.")
    return int(pos[0])


def _target_site(act: Activity, change: dict[str, Any]) -> int:
    """The id of the site load moves to: an existing one or a new one added to ``act``."""
    if change.get("to_site_id") is not None:
        _site_index(act, change["to_site_id"])
        return int(change["to_site_id"])
    spec = change.get("to_site")
    if not isinstance(spec, dict):
        raise ScenarioError(f"'{change.get('kind')}' needs 'to_site_id' or 'to_site'.")
    return add_site(act, spec)


def add_site(act: Activity, spec: dict[str, Any]) -> int:
    """Add a site (fields of :data:`core.schema.SITES`) to ``act``; return its new id.

    The id is one above the largest, so the tables stay in id order as the engine expects.
    """
    kinds = [v for v, _ in schema.SITE_KINDS]
    kind = spec.get("kind") or "cloud"
    if kind not in kinds:
        raise ScenarioError(f"site kind must be one of {', '.join(kinds)}, not {kind!r}.")
    if spec.get("pue") is not None and float(spec["pue"]) < 1:
        raise ScenarioError(f"PUE must be at least 1, not {spec['pue']!r}.")
    new_id = int(act.sites.ids.max()) + 1 if len(act.sites) else 1
    row: dict[str, Any] = dict.fromkeys(schema.SITES.field_names)
    row.update({k: v for k, v in spec.items() if k in schema.SITES.field_names})
    row.update(id=new_id, kind=kind)
    if not row.get("name"):
        words = [spec.get("provider"), spec.get("region_code") or spec.get("grid_region")]
        words.append(spec.get("country"))
        row["name"] = "What-if: " + (" ".join(str(w) for w in words if w) or f"site {new_id}")
    table = act.sites
    table.ids = np.append(table.ids, new_id)
    for name, col in table.columns.items():
        f = schema.SITES.field(name)
        value = row.get(name)
        if f.kind == "choice":
            code = (
                [v for v, _ in f.choices].index(value) if value in [v for v, _ in f.choices] else -1
            )
            new = np.array([code], dtype=col.dtype)
        elif f.kind == "ref":
            new = np.array([-1 if value is None else int(value)], dtype=col.dtype)
        else:
            new = np.array([np.nan if value is None else float(value)], dtype=col.dtype)
        table.columns[name] = np.concatenate([col, new])
    act.site_rows.append(row)
    return new_id


def _move_deployment(act: Activity, change: dict[str, Any]) -> None:
    dep = int(_need(change, "deployment_id"))
    pos = act.deployments.index_of(np.array([dep]))[0]
    if pos < 0:
        raise ScenarioError(f"there is no deployment with id {dep}.")
    target = _target_site(act, change)
    act.deployments.columns["site_id"] = act.deployments["site_id"].copy()
    act.deployments.columns["site_id"][pos] = target


def _move_site(act: Activity, change: dict[str, Any]) -> None:
    source = int(_need(change, "site_id"))
    _site_index(act, source)
    target = _target_site(act, change)
    for table in (act.training_runs, act.deployments):
        if len(table):
            col = table["site_id"]
            table.columns["site_id"] = np.where(col == source, target, col)


def _switch_hardware(act: Activity, change: dict[str, Any]) -> None:
    old, new = int(_need(change, "from_hardware_id")), int(_need(change, "to_hardware_id"))
    for hid in (old, new):
        if act.hardware.index_of(np.array([hid]))[0] < 0:
            raise ScenarioError(f"there is no hardware with id {hid}.")
    only = change.get("deployment_id")
    tables = (act.deployments,) if only is not None else (act.training_runs, act.deployments)
    for table in tables:
        if not len(table):
            continue
        col = table["hardware_id"]
        hit = col == old
        if only is not None:
            hit &= table.ids == int(only)
        table.columns["hardware_id"] = np.where(hit, new, col)


def _set_pue(act: Activity, change: dict[str, Any]) -> None:
    pue = _number(change, "pue", 1.0)
    rows = range(len(act.site_rows))
    if change.get("site_id") is not None:
        rows = [_site_index(act, change["site_id"])]
    col = act.sites["pue"].copy()
    for i in rows:
        act.site_rows[i]["pue"] = pue
        col[i] = pue
    act.sites.columns["pue"] = col


def _add_sourcing(act: Activity, change: dict[str, Any]) -> None:
    instrument = change.get("instrument", "ppa")
    kinds = [v for v, _ in schema.SOURCING_KINDS if v != "supplier-factor"]
    if instrument not in kinds:
        raise ScenarioError(f"instrument must be one of {', '.join(kinds)}, not {instrument!r}.")
    site_id = change.get("site_id")
    if site_id is not None:
        _site_index(act, site_id)
    elif not change.get("grid_region"):
        raise ScenarioError("a renewable contract needs a 'site_id' or a 'grid_region'.")
    share = mwh = None
    if change.get("share_pct") is not None:
        share = _number(change, "share_pct", 0.0)
        if share > 100:
            raise ScenarioError(f"'share_pct' must be at most 100, not {share:g}.")
    else:
        mwh = _number(change, "mwh", 0.0)
    dates = []
    for key in ("period_start", "period_end"):
        try:
            dates.append(dt.date.fromisoformat(str(_need(change, key))))
        except ValueError:
            raise ScenarioError(
                f"'{key}' must be a date YYYY-MM-DD, not {change[key]!r}."
            ) from None
    if dates[1] < dates[0]:
        raise ScenarioError("the contract ends before it starts.")
    factor = float(change.get("factor_g_per_kwh") or 0.0)
    row: dict[str, Any] = dict.fromkeys(schema.SOURCING.field_names)
    row.update(
        id=-(len(act.sourcing) + 1),  # never clashes with a stored instrument
        name=change.get("name") or f"What-if {instrument}",
        kind=instrument,
        site_id=None if site_id is None else int(site_id),
        grid_region=change.get("grid_region"),
        period_start=dates[0].isoformat(),
        period_end=dates[1].isoformat(),
        mwh=mwh,
        share_pct=share,
        factor_g_per_kwh=factor,
    )
    act.sourcing.append(row)


def _scale_requests(act: Activity, change: dict[str, Any]) -> None:
    factor = _number(change, "factor", 0.0, exclusive=True)
    usage = act.usage
    if not len(usage):
        return
    hit = np.ones(len(usage), dtype=bool)
    if change.get("deployment_id") is not None:
        dep = int(change["deployment_id"])
        if act.deployments.index_of(np.array([dep]))[0] < 0:
            raise ScenarioError(f"there is no deployment with id {dep}.")
        hit = usage["deployment_id"] == dep
    for name in _USAGE_SCALED:
        if name in usage.columns:
            usage.columns[name] = np.where(hit, usage[name] * factor, usage[name])


def _embodied_convention(act: Activity, change: dict[str, Any]) -> None:
    convention = _need(change, "convention")
    if convention not in CONVENTIONS:
        raise ScenarioError(
            f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}."
        )
    act.settings["embodied_convention"] = convention


_HANDLERS = {
    "move_deployment": _move_deployment,
    "move_site": _move_site,
    "switch_hardware": _switch_hardware,
    "set_pue": _set_pue,
    "add_sourcing": _add_sourcing,
    "scale_requests": _scale_requests,
    "embodied_convention": _embodied_convention,
}


# -- saved scenarios -----------------------------------------------------------------------


def list_scenarios(inv: Inventory) -> list[Scenario]:
    """Every saved scenario, by name. Stored changes that are not a JSON list of objects
    (a file edited by another program) are left out rather than trusted: the scenario
    still lists, with the changes that are readable."""
    cur = inv.conn.execute(
        "SELECT id, name, description, changes FROM scenarios ORDER BY name COLLATE NOCASE"
    )
    return [
        Scenario(str(name), _stored_changes(ch), str(desc or ""), int(i))
        for i, name, desc, ch in cur
    ]


def _stored_changes(text: Any) -> list[dict[str, Any]]:
    try:
        changes = json.loads(text) if isinstance(text, str | bytes) else None
    except (ValueError, RecursionError):
        return []
    if not isinstance(changes, list):
        return []
    return [c for c in changes if isinstance(c, dict)]


def load_scenario(inv: Inventory, name: str) -> Scenario:
    for s in list_scenarios(inv):
        if s.name == name:
            return s
    raise RecordNotFoundError(f"There is no saved scenario called '{name}'.")


#: change parameters that name an inventory record, and the table they name
REFERENCES = {
    "deployment_id": "deployments",
    "site_id": "sites",
    "to_site_id": "sites",
    "from_hardware_id": "hardware",
    "to_hardware_id": "hardware",
}


def reference_problems(inv: Inventory, scenario: Scenario) -> list[str]:
    """One sentence per change parameter naming a record the inventory does not hold
    (deleted since the scenario was made, or never there); empty when all exist."""
    problems = []
    for number, change in enumerate(scenario.changes, 1):
        for key, table in REFERENCES.items():
            value = change.get(key)
            if value is None:
                continue
            singular = schema.table(table).singular
            try:
                rid = int(value)
            except (TypeError, ValueError):
                problems.append(f"Change {number}: '{key}' must be a {singular} id, not {value!r}.")
                continue
            found = inv.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (rid,)).fetchone()
            if found is None:
                problems.append(
                    f"Change {number} ({describe(change)}): there is no {singular} with id "
                    f"{rid} (deleted?). Remove the change or choose another {singular}."
                )
    return problems


def save_scenario(inv: Inventory, scenario: Scenario, log_text: str = "") -> int:
    """Insert or replace (by name) ``scenario``; return its id. Logged in the change log
    (as ``log_text``, default "Save scenario 'name'").

    Refused with :class:`ScenarioError` when a change has an unknown kind or names a
    record the inventory does not hold (values are checked when computed).
    """
    name = scenario.name.strip()
    if not name:
        raise ScenarioError("A scenario needs a name.")
    for number, change in enumerate(scenario.changes, 1):
        if change.get("kind") not in CHANGE_KINDS:
            raise ScenarioError(
                f"Scenario '{name}', change {number}: unknown kind {change.get('kind')!r}."
            )
    problems = reference_problems(inv, scenario)
    if problems:
        raise ScenarioError(f"Scenario '{name}' not saved: " + " ".join(problems))
    from core.inventory import now_iso

    text = json.dumps(scenario.changes, sort_keys=True)
    now = now_iso()
    with inv.transaction() as conn:
        old = conn.execute("SELECT id, changes FROM scenarios WHERE name = ?", (name,)).fetchone()
        batch = inv.next_log_batch()
        if old is None:
            cur = conn.execute(
                "INSERT INTO scenarios (name, description, changes, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, scenario.description, text, now, now),
            )
            rid = int(cur.lastrowid or 0)
            entries = [("insert", "scenarios", rid, None, None, {"name": name, "changes": text})]
        else:
            rid = int(old[0])
            conn.execute(
                "UPDATE scenarios SET description = ?, changes = ?, updated_at = ? WHERE id = ?",
                (scenario.description, text, now, rid),
            )
            entries = [("update", "scenarios", rid, "changes", old[1], text)]
        inv.log(batch, entries, log_text or f"Save scenario '{name}'")
    scenario.id, scenario.name = rid, name
    return rid


def delete_scenario(inv: Inventory, name: str, log_text: str = "") -> None:
    """Delete the scenario called ``name``; logged (as ``log_text``)."""
    with inv.transaction() as conn:
        row = conn.execute("SELECT id, changes FROM scenarios WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise RecordNotFoundError(f"There is no saved scenario called '{name}'.")
        conn.execute("DELETE FROM scenarios WHERE id = ?", (row[0],))
        inv.log(
            inv.next_log_batch(),
            [("delete", "scenarios", int(row[0]), None, {"name": name, "changes": row[1]}, None)],
            log_text or f"Delete scenario '{name}'",
        )
