"""How one entry's figures were reached: formulas with the numbers, factors with sources.

``explain(engine, "training_runs:12", period)`` returns an :class:`Explanation`: titled
sections of plain lines, suitable for a terminal, a detail panel or a report appendix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core import engine as eng
from core import schema
from core.assumptions import _PROVIDER_PARAM
from core.errors import RecordNotFoundError
from core.estimate import Engine
from core.factors import Factor
from core.periods import Period, parse_period


@dataclass
class Explanation:
    entry: str
    title: str
    period: str
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def text(self) -> str:
        out = [f"{self.title}  [{self.entry}]", f"Period: {self.period}", ""]
        for heading, lines in self.sections:
            out.append(heading)
            out.extend(f"  {line}" for line in lines)
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_json(self) -> dict:
        return {
            "entry": self.entry,
            "title": self.title,
            "period": self.period,
            "sections": [{"heading": h, "lines": ls} for h, ls in self.sections],
        }


def _n(x: float, unit: str = "") -> str:
    """A number as people read it: grouped digits, 3 significant figures below 100."""
    if x != x:  # NaN
        return "—"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"
    return f"{text} {unit}".rstrip()


def _source(f: Factor) -> str:
    year = f", {f.year}" if f.year else ""
    licence = f", {f.licence}" if f.licence else ""
    return f"{f.source}{year}{licence}"


def parse_entry(entry: str) -> tuple[int, int]:
    """``training_runs:12`` or ``deployments:5`` as (table index, id)."""
    table, _, rid = entry.partition(":")
    aliases = {"run": "training_runs", "runs": "training_runs", "deployment": "deployments"}
    table = aliases.get(table, table)
    if table not in eng.ENTRY_TABLES or not rid.isdigit():
        raise RecordNotFoundError(
            f"'{entry}' is not an entry: write training_runs:ID or deployments:ID "
            "(ids are in the first column of 'list')."
        )
    return eng.ENTRY_TABLES.index(table), int(rid)


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
    out = Explanation(
        f"{table_name}:{rid}", e.title(table, rid), period.label if period else "all time"
    )
    a = e.assumptions
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
        out.sections.append(
            (f"Energy ({eng.KINDS[kind]})", _energy(e, table, rid, kind, p.line[sel], w[sel]))
        )
    out.sections.append(("Location-based emissions", _location(e, sel, w)))
    out.sections.append(("Market-based emissions", _market(e, sel, w)))
    if eng.EMBODIED in kinds:
        out.sections.append(("Embodied emissions", _embodied(e, p.line[sel], w[sel])))
    out.sections.append(("Water", _water(e, sel, w)))
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
    used = np.bitwise_or.reduce(lines.shared[p.line[sel]]) if sel.any() else 0
    defaults = [
        f"{name} = {_n(a.param(name).value)} {a.param(name).unit} "
        f"(range {_n(a.param(name).low)}-{_n(a.param(name).high)}; "
        f"{_source(a.param(name))})"
        for bit, name in enumerate(eng.SHARED)
        if used & (1 << bit) and name != "pue_default"
    ]
    if used & eng.PUE_DEF:
        site = int(lines.site[p.line[sel]][0])
        defaults.append(f"PUE {_n(e.sites.pue[site])}: {e.sites.pue_source[site]}")
    out.sections.append(("Defaults used", defaults or ["none: every input was given"]))
    out.sections.append(("Notes", e.entry_notes(table_name, rid) or ["none"]))
    return out


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


def _energy(
    e: Engine, table: int, rid: int, kind: int, line: np.ndarray, w: np.ndarray
) -> list[str]:
    lines, a = e.lines, e.assumptions
    sel = lines.kind[line] == kind
    ln, wt = line[sel], w[sel]
    host = a.param("host_overhead_ratio").value
    out = []
    for tier in sorted(set(lines.tier[ln].tolist())):
        t = lines.tier[ln] == tier
        dev_h = float(np.nansum(lines.device_hours[ln[t]] * wt[t]))
        device = float(np.nansum(lines.device_kwh[ln[t]] * wt[t]))
        it = float((lines.it_kwh[ln[t]] * wt[t]).sum())
        fac = float((lines.facility_kwh[ln[t]] * wt[t]).sum())
        pue = fac / it if it else float("nan")
        n = len(np.unique(lines.source_row[ln[t]]))
        what = "record" if table == 0 else "usage record"
        what += "" if n == 1 else "s"
        head = f"{eng.TIERS[tier]} ({n} {what}):"
        if tier == eng.MEASURED:
            out.append(
                f"{head} measured energy converted by its boundary to IT "
                f"{_n(it, 'kWh')}; x PUE {_n(pue)} = {_n(fac, 'kWh')}"
            )
        elif device > 0 and dev_h > 0 and not _per_unit_lines(e, table, tier, ln[t]):
            watts = device * 1000 / dev_h
            out.append(
                f"{head} {_n(dev_h, 'device-hours')} x {_n(watts, 'W')} / 1000 = "
                f"{_n(device, 'kWh')} on the accelerators; x (1 + host overhead "
                f"{_n(host)}) = {_n(it, 'kWh')} IT; x PUE {_n(pue)} = {_n(fac, 'kWh')}"
            )
        elif table == 0 or (it == 0 and fac == 0):
            # nothing to estimate from (no hours, no power or TDP, 0 hours): say why
            why = [
                eng.SKIPPED[n][1]
                for n in e.entry_notes(eng.ENTRY_TABLES[table], rid)
                if n in eng.SKIPPED and eng.SKIPPED[n][0] != "embodied emissions"
            ]
            out.append(
                f"{head} no energy estimated"
                + (f" ({'; '.join(why)})" if why else "")
                + f": {_n(fac, 'kWh')}"
            )
        else:
            out.append(
                f"{head} {_per_unit(e, ln[t], wt[t], device, it)}; x PUE {_n(pue)} = "
                f"{_n(fac, 'kWh')}"
            )
    return out


def _per_unit_lines(e: Engine, table: int, tier: int, line: np.ndarray) -> bool:
    """Whether usage lines got their energy from requests or tokens: their device-hours
    (kept for embodied amortisation) are then not what the energy was computed from."""
    return (
        table == 1
        and tier in (eng.TOKEN, eng.DEFAULT)
        and bool((e.lines.source_row[line] > 0).all())
    )


def _per_unit(e: Engine, line: np.ndarray, w: np.ndarray, device: float, it: float) -> str:
    """Requests or tokens x energy per unit, with the numbers of these usage records."""
    u = e.activity.usage
    rows = u.index_of(e.lines.source_row[line])
    found = rows >= 0  # lines of usage records (not derived lines)
    rows, w = rows[found], w[found]
    tokens = float(np.nansum(u["output_tokens"][rows] * w))
    requests = float(np.nansum(u["requests"][rows] * w))
    if device > 0 and tokens > 0:
        wh = device * 1000 / tokens
        return (
            f"{_n(tokens, 'output tokens')} x {wh:.3g} Wh per token (EcoLogits formula "
            f"for the model's active parameters) / 1000 = {_n(device, 'kWh')} on the "
            f"accelerators; x (1 + host overhead) = {_n(it, 'kWh')} IT"
        )
    if requests > 0:
        per = (device or it) * 1000 / requests
        where = (
            "on the accelerators (ML.ENERGY chat measurement)"
            if device
            else "IT (Power Hungry Processing mean for the model's task)"
        )
        return (
            f"{_n(requests, 'requests')} x {per:.3g} Wh per request = "
            f"{_n(device or it, 'kWh')} {where}; IT {_n(it, 'kWh')}"
        )
    return f"IT {_n(it, 'kWh')}"


def _location(e: Engine, sel: np.ndarray, w: np.ndarray) -> list[str]:
    p = e.pieces
    out = []
    seen: dict[str, list[float]] = {}
    for i in np.flatnonzero(sel & (p.facility_kwh > 0)):
        lk = p.lookup(i)
        if lk is None:
            label = f"site's own factor {_n(p.factor_g_per_kwh[i], 'gCO2e/kWh')}"
        else:
            label = (
                f"{lk.zone} {lk.year}: {_n(lk.value, 'g' + lk.gas + '/kWh')} "
                f"({_source(lk.factor)})" + (f"; {lk.fallback}" if lk.fallback else "")
            )
        acc = seen.setdefault(label, [0.0, 0.0])
        acc[0] += p.facility_kwh[i] * w[i]
        acc[1] += p.location_kg[i] * w[i]
    for label, (kwh, kg) in seen.items():
        out.append(f"{_n(kwh, 'kWh')} x {label} = {_n(kg, 'kgCO2e')}")
    total = float((p.location_kg[sel] * w[sel]).sum())
    out.append(f"Total location-based (incl. embodied): {_n(total, 'kgCO2e')}")
    return out


def _water(e: Engine, sel: np.ndarray, w: np.ndarray) -> list[str]:
    """On-site water: IT energy x the site's WUE (stated, or the provider's default)."""
    p, lines, sites = e.pieces, e.lines, e.sites
    out = []
    site_of = lines.site[p.line]
    for s in sorted(set(site_of[sel].tolist())):
        m = sel & (site_of == s)
        it = float((p.it_kwh[m] * w[m]).sum())
        water = float((p.water_l[m] * w[m]).sum())
        wue = sites.wue[s]
        if np.isnan(wue):
            out.append(
                f"{sites.names[s]}: IT energy {_n(it, 'kWh')}; no WUE stated for the site or "
                "its provider: on-site water not counted"
            )
            continue
        out.append(
            f"{sites.names[s]}: IT energy {_n(it, 'kWh')} x WUE {_n(wue, 'L/kWh')} "
            f"({_wue_source(e, s)}) = {_n(water, 'L')}"
        )
    out.append("Off-site water of electricity generation is not included: no factor is bundled.")
    return out


def _wue_source(e: Engine, s: int) -> str:
    rows = e.activity.site_rows
    if s < len(rows) and rows[s].get("wue") is not None:
        return "stated for the site"
    provider = (rows[s].get("provider") or "").strip().lower() if s < len(rows) else ""
    key = _PROVIDER_PARAM.get(provider)
    f = e.assumptions.params.get(f"wue:{key}") if key else None
    return _source(f) if f is not None else "provider default"


def _market(e: Engine, sel: np.ndarray, w: np.ndarray) -> list[str]:
    p, src = e.pieces, e.activity.sourcing
    out = []
    for i in p.instruments_covering(sel):
        s = src[i]
        factor = s.get("factor_g_per_kwh") or 0
        out.append(
            f"instrument '{s['name']}' ({s['kind']}, {s['period_start']}.."
            f"{s['period_end']}, {_n(factor, 'gCO2e/kWh')}) covers consumption "
            "in this period"
        )
    own = e.sites.scope2[e.lines.site[p.line]]
    if (p.residual_fallback & sel & own).any():
        out.append("consumption no instrument covers: location factor (no residual mix bundled)")
    if (sel & ~own & ~p.is_embodied & (p.facility_kwh > 0)).any():
        out.append(
            "cloud and API electricity is the provider's (your Scope 3 cat. 1): its "
            "market-based figure is the provider's (a supplier-specific factor given for "
            "the site, else the site's own factor, else the location factor); your own "
            "PPAs, certificates and tariffs cover only your own and colocation sites "
            "(GHG Protocol Scope 2 Guidance)"
        )
    total = float((p.market_kg[sel] * w[sel]).sum())
    loc = float((p.location_kg[sel] * w[sel]).sum())
    out.append(
        f"Total market-based: {_n(total, 'kgCO2e')}; savings from renewable "
        f"sourcing: {_n(loc - total, 'kgCO2e')}"
    )
    return out


def _embodied(e: Engine, line: np.ndarray, w: np.ndarray) -> list[str]:
    lines, hw, a = e.lines, e.hardware, e.assumptions
    sel = lines.kind[line] == eng.EMBODIED
    out = []
    server = a.param("embodied_server_per_accelerator_kgco2e")
    for h in sorted(set(lines.hardware[line[sel]].tolist())):
        m = sel & (lines.hardware[line] == h)
        kg = float((lines.embodied_kg[line[m]] * w[m]).sum())
        dev_h = float(np.nansum(lines.device_hours[line[m]] * w[m]))
        life = (
            hw.lifetime[h]
            if not np.isnan(hw.lifetime[h])
            else a.param("embodied_lifetime_years").value
        )
        own = hw.embodied[h]
        if e.convention == "capital-goods" and np.isnan(lines.device_hours[line[m]]).all():
            out.append(
                f"{hw.names[h]}: purchased hardware counted in full (capital goods): "
                f"{_n(kg, 'kgCO2e')}"
            )
            continue
        out.append(
            f"{hw.names[h]}: {_n(dev_h, 'device-hours')} x ({_n(own, 'kgCO2e')} "
            f"accelerator + {_n(server.value, 'kgCO2e')} server share) / "
            f"({_n(life)} years x 8,760 h) = {_n(kg, 'kgCO2e')}"
        )
    out.append(f"Server share: {_source(server)}")
    return out
