"""The factors behind a period's figures (:func:`factors_used`), listed in the report's
methodology and kept by a closing: grid factors, shared parameters, default PUEs,
embodied-emission figures, inference-energy datasets and equivalence factors.

Part of :mod:`core.report`, which re-exports :func:`factors_used`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from core import engine as eng
from core.estimate import Engine, Estimate
from core.periods import Period

# -- factors used ---------------------------------------------------------------------


def factors_used(
    engine: Engine,
    period: Period,
    entries: Collection[tuple[int, int]] | None = None,
    estimate: Estimate | None = None,
) -> list[dict[str, Any]]:
    """The factors behind the period's figures, each with value, unit, what it applied
    to, source, year and licence: grid factors by zone and year, shared parameters,
    default PUEs, embodied-emission figures, inference-energy datasets and the
    equivalence factors."""
    p, lines, a = engine.pieces, engine.lines, engine.assumptions
    keep = p.weights(period) > 0
    if entries is not None:
        wanted = np.array([t * 10**12 + i for t, i in entries], dtype=np.int64)
        key = lines.entry_table[p.line].astype(np.int64) * 10**12 + lines.entry_id[p.line]
        keep &= np.isin(key, wanted)
    out: list[dict[str, Any]] = []
    grid: dict[tuple[str, int], dict[str, Any]] = {}
    energy = keep & (p.facility_kwh > 0)
    # pieces priced with the site's own factor (no lookup): one row per site
    own = np.flatnonzero(energy & (p.lookup_code < 0))
    sites_seen, first = np.unique(lines.site[p.line[own]], return_index=True)
    for site, i in zip(sites_seen.tolist(), own[first].tolist(), strict=True):
        name = engine.sites.names[site]
        grid[(f"site:{name}", 0)] = _factor(
            "Grid factor (site's own)",
            float(p.factor_g_per_kwh[i]),
            "gCO2e/kWh",
            name,
            "stated on the site record",
            "",
            "",
        )
    codes = np.unique(p.lookup_code[energy])
    named: dict[tuple[str, int], set[str]] = {}
    for code in codes[codes >= 0].tolist():
        lk = p.lookup_table[code]
        k = (lk.zone, lk.year)
        applies = lk.requested_zone + (f" ({lk.fallback})" if lk.fallback else "")
        if k not in grid:
            f = lk.factor
            grid[k] = _factor(
                f"Grid factor {lk.zone} {lk.year}",
                lk.value,
                f"g{lk.gas}/kWh",
                applies,
                f.source,
                f.year,
                f.licence,
            )
            named[k] = {applies}
        elif applies not in named[k]:
            # one factor serves several requested zones (a cloud region priced with its
            # country's factor): every one of them is named
            named[k].add(applies)
            grid[k]["applies_to"] += f"; {applies}"
    out.extend(grid[k] for k in sorted(grid, key=lambda k: (k[0], k[1])))
    used = int(np.bitwise_or.reduce(lines.shared[p.line[keep]])) if keep.any() else 0
    for bit, name in enumerate(eng.SHARED):
        if used & (1 << bit) and name != "pue_default" and name in a.params:
            f = a.param(name)
            out.append(
                _factor(
                    _param_label(name),
                    f.value,
                    f.unit,
                    "default where not stated",
                    f.source,
                    f.year,
                    f.licence,
                )
            )
    if used & eng.PUE_DEF:
        sites = sorted(
            {
                int(s)
                for s in lines.site[p.line[keep]][(lines.shared[p.line[keep]] & eng.PUE_DEF) > 0]
            }
        )
        by_source: dict[str, list[str]] = {}
        for s in sites:
            by_source.setdefault(
                f"{engine.sites.pue[s]:.3g}|{engine.sites.pue_source[s]}", []
            ).append(engine.sites.names[s])
        for k, names in by_source.items():
            value, source = k.split("|", 1)
            param = next((f for f in a.params.values() if f.source == source), None)
            out.append(
                _factor(
                    "PUE (default)",
                    float(value),
                    "ratio",
                    _few(names),
                    source,
                    param.year if param else "",
                    param.licence if param else "",
                )
            )
    embodied = keep & (lines.kind[p.line] == eng.EMBODIED)
    if embodied.any():
        hw = engine.hardware
        for h in sorted({int(x) for x in lines.hardware[p.line[embodied]]}):
            if h < len(hw.names) and not np.isnan(hw.embodied[h]):
                source = _hardware_source(engine, hw.names[h])
                out.append(
                    _factor(
                        f"Embodied {hw.names[h]}",
                        float(hw.embodied[h]),
                        "kgCO2e per unit",
                        "hardware manufacturing",
                        source,
                        "",
                        "",
                    )
                )
    tiers = {int(x) for x in lines.tier[p.line[keep & (lines.kind[p.line] != eng.EMBODIED)]]}
    families = set()
    if eng.TOKEN in tiers:
        families.add("ecologits:")
    if eng.ACTIVITY in tiers or eng.DEFAULT in tiers:
        families.update({"php:", "mlenergy:"})
    sources: dict[str, dict[str, Any]] = {}
    for key, row in a.inference.items():
        if any(key.startswith(f) for f in families):
            src = str(row.get("source", ""))
            sources.setdefault(
                src, {"keys": 0, "year": row.get("year", ""), "licence": row.get("licence", "")}
            )
            sources[src]["keys"] += 1
    for src, info in sorted(sources.items()):
        out.append(
            _factor(
                "Inference energy dataset",
                None,
                f"{info['keys']} figures",
                "estimated inference energy",
                src,
                info["year"],
                info["licence"],
            )
        )
    for q in estimate.equivalences if estimate else []:
        out.append(
            _factor(
                f"Equivalence: {q['what']}",
                q["factor"],
                q["unit"],
                "summary only",
                q["source"],
                q["year"],
                "",
            )
        )
    return out


def _factor(
    name: str, value: float | None, unit: str, applies: str, source: str, year: Any, licence: str
) -> dict[str, Any]:
    return {
        "factor": name,
        "value": value,
        "unit": unit,
        "applies_to": applies,
        "source": source or "",
        "year": "" if year is None else str(year),
        "licence": licence or "",
    }


def _param_label(name: str) -> str:
    """A shared parameter's name for people: ``embodied_lifetime_years`` ->
    ``Embodied lifetime`` (the unit is printed with the value)."""
    words = name.split("_")
    while len(words) > 1 and words[-1] in ("kgco2e", "years", "kwh", "w", "ratio"):
        words.pop()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _few(names: list[str], n: int = 3) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _hardware_source(engine: Engine, name: str) -> str:
    row = engine.inv.conn.execute("SELECT source FROM hardware WHERE name = ?", (name,)).fetchone()
    return row[0] if row and row[0] else "hardware record"
