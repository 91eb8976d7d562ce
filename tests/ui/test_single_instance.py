"""One window per inventory; an inventory someone else writes opens read-only.

The "someone else" is real: another Python process holding the lock file, or another
SQLite connection holding the write lock.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.commands import SetSetting
from core.inventory import Inventory
from ui import single_instance
from ui.main_window import MainWindow
from ui.settings import SettingsStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inv_path(tmp_path):
    path = tmp_path / "shared.aicl"
    Inventory.create(path).close()
    return path


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )


HAND_OVER = """
    import sys
    from PySide6.QtCore import QCoreApplication
    from ui.single_instance import hand_over
    app = QCoreApplication([])
    print("forward" if hand_over(sys.argv[1]) else "nobody")
"""

HOLD_LOCK = """
    import sys
    from PySide6.QtCore import QLockFile
    from ui.single_instance import lock_path
    lock = QLockFile(str(lock_path(sys.argv[1])))
    print("locked" if lock.tryLock(0) else "failed", flush=True)
    sys.stdin.readline()  # hold it until the test says so
"""


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen has no stacking
def test_a_second_launch_brings_the_open_window_forward(qtbot, inv_path):
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    assert window.open_inventory(inv_path)
    assert window.claim is not None and window.read_only_reason is None
    assert single_instance.lock_path(inv_path).exists()

    launch = _python(HAND_OVER, str(inv_path))
    with qtbot.waitSignal(window.claim.activation_requested, timeout=10000):
        pass
    out, err = launch.communicate(timeout=10)
    assert out.strip() == "forward", err
    assert "already open here" in window.statusBar().currentMessage()

    window.close_inventory()  # releases the claim: the next launch finds nobody
    assert not single_instance.lock_path(inv_path).exists()
    out, err = _python(HAND_OVER, str(inv_path)).communicate(timeout=10)
    assert out.strip() == "nobody", err


def test_reopening_the_open_file_keeps_the_window_as_it_is(qtbot, inv_path):
    window = MainWindow(SettingsStore())
    qtbot.addWidget(window)
    assert window.open_inventory(inv_path)
    inventory, claim = window.inventory, window.claim
    assert window.open_inventory(str(inv_path))
    assert window.inventory is inventory and window.claim is claim


def test_a_file_another_process_has_open_is_read_only_with_a_banner(qtbot, inv_path, messages):
    holder = _python(HOLD_LOCK, str(inv_path))
    try:
        assert holder.stdout.readline().strip() == "locked"
        window = MainWindow(SettingsStore())
        qtbot.addWidget(window)
        window.show()
        assert window.open_inventory(inv_path)
        assert window.claim is None
        assert f"process {holder.pid}" in window.read_only_reason
        assert window.read_only_banner.isVisible()
        assert window.read_only_banner.text().startswith("Read-only:")
        # the lock file's app and host names are shown as written, never as markup
        assert window.read_only_banner.textFormat() == Qt.TextFormat.PlainText
        assert not window.add_action.isEnabled() and not window.delete_action.isEnabled()
        assert window.find_action.isEnabled()  # looking and searching stay
        assert window.inventory.count("sites") > 0

        with qtbot.waitSignal(window.editor.edit_failed) as failed:
            assert not window.editor.run(SetSetting("embodied_convention", "capital-goods"))
        assert "Read-only" in failed.args[0]
        window.close_inventory()
        assert not window.read_only_banner.isVisible()
    finally:
        holder.communicate("\n", timeout=10)
    with Inventory.open(inv_path) as inv:  # nothing was written while read-only
        assert inv.meta("embodied_convention", "amortised") == "amortised"


def test_a_file_being_written_right_now_is_read_only(qtbot, inv_path):
    writer = sqlite3.connect(inv_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another program in the middle of a write
    try:
        window = MainWindow(SettingsStore())
        qtbot.addWidget(window)
        assert window.open_inventory(inv_path)
        assert window.read_only_reason == "another program is writing this inventory"
        assert not single_instance.lock_path(inv_path).exists()  # no claim was kept
        window.close_inventory()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_read_only_open_refuses_an_inventory_that_needs_upgrading(tmp_path, inv_path):
    with sqlite3.connect(inv_path) as conn:
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(Exception, match="needs upgrading"):
        single_instance.open_read_only(inv_path)


def test_server_names_differ_by_file_and_fit_socket_limits(tmp_path):
    a = single_instance.server_name(tmp_path / "a.aicl")
    b = single_instance.server_name(tmp_path / "b.aicl")
    assert a != b and len(a) < 40
    assert single_instance.server_name(tmp_path / "x" / ".." / "a.aicl") == a
