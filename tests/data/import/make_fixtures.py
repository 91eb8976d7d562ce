"""Re-create the spreadsheet fixtures of this folder (needs LibreOffice's soffice).

A workbook is laid out with xlsxwriter (title rows, a two-row header with merged
cells, date cells, a percent-formatted column, a hidden sheet), then opened and saved
again by LibreOffice as XLSX and ODS, so the committed files are what a real office
suite writes. The CSV is written as Excel does on a French machine: Windows-1252,
semicolons, decimal commas, CRLF.

    python tests/data/import/make_fixtures.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent


def _layout(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "align": "center"})
    date = wb.add_format({"num_format": "dd/mm/yyyy"})
    pct = wb.add_format({"num_format": "0%"})

    ws = wb.add_worksheet("Models")
    ws.write(0, 0, "AI inventory Q3 2026: models", title)
    ws.write_row(2, 0, ["Model", "Version", "Team", "Task", "Parameters (billions)"], head)
    ws.write_row(3, 0, ["Support assistant", "2.1", "Customer care", "Chat assistant", 8])
    ws.write_row(4, 0, ["Doc search", "", "Knowledge", "Embeddings", 0.3])
    ws.write_row(5, 0, ["=cmd|' /C calc'!A0", "1", "Red team", "Other", 1])

    ws = wb.add_worksheet("Training runs")
    ws.write(0, 0, "Training runs (finance export)", title)
    ws.merge_range(2, 0, 2, 2, "Run", head)
    ws.merge_range(2, 3, 2, 5, "Compute", head)
    ws.merge_range(2, 6, 2, 7, "Period", head)
    ws.merge_range(2, 8, 2, 9, "Measured", head)
    ws.write_row(
        3, 0,
        ["Run name", "Model", "Type", "GPU type", "No. of GPUs", "Duration (days)",
         "Start date", "End date", "Energy [MWh]", "Boundary"],
        head,
    )  # fmt: skip
    rows = [
        ("ft-q3-a", "Support assistant 2.1", "Fine-tuning", "NVIDIA A100 SXM4 40 GB", 16, 7,
         dt.date(2026, 7, 1), dt.date(2026, 7, 8), 1.25, "IT equipment"),
        ("ft-q3-b", "Support assistant 2.1", "Fine-tuning", "A100-80GB", 8, 2.5,
         dt.date(2026, 8, 3), dt.date(2026, 8, 5), 0.4, "IT equipment"),
        ("emb-q3", "Doc search", "Pre-training", "8 x NVIDIA H100 SXM", None, 1,
         dt.date(2026, 9, 14), dt.date(2026, 9, 15), 0.35, "Whole facility (incl. PUE)"),
    ]  # fmt: skip
    for r, row in enumerate(rows, 4):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date)
            elif v is not None:
                ws.write(r, c, v)

    ws = wb.add_worksheet("Sourcing")
    ws.write_row(0, 0, ["Name", "Instrument", "Grid region", "Start", "End", "Share"], head)
    ws.write_row(1, 0, ["Nordic PPA", "Power purchase agreement", "SE3"])
    ws.write_datetime(1, 3, dt.datetime(2026, 1, 1), date)
    ws.write_datetime(1, 4, dt.datetime(2026, 12, 31), date)
    ws.write_number(1, 5, 0.75, pct)

    ws = wb.add_worksheet("Lists")
    ws.write_column(0, 0, ["Fine-tuning", "Pre-training", "Experiments"])
    ws.hide()
    wb.close()


def _soffice(src: Path, fmt: str, out_dir: Path) -> Path:
    subprocess.run(
        ["soffice", "--headless", "--convert-to", fmt, "--outdir", str(out_dir), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out_dir / f"{src.stem}.{fmt.split(':')[0]}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        laid_out = tmp_dir / "inventory_q3.xlsx"
        _layout(laid_out)
        saved = tmp_dir / "saved"
        saved.mkdir()
        ods = _soffice(laid_out, "ods", saved)
        shutil.copy(ods, HERE / "inventory_q3.ods")
        again = tmp_dir / "again"
        again.mkdir()
        xlsx = _soffice(ods, "xlsx", again)
        shutil.copy(xlsx, HERE / "inventory_q3.xlsx")
    lines = [
        "Nom;Instrument;Région réseau;Début;Fin;Volume (MWh);Facteur (gCO2/kWh)",
        "Contrat vert 2026;Green tariff;FR;01/01/2026;31/12/2026;1.234,5;0",
        "Garanties d'origine;Certificates (EAC/REC/GO);FR;01/01/2026;30/06/2026;250,75;0",
    ]
    (HERE / "sourcing_fr.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
