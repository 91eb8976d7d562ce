"""A full disk and read-only inventories: clear messages, inventory unchanged.

The disk tests use a small tmpfs (needs root, as in the CI container; skipped where
mounting is refused); the full-disk edit is also simulated everywhere with SQLite's
``PRAGMA max_page_count``, which makes SQLite fail exactly as on a full disk
(``SQLITE_FULL``). Read-only is a read-only mount (root) or ``chmod`` (other users:
root ignores file permissions).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from robustness_support import SCHEMAS, cli, integrity, table_digests

from core.inventory import Inventory


def _mount(folder: Path, options: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
    )
    return proc.returncode == 0


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    folder.mkdir()
    if not _mount(folder, f"size={size}"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _inventory(folder: Path) -> Path:
    path = Path(shutil.copy(SCHEMAS / "schema4.aicl", folder / "ledger.aicl"))
    Inventory.open(path).close()
    for backup in folder.glob("*backup*"):
        backup.unlink()  # keep the small disk for the test's own data
    return path


def _usage_csv(inventory: Path, dest: Path, rows: int) -> Path:
    conn = sqlite3.connect(inventory)
    name = conn.execute("SELECT name FROM deployments ORDER BY id").fetchone()[0]
    conn.close()
    lines = ["deployment,period_start,period_end,requests,energy_kwh,energy_boundary,notes"]
    for i in range(rows):
        day = f"{2000 + i // 336:04d}-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"
        lines.append(f"{name},{day},{day},{i},{i / 10},it,padding {'x' * 60}")
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def _fill(folder: Path) -> None:
    """Fill the disk to the last byte."""
    with contextlib.suppress(OSError), open(folder / "filler.bin", "wb") as fh:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * size)
                    fh.flush()


def _check_refusal(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def test_import_onto_a_full_disk(tmp_path):
    data = tmp_path / "usage.csv"
    with small_disk(tmp_path / "disk", "2m") as disk:
        path = _inventory(disk)
        _usage_csv(path, data, 30_000)
        before = table_digests(path)
        proc = cli("import", path, data, "--kind", "usage")
        _check_refusal(proc, "is full", "nothing was changed")
        assert table_digests(path) == before
        assert not integrity(path)
        with Inventory.open(path) as inv:  # and it still works
            assert inv.count("usage") > 0


def test_edit_on_a_full_disk(tmp_path):
    with small_disk(tmp_path / "disk", "2m") as disk:
        path = _inventory(disk)
        before = table_digests(path)
        _fill(disk)
        proc = cli("settings", path, "embodied_convention=capital-goods")
        _check_refusal(proc, "is full", "nothing was changed")
        (disk / "filler.bin").unlink()
        assert table_digests(path) == before
        assert not integrity(path)


def test_export_onto_a_full_disk_leaves_no_half_file(tmp_path):
    path = _inventory(tmp_path)
    before = table_digests(path)
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk)
        for out in ("out.xlsx", "out.csv", "out.json"):
            proc = cli("export", path, disk / out)
            _check_refusal(proc, "full")
            assert not list(disk.glob("*out*")), "a half-written export was left behind"
    assert table_digests(path) == before


def test_full_disk_simulated_with_max_page_count(tmp_path, capsys):
    """Where no tmpfs can be mounted: SQLite's page limit fails a write as a full disk."""
    path = _inventory(tmp_path)
    before = table_digests(path)
    data = _usage_csv(path, tmp_path / "usage.csv", 5000)
    from core import cli as core_cli

    real_connect = sqlite3.connect

    def limited(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        pages = os.path.getsize(path) // 4096
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite3, "connect", limited)
        assert core_cli.main(["import", str(path), str(data), "--kind", "usage"]) == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "nothing was changed" in err and "Traceback" not in err
    assert table_digests(path) == before
    assert not integrity(path)


@contextlib.contextmanager
def read_only(path: Path):
    """``path``'s folder made read-only: a read-only mount as root, chmod otherwise."""
    folder = path.parent
    if os.geteuid() == 0:
        proc = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True)
        if proc.returncode:
            pytest.skip("cannot remount read-only here")
        try:
            yield
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=False)
    else:
        path.chmod(0o444)
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
            path.chmod(0o644)


def test_read_only_inventory_is_refused_clearly_and_unchanged(tmp_path):
    if os.geteuid() == 0:
        ctx = small_disk(tmp_path / "disk", "4m")
    else:
        (tmp_path / "disk").mkdir()
        ctx = contextlib.nullcontext(tmp_path / "disk")
    with ctx as disk:
        path = _inventory(disk)
        data = _usage_csv(path, tmp_path / "usage.csv", 50)
        before = table_digests(path)
        with read_only(path):
            for args in (
                ("settings", path, "embodied_convention=capital-goods"),
                ("import", path, data, "--kind", "usage"),
                ("close", path, "--quarter", "2026-Q2"),
            ):
                _check_refusal(cli(*args), "read-only", "nothing was changed")
            _check_refusal(cli("export", path, disk / "out.xlsx"), "read-only")
        assert table_digests(path) == before


# -- output files: the report's PDF and workbook, an import's errors file -----------------

REPORT = ("--period", "2026-Q3")


def _no_output(folder: Path, *keep: str) -> None:
    """Nothing but ``keep`` (and the filler) in ``folder``: no empty, half-written or
    temporary file left behind."""
    left = sorted(p.name for p in folder.iterdir() if p.name not in (*keep, "filler.bin"))
    assert not left, f"left behind: {left}"


def test_report_onto_a_full_disk_leaves_no_file(tmp_path):
    """Qt's PDF writer does not report a failed write: the PDF is made in memory and
    written from Python, so a full disk is an error, not an empty file and exit 0."""
    path = _inventory(tmp_path)
    before = table_digests(path)
    with small_disk(tmp_path / "disk", "1m") as disk:
        (disk / "old.pdf").write_bytes(b"%PDF-1.4 an earlier report")
        _fill(disk)
        for option, name, what in (
            ("--pdf", "r.pdf", "the report PDF"),
            ("--xlsx", "r.xlsx", "the report workbook"),
            ("--pdf", "old.pdf", "the report PDF"),
        ):
            proc = cli("report", path, *REPORT, option, disk / name)
            _check_refusal(
                proc, f"Cannot write {what} {disk / name}: the disk is full", "No file was written"
            )
            assert "Wrote" not in proc.stdout
        assert "The existing old.pdf was left as it was." in proc.stderr
        assert (disk / "old.pdf").read_bytes() == b"%PDF-1.4 an earlier report"
        _no_output(disk, "old.pdf")
    assert table_digests(path) == before


def test_report_into_a_missing_folder_names_it(tmp_path):
    path = _inventory(tmp_path)
    before = table_digests(path)
    missing = tmp_path / "no such folder"
    for option, name in (("--pdf", "x.pdf"), ("--xlsx", "x.xlsx")):
        proc = cli("report", path, *REPORT, option, missing / name)
        _check_refusal(proc, str(missing / name), f"the folder {missing} does not exist")
        assert "None" not in proc.stderr
    assert not missing.exists()
    assert table_digests(path) == before


def test_report_into_a_read_only_folder(tmp_path):
    path = _inventory(tmp_path)
    with small_disk(tmp_path / "disk", "1m") as disk:
        (disk / "old.xlsx").write_bytes(b"an earlier workbook")
        with read_only(disk / "old.xlsx"):
            for option, name in (("--pdf", "r.pdf"), ("--xlsx", "old.xlsx")):
                proc = cli("report", path, *REPORT, option, disk / name)
                _check_refusal(proc, str(disk / name), "read-only", "No file was written")
        assert (disk / "old.xlsx").read_bytes() == b"an earlier workbook"
        _no_output(disk, "old.xlsx")


def _mixed_models_csv(dest: Path) -> Path:
    """One valid model and one invalid row (a number that is not one)."""
    dest.write_text(
        "name,version,params_total_b\nDisk test model,1,7\nBroken model,1,abc\n", encoding="utf-8"
    )
    return dest


def test_import_with_an_errors_file_onto_a_full_disk_imports_nothing(tmp_path):
    """``--skip-invalid --errors``: the errors file is written (and synced) before the
    import commits, so a full disk or missing folder refuses the whole import; no row
    is ever skipped without its errors file, and no empty errors file is left."""
    path = _inventory(tmp_path)
    data = _mixed_models_csv(tmp_path / "models.csv")
    before = table_digests(path)
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk)
        errors = disk / "errors.csv"
        proc = cli("import", path, data, "--skip-invalid", "--errors", errors)
        _check_refusal(
            proc,
            f"Cannot write the errors file {errors}: the disk is full",
            "Nothing was imported",
        )
        _no_output(disk)
    assert table_digests(path) == before
    missing = tmp_path / "no such folder" / "errors.csv"
    proc = cli("import", path, data, "--skip-invalid", "--errors", missing)
    _check_refusal(proc, str(missing), "does not exist", "Nothing was imported")
    assert table_digests(path) == before
    assert not integrity(path)
    # the same import with room for its errors file goes through, and lists the row
    errors = tmp_path / "errors.csv"
    proc = cli("import", path, data, "--skip-invalid", "--errors", errors)
    assert proc.returncode == 1 and "1 new" in proc.stdout and "1 skipped" in proc.stdout
    assert "models.csv,,3,params_total_b,abc," in errors.read_text(encoding="utf-8-sig")
    assert table_digests(path) != before


def test_refused_import_onto_a_full_disk_leaves_no_empty_errors_file(tmp_path):
    """Without ``--skip-invalid`` nothing is imported anyway; the errors file is still
    whole or absent, and the message says it could not be written."""
    path = _inventory(tmp_path)
    data = _mixed_models_csv(tmp_path / "models.csv")
    before = table_digests(path)
    with small_disk(tmp_path / "disk", "1m") as disk:
        _fill(disk)
        proc = cli("import", path, data, "--errors", disk / "errors.csv")
        _check_refusal(proc, "Cannot write the errors file", "disk is full", "Nothing was imported")
        _no_output(disk)
    assert table_digests(path) == before
