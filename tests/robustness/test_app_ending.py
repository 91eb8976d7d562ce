"""Ending the app in the middle of long file work leaves no temporary file: SIGTERM
(``kill``, a logout), SIGINT and SIGHUP close the window as the user would, which
cancels Save a Copy and the daily backup; and what a SIGKILL leaves is removed the next
time the inventory is opened for editing (``core.leftovers``)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from robustness_support import ROOT

from core import integrity, leftovers

RUNNER = Path(__file__).resolve().parent / "app_runner.py"

posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class App:
    """The app (``app_runner.py``: ``main.py`` with reporting hooks) in a subprocess on
    Qt's offscreen platform, with this test's private HOME and XDG folders (set by the
    autouse fixture) and a private runtime folder."""

    def __init__(self, inventory: Path, tmp_path: Path, **env: str):
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        environment = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_RUNTIME_DIR": str(runtime),
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(RUNNER), str(inventory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=environment,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.said: list[str] = []
        #: what it wrote to stderr (once it has ended)
        self.err = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def _finish(self) -> None:
        """After the process ended: its last output read, its pipes closed."""
        self._reader.join(10)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.proc.stdout.close()
        self.err = self.proc.stderr.read()
        self.proc.stderr.close()

    def wait_for(self, *words: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not set(words) <= set(self.said):
            try:
                self.said.append(self.lines.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                    self._finish()
                pytest.fail(f"the app did not say {words} in {timeout} s ({self.said}): {self.err}")

    def end(self, signum: int, timeout: float = 20) -> tuple[int, float]:
        """Send ``signum``; the exit status and how long it took to come."""
        start = time.monotonic()
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._finish()
            pytest.fail(f"the app did not end {timeout} s after signal {signum}: {self.err}")
        seconds = time.monotonic() - start
        self._finish()
        while not self.lines.empty():  # the rest of its output
            self.said.append(self.lines.get())
        return code, seconds


@pytest.fixture
def demo_folder(demo_path, tmp_path) -> Path:
    """A folder of its own holding a copy of the demo inventory (no daily backup yet)."""
    folder = tmp_path / "inventories"
    folder.mkdir()
    shutil.copyfile(demo_path, folder / "demo.aicl")
    return folder


@posix_signals
def test_sigterm_during_save_a_copy_and_the_daily_backup_leaves_no_temporary_file(
    demo_folder, tmp_path
):
    """The case seen: the app ended by SIGTERM while File > Save a Copy and the daily
    backup were both writing (slowed down here to be sure they are)."""
    inventory = demo_folder / "demo.aicl"
    copy = demo_folder / "demo copy.aicl"
    app = App(inventory, tmp_path, AICL_TEST_SAVE_COPY=str(copy), AICL_TEST_SLOW_BACKUP="1")
    app.wait_for("opened", "copying", "backing up")
    hidden = sorted(p.name for p in demo_folder.iterdir() if p.name.startswith("."))
    assert any(name.endswith(".checking") for name in hidden), hidden  # mid-copy
    assert any("daily-backup" in name and ".tmp" in name for name in hidden), hidden
    code, seconds = app.end(signal.SIGTERM)
    assert code == 0, app.err
    assert "closed" in app.said  # through the window's closeEvent
    assert sorted(p.name for p in demo_folder.iterdir()) == ["demo.aicl"]
    assert seconds < 10


@posix_signals
@pytest.mark.parametrize("name", ["SIGINT", "SIGHUP"])
def test_sigint_and_sighup_close_the_window_and_exit_with_status_0(name, demo_folder, tmp_path):
    app = App(demo_folder / "demo.aicl", tmp_path)
    app.wait_for("opened")
    code, _ = app.end(getattr(signal, name))
    assert code == 0, app.err
    assert "closed" in app.said
    assert not [p.name for p in demo_folder.iterdir() if p.name.startswith(".")]


# -- in this process ----------------------------------------------------------------------


@pytest.fixture
def window(qtbot, private_qsettings):
    from ui.main_window import MainWindow
    from ui.settings import SettingsStore

    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    return w


def test_closing_the_window_cancels_a_long_daily_backup(window, demo_folder, monkeypatch):
    """A backup that would take about 6 s: the window waits its short grace, then
    cancels it, and nothing is left of it."""
    real = integrity.make_daily_backup
    started = threading.Event()

    def slow(path, cancel=None):
        def slowly() -> bool:
            started.set()
            time.sleep(0.05)
            return cancel is not None and cancel()

        return real(path, cancel=slowly)

    monkeypatch.setattr(integrity, "make_daily_backup", slow)
    monkeypatch.setattr("core.inventory.COPY_STEP_PAGES", 1)
    inventory = demo_folder / "demo.aicl"
    assert window.open_inventory(inventory)
    assert started.wait(10)
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 5
    assert all(b.done.is_set() for b in window._daily_backups.values())
    assert sorted(p.name for p in demo_folder.iterdir()) == ["demo.aicl"]
    assert integrity.daily_backups(inventory) == []


def test_opening_an_inventory_for_editing_removes_old_leftovers(window, demo_folder, qtbot):
    """What a SIGKILL left (nothing can run at the kill) goes the next time the app
    opens the inventory for editing; a temporary file written recently stays."""
    old_time = time.time() - leftovers.STALE_AFTER_SECONDS - 60
    names = {
        ".demo.schema5-daily-backup-20261129-010534.aicl.bs69sw50.tmp": old_time,
        ".demo copy.aicl.nd800idf.checking": old_time,
        "..demo copy.aicl.nd800idf.checking.xdg4gt1t.tmp": old_time,
        "..demo copy.aicl.nd800idf.checking.xdg4gt1t.tmp-journal": old_time,
        ".demo copy.aicl.abcdefgh.tmp": time.time(),  # another process may be writing it
        "notes.tmp": old_time,
    }
    for name, when in names.items():
        path = demo_folder / name
        path.write_bytes(b"x")
        os.utime(path, (when, when))
    assert window.open_inventory(demo_folder / "demo.aicl")
    qtbot.waitUntil(lambda: not (demo_folder / ".demo copy.aicl.nd800idf.checking").exists())
    qtbot.waitUntil(lambda: not window.daily_backups_running, timeout=20_000)
    inventory = demo_folder / "demo.aicl"
    backups = {p.name for p in integrity.daily_backups(inventory)}  # today's, just made
    left = sorted(p.name for p in demo_folder.iterdir() if p.name not in backups)
    assert [n for n in left if not n.startswith("demo.aicl")] == [
        ".demo copy.aicl.abcdefgh.tmp",
        ".demo.aicl.lock",
        "notes.tmp",
    ]
    window.close()
