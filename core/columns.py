"""Growable numpy columns for the engine's incremental updates.

The engine appends a few lines and pieces after each edit to arrays of a million rows or
more. :func:`append` keeps spare room behind each array, so an append copies only the
new values; only when the room runs out is the column copied into a larger buffer (a
quarter larger), which makes appends cost O(new rows) on average.

Only the owner of a column may append to it: two appends to the same array would write
into the same spare room. The engine always appends to its current arrays and drops the
old ones.
"""

from __future__ import annotations

import numpy as np


def append(column: np.ndarray, more: np.ndarray) -> np.ndarray:
    """``column`` followed by ``more`` (same dtype), reusing the room behind it."""
    n, k = len(column), len(more)
    buffer = column.base
    if (
        isinstance(buffer, np.ndarray)
        and buffer.ndim == 1
        and buffer.dtype == column.dtype
        and column.flags.c_contiguous
        and buffer.ctypes.data == column.ctypes.data
        and len(buffer) >= n + k
    ):
        buffer[n : n + k] = more
        return buffer[: n + k]
    grown = np.empty(n + k + max((n + k) // 4, 1024), dtype=column.dtype)
    grown[:n] = column
    grown[n : n + k] = more
    return grown[: n + k]
