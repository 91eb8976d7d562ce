"""Plain-English notes per entry from the line builders, and the fixed texts saying what
could not be estimated (:data:`SKIPPED`), counted per reason by :func:`not_estimated`."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.activity import Activity

Notes = dict[tuple[int, int], list[str]]

# Notes saying that (part of) an entry could not be estimated. They are fixed texts, so
# :func:`not_estimated` can count the entries behind each reason for an estimate's notes.
T_NO_HOURS = (
    "no measured energy and no duration (device-hours, or wall-clock hours or dates "
    "with a device count): energy not estimated"
)
T_ZERO_HOURS = "device-hours (or wall-clock hours) are 0: no energy estimated"
T_NO_HARDWARE = "no measured energy, no average power and no hardware: energy not estimated"
T_NO_TDP = "no measured energy, no average power and no TDP for the hardware: energy not estimated"
U_NOTHING = "usage records with no measured energy, device-hours, requests or tokens: not estimated"
U_NO_TDP = "usage records with device-hours only and no TDP for the hardware: not estimated"
D_ONGOING = (
    "no usage recorded for the period; not estimated (no end date: it is not assumed "
    "to run all the time)"
)
D_API = "no usage recorded for the period; not estimated (API usage needs tokens or requests)"
D_UNDATED = "no usage recorded and no start date; not estimated"
D_NO_DEVICES = "no usage recorded and no device count; not estimated"
D_NO_TDP = "no usage recorded and no TDP for the hardware; not estimated"
E_NO_HOURS = (
    "embodied emissions not estimated: no device-hours, and no device count with hours "
    "or dates to derive them from"
)
E_NO_HARDWARE = "no hardware given: embodied emissions not estimated"

#: note -> (what was not estimated, why) as :func:`not_estimated` words it
SKIPPED: dict[str, tuple[str, str]] = {
    T_NO_HOURS: ("energy", "no measured energy and no duration"),
    T_ZERO_HOURS: ("energy", "device-hours or wall-clock hours are 0"),
    T_NO_HARDWARE: ("energy", "no measured energy, average power or hardware"),
    T_NO_TDP: ("energy", "no measured energy or average power, and no TDP for the hardware"),
    U_NOTHING: ("some usage records", "no measured energy, device-hours, requests or tokens"),
    U_NO_TDP: ("some usage records", "device-hours only, and no TDP for the hardware"),
    D_ONGOING: ("energy", "no usage recorded for the period (ongoing deployment)"),
    D_API: ("energy", "no usage recorded for the period (API usage)"),
    D_UNDATED: ("energy", "no usage recorded and no start date"),
    D_NO_DEVICES: ("energy", "no usage recorded and no device count"),
    D_NO_TDP: ("energy", "no usage recorded and no TDP for the hardware"),
    E_NO_HOURS: ("embodied emissions", "no device-hours and no device count"),
    E_NO_HARDWARE: ("embodied emissions", "no hardware given"),
}


def not_estimated(
    notes: Notes,
    activity: Activity | None = None,
    period: Any = None,
    entries: Any = None,
) -> list[str]:
    """One line per reason something was not estimated, with how many entries it hit:
    "2 entries not estimated: no usage recorded for the period (ongoing deployment)." or
    "1 entry: embodied emissions not estimated: no hardware given.".

    ``entries`` (``(table index, id)`` pairs) keeps only those entries. With
    ``activity`` and ``period`` (anything with ``start`` and ``end`` dates) only entries
    whose own dates reach into the period count; entries without a start date, or
    without an end date and started before the period ends, always do.
    """
    wanted = None if entries is None else {(int(t), int(i)) for t, i in entries}
    hits = [
        (key, SKIPPED[text])
        for key, texts in notes.items()
        if wanted is None or key in wanted
        for text in texts
        if text in SKIPPED
    ]
    if hits and period is not None and activity is not None:
        inside = _reaching(activity, [key for key, _ in hits], period)
        hits = [hit for hit, ok in zip(hits, inside, strict=True) if ok]
    counts: dict[tuple[str, str], int] = {}
    for _, reason in hits:
        counts[reason] = counts.get(reason, 0) + 1
    out = []
    for (what, why), n in sorted(counts.items(), key=lambda kv: (kv[0][0] != "energy", kv[0])):
        entries_word = "entry" if n == 1 else "entries"
        if what == "energy":
            out.append(f"{n} {entries_word} not estimated: {why}.")
        else:
            out.append(f"{n} {entries_word}: {what} not estimated: {why}.")
    return out


def _reaching(activity: Activity, keys: list[tuple[int, int]], period: Any) -> np.ndarray:
    """Per entry key, whether its dates (start, end; an unknown start or end reaches
    anywhere) overlap ``period``."""
    table = np.array([t for t, _ in keys], dtype=np.int64)
    rid = np.array([i for _, i in keys], dtype=np.int64)
    out = np.zeros(len(keys), dtype=bool)
    first = np.datetime64(period.start, "D")
    last = np.datetime64(period.end, "D")
    for t, rows in enumerate((activity.training_runs, activity.deployments)):
        mine = np.flatnonzero(table == t)
        if not len(mine) or not len(rows):
            continue
        pos = rows.index_of(rid[mine])
        found = pos >= 0
        start = rows["start_date"][np.where(found, pos, 0)]
        end = rows["end_date"][np.where(found, pos, 0)]
        out[mine] = found & (np.isnat(start) | (start <= last)) & (np.isnat(end) | (end >= first))
    return out


def _distinct(ids: np.ndarray) -> np.ndarray:
    """The distinct ids, sorted (a presence array for many dense ids: no sort)."""
    if len(ids) > 10_000 and ids.min() >= 0 and ids.max() < 20 * len(ids):
        present = np.zeros(int(ids.max()) + 1, dtype=bool)
        present[ids] = True
        return np.flatnonzero(present)
    return np.unique(ids)


def _note(notes: Notes, table: int, ids: np.ndarray, mask: np.ndarray, text: str) -> None:
    selected = np.asarray(ids)[np.asarray(mask, dtype=bool)]
    if not len(selected):
        return
    for i in _distinct(selected).tolist():
        bucket = notes.setdefault((table, int(i)), [])
        if text not in bucket:
            bucket.append(text)
