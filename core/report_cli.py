"""Output of the ``estimate`` and ``explain`` commands (table, JSON, CSV, text)."""

from __future__ import annotations

import argparse
import csv
import json
from typing import TextIO

from core.estimate import FIELDS, Engine, Estimate
from core.explain import explain
from core.inventory import Inventory
from core.periods import parse_period

_HEADERS = {
    "energy_kwh": "Energy (kWh)",
    "location_kgco2e": "Location (kgCO2e)",
    "market_kgco2e": "Market (kgCO2e)",
    "savings_kgco2e": "Savings (kgCO2e)",
    "water_l": "Water (L)",
    "low_kgco2e": "P5 (kgCO2e)",
    "high_kgco2e": "P95 (kgCO2e)",
}


def run(inv: Inventory, args: argparse.Namespace, out: TextIO) -> None:
    period = parse_period(args.period) if args.period else None
    engine = Engine(inv)
    if args.command == "explain":
        result = explain(engine, args.entry, period)
        if args.format == "json":
            json.dump(result.to_json(), out, indent=2, ensure_ascii=False)
            out.write("\n")
        else:
            out.write(result.text())
        return
    est = engine.estimate(period, by=args.by, samples=args.samples, seed=args.seed)
    if args.format == "json":
        json.dump(est.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif args.format == "csv":
        _csv(est, out)
    else:
        _table(est, out)


def _csv(est: Estimate, out: TextIO) -> None:
    from core.importing.plan import escape_text  # names a spreadsheet would run

    w = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a lone CR is quoted
    w.writerow(["id", "name", "kind", "scope", "method_tier", *FIELDS])
    for r in est.rows:
        w.writerow(
            [
                r.id,
                escape_text(r.name),
                r.kind,
                r.scope,
                r.method_tier,
                *(f"{getattr(r, f):.6g}" for f in FIELDS),
            ]
        )
    w.writerow(["total", "Total", "", "", "", *(f"{est.totals[f]:.6g}" for f in FIELDS)])


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _table(est: Estimate, out: TextIO) -> None:
    period = est.period.label if est.period else "all time"
    print(f"Estimate for {period}, by {est.by}", file=out)
    headers = ["Name", "Kind", "Scope", "Tier", *(_HEADERS[f] for f in FIELDS)]
    rows = [
        [r.name[:48], r.kind, r.scope, r.method_tier, *(_fmt(getattr(r, f)) for f in FIELDS)]
        for r in est.rows
    ]
    rows.append(["Total", "", "", "", *(_fmt(est.totals[f]) for f in FIELDS)])
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
    if est.equivalences:
        print("", file=out)
        print(
            "Equivalent to: "
            + "; ".join(f"{q['value']:,.0f} {q['what']}" for q in est.equivalences[:3]),
            file=out,
        )
    for note in est.notes:
        print(f"Note: {note}", file=out)
