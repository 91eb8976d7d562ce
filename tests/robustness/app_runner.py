"""Run the desktop app (``main.py [INVENTORY]``) exactly as a user would, signals and
all, with test hooks that only report and slow down:

- it prints ``opened`` once the initial inventory is open, ``closed`` once the main
  window's ``closeEvent`` has run (stdout, one line each);
- ``AICL_TEST_SAVE_COPY=PATH``: once the inventory is open, File > Save a Copy to PATH
  starts (as the dialog would), copying one page at a time, 50 ms apart; ``copying`` is
  printed when it has started writing;
- ``AICL_TEST_SLOW_BACKUP=1``: the daily backup copies one page at a time, 50 ms apart;
  ``backing up`` is printed when it has started writing.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core import integrity  # noqa: E402
from core import inventory as inventory_module  # noqa: E402
from ui import app as app_module  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

#: how long each page of a slowed copy takes (s)
PAGE_SECONDS = 0.05
_said: set[str] = set()
_lock = threading.Lock()


def say(word: str, *, once: bool = False) -> None:
    with _lock:
        if once and word in _said:
            return
        _said.add(word)
        print(word, flush=True)


_close_event = MainWindow.closeEvent


def _reporting_close_event(self, event):
    _close_event(self, event)
    say("closed")


MainWindow.closeEvent = _reporting_close_event

_open_initial = app_module.open_initial_inventory


def _open_and_go_on(window, path_arg):
    _open_initial(window, path_arg)
    say("opened")
    if copy_to := os.environ.get("AICL_TEST_SAVE_COPY"):
        window._start_checked_copy(Path(copy_to))


app_module.open_initial_inventory = _open_and_go_on

if os.environ.get("AICL_TEST_SAVE_COPY") or os.environ.get("AICL_TEST_SLOW_BACKUP"):
    inventory_module.COPY_STEP_PAGES = 1

if os.environ.get("AICL_TEST_SAVE_COPY"):
    _save_copy = inventory_module.Inventory.save_copy

    def _slow_save_copy(self, destination, progress=None, cancel=None):
        def slowly(fraction: float) -> None:
            say("copying", once=True)
            time.sleep(PAGE_SECONDS)
            if progress is not None:
                progress(fraction)

        return _save_copy(self, destination, slowly, cancel)

    inventory_module.Inventory.save_copy = _slow_save_copy

if os.environ.get("AICL_TEST_SLOW_BACKUP"):
    _make_daily_backup = integrity.make_daily_backup

    def _slow_daily_backup(path, cancel=None):
        def slowly() -> bool:
            say("backing up", once=True)
            time.sleep(PAGE_SECONDS)
            return cancel is not None and cancel()

        return _make_daily_backup(path, cancel=slowly)

    integrity.make_daily_backup = _slow_daily_backup

import main  # noqa: E402

sys.exit(main.main(sys.argv[1:]))
