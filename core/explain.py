"""How one entry's figures were reached: formulas with the numbers, factors with sources.

``explain(engine, "training_runs:12", period)`` returns an :class:`Explanation`: titled
sections of plain lines, suitable for a terminal, a detail panel or a report appendix.

Each formula line is followed by its factor lines, which start with :data:`SUB` (two
spaces): one factor each, with its value and unit, its source, year and licence, and
whether it is a shipped default or the user's input (a record of the inventory, or an
override of a shipped factor). "Defaults used" lists every default the figures rest on.

Units: energy kWh, power W, emissions kgCO2e, grid factors g per kWh of the gas their
source states (CO2 or CO2e), water litres.
"""

from __future__ import annotations

import numpy as np

from core import engine as eng
from core import schema
from core.estimate import Engine
from core.explain_context import (  # noqa: F401  (re-exported: importers use core.explain)
    CO2_ONLY,
    DEFAULT,
    SUB,
    USER,
    Explanation,
    _cite,
    _Context,
    _default_param,
    _is_override,
    _n,
    _param,
    _part,
    _record_figure,
    _same,
    _shipped,
    _source,
    parse_entry,
)
from core.explain_emissions import (  # noqa: F401
    _cell_market,
    _coverage,
    _embodied,
    _grid_label,
    _grid_lines,
    _grid_name,
    _grid_range_lines,
    _location,
    _market,
    _own_factor,
    _residual,
    _water,
    _wue_line,
)
from core.explain_energy import (  # noqa: F401
    _activity,
    _close,
    _ecologits,
    _embodied_hours,
    _energy,
    _hours_origin,
    _inference_cite,
    _inference_row,
    _measured,
    _model_size,
    _per_unit,
    _per_unit_lines,
    _pue_lines,
    _pue_text,
    _token_energy,
)
from core.periods import Period, parse_period


def explain(
    e: Engine, entry: str, period: Period | str | None = None, samples: int = 1000, seed: int = 0
) -> Explanation:
    """The explanation of one entry for ``period`` (all time when None)."""
    if isinstance(period, str):
        period = parse_period(period)
    table, rid = parse_entry(entry)
    table_name = eng.ENTRY_TABLES[table]
    record = e.inv.get(table_name, rid)  # raises RecordNotFoundError with a clear message
    lines, p = e.lines, e.pieces
    mine = (lines.entry_table == table) & (lines.entry_id == rid)
    w = p.weights(period) * mine[p.line]
    sel = w > 0
    # the weight of a line's own (whole-line) figures in each piece: the piece's share of
    # the line's days times the piece's weight in the period
    lw = np.zeros(len(w))
    lw[sel] = w[sel] * _piece_share(e, np.flatnonzero(sel))
    out = Explanation(
        f"{table_name}:{rid}", e.title(table, rid), period.label if period else "all time"
    )
    x = _Context(e, table, rid, record)
    kinds = sorted(set(lines.kind[p.line[sel]].tolist()))
    if not sel.any():
        result = ["No activity in this period."]
        result += [
            f"Not estimated: {eng.SKIPPED[n][1]}."
            for n in e.entry_notes(table_name, rid)
            if n in eng.SKIPPED and eng.SKIPPED[n][0] == "energy"
        ]
        out.sections.append(("Result", result))
    out.sections.append(("Inputs", _inputs(e, table, record)))
    for kind in (k for k in kinds if k != eng.EMBODIED):
        out.sections.append((f"Energy ({eng.KINDS[kind]})", _energy(x, kind, p.line[sel], lw[sel])))
    if sel.any():
        out.sections.append(("Location-based emissions", _location(x, sel, w)))
        out.sections.append(("Market-based emissions", _market(x, sel, w)))
    if eng.EMBODIED in kinds:
        out.sections.append(("Embodied emissions", _embodied(x, p.line[sel], lw[sel])))
    if sel.any():
        out.sections.append(("Water", _water(x, sel, w)))
    est = e.estimate(period, by="entry", samples=samples, seed=seed, entry=(table, rid))
    if est.rows:
        t = est.totals
        parts = "; ".join(
            f"{r.kind}: {_n(r.location_kgco2e, 'kgCO2e')} ({r.method_tier}, {r.scope})"
            for r in est.rows
        )
        out.sections.append(
            (
                "Range",
                [
                    f"Location-based {_n(t['location_kgco2e'], 'kgCO2e')} (all parts), "
                    f"P5-P95 {_n(t['low_kgco2e'])}-{_n(t['high_kgco2e'], 'kgCO2e')} "
                    f"({samples:,} samples, seed {seed})",
                    f"By part: {parts}",
                ],
            )
        )
    out.sections.append(("Defaults used", _defaults_used(x, sel, p.line[sel])))
    out.sections.append(("Notes", e.entry_notes(table_name, rid) or ["none"]))
    return out


def _piece_share(e: Engine, pieces: np.ndarray) -> np.ndarray:
    """Per piece (indices), its share of its line's days (1 for the single piece of an
    undated line): the line's own figures (device-hours, accelerator energy) times this
    are the piece's."""
    p, lines = e.pieces, e.lines
    line = p.line[pieces]
    start, end = lines.start[line], lines.end[line]
    dated = ~np.isnat(start) & ~np.isnat(end)
    days = np.where(dated, (end - start).astype("timedelta64[D]").astype(np.int64) + 1, 1)
    first = p.first_day[pieces].astype(np.int64)
    piece_days = p.last_day[pieces].astype(np.int64) - first + 1
    return np.where(dated, piece_days / np.maximum(days, 1), 1.0)


def _defaults_used(x: _Context, sel: np.ndarray, line: np.ndarray) -> list[str]:
    """The defaults the figures rest on: shared parameters (by the lines' flags), then
    the defaults the sections met (PUE, hardware figures, inference energy, model size,
    grid factors)."""
    if not sel.any():
        return ["none: no activity in this period, so nothing was estimated"]
    used = int(np.bitwise_or.reduce(x.e.lines.shared[line]))
    out = []
    for bit, name in enumerate(eng.SHARED):
        if used & (1 << bit) and name != "pue_default":
            f = x.a.param(name)
            if not _is_override(f.source):
                x.default(f"param:{name}", _default_param(f, name))
    params = [v for k, v in x.defaults.items() if k.startswith("param:")]
    out = params + [v for k, v in x.defaults.items() if not k.startswith("param:")]
    return out or ["none: every input was given"]


def _inputs(e: Engine, table: int, record: dict) -> list[str]:
    spec_fields = [
        "kind",
        "site_id",
        "hardware_id",
        "device_count",
        "start_date",
        "end_date",
        "device_hours",
        "wall_hours",
        "avg_power_w",
        "energy_kwh",
        "energy_boundary",
    ]
    spec = schema.table(eng.ENTRY_TABLES[table])
    out = [f"Model: {e.inv.title('models', record['model_id'])}"]
    for f in spec_fields:
        value = record.get(f)
        if value is None or f not in spec.field_names:
            continue
        field = spec.field(f)
        if f == "site_id":
            out.append(f"{field.label}: {e.inv.title('sites', value)}")
        elif f == "hardware_id":
            out.append(f"{field.label}: {e.inv.title('hardware', value)}")
        elif field.choices:
            out.append(f"{field.label}: {dict(field.choices).get(value, value)}")
        elif isinstance(value, int | float):
            unit = "" if field.unit.lower() == field.label.lower() else field.unit
            out.append(f"{field.label}: {_n(float(value), unit)}")
        else:
            out.append(f"{field.label}: {value}")
    return out
