"""Report generation: the demo inventory and a 10,000-entry inventory, against plain
QTextDocument HTML-to-PDF of the same tables measured in the same run.

``python bench/bench_report.py [--reps N]``

For each inventory: building the report's content (``core.report.build_report``), then
painting it to PDF (``ui.report_render.write_pdf``), against writing the same tables as
one HTML document printed to PDF by ``QTextDocument`` (no charts, no cover, no running
header). Medians of ``--reps`` runs; the first run (cold caches) is printed too.
Targets: demo < 3 s, 10,000 entries < 15 s (build + PDF).
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QGuiApplication, QPageSize, QPdfWriter, QTextDocument  # noqa: E402

from core.demo import build_demo  # noqa: E402
from core.inventory import Inventory  # noqa: E402
from core.periods import parse_period  # noqa: E402
from core.report import ReportOptions, build_report  # noqa: E402
from core.report_model import Report  # noqa: E402
from ui.report_render import write_pdf  # noqa: E402

TARGETS = {"demo": 3.0, "10,000 entries": 15.0}
Q3 = parse_period("2026-Q3")


def large_inventory(path: Path, n: int = 10_000) -> Inventory:
    """``n`` deployments, each with a quarter of measured energy in 2026-Q3."""
    inv = Inventory.create(path)
    with inv.transaction() as conn:
        conn.execute("INSERT INTO models (id, name, version, task) VALUES (1, 'Bulk', '1', 'chat')")
        site = conn.execute(
            "INSERT INTO sites (name, kind, country) VALUES ('Bulk site', 'own', 'DE')"
        ).lastrowid
        conn.executemany(
            "INSERT INTO deployments (id, name, model_id, kind, site_id) "
            "VALUES (?, ?, 1, 'self-hosted', ?)",
            [(i, f"Deployment {i:05d}", site) for i in range(1, n + 1)],
        )
        conn.executemany(
            "INSERT INTO usage (deployment_id, period_start, period_end, energy_kwh, "
            "energy_boundary) VALUES (?, '2026-07-01', '2026-09-30', ?, 'facility')",
            [(i, 10.0 + i % 97) for i in range(1, n + 1)],
        )
    return inv


def html_pdf(report: Report, path: Path) -> None:
    """The reference: every table as escaped HTML, printed by QTextDocument."""
    parts = ["<html><body>"]
    for table in report.tables():
        parts.append(f"<h3>{html.escape(table.title)}</h3><table border=1 cellspacing=0>")
        parts.append("<tr>" + "".join(f"<th>{html.escape(c.title)}</th>" for c in table.columns))
        rows = table.rows + ([table.total] if table.total is not None else [])
        for row in rows:
            cells = table.formatted(row)
            parts.append(
                "<tr>"
                + "".join(
                    f"<td align={'right' if c.numeric else 'left'}>{html.escape(v)}</td>"
                    for c, v in zip(table.columns, cells, strict=True)
                )
            )
        parts.append("</table>")
    parts.append("</body></html>")
    doc = QTextDocument()
    doc.setHtml("".join(parts))
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    doc.print_(writer)


def measure(name: str, inv: Inventory, reps: int, out: Path) -> bool:
    build, paint, ref = [], [], []
    pages = 0
    for _ in range(reps):
        t0 = time.perf_counter()
        report = build_report(inv, ReportOptions(Q3, "Bench"))
        t1 = time.perf_counter()
        pages = write_pdf(report, out / "report.pdf")
        t2 = time.perf_counter()
        html_pdf(report, out / "reference.pdf")
        t3 = time.perf_counter()
        build.append(t1 - t0)
        paint.append(t2 - t1)
        ref.append(t3 - t2)
    b, p, r = (statistics.median(x) for x in (build, paint, ref))
    total = b + p
    ok = total < TARGETS[name]
    print(
        f"{name:>15}: build {b:6.2f} s + PDF {p:6.2f} s = {total:6.2f} s ({pages} pages); "
        f"QTextDocument HTML->PDF of the tables {r:6.2f} s; PDF/reference {p / r:5.2f}x; "
        f"target < {TARGETS[name]:.0f} s: {'PASS' if ok else 'FAIL'}"
    )
    # the first build reads the inventory into the engine's caches; later ones reuse them
    print(f"{'':>15}  first run: build {build[0]:6.2f} s + PDF {paint[0]:6.2f} s")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    app = QGuiApplication([])
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        with build_demo(out / "demo.aicl") as inv:
            ok &= measure("demo", inv, args.reps, out)
        with large_inventory(out / "large.aicl") as inv:
            ok &= measure("10,000 entries", inv, args.reps, out)
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
