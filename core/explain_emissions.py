"""The emissions and water sections of an explanation: formulas with their numbers.

Location-based (facility kWh x the grid factor of the zone and year, or the site's own
factor), market-based (what each renewable instrument covered, the rest x the residual
or provider's factor), on-site water (IT kWh x WUE) and embodied hardware emissions
(device-hours x embodied / lifetime hours, or in full as capital goods); each formula
line followed by its factor lines with source, year and licence.

Units: energy kWh, emissions kgCO2e, grid factors g per kWh of the gas their source
states (CO2 or CO2e), water litres (WUE L/kWh).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import emissions, factors, schema
from core import engine as eng
from core.assumptions import _PROVIDER_PARAM
from core.explain_context import (
    CO2_ONLY,
    DEFAULT,
    SUB,
    USER,
    _cite,
    _Context,
    _default_param,
    _is_override,
    _n,
    _param,
    _record_figure,
    _source,
)
from core.explain_energy import _embodied_hours
from core.factors import GridLookup


def _grid_name(lk: GridLookup) -> str:
    return f"grid factor {lk.zone} {lk.year}"


def _grid_label(lk: GridLookup, sep: str = ":") -> str:
    return f"{_grid_name(lk)}{sep} {_n(lk.value, 'g' + lk.gas + '/kWh')}"


def _grid_lines(x: _Context, lk: GridLookup) -> list[str]:
    """The factor lines of a grid lookup: value, source, year, licence, origin, the
    fallback taken, and whether it counts CO2 only."""
    f = lk.factor
    origin = f"{DEFAULT} (shipped grid factors)"
    cite = _cite(f.source, f.year, f.licence, origin)
    fallback = f"; {lk.fallback}" if lk.fallback else ""
    out = [f"{_grid_label(lk, ',')}: {cite}{fallback}"]
    if not _is_override(f.source):
        x.default(
            f"grid:{lk.zone}:{lk.year}",
            f"{_grid_label(lk)} ({_source(f)})" + (f"; {lk.fallback}" if lk.fallback else ""),
        )
    out += _grid_range_lines(x, lk)
    if lk.gas == "CO2":
        out.append(CO2_ONLY)
    if f.note and not _is_override(f.source):
        out.append(f"source note: {f.note}")
    return out


def _grid_range_lines(x: _Context, lk: GridLookup) -> list[str]:
    """The range the uncertainty draws give the factor, with the parameters it comes
    from (each a default listed with its source; none when the engine has no ranges)."""
    grid_range = getattr(factors, "grid_range", None)
    if grid_range is None:
        return []
    low, high, names = grid_range(lk, x.a.params)
    if low == high == 1.0:
        return []
    for name in names:
        x.param(name)
    used = " and ".join(names) if names else "the override's own range"
    return [
        f"range of this factor in the uncertainty draws: x {low:.3g} to x {high:.3g} "
        f"({used}; {DEFAULT}, listed under Defaults used)"
    ]


def _own_factor(x: _Context, s: int) -> tuple[str, list[str]]:
    """The label and factor lines of a site's own grid factor (the user's)."""
    row = x.site_row(s)
    value = x.e.sites.own_factor[s]
    label = f"the site's own factor {_n(value, 'gCO2e/kWh')}"
    src = row.get("grid_factor_source")
    where = f"site '{row.get('name')}'"
    return label, [
        f"{label}: {USER} ({where}; " + (f"its source: {src})" if src else "no source given)")
    ]


def _location(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    p = x.e.pieces
    groups: dict[Any, list[Any]] = {}
    for i in np.flatnonzero(sel & (p.facility_kwh > 0) & ~p.is_embodied).tolist():
        lk = p.lookup(i)
        key = ("own", int(x.e.lines.site[p.line[i]])) if lk is None else ("grid", lk)
        acc = groups.setdefault(key, [0.0, 0.0])
        acc[0] += p.facility_kwh[i] * w[i]
        acc[1] += p.location_kg[i] * w[i]
    out = []
    for (what, ref), (kwh, kg) in groups.items():
        if what == "own":
            _, factor_lines = _own_factor(x, ref)
            value, unit, name = x.e.sites.own_factor[ref], "gCO2e/kWh", "the site's own factor"
        else:
            factor_lines = _grid_lines(x, ref)
            value, unit, name = ref.value, f"g{ref.gas}/kWh", _grid_name(ref)
        out.append(f"{_n(kwh, 'kWh')} x {_n(value, unit)} / 1000 = {_n(kg, 'kgCO2e')} ({name})")
        out += [SUB + s for s in factor_lines]
    ops = float((p.location_kg[sel & ~p.is_embodied] * w[sel & ~p.is_embodied]).sum())
    emb = float((p.location_kg[sel & p.is_embodied] * w[sel & p.is_embodied]).sum())
    if emb:
        out.append(
            f"Total location-based: {_n(ops, 'kgCO2e')} operational + {_n(emb, 'kgCO2e')} "
            f"embodied (see Embodied emissions) = {_n(ops + emb, 'kgCO2e')}"
        )
    else:
        out.append(f"Total location-based: {_n(ops, 'kgCO2e')}")
    return out


def _coverage(x: _Context, ops: np.ndarray, w: np.ndarray, total: float) -> dict[int, float]:
    """kWh of the pieces ``ops`` covered by each renewable instrument (by position in
    the sourcing list). One instrument takes the whole; several are told apart by
    recomputing the market-based shares with the instruments up to each one, in the
    order they are applied (volume instruments are shared out over all consumption)."""
    p, src = x.e.pieces, x.e.activity.sourcing
    covering = [i for i in p.instruments_covering(ops) if src[i].get("kind") != "supplier-factor"]
    if total <= 0 or not covering:
        return {}
    if len(covering) == 1:
        return {covering[0]: total}
    order = sorted(
        range(len(src)),
        key=lambda i: (src[i]["kind"] == "supplier-factor", src[i]["period_start"], i),
    )
    cell_kwh = np.bincount(
        p.cell, weights=np.where(p.alive, p.facility_kwh, 0.0), minlength=len(p.cell_keys)
    )
    site_ids = np.array([s["id"] for s in x.e.activity.site_rows], dtype=np.int64)
    kwh = p.facility_kwh[ops] * w[ops]
    cells = p.cell[ops]

    def covered(upto: int) -> float:
        if upto < 0:
            return 0.0
        subset = [src[j] for j in sorted(order[: upto + 1])]
        share = _cell_market(x, cell_kwh, subset, site_ids)
        return float((kwh * share[cells]).sum())

    out = {}
    try:
        for i in covering:
            k = order.index(i)
            out[i] = covered(k) - covered(k - 1)
    except (TypeError, ValueError, KeyError, AttributeError):  # pragma: no cover
        return {}  # the engine's internals changed: the instruments are listed together
    return out


def _cell_market(
    x: _Context, cell_kwh: np.ndarray, sourcing: list[dict], site_ids: np.ndarray
) -> np.ndarray:
    """The renewable share of each cell's kWh with only ``sourcing`` applied."""
    return emissions._cell_market(x.e.pieces, cell_kwh, x.e.sites, sourcing, site_ids)[1]


def _market(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    """Consumption; what each instrument covered (kWh x its factor); the rest x the
    residual-mix factor (none is bundled: the location factor) or the provider's factor;
    embodied emissions, the same in both methods."""
    e = x.e
    p, src = e.pieces, e.activity.sourcing
    ops = sel & ~p.is_embodied & (p.facility_kwh > 0)
    consumption = float((p.facility_kwh[ops] * w[ops]).sum())
    market_ops = float((p.market_kg[ops] * w[ops]).sum())
    renewable = float((p.renewable_kwh[ops] * w[ops]).sum())
    emb = float((p.market_kg[sel & p.is_embodied] * w[sel & p.is_embodied]).sum())
    loc = float((p.location_kg[sel] * w[sel]).sum())
    out = [f"Consumption: {_n(consumption, 'kWh')} (facility energy, from the energy above)"]
    covered = _coverage(x, ops, w, renewable)
    covered_kg = 0.0
    kinds = dict(schema.SOURCING_KINDS)
    for i, kwh in covered.items():
        s = src[i]
        factor = float(s.get("factor_g_per_kwh") or 0.0)
        covered_kg += kwh * factor / 1000
        out.append(
            f"covered by '{s['name']}': {_n(kwh, 'kWh')} x {_n(factor, 'gCO2e/kWh')} = "
            f"{_n(kwh * factor / 1000, 'kgCO2e')}"
        )
        out.append(
            f"{SUB}{kinds.get(s['kind'], s['kind'])}, {s['period_start']}..{s['period_end']}, "
            f"factor {_n(factor, 'gCO2e/kWh')}: {USER} (sourcing record)"
        )
    if renewable > 0 and not covered:
        out.append(f"covered by renewable instruments: {_n(renewable, 'kWh')}")
    residual = consumption - renewable
    if residual > consumption * 1e-9:
        out += _residual(x, ops, w, covered_kg, market_ops)
    elif consumption > 0:
        out.append("not covered: 0 kWh")
    # supplier-specific factors of one site covering the same days: which one was used
    out += emissions.supplier_overlap_notes(p, np.flatnonzero(ops), e.sites)
    if emb:
        out.append(
            f"Embodied hardware: {_n(emb, 'kgCO2e')}, the same in both methods (not electricity)"
        )
    total = market_ops + emb
    formula = f"{_n(market_ops, 'kgCO2e')} + {_n(emb, 'kgCO2e')} embodied = " if emb else ""
    out.append(
        f"Total market-based: {formula}{_n(total, 'kgCO2e')}; savings from renewable "
        f"sourcing: {_n(loc - total, 'kgCO2e')} (location-based minus market-based)"
    )
    return out


def _residual(
    x: _Context, ops: np.ndarray, w: np.ndarray, covered_kg: float, market_ops: float
) -> list[str]:
    """Consumption no renewable instrument covers, by the factor it takes."""
    e = x.e
    p, src = e.pieces, e.activity.sourcing
    idx = np.flatnonzero(ops)
    own = e.sites.scope2[e.lines.site[p.line[idx]]]
    rest_kwh = (p.facility_kwh[idx] - p.renewable_kwh[idx]) * w[idx]
    covered_share = p.renewable_kwh[idx] * w[idx]
    total_covered = covered_share.sum()
    per_kwh = covered_kg / total_covered if total_covered > 0 else 0.0
    rest_kg = p.market_kg[idx] * w[idx] - covered_share * per_kwh
    groups: dict[Any, list[float]] = {}
    # what each supplier-specific factor took: its share of each cell it covered (the
    # cell's days in its period), at its own factor; the rest takes the location factor
    cells = p.cell[idx]
    for i, s in enumerate(src):
        own_cells = p.instrument_cells[i]
        if s.get("kind") != "supplier-factor" or not len(own_cells):
            continue
        pos = np.minimum(np.searchsorted(own_cells, cells), len(own_cells) - 1)
        hit = own_cells[pos] == cells
        kwh = np.where(hit, p.facility_kwh[idx] * p.instrument_shares[i][pos] * w[idx], 0.0)
        kg = kwh * float(s.get("factor_g_per_kwh") or 0.0) / 1000.0
        if kwh.sum() > 0:
            groups[("supplier", i)] = [float(kwh.sum()), float(kg.sum())]
            rest_kwh, rest_kg = rest_kwh - kwh, rest_kg - kg
    for j in np.flatnonzero(rest_kwh > 1e-9 * np.abs(p.facility_kwh[idx] * w[idx])).tolist():
        i = int(idx[j])
        lk = p.lookup(i)
        site = int(e.lines.site[p.line[i]])
        key: Any = ("own-site", site) if lk is None else ("grid", lk, bool(own[j]))
        acc = groups.setdefault(key, [0.0, 0.0])
        acc[0] += rest_kwh[j]
        acc[1] += rest_kg[j]
    out = []
    for key, (kwh, kg) in groups.items():
        rate = kg * 1000 / kwh if kwh else 0.0
        if key[0] == "supplier":
            s = src[key[1]]
            # not a renewable instrument's cover: the supplier's own figure for these days
            out.append(
                f"at a supplier-specific factor: {_n(kwh, 'kWh')} x {_n(rate, 'gCO2e/kWh')} "
                f"= {_n(kg, 'kgCO2e')}"
            )
            out.append(f"{SUB}supplier-specific factor '{s['name']}': {USER} (sourcing record)")
        elif key[0] == "own-site":
            label, lines = _own_factor(x, key[1])
            out.append(f"not covered: {_n(kwh, 'kWh')} x {label} = {_n(kg, 'kgCO2e')}")
            out += [SUB + s for s in lines]
        else:
            lk, own_site = key[1], key[2]
            out.append(
                f"not covered: {_n(kwh, 'kWh')} x {_n(rate, 'g' + lk.gas + '/kWh')} "
                f"location factor ({lk.zone} {lk.year}) = {_n(kg, 'kgCO2e')}"
            )
            if own_site:
                out.append(
                    f"{SUB}no residual-mix factor is bundled: the location factor stands in "
                    "for it (flagged; GHG Protocol Scope 2 Guidance)"
                )
            else:
                out.append(
                    f"{SUB}cloud and API electricity is the provider's (your Scope 3 cat. 1): "
                    "its market-based figure is the provider's (a supplier-specific factor "
                    "given for the site, else the site's own factor, else the location "
                    "factor); your own PPAs, certificates and tariffs cover only your own "
                    "and colocation sites (GHG Protocol Scope 2 Guidance)"
                )
            out += [SUB + s for s in _grid_lines(x, lk)[:1]]
    return out


def _water(x: _Context, sel: np.ndarray, w: np.ndarray) -> list[str]:
    """On-site water: IT energy x the site's WUE (stated, or the provider's default)."""
    e = x.e
    p, lines, sites = e.pieces, e.lines, e.sites
    out = []
    site_of = lines.site[p.line]
    for s in sorted(set(site_of[sel].tolist())):
        m = sel & (site_of == s)
        it = float((p.it_kwh[m] * w[m]).sum())
        water = float((p.water_l[m] * w[m]).sum())
        wue = sites.wue[s]
        if np.isnan(wue):
            if it > 0:
                out.append(
                    f"{sites.names[s]}: IT energy {_n(it, 'kWh')}; no WUE stated for the site "
                    "or its provider: on-site water not counted"
                )
            continue
        out.append(
            f"{sites.names[s]}: IT energy {_n(it, 'kWh')} x WUE {_n(wue, 'L/kWh')} "
            f"= {_n(water, 'L')}"
        )
        out.append(SUB + _wue_line(x, s, wue))
    out.append("Off-site water of electricity generation is not included: no factor is bundled.")
    return out


def _wue_line(x: _Context, s: int, wue: float) -> str:
    row = x.site_row(s)
    if row.get("wue") is not None:
        cite, is_default = _record_figure("sites", row, "wue", "WUE")
        line = f"WUE {_n(wue, 'L/kWh')} of {row.get('name')}: {cite}"
        if is_default:
            x.default(f"wue:{s}", line)
        return line
    provider = (row.get("provider") or "").strip().lower()
    key = _PROVIDER_PARAM.get(provider)
    f = x.a.params.get(f"wue:{key}") if key else None
    if f is None:
        return f"WUE {_n(wue, 'L/kWh')}: provider default"
    if not _is_override(f.source):
        x.default(f"wue:{s}", _default_param(f, f"wue:{key}"))
    return f"WUE (no WUE stated for the site): {_param(f, f'wue:{key}')}"


def _embodied(x: _Context, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Per hardware: device-hours x (embodied + server share) / lifetime hours, or the
    whole hardware in the quarter it came into use (capital goods)."""
    e, a = x.e, x.a
    lines, hw = e.lines, e.hardware
    sel = lines.kind[line] == eng.EMBODIED
    out = []
    server = a.param("embodied_server_per_accelerator_kgco2e")
    for h in sorted(set(lines.hardware[line[sel]].tolist())):
        m = sel & (lines.hardware[line] == h)
        kg = float((lines.embodied_kg[line[m]] * w[m]).sum())
        dev_h = float(np.nansum(lines.device_hours[line[m]] * w[m]))
        name = hw.names[h]
        own = hw.embodied[h]
        accelerator = bool(hw.accelerator[h])
        share = server.value if accelerator else 0.0
        own_text = _n(own, "kgCO2e") if not np.isnan(own) else "0 kgCO2e (no figure)"
        per_device = (
            f"({own_text} accelerator + {_n(share, 'kgCO2e')} server share)"
            if accelerator
            else f"{own_text} per device"
        )
        factors: list[str] = []
        if np.isnan(own):
            factors.append(
                f"no embodied figure for {name} in its hardware record: only the server "
                "share is counted"
            )
        else:
            factors.append(
                x.hardware_figure(
                    h, "embodied_kgco2e", "embodied", f"embodied {_n(own, 'kgCO2e')} per {name}"
                )
            )
        if accelerator:
            factors.append(x.param("embodied_server_per_accelerator_kgco2e", "server share"))
        if e.convention == "capital-goods" and np.isnan(lines.device_hours[line[m]]).all():
            devices = x.record.get("device_count")
            count = f"{_n(float(devices), 'devices')} x " if devices is not None else ""
            out.append(
                f"{name}: {count}{per_device} = {_n(kg, 'kgCO2e')}, counted in full in the "
                "quarter the deployment started (capital goods, GHG Protocol Scope 3 cat. 2)"
            )
            out += [SUB + f for f in factors]
            continue
        if np.isnan(hw.lifetime[h]):
            life = a.param("embodied_lifetime_years").value
            factors.append(x.param("embodied_lifetime_years"))
        else:
            life = hw.lifetime[h]
            factors.append(
                x.hardware_figure(
                    h, "lifetime_years", "lifetime", f"lifetime {_n(life, 'years')} of {name}"
                )
            )
        out.append(
            f"{name}: {_n(dev_h, 'device-hours')} x {per_device} / "
            f"({_n(life)} years x 8,760 h) = {_n(kg, 'kgCO2e')}"
        )
        out.append(SUB + _embodied_hours(x, line[m]))
        out += [SUB + f for f in factors]
    return out
