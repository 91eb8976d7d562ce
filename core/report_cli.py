"""Output of the ``estimate`` and ``explain`` commands (table, JSON, CSV, text)."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import fields
from typing import TextIO

from core import engine as eng
from core import schema
from core.errors import RecordNotFoundError
from core.estimate import FIELDS, Engine, Estimate, EstimateRow
from core.explain import explain, parse_entry
from core.inventory import Inventory
from core.periods import parse_period

_HEADERS = {
    "energy_kwh": "Energy (kWh)",
    "location_kgco2e": "Location (kgCO2e)",
    "market_kgco2e": "Market (kgCO2e)",
    "savings_kgco2e": "Savings (kgCO2e)",
    "water_l": "Water (L)",
    "low_kgco2e": "P5 (kgCO2e)",
    "p50_kgco2e": "P50 (kgCO2e)",
    "high_kgco2e": "P95 (kgCO2e)",
}
#: CSV columns: the JSON row's fields, in the same order
CSV_COLUMNS = tuple(f.name for f in fields(EstimateRow))
_TEXT_COLUMNS = ("id", "name", "kind", "part", "scope", "method_tier")
#: the largest row id SQLite stores; a larger one names no record
_MAX_ID = 2**63 - 1


def run(inv: Inventory, args: argparse.Namespace, out: TextIO) -> None:
    period = parse_period(args.period) if args.period else None
    if args.command == "explain":
        entry = _entry_id(args.entry)
        result = explain(Engine(inv), entry, period)
        if args.format == "json":
            json.dump(result.to_json(), out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            out.write(result.text())
        return
    est = Engine(inv).estimate(period, by=args.by, samples=args.samples, seed=args.seed)
    if args.format == "json":
        json.dump(est.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif args.format == "csv":
        _csv(est, out)
    else:
        _table(est, out)


def _entry_id(text: str) -> str:
    """An ENTRY_ID as typed, without the spaces around it (a pasted id keeps them); an
    id too large for any record is 'not found', as any other id that names none."""
    entry = text.strip()
    table, rid = parse_entry(entry)  # raises RecordNotFoundError: not an entry id
    if rid > _MAX_ID:
        singular = schema.table(eng.ENTRY_TABLES[table]).singular
        raise RecordNotFoundError(f"There is no {singular} with id {rid}.")
    return entry


def _clean(value: float, scale: float) -> float:
    """``value`` with rounding noise of a difference (location minus market of equal
    figures: about 1e-13 of them) shown as 0."""
    return 0.0 if abs(value) <= abs(scale) * 1e-9 else value


def _csv(est: Estimate, out: TextIO) -> None:
    from core.importing.plan import escape_text  # names a spreadsheet would run

    w = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a lone CR is quoted
    w.writerow(CSV_COLUMNS)
    numbers = [c for c in CSV_COLUMNS if c not in _TEXT_COLUMNS]

    def cells(figures: dict[str, float]) -> list[str]:
        scale = max(abs(figures["location_kgco2e"]), abs(figures["market_kgco2e"]))
        clean = {**figures, "savings_kgco2e": _clean(figures["savings_kgco2e"], scale)}
        return [f"{clean[c]:.6g}" for c in numbers]

    for r in est.rows:
        figures = {c: getattr(r, c) for c in numbers}
        text = [escape_text(r.name) if c == "name" else getattr(r, c) for c in _TEXT_COLUMNS]
        w.writerow([*text, *cells(figures)])
    w.writerow(["total", "Total", "", "", "", "", *cells(est.totals)])


def _fmt(x: float) -> str:
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"
    # a tiny negative (rounding noise of a difference) rounds to zero: no minus sign
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _table(est: Estimate, out: TextIO) -> None:
    period = est.period.label if est.period else "all time"
    print(f"Estimate for {period}, by {est.by}", file=out)
    shown = FIELDS if est.samples > 0 else FIELDS[: FIELDS.index("low_kgco2e")]
    headers = ["Name", "Kind", "Scope", "Tier", *(_HEADERS[f] for f in shown)]
    rows = [
        [r.name[:48], r.kind, r.scope, r.method_tier, *(_fmt(getattr(r, f)) for f in shown)]
        for r in est.rows
    ]
    rows.append(["Total", "", "", "", *(_fmt(est.totals[f]) for f in shown)])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 4 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows[:-1]:
        print(line(r), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    print(line(rows[-1]), file=out)
    print("", file=out)
    print(
        "Location is the central figure: the estimate from the central value of every input.",
        file=out,
    )
    if est.samples > 0:
        print(
            f"P5, P50 and P95 are percentiles of {est.samples:,} Monte Carlo draws of it "
            f"(seed {est.seed}); where default ranges are skewed, P50 differs from it.",
            file=out,
        )
    else:
        print("No uncertainty range: --samples 0.", file=out)
    if est.drivers:
        print("", file=out)
        print("Entries driving the uncertainty (share of the total's variance):", file=out)
        for d in est.drivers:
            print(
                f"  {d['share_of_variance'] * 100:5.1f} %  {d['name']}  ({d['id']}, {d['kind']})",
                file=out,
            )
    if est.equivalences:
        print("", file=out)
        print("Equivalent to:", file=out)
        for q in est.equivalences:
            print(f"  {_fmt(q['value'])} {q['what']}", file=out)
    for note in est.notes:
        print(f"Note: {note}", file=out)
