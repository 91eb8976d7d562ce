"""Pausing Python's cyclic garbage collector while many small objects are built."""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Any

_gc_lock = threading.Lock()
_gc_quiet = 0
_gc_was_enabled = True


@contextlib.contextmanager
def quiet_gc() -> Any:
    """No cyclic garbage collection while the block runs (process-wide; blocks nest and
    may run on several threads at once).

    An estimate by entry makes one row object per entry (59,000 on the large
    inventory); building them triggers full collections of the whole process, which
    hold the interpreter lock, and so the UI thread, for 100-300 ms, and more as the
    process grows (merging a 10x inventory's 577,000 entry rows for a report took
    4.6-6.5 s with collection on, 2.4-2.8 s with it off). Such rows hold no reference
    cycles: they are freed by reference counting when dropped, and collection resumes
    as before when the last block ends.
    """
    global _gc_quiet, _gc_was_enabled
    with _gc_lock:
        if _gc_quiet == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_quiet += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_quiet -= 1
            if _gc_quiet == 0 and _gc_was_enabled:
                gc.enable()
