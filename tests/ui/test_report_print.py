"""The printed report (ui.report_render) read back with poppler's pdftotext, the report
dialog, and the editor that asks before restating a closed quarter."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from python_calamine import CalamineWorkbook

import main
from core import closing
from core.commands import UpdateRecord
from core.estimate import Engine
from core.inventory import Inventory
from core.periods import parse_period
from core.report import ReportOptions, build_report
from core.report_model import Report, format_number
from ui import report_render
from ui.closing_guard import GuardedEditor
from ui.report_dialog import ReportDialog

Q3 = parse_period("2026-Q3")
needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed"
)


def pdf_text(path, layout: bool = True) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])


def large_inventory(path, n: int = 10_000) -> Inventory:
    """``n`` deployments, each with one quarter of measured energy in 2026-Q3."""
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


@needs_poppler
def test_demo_pdf_prints_the_engine_totals(demo, tmp_path, qapp):
    model = demo.conn.execute(
        "SELECT model_id FROM deployments WHERE name = 'Code assistant'"
    ).fetchone()[0]
    UpdateRecord("models", model, {"name": "<b>x</b>"}).apply(demo)
    report = build_report(demo, ReportOptions(Q3, "Acme & <i>Co</i>", "Jo Analyst"))
    path = tmp_path / "demo.pdf"
    pages = report_render.write_pdf(report, path, "a4")
    assert pdf_pages(path) == pages and 6 <= pages <= 30
    text = pdf_text(path)
    cover, summary = text.split("\f")[:2]
    totals = Engine(demo).estimate(Q3).totals
    for key, label in (("market_kgco2e", "Market-based"), ("location_kgco2e", "Location-based")):
        printed = format_number(totals[key])
        assert f"{printed} kgCO2e" in cover and f"{printed} kgCO2e" in summary, printed
        # the comparison table: the figure's row starts with this quarter's value
        row = re.search(label + r" emissions \(kgCO2e\)\s+(\S+)", summary)
        assert row and row[1] == printed
    assert f"{format_number(totals['energy_kwh'])} kWh" in text
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "<b>x</b>" in text and "Acme & <i>Co</i>" in text  # printed literally
    for heading in ("Executive summary", "Methodology and emission factors", "Sign-off"):
        assert heading in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(r[-5] == "yes" for r in rows), fonts  # every font embedded


@needs_poppler
def test_letter_paper(demo, tmp_path, qapp):
    report = build_report(demo, ReportOptions(Q3))
    path = tmp_path / "letter.pdf"
    report_render.write_pdf(report, path, "letter")
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "612 x 792 pts (letter)" in info


@needs_poppler
@pytest.mark.slow
def test_ten_thousand_entries_continue_across_pages(tmp_path, qapp):
    inv = large_inventory(tmp_path / "large.aicl")
    try:
        report = build_report(inv, ReportOptions(Q3, samples=200))
    finally:
        inv.close()
    path = tmp_path / "large.pdf"
    pages = report_render.write_pdf(report, path)
    assert pages > 100
    text = pdf_text(path)
    page_texts = text.split("\f")
    continued = [t for t in page_texts if re.search(r"By deployment\s+\(continued\)", t)]
    assert len(continued) > 100
    # every continued page repeats the table's header, and no row is split or lost
    assert all(re.search(r"Deployment\s+Site\s+\(kWh\)", t) for t in continued)
    names = re.findall(r"Deployment (\d{5})\s+Bulk site", text)
    assert len(set(names)) == 10_000


def test_paper_follows_the_locale():
    assert report_render.default_paper("UnitedStates") == "letter"
    assert report_render.default_paper("Germany") == "a4"


def test_ticks_are_round_and_cover_the_range():
    ticks = report_render.nice_ticks(0, 11_639)
    assert ticks[0] == 0 and ticks[-1] >= 11_639 and ticks[1] == 2_500


@needs_poppler
def test_cli_report_pdf_through_main(demo, tmp_path, qapp, capsys):
    path = demo.path
    demo.close()
    out = tmp_path / "cli.pdf"
    code = main.main(
        ["report", str(path), "--quarter", "2026-Q3", "--pdf", str(out), "--org", "Acme"]
    )
    assert code == 0
    assert "Acme" in pdf_text(out)
    assert "pages" in capsys.readouterr().out


@needs_poppler
def test_dialog_saves_pdf_and_xlsx_on_a_worker(demo, tmp_path, qtbot):
    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    assert dialog.quarter.currentText() == "2026-Q3"
    dialog.section_boxes["methodology"].setChecked(False)
    pdf = tmp_path / "dialog.pdf"
    dialog.save_pdf(str(pdf))
    qtbot.waitUntil(lambda: not dialog._busy, timeout=20000)
    assert "Methodology and emission factors" not in pdf_text(pdf)
    assert "Saved dialog.pdf" in dialog.status.text()
    xlsx = tmp_path / "dialog.xlsx"
    dialog.save_xlsx(str(xlsx))
    qtbot.waitUntil(lambda: not dialog._busy, timeout=20000)
    book = CalamineWorkbook.from_path(str(xlsx))
    values = {r[0]: r[1] for r in book.get_sheet_by_name("Report").to_python() if r and r[0]}
    market = Engine(demo).estimate(Q3).totals["market_kgco2e"]
    assert values["Market-based emissions (kgCO2e)"] == pytest.approx(market)


def test_dialog_closes_and_reopens_a_quarter(demo, qtbot, messages, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    assert dialog.close_period_button.isEnabled() and not dialog.reopen_button.isEnabled()
    dialog.close_period_button.click()
    assert closing.in_force(demo, "2026-Q3") is not None
    assert "closed on" in dialog.status.text() or "Closed 2026-Q3" in dialog.status.text()
    assert dialog.reopen_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("fix", True)))
    dialog.reopen_button.click()
    assert closing.in_force(demo, "2026-Q3") is None


def test_editor_asks_before_restating_a_closed_quarter(demo, qtbot, monkeypatch):
    from ui import closing_guard

    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    from core.report import build_for_closing

    report, factors = build_for_closing(demo, ReportOptions(Q3))
    closing.close_period(demo, Q3, report, factors)
    usage_id, kwh = demo.conn.execute(
        "SELECT id, energy_kwh FROM usage WHERE period_start >= '2026-07-01' "
        "AND period_end <= '2026-09-30' AND energy_kwh > 0 LIMIT 1"
    ).fetchone()
    editor = GuardedEditor(demo)
    failures = []
    editor.edit_failed.connect(failures.append)
    monkeypatch.setattr(closing_guard, "ask_reason", lambda changes, parent=None: None)
    assert not editor.run(UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 3}))
    assert demo.get("usage", usage_id)["energy_kwh"] == kwh and "Not saved" in failures[0]
    monkeypatch.setattr(closing_guard, "ask_reason", lambda changes, parent=None: "re-read")
    assert editor.run(UpdateRecord("usage", usage_id, {"energy_kwh": kwh * 3}))
    assert closing.restatements(demo)[0].reason == "re-read"
    editor.stack.undo()  # undo restates back, asking again (answered "re-read")
    assert demo.get("usage", usage_id)["energy_kwh"] == kwh
    assert len({r.at + r.figure + str(r.new_value) for r in closing.restatements(demo)}) >= 2


def test_restatement_dialog_needs_a_reason(qtbot):
    from ui.closing_guard import RestatementDialog

    dialog = RestatementDialog([closing.Restatement("2026-Q3", "market_kgco2e", 100.0, 120.0)])
    qtbot.addWidget(dialog)
    save = dialog.buttons.buttons()[0]
    assert not save.isEnabled()
    dialog.reason.setText("late invoice")
    assert save.isEnabled()


def test_cancel_stops_building_and_leaves_no_file(demo, tmp_path, qtbot):
    """Cancel right after Save PDF: the content stops being built (the engine's next
    estimate does not start), nothing is laid out or drawn, and no file is left."""
    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    texts = []
    dialog.relay.progressed.connect(lambda _f, text: texts.append(text))
    pdf = tmp_path / "cancelled.pdf"
    dialog.save_pdf(str(pdf))
    assert dialog._busy and not dialog.cancel_button.isHidden()
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=20000)
    assert dialog.status.text() == "Cancelled; nothing was written."
    assert not any(t.startswith(("Laying out", "Drawing", "Done")) for t in texts), texts
    assert not pdf.exists() and not any(p.name.endswith(".part") for p in tmp_path.iterdir())
    xlsx = tmp_path / "cancelled.xlsx"
    dialog.save_xlsx(str(xlsx))
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog._busy, timeout=20000)
    assert not xlsx.exists() and "Cancelled" in dialog.status.text()
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def _page_texts(path) -> list[str]:
    return pdf_text(path).split("\f")


@needs_poppler
def test_a_table_starts_on_the_current_page_and_continues(tmp_path, qapp):
    """A table whose title, header and first three rows fit starts below the text before
    it (not on a new page) and continues on the next page with its header repeated; with
    less room it starts on the next page."""
    from PySide6.QtGui import QPdfWriter

    from core.report_model import Column, Paragraph, Section, Table

    rows = [[f"Row {i:03d}", float(i)] for i in range(60)]
    table = Table("t", "Long table", [Column("Name"), Column("Value", "kg", "number")], rows)
    writer = QPdfWriter(str(tmp_path / "m.pdf"))
    writer.setPageLayout(report_render.page_layout("a4"))
    m = report_render.ReportLayout(Report({}, {}, []), writer)
    step = m.metrics["body"].height() + m.pt(7)  # one line of body text and its gap
    usable = m.bottom - m.pt(4) - (m.top + m.pt(6)) - m.text_height("S", "h1", m.width) - m.pt(10)
    del writer

    def layout_with_room(room_pt: float) -> list[str]:
        k = int((usable - m.pt(room_pt)) // step)
        filler = [Paragraph(f"Filler line {i:02d}") for i in range(k)]
        report = Report({"title": "T", "period": "P"}, {}, [Section("summary", "S", [])])
        report.sections[0].blocks = [*filler, table]
        path = tmp_path / f"room{room_pt}.pdf"
        report_render.write_pdf(report, path)
        return _page_texts(path)

    pages = layout_with_room(200)  # room for the header and some rows, not for all
    assert "Long table" in pages[1] and "Filler line" in pages[1]
    assert "Row 000" in pages[1] and "Row 002" in pages[1] and "Row 059" not in pages[1]
    assert "Long table (continued)" in pages[2]
    assert re.search(r"Name\s+Value \(kg\)", pages[2])  # the header is repeated
    found = re.findall(r"Row (\d{3})", "\f".join(pages))
    assert found == [f"{i:03d}" for i in range(60)]  # every row once, none split or lost
    pages = layout_with_room(50)  # less than the title, the header and three rows
    assert "Long table" not in pages[1] and "Filler line" in pages[1]
    assert "Long table" in pages[2] and "Filler line" not in pages[2]


@needs_poppler
def test_demo_methodology_follows_data_quality_without_an_empty_page(demo, tmp_path, qapp):
    report = build_report(demo, ReportOptions(Q3, samples=100))
    path = tmp_path / "demo.pdf"
    report_render.write_pdf(report, path)
    pages = _page_texts(path)
    quality = next(i for i, t in enumerate(pages) if "Entries with the largest uncertainty" in t)
    assert "Methodology and emission factors" in pages[quality]


def test_column_widths_fit_header_words_and_numbers(qapp, tmp_path):
    from PySide6.QtGui import QPdfWriter

    from core.report_model import Column, Table

    columns = [Column("Site", width=4.0)] + [
        Column(h, "kgCO2e", "number", 0.4) for h in ("Renewable", "Location", "Market")
    ]
    table = Table("t", "T", columns, [["A site", 12_345_678.0, 1.0, 2.0]])
    writer = QPdfWriter(str(tmp_path / "w.pdf"))
    writer.setPageLayout(report_render.page_layout("a4"))
    layout = report_render.ReportLayout(Report({}, {}, []), writer)
    pad = layout.pt(3)
    rows = [(table.formatted(r), "table", False) for r in table.rows]
    widths = layout._column_widths(table, rows, pad)
    bold = layout.metrics["table_bold"]
    assert sum(widths) == pytest.approx(layout.width)
    for col, w, cell in zip(columns[1:], widths[1:], rows[0][0][1:], strict=True):
        assert w - 2 * pad >= bold.horizontalAdvance(col.header)
        assert w - 2 * pad >= bold.horizontalAdvance(cell)
    del writer


# -- failed writes: a clear message, no empty or half-written file --------------------------


def test_pdf_write_failure_is_an_error_and_leaves_no_file(demo, tmp_path, qapp, monkeypatch):
    """Qt's PDF writer does not report failed writes; write_pdf writes the bytes itself,
    so a full disk (here simulated at the sync) is a LedgerError naming the file."""
    import errno
    import os

    from core.errors import LedgerError

    report = build_report(demo, ReportOptions(Q3, samples=50))
    (tmp_path / "kept.pdf").write_bytes(b"an earlier report")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    for name in ("new.pdf", "kept.pdf"):
        with pytest.raises(LedgerError) as caught:
            report_render.write_pdf(report, tmp_path / name)
        text = str(caught.value)
        assert f"Cannot write the report PDF {tmp_path / name}: the disk is full" in text
        assert "No file was written." in text
    assert "The existing kept.pdf was left as it was." in text
    assert (tmp_path / "kept.pdf").read_bytes() == b"an earlier report"
    assert sorted(p.name for p in tmp_path.iterdir() if "pdf" in p.name) == ["kept.pdf"]
    missing = tmp_path / "gone" / "x.pdf"
    with pytest.raises(LedgerError, match=r"the folder .*gone does not exist"):
        report_render.write_pdf(report, missing)


def test_dialog_reports_a_missing_folder(demo, tmp_path, qtbot, messages):
    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    missing = tmp_path / "gone"
    for save, name in ((dialog.save_pdf, "r.pdf"), (dialog.save_xlsx, "r.xlsx")):
        save(str(missing / name))
        qtbot.waitUntil(lambda: not dialog._busy, timeout=20000)
    texts = messages.texts("warning")
    assert len(texts) == 2, messages.messages
    for text, what in zip(texts, ("report PDF", "report workbook"), strict=True):
        assert f"the {what} {missing}" in text and f"the folder {missing} does not exist" in text
    assert not missing.exists()


def test_print_to_a_pdf_file_is_written_like_save_pdf(demo, tmp_path, qtbot, messages, monkeypatch):
    """The print dialog's "Print to file" goes through write_pdf (whole or nothing, with
    a message), not through Qt's own PDF output, which reports no write errors."""
    from PySide6.QtPrintSupport import QPrinter

    from ui import report_dialog

    chosen: list[str] = []

    class PrintToFile:
        def __init__(self, printer, parent=None):
            self.printer = printer

        def exec(self):
            self.printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.printer.setOutputFileName(chosen[-1])
            return report_dialog.QDialog.DialogCode.Accepted

    monkeypatch.setattr(report_dialog, "QPrintDialog", PrintToFile)
    dialog = ReportDialog(demo, today=__import__("datetime").date(2026, 11, 28))
    qtbot.addWidget(dialog)
    chosen.append(str(tmp_path / "printed.pdf"))
    dialog.print_report()
    qtbot.waitUntil(lambda: "Saved printed.pdf" in dialog.status.text(), timeout=30000)
    assert (tmp_path / "printed.pdf").read_bytes().startswith(b"%PDF")
    missing = tmp_path / "gone" / "printed.pdf"
    chosen.append(str(missing))
    dialog.print_report()
    qtbot.waitUntil(lambda: bool(messages.texts("warning")), timeout=30000)
    assert f"the folder {missing.parent} does not exist" in messages.texts("warning")[0]
    assert not missing.parent.exists()


def test_report_xlsx_neutralises_text_like_the_exports(tmp_path):
    """Text cells starting with = + - @ tab or CR get a leading ' (as the inventory's
    exports do), so a spreadsheet program shows them instead of running them."""
    from core.importing.convert import escape_text
    from core.report_model import Column, Section, Table
    from core.report_xlsx import write_xlsx

    names = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "'=quoted", "Plain"]
    table = Table(
        "t", "T", [Column("Name"), Column("kg", "kgCO2e", "number")], [[n, 1.0] for n in names]
    )
    report = Report({"title": "x", "organisation": "=cmd|' /C calc'!A0"}, {}, [])
    report.sections.append(Section("breakdown", "B", [table]))
    write_xlsx(report, tmp_path / "f.xlsx")
    book = CalamineWorkbook.from_path(str(tmp_path / "f.xlsx"))
    rows = book.get_sheet_by_name("T").to_python()
    assert [r[0] for r in rows[2 : 2 + len(names)]] == [escape_text(n) for n in names]
    assert [r[0] for r in rows[2:5]] == ['\'=HYPERLINK("x")', "'+1", "'-2"]
    assert rows[-1][0] == "Plain"
    cover = {r[0]: r[1] for r in book.get_sheet_by_name("Report").to_python() if r and r[0]}
    assert cover["Organisation"] == "'=cmd|' /C calc'!A0"
