"""Energy and embodied emissions of every activity record, vectorised with numpy.

An *activity line* is one training run, one usage record, an always-on deployment with
no usage records, or a purchase of hardware (capital-goods convention). For each line the
engine computes, in kWh: the accelerators' energy, the IT energy (accelerators plus host)
and the facility energy (IT x PUE); in kgCO2e the embodied emissions of the hardware; the
method tier; and which shared assumptions it used (for the uncertainty analysis and the
explanation). Grid factors come later, per month (``core.emissions``).

Formulas (methodology notes, ``resources/reference/SOURCES.md``):

* training, activity based: kWh_IT = device-hours x W / 1000 x (1 + host overhead); W is
  the measured average power, else TDP x training utilisation (Patterson et al. 2021);
* measured energy: device boundary x (1 + host) x PUE; IT boundary x PUE; facility as is.
  CodeCarbon energy is IT energy and already includes its own PUE setting only when the
  user says so (boundary "facility");
* usage: measured kWh; else device-hours x TDP x inference utilisation; else requests x
  energy per request (Power Hungry Processing per task, or ML.ENERGY per request for chat
  and code); else output tokens x energy per token (EcoLogits: the GPUs holding the model,
  ceil(1.2 x P_total x 16 bits / 8 / 80 GB), x one GPU's Wh = a e^(b B) P + c, P in
  billions of active parameters, batch B = 64; input tokens are not counted: the
  methodology notes give no term for them);
* embodied, amortised: device-hours x (accelerator + server share kgCO2e) / lifetime hours,
  whatever method gave the energy: a usage row's device-hours, else the deployment's
  devices x the hours of the row's period (else, with no device count, the hours implied
  by its estimated accelerator energy); capital goods: the whole hardware in the quarter
  it was bought (self-hosted deployments), own hardware with no such purchase record
  (training runs) still amortised;
* uncertainty: each line's own range, widened by its grid factor's range (exact zone and
  year, year fallback, country or world fallback: ``core.factors.grid_range``).

What cannot be estimated is said in a note per entry (:data:`SKIPPED` lists them) and
counted per reason by :func:`not_estimated` for an estimate's notes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import columns, factors, schema
from core.activity import Activity
from core.assumptions import (
    Assumptions,
    HardwareTable,
    SiteTable,
    hardware_table,
    load_assumptions,
    site_grid_lookup,
    site_table,
)

__all__ = [
    "Assumptions",
    "HardwareTable",
    "Lines",
    "SiteTable",
    "build_lines",
    "hardware_table",
    "load_assumptions",
    "site_table",
]

HOURS_PER_YEAR = 8760.0
TIERS = ("measured", "activity-based", "token-based", "default")
KINDS = ("training", "inference", "api", "embodied")
MEASURED, ACTIVITY, TOKEN, DEFAULT = range(4)
TRAINING, INFERENCE, API, EMBODIED = range(4)

#: shared assumptions a line may depend on (bit positions in ``Lines.shared``)
SHARED = (
    "utilisation_training",
    "utilisation_inference",
    "host_overhead_ratio",
    "pue_default",
    "embodied_lifetime_years",
    "embodied_server_per_accelerator_kgco2e",
)
U_TRAIN, U_INF, HOST, PUE_DEF, LIFETIME, SERVER = (1 << i for i in range(len(SHARED)))

#: model task -> Power Hungry Processing task (kWh per 1,000 inferences)
_PHP_TASK = {
    "classification": "php:text-classification",
    "question-answering": "php:extractive-qa",
    "text-generation": "php:text-generation",
    "summarisation": "php:summarisation",
    "image-classification": "php:image-classification",
    "object-detection": "php:object-detection",
    "image-generation": "php:image-generation",
    "embedding": "php:masked-lm",
}
_CHAT_TASKS = ("chat", "code")
#: ML.ENERGY dense buckets (billions of parameters) for chat energy per request/token ranges
_MLE_BUCKETS = (
    (8, "dense-8b"),
    (13, "dense-12b-14b"),
    (30, "dense-27b-32b"),
    (70, "dense-70b"),
    (405, "dense-405b"),
)
#: model size assumed when a model's parameter count is unknown (closed API models)
UNKNOWN_PARAMS_B = 70.0


@dataclass
class Lines:
    """One row per activity line; every array has the same length.

    Energies in kWh, embodied in kgCO2e, days as ``datetime64[D]`` (NaT when undated).
    ``rel_low``/``rel_high`` bound the line's own (independent) uncertainty as a factor
    of its central value; ``shared`` has a bit per shared assumption it used (``SHARED``).
    """

    entry_table: np.ndarray  # index into ENTRY_TABLES
    entry_id: np.ndarray
    kind: np.ndarray  # TRAINING, INFERENCE, API, EMBODIED
    tier: np.ndarray
    site: np.ndarray  # index into SiteTable
    hardware: np.ndarray  # index into the hardware table (last: none)
    start: np.ndarray
    end: np.ndarray
    device_hours: np.ndarray
    device_kwh: np.ndarray
    it_kwh: np.ndarray
    facility_kwh: np.ndarray
    embodied_kg: np.ndarray
    rel_low: np.ndarray
    rel_high: np.ndarray
    shared: np.ndarray
    source_row: np.ndarray  # training run or usage id (0 for derived lines)

    def __len__(self) -> int:
        return len(self.kind)

    def entry_keys(self) -> np.ndarray:
        """One int64 per line naming its entry (table index and id)."""
        return entry_key(self.entry_table, self.entry_id)

    def appended(self, more: Lines) -> Lines:
        """These lines followed by ``more``."""
        return Lines(
            **{k: columns.append(getattr(self, k), getattr(more, k)) for k in _LINE_FIELDS}
        )


def entry_key(table: np.ndarray | int, rid: np.ndarray | int) -> np.ndarray:
    """Entries (training run or deployment) as int64 keys: table index x 2^40 + id."""
    return np.asarray(table, dtype=np.int64) * 2**40 + np.asarray(rid, dtype=np.int64)


ENTRY_TABLES = ("training_runs", "deployments")
_LINE_FIELDS = tuple(Lines.__dataclass_fields__)
_INT_COLUMNS = (
    "entry_table",
    "entry_id",
    "kind",
    "tier",
    "site",
    "hardware",
    "shared",
    "source_row",
)
_DAY_COLUMNS = ("start", "end")

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


class _Builder:
    """Collects lines group by group, then concatenates them into :class:`Lines`."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, dict[str, Any]]] = []

    def add(self, **cols: Any) -> None:
        n = len(cols["entry_id"])
        if n:
            self.parts.append((n, cols))

    def build(self, reserve: int = 0) -> Lines:
        """The lines collected, each column written once into its final array; with
        room for ``reserve`` more lines behind it (see ``core.columns.append``)."""
        total = sum(n for n, _ in self.parts)
        out = {}
        for k in _LINE_FIELDS:
            dtype = (
                np.int64
                if k in _INT_COLUMNS
                else "datetime64[D]"
                if k in _DAY_COLUMNS
                else np.float64
            )
            column = np.empty(total + reserve, dtype=dtype)
            at = 0
            for n, cols in self.parts:
                column[at : at + n] = cols[k]  # scalars are broadcast
                at += n
            out[k] = column[:total]
        return Lines(**out)


def build_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    convention: str = "amortised",
) -> tuple[Lines, Notes]:
    """Every activity line of the inventory, and plain-English notes per entry."""
    notes: Notes = {}
    b = _Builder()
    _training_lines(activity, a, sites, hw, b, notes)
    _usage_lines(activity, a, sites, hw, b, notes)
    _always_on_lines(activity, a, sites, hw, b, notes)
    # room behind the operational lines for the embodied ones (at most one per
    # operational line, plus one per deployment under the capital-goods convention)
    operational = b.build(reserve=sum(n for n, _ in b.parts) + len(activity.deployments))
    _widen_by_grid_range(operational, sites, a)
    e = _Builder()
    _embodied_lines(activity, a, sites, hw, operational, e, notes, convention)
    return operational.appended(e.build()), notes


def grid_ranges(
    site: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    sites: SiteTable,
    a: Assumptions,
    today: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the range of its location-based grid factor as ratios to the factor
    (low, high), from :func:`core.factors.grid_range` (exact, year gap, country or world
    fallback); the wider of the factors of its first and last year (years between are no
    further from the data). Undated lines take this year's factor, as their month piece
    does. A site's own factor (and an override without a range) is taken as known: 1, 1."""
    lo_w, hi_w = _grid_log_widths(site, start, end, sites, a, today)
    return np.exp(-lo_w), np.exp(hi_w)


def _years(days: np.ndarray, dated: np.ndarray, now: int) -> np.ndarray:
    """Calendar year of each day (``datetime64[D]``); ``now`` where not ``dated``. Through a
    day -> year table over the days' span (a gather instead of a date conversion)."""
    d = days.view(np.int64)
    if not dated.any():
        return np.full(len(d), now, dtype=np.int32)
    first, last = int(d[dated].min()), int(d[dated].max())
    if last - first > 2_000_000:  # pragma: no cover - dates thousands of years apart
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        return np.where(dated, years, now)
    span = np.arange(first, last + 1).astype("datetime64[D]")
    table = (span.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int32)
    if dated.all():
        return table[d - first]
    return np.where(dated, table[np.where(dated, d - first, 0)], now)


def _grid_log_widths(
    site: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    sites: SiteTable,
    a: Assumptions,
    today: dt.date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: -ln(low) and ln(high) of :func:`grid_ranges`. Each distinct site and
    year is looked up once (a table over sites x years, or the distinct pairs when that
    table would be large)."""
    n = len(site)
    if not n:
        return np.zeros(0), np.zeros(0)
    now = (today or dt.date.today()).year
    dated = ~np.isnat(start) & ~np.isnat(end)
    first, last = _years(start, dated, now), _years(end, dated, now)
    y0 = int(min(first.min(), last.min()))
    span = int(max(first.max(), last.max())) - y0 + 1
    if len(sites.names) * span <= 4_000_000:  # keys fit in int32: half the memory traffic
        base = site.astype(np.int32) * np.int32(span) - np.int32(y0)
        k0, k1 = base + first, base + last
        same = bool(np.array_equal(k0, k1))  # most lines start and end in one year
        present = np.zeros(len(sites.names) * span, dtype=bool)
        present[k0] = True
        if not same:
            present[k1] = True
        keys = np.flatnonzero(present)
        where = np.zeros(len(present), dtype=np.int32)
        where[keys] = np.arange(len(keys), dtype=np.int32)
        i0 = where[k0]
        i1 = i0 if same else where[k1]
    else:  # pragma: no cover - dates over thousands of years at thousands of sites
        base = site.astype(np.int64) * span - y0
        k0, k1 = base + first, base + last
        same = False
        keys, inverse = np.unique(np.concatenate([k0, k1]), return_inverse=True)
        i0, i1 = inverse[:n], inverse[n:]
    lo, hi = np.zeros(len(keys)), np.zeros(len(keys))
    for i, key in enumerate(keys.tolist()):
        found = site_grid_lookup(sites, key // span, y0 + key % span, a)
        if found is not None:
            low, high, _ = factors.grid_range(found, a.params)
            lo[i], hi[i] = -math.log(low), math.log(high)
    if same:
        return lo[i0], hi[i0]
    return np.maximum(lo[i0], lo[i1]), np.maximum(hi[i0], hi[i1])


def _widen_by_grid_range(lines: Lines, sites: SiteTable, a: Assumptions) -> None:
    """Fold each operational line's grid factor range (:func:`grid_ranges`) into its own
    range, in place: the log widths add in quadrature (independent errors).

    The Monte Carlo draws a line's own range once per entry, so a grid factor's error is
    drawn per entry too, not shared by every entry on the same grid."""
    if not len(lines):
        return
    g_lo, g_hi = _grid_log_widths(lines.site, lines.start, lines.end, sites, a)
    wider = (g_lo > 0) | (g_hi > 0)
    if not wider.any():
        return
    for rel, g, sign in ((lines.rel_low, g_lo, -1.0), (lines.rel_high, g_hi, 1.0)):
        own = np.log(np.clip(rel, 1e-12, 1.0) if sign < 0 else np.maximum(rel, 1.0))
        own *= own
        own += g * g
        np.sqrt(own, out=own)
        own *= sign
        np.exp(own, out=own)
        if wider.all():
            rel[:] = own
        else:
            rel[:] = np.where(wider, own, rel)


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


def _index(table: Any, ids: np.ndarray, none_row: int) -> np.ndarray:
    idx = table.index_of(ids)
    return np.where(idx < 0, none_row, idx)


def _stated_pue(sites: SiteTable) -> np.ndarray:
    """Per site, whether its PUE is the user's own figure (else a default with a range,
    listed among the defaults an estimate used; see ``SiteTable``)."""
    if len(sites.pue_stated) == len(sites.pue_source):
        return sites.pue_stated
    return np.array([s.startswith("site '") for s in sites.pue_source])


def _nan_to(x: np.ndarray, value: float) -> np.ndarray:
    return np.where(np.isnan(x), value, x)


def _boundary_energy(
    energy: np.ndarray, boundary: np.ndarray, pue: np.ndarray, host: float
) -> tuple[np.ndarray, np.ndarray]:
    """IT and facility kWh of measured energy by boundary (0 device, 1 IT, 2 facility;
    -1 unknown is taken as IT, the boundary of CodeCarbon and of server meters)."""
    it = np.where(boundary == 0, energy * (1 + host), np.where(boundary == 2, energy / pue, energy))
    facility = np.where(boundary == 2, energy, it * pue)
    return it, facility


def token_wh(params_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """EcoLogits energy per output token of one GPU (Wh) for ``params_b`` billion active
    parameters: a x exp(b x batch) x P_active + c."""
    c = {k: float(a.inference[f"ecologits:{k}"]["central"]) for k in ("a", "b", "c", "batch")}
    return c["a"] * math.exp(c["b"] * c["batch"]) * np.asarray(params_b, dtype=float) + c["c"]


#: EcoLogits' GPU count (methodology page; Q from its code): 1.2 x P_total x 16 bits / 8
#: GB over 80 GB per GPU, rounded up. Used when the reference table lacks the rows.
_GPU_COUNT_DEFAULTS = {"memory_overhead": 1.2, "quantization_bits": 16.0, "gpu_memory_gb": 80.0}


def model_memory_gb(params_total_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """GPU memory (GB) to hold a model of ``params_total_b`` billion parameters for
    inference, as EcoLogits estimates it: overhead x P_total x bits per parameter / 8."""
    c = {
        k: float(a.inference[f"ecologits:{k}"]["central"]) if f"ecologits:{k}" in a.inference else v
        for k, v in _GPU_COUNT_DEFAULTS.items()
    }
    p = np.asarray(params_total_b, dtype=float)
    return c["memory_overhead"] * p * c["quantization_bits"] / 8.0


def token_gpus(params_total_b: np.ndarray | float, a: Assumptions) -> np.ndarray:
    """Number of GPUs that hold the model (EcoLogits): its memory (:func:`model_memory_gb`)
    over one GPU's memory (``ecologits:gpu_memory_gb``, 80 GB), rounded up; at least 1."""
    row = a.inference.get("ecologits:gpu_memory_gb")
    gpu_gb = float(row["central"]) if row else _GPU_COUNT_DEFAULTS["gpu_memory_gb"]
    need = model_memory_gb(params_total_b, a) / gpu_gb
    # a hair of tolerance: 1.2 x 33.33 x 2 is 80 GB, one GPU, whatever the rounding
    return np.maximum(np.ceil(need - 1e-9), 1.0)


def token_energy_wh(
    params_active_b: np.ndarray | float, params_total_b: np.ndarray | float, a: Assumptions
) -> np.ndarray:
    """GPU energy per output token of the whole model (Wh): the GPUs holding it
    (:func:`token_gpus`, from total parameters) x one GPU's energy per token
    (:func:`token_wh`, from active parameters). Server share (the engine's host overhead)
    and PUE come on top, as for every method."""
    return token_gpus(params_total_b, a) * token_wh(params_active_b, a)


def token_range(
    active_b: np.ndarray, total_b: np.ndarray, known: np.ndarray, a: Assumptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model: GPU energy per output token (Wh, :func:`token_energy_wh`) and its range
    as ratios to it (low, high).

    The range is ML.ENERGY's measured spread for the nearest H100 size bucket (all GPUs
    of each configuration), as a ratio to its median, widened to take in the measured
    minimum and maximum themselves (the formula with its GPU count lies above the
    measured median for large models). A model of unknown size (``known`` False) is
    taken at :data:`UNKNOWN_PARAMS_B` with a range from the least energy measured for an
    8B model to the most measured for a 405B one (or the formula's own figures for those
    sizes, where further out).
    """
    wh = token_energy_wh(active_b, total_b, a)
    mle_j, mle_lo, mle_hi = mle_range(active_b, "token", a)
    lo = np.minimum(np.minimum(mle_lo, mle_j * mle_lo / 3600.0 / wh), 1.0)
    hi = np.maximum(np.maximum(mle_hi, mle_j * mle_hi / 3600.0 / wh), 1.0)
    if not np.all(known):
        ends = np.array([8.0, 405.0])
        e_wh = token_energy_wh(ends, ends, a)
        e_j, e_lo, e_hi = mle_range(ends, "token", a)
        ref = token_energy_wh(UNKNOWN_PARAMS_B, UNKNOWN_PARAMS_B, a)
        least = min(e_wh[0], e_j[0] * e_lo[0] / 3600.0) / ref
        most = max(e_wh[1], e_j[1] * e_hi[1] / 3600.0) / ref
        lo = np.where(known, lo, min(least, 1.0))
        hi = np.where(known, hi, max(most, 1.0))
    return wh, lo, hi


#: why input tokens do not count (a documented exclusion)
INPUT_TOKENS_NOTE = (
    "input tokens are not counted: the methodology notes give no input-token term (the "
    "EcoLogits formula is per output token)"
)


def _bucket(params_b: float) -> str:
    return min(_MLE_BUCKETS, key=lambda bk: abs(math.log(bk[0] / max(params_b, 0.1))))[1]


def mle_range(params_b: np.ndarray, metric: str, a: Assumptions) -> tuple[np.ndarray, ...]:
    """ML.ENERGY H100 chat figures per line by nearest dense size bucket: (central in J,
    low/central, high/central) for ``metric`` ``token`` (J/token) or ``request``.

    Looks up each distinct model size once, then maps back (a million usage rows have a
    handful of sizes)."""
    sizes, inverse = np.unique(np.asarray(params_b, dtype=float), return_inverse=True)
    table = np.empty((3, len(sizes)))
    for i, p in enumerate(sizes.tolist()):
        row = a.inference[f"mlenergy:chat:h100:{_bucket(p)}:{metric}"]
        c = float(row["central"])
        table[:, i] = (c, float(row["low"]) / c, float(row["high"]) / c)
    out = table[:, inverse.ravel()]
    return out[0], out[1], out[2]


def _training_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    r = activity.training_runs
    if not len(r):
        return
    ids = r.ids
    site = _index(activity.sites, r["site_id"], len(sites.names) - 1)
    h = _index(activity.hardware, r["hardware_id"], len(hw.names) - 1)
    pue = sites.pue[site]
    host = a.param("host_overhead_ratio").value
    util = a.param("utilisation_training").value
    start, end = r["start_date"], r["end_date"]
    dated = ~np.isnat(start) & ~np.isnat(end)
    days = np.where(dated, (end - start).astype(np.int64) + 1, 0)
    devices = r["device_count"]
    dev_hours = r["device_hours"].copy()
    from_wall = np.isnan(dev_hours) & ~np.isnan(r["wall_hours"]) & ~np.isnan(devices)
    dev_hours[from_wall] = (devices * r["wall_hours"])[from_wall]
    from_dates = np.isnan(dev_hours) & dated & ~np.isnan(devices)
    dev_hours[from_dates] = (devices * days * 24.0)[from_dates]
    power_given = ~np.isnan(r["avg_power_w"])
    power = np.where(power_given, r["avg_power_w"], hw.tdp[h] * util)
    measured = ~np.isnan(r["energy_kwh"])
    boundary = r["energy_boundary"]
    m_it, m_fac = _boundary_energy(_nan_to(r["energy_kwh"], 0.0), boundary, pue, host)
    device = dev_hours * power / 1000.0
    act_ok = ~measured & ~np.isnan(device)
    it = np.where(measured, m_it, np.where(act_ok, _nan_to(device, 0.0) * (1 + host), 0.0))
    shared = (
        np.where((measured & (boundary == 0)) | act_ok, HOST, 0)
        | np.where(act_ok & ~power_given, U_TRAIN, 0)
        | np.where(~_stated_pue(sites)[site] & (~measured | (boundary != 2)), PUE_DEF, 0)
    )
    # why a run without measured energy got none: each reason its own note
    no_hours = ~measured & np.isnan(dev_hours)
    no_power = ~measured & np.isnan(power)
    _note(notes, 0, ids, no_hours, T_NO_HOURS)
    _note(notes, 0, ids, ~measured & (dev_hours == 0), T_ZERO_HOURS)
    _note(notes, 0, ids, no_power & (h == len(hw.names) - 1), T_NO_HARDWARE)
    _note(notes, 0, ids, no_power & (h < len(hw.names) - 1), T_NO_TDP)
    _note(notes, 0, ids, ~dated, "no start and end dates: counted only in all-time totals")
    _note(
        notes,
        0,
        ids,
        measured & (boundary < 0),
        "measured energy without a boundary: taken as IT energy",
    )
    _note(
        notes,
        0,
        ids,
        act_ok & ~power_given,
        "power per device: hardware TDP x average training utilisation (default)",
    )
    _note(
        notes,
        0,
        ids,
        site == len(sites.names) - 1,
        "no site: world-average grid factor and industry-average PUE",
    )
    b.add(
        entry_table=0,
        entry_id=ids,
        kind=TRAINING,
        tier=np.where(measured, MEASURED, ACTIVITY),
        site=site,
        hardware=h,
        start=start,
        end=end,
        device_hours=dev_hours,
        device_kwh=np.where(measured, np.where(boundary == 0, r["energy_kwh"], np.nan), device),
        it_kwh=it,
        facility_kwh=np.where(measured, m_fac, it * pue),
        embodied_kg=0.0,
        rel_low=np.where(measured, 0.95, 0.9),
        rel_high=np.where(measured, 1.05, 1.1),
        shared=shared,
        source_row=ids,
    )


def _model_columns(
    activity: Activity, model_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active parameters, total parameters, both in billions or NaN, and task code or -1)
    per model id. Active falls back to total and total to active (a dense model)."""
    m = activity.models
    idx = m.index_of(model_ids)
    ok = idx >= 0
    active = np.full(len(model_ids), np.nan)
    total = np.full(len(model_ids), np.nan)
    task = np.full(len(model_ids), -1)
    if len(m):
        given_active, given_total = m["params_active_b"], m["params_total_b"]
        act = np.where(np.isnan(given_active), given_total, given_active)
        tot = np.where(np.isnan(given_total), given_active, given_total)
        active[ok] = act[idx[ok]]
        total[ok] = np.maximum(tot, act)[idx[ok]]  # never fewer than the active ones
        task[ok] = m["task"][idx[ok]]
    return active, total, task


def _usage_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    u, d = activity.usage, activity.deployments
    if not len(u):
        return
    di = d.index_of(u["deployment_id"])
    dep_ids = u["deployment_id"]
    # what depends only on the deployment is worked out per deployment, then spread
    # over its usage rows (50,000 lookups instead of a million)
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)[di]
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)[di]
    dep_kind = d["kind"][di]  # 0 self-hosted, 1 cloud, 2 api
    dep_params, dep_total, dep_task = _model_columns(activity, d["model_id"])
    params_b, task = dep_params[di], dep_task[di]
    pue = sites.pue[site]
    host = a.param("host_overhead_ratio").value
    util = a.param("utilisation_inference").value
    api = dep_kind == 2
    tasks = [v for v, _ in schema.MODELS.field("task").choices]

    measured = ~np.isnan(u["energy_kwh"])
    m_it, m_fac = _boundary_energy(_nan_to(u["energy_kwh"], 0.0), u["energy_boundary"], pue, host)
    dev = ~measured & ~api & ~np.isnan(u["device_hours"]) & ~np.isnan(hw.tdp[h])
    dev_kwh = u["device_hours"] * hw.tdp[h] * util / 1000.0

    # requests x energy per request: Power Hungry Processing by task (IT energy of a node),
    # or ML.ENERGY chat per request (GPU only) for chat and code models
    by_task = np.full((3, len(tasks) + 1), np.nan)  # last column: no task
    by_task[1:] = 1.0
    for code, name in enumerate(tasks):
        key = _PHP_TASK.get(name)
        if key and key in a.inference:
            row = a.inference[key]
            c = float(row["central"])
            by_task[:, code] = (c / 1000.0, float(row["low"] or c) / c, float(row["high"] or c) / c)
    php, php_lo, php_hi = by_task[:, np.where(task < 0, len(tasks), task)]  # kWh/inference
    chat = np.isin(task, [tasks.index(t) for t in _CHAT_TASKS])
    known = ~np.isnan(params_b)
    dep_known = ~np.isnan(dep_params)
    dep_size = np.where(dep_known, dep_params, UNKNOWN_PARAMS_B)
    dep_total_size = np.where(dep_known, dep_total, UNKNOWN_PARAMS_B)
    req_j, req_lo, req_hi = (x[di] for x in mle_range(dep_size, "request", a))
    has_req = ~np.isnan(u["requests"])
    has_tok = ~np.isnan(u["output_tokens"])
    # API usage prefers tokens; own deployments follow measured > hours > requests > tokens
    by_tokens = ~measured & ~dev & has_tok & (api | ~has_req | (np.isnan(php) & ~chat))
    by_req = ~measured & ~dev & ~by_tokens & has_req & (~np.isnan(php) | chat)
    req_kwh = np.where(
        ~np.isnan(php), u["requests"] * php, u["requests"] * req_j / 3.6e6
    )  # J -> kWh
    # output tokens x the GPUs holding the model x one GPU's energy per token (EcoLogits),
    # worked out per deployment
    dep_tok_wh, dep_tok_lo, dep_tok_hi = token_range(dep_size, dep_total_size, dep_known, a)
    tok_kwh = u["output_tokens"] * dep_tok_wh[di] / 1000.0
    tok_lo, tok_hi = dep_tok_lo[di], dep_tok_hi[di]
    if not known.all():  # unknown size, per request: from the 8B to the 405B bucket
        lo_r = token_wh(8.0, a) / token_wh(UNKNOWN_PARAMS_B, a)
        hi_r = token_wh(405.0, a) / token_wh(UNKNOWN_PARAMS_B, a)
        req_lo = np.where(known, req_lo, req_lo * lo_r)
        req_hi = np.where(known, req_hi, req_hi * hi_r)

    device = np.select(
        [dev, by_req & np.isnan(php), by_tokens], [dev_kwh, req_kwh, tok_kwh], default=np.nan
    )
    it_est = np.select(
        [dev, by_req & ~np.isnan(php)],
        [dev_kwh * (1 + host), req_kwh],
        default=_nan_to(device, 0.0) * (1 + host),
    )
    it = np.where(measured, m_it, it_est)
    facility = np.where(measured, m_fac, it * pue)
    estimated = measured | dev | by_req | by_tokens
    it = np.where(estimated, it, 0.0)
    facility = np.where(estimated, facility, 0.0)
    needs_size = by_tokens | (by_req & np.isnan(php))  # per-request PHP needs no size
    tier = np.select(
        [measured, dev, ~known & needs_size], [MEASURED, ACTIVITY, DEFAULT], default=TOKEN
    )
    rel_low = np.select(
        [measured, dev, by_req & ~np.isnan(php), by_req, by_tokens],
        [0.95, 0.9, php_lo, req_lo, tok_lo],
        default=1.0,
    )
    rel_high = np.select(
        [measured, dev, by_req & ~np.isnan(php), by_req, by_tokens],
        [1.05, 1.1, php_hi, req_hi, tok_hi],
        default=1.0,
    )
    uses_host = (measured & (u["energy_boundary"] == 0)) | dev | by_tokens | (by_req & chat)
    shared = (
        np.where(uses_host, HOST, 0)
        | np.where(dev, U_INF, 0)
        | np.where(~_stated_pue(sites)[site] & estimated, PUE_DEF, 0)
    )
    # device-hours of the hardware, for embodied amortisation, whatever gave the energy:
    # the row's own device-hours; else the deployment's devices x the hours of the row's
    # period; else (no device count) the hours implied by an estimated accelerator energy
    # at the inference utilisation. API usage: none (the provider's hardware).
    given_hours = ~np.isnan(u["device_hours"])
    period_days = (u["period_end"] - u["period_start"]).astype(np.int64) + 1
    dated = ~np.isnat(u["period_start"]) & ~np.isnat(u["period_end"])
    period_hours = d["device_count"][di] * np.where(dated, period_days, np.nan) * 24.0
    implied = device * 1000.0 / (hw.tdp[h] * util)  # NaN without device energy or TDP
    dev_hours = np.select(
        [api, given_hours, ~np.isnan(period_hours)],
        [np.nan, u["device_hours"], period_hours],
        default=implied,
    )

    no_tdp = ~estimated & ~api & given_hours & np.isnan(hw.tdp[h])
    _note(notes, 1, dep_ids, ~estimated & ~no_tdp, U_NOTHING)
    _note(notes, 1, dep_ids, no_tdp, U_NO_TDP)
    _note(
        notes,
        1,
        dep_ids,
        ~known & needs_size,
        f"model size unknown: assumed {UNKNOWN_PARAMS_B:g} billion active parameters, "
        "range from 8 to 405 billion",
    )
    _note(notes, 1, dep_ids, by_tokens, INPUT_TOKENS_NOTE)
    _note(
        notes,
        1,
        dep_ids,
        by_req & ~np.isnan(php),
        "energy per request: Power Hungry Processing mean for the model's task",
    )
    _note(
        notes,
        1,
        dep_ids,
        by_req & np.isnan(php) & chat,
        "energy per request: ML.ENERGY chat measurement for the model's size",
    )
    _note(
        notes,
        1,
        dep_ids,
        api,
        "API usage: the provider's hardware embodied emissions are not included (not published)",
    )
    b.add(
        entry_table=1,
        entry_id=dep_ids,
        kind=np.where(api, API, INFERENCE),
        tier=tier,
        site=site,
        hardware=h,
        start=u["period_start"],
        end=u["period_end"],
        device_hours=dev_hours,
        device_kwh=np.where(measured, np.nan, device),
        it_kwh=it,
        facility_kwh=facility,
        embodied_kg=0.0,
        rel_low=rel_low,
        rel_high=rel_high,
        shared=shared,
        source_row=u.ids,
    )


def _always_on_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    """Self-hosted and cloud deployments with devices and dates but no usage records run
    all the time at the default inference utilisation (tier "default")."""
    d = activity.deployments
    if not len(d):
        return
    has_usage = (
        np.isin(d.ids, activity.usage["deployment_id"])
        if len(activity.usage)
        else (np.zeros(len(d), dtype=bool))
    )
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)
    start, end = d["start_date"], d["end_date"]
    own = ~has_usage & (d["kind"] != 2)
    ok = (
        own
        & ~np.isnat(start)
        & ~np.isnat(end)
        & ~np.isnan(d["device_count"])
        & ~np.isnan(hw.tdp[h])
    )
    # the rest have no activity to estimate from: say so, one reason each
    _note(notes, 1, d.ids, ~has_usage & (d["kind"] == 2), D_API)
    _note(notes, 1, d.ids, own & np.isnat(start), D_UNDATED)
    dated = own & ~np.isnat(start)
    _note(notes, 1, d.ids, dated & np.isnat(end), D_ONGOING)
    _note(notes, 1, d.ids, dated & ~np.isnat(end) & np.isnan(d["device_count"]), D_NO_DEVICES)
    sized = dated & ~np.isnat(end) & ~np.isnan(d["device_count"])
    _note(notes, 1, d.ids, sized & np.isnan(hw.tdp[h]), D_NO_TDP)
    if not ok.any():
        return
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)
    days = (end - start).astype(np.int64) + 1
    dev_hours = d["device_count"] * days * 24.0
    util = a.param("utilisation_inference").value
    host = a.param("host_overhead_ratio").value
    device = dev_hours * hw.tdp[h] * util / 1000.0
    it = device * (1 + host)
    _note(
        notes,
        1,
        d.ids,
        ok,
        "no usage records: assumed running all the time between its "
        "dates at the average inference utilisation",
    )
    sel = np.flatnonzero(ok)
    b.add(
        entry_table=1,
        entry_id=d.ids[sel],
        kind=INFERENCE,
        tier=DEFAULT,
        site=site[sel],
        hardware=h[sel],
        start=start[sel],
        end=end[sel],
        device_hours=dev_hours[sel],
        device_kwh=device[sel],
        it_kwh=it[sel],
        facility_kwh=(it * sites.pue[site])[sel],
        embodied_kg=0.0,
        rel_low=0.9,
        rel_high=1.1,
        shared=(U_INF | HOST | np.where(~_stated_pue(sites)[site], PUE_DEF, 0))[sel],
        source_row=0,
    )


def _embodied_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    ops: Lines,
    b: _Builder,
    notes: Notes,
    convention: str,
) -> None:
    """Embodied emissions: amortised by device-hours, or (capital goods) the whole hardware
    of self-hosted deployments in the quarter they started; under capital goods, own
    hardware with no purchase record (training runs, deployments without a start date or
    device count) stays amortised (:data:`CAPITAL_AMORTISED`)."""
    server = a.param("embodied_server_per_accelerator_kgco2e").value
    lifetime = a.param("embodied_lifetime_years").value
    per_device = _nan_to(hw.embodied, 0.0) + np.where(hw.accelerator, server, 0.0)
    life_h = _nan_to(hw.lifetime, lifetime) * HOURS_PER_YEAR
    shared_life = np.where(np.isnan(hw.lifetime), LIFETIME, 0)
    capital = convention == "capital-goods"
    # Amortised lines: everything with device-hours, except, under the capital-goods
    # convention, the lines of the deployments whose hardware is counted at purchase. Own
    # hardware with no purchase record (training clusters; deployments without a start
    # date or device count) stays amortised, so it is not left out.
    amortise = ~np.isnan(ops.device_hours) & (ops.hardware < len(hw.names) - 1)
    bought = np.zeros(len(ops), dtype=bool)
    if capital:
        purchase, _, _ = _purchases(activity, sites, hw)
        dep_lines = np.flatnonzero(ops.entry_table == 1)
        pos = activity.deployments.index_of(ops.entry_id[dep_lines])
        if len(purchase):
            bought[dep_lines] = (pos >= 0) & purchase[np.maximum(pos, 0)]
        amortise &= ~bought
    kg = _nan_to(ops.device_hours, 0.0) * per_device[ops.hardware] / life_h[ops.hardware]
    counted = amortise & (kg > 0)
    sel = np.flatnonzero(counted)
    missing = counted & np.isnan(hw.embodied[ops.hardware])
    # lines that could carry embodied emissions but do not: no hardware, or (amortised)
    # no hours; API usage runs on the provider's hardware (noted with the usage lines)
    could = ops.kind != API
    no_hardware = could & (ops.hardware == len(hw.names) - 1)
    no_hours = could & ~no_hardware & np.isnan(ops.device_hours) & ~bought
    # own hardware amortised although the convention is capital goods: say why
    kept = counted & sites.scope2[ops.site] if capital else np.zeros(len(ops), dtype=bool)
    for t in (0, 1):
        m = ops.entry_table == t
        _note(
            notes,
            t,
            ops.entry_id,
            missing & m,
            "no embodied figure for this hardware: only the server share is counted",
        )
        _note(notes, t, ops.entry_id, no_hardware & m, E_NO_HARDWARE)
        _note(notes, t, ops.entry_id, no_hours & m, E_NO_HOURS)
        _note(notes, t, ops.entry_id, kept & m, CAPITAL_AMORTISED)
    b.add(
        entry_table=ops.entry_table[sel],
        entry_id=ops.entry_id[sel],
        kind=EMBODIED,
        # derived from device-hours, never measured: a measured line's embodied part is
        # activity-based
        tier=np.where(ops.tier[sel] == MEASURED, ACTIVITY, ops.tier[sel]),
        site=ops.site[sel],
        hardware=ops.hardware[sel],
        start=ops.start[sel],
        end=ops.end[sel],
        device_hours=ops.device_hours[sel],
        device_kwh=0.0,
        it_kwh=0.0,
        facility_kwh=0.0,
        embodied_kg=kg[sel],
        rel_low=0.7,
        rel_high=1.3,  # embodied figures: +-30 % (judgement; LCA spreads)
        shared=(SERVER | shared_life[ops.hardware])[sel],
        source_row=ops.source_row[sel],
    )
    if capital:
        _capital_goods(activity, sites, hw, per_device, b, notes)


#: own hardware amortised under the capital-goods convention, and why
CAPITAL_AMORTISED = (
    "capital goods: no purchase record for this hardware (purchases are read from "
    "self-hosted deployments at own or colocation sites with a start date, a device count "
    "and hardware), so its embodied emissions stay amortised by device-hours"
)


def _purchases(
    activity: Activity, sites: SiteTable, hw: HardwareTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per deployment: whether it is a purchase of hardware under the capital-goods
    convention (self-hosted, at an own or colocation site, with a start date, a device
    count and hardware), and its site and hardware indices."""
    d = activity.deployments
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)
    own = (
        sites.scope2[site]
        & (d["kind"] == 0)
        & ~np.isnat(d["start_date"])
        & ~np.isnan(d["device_count"])
        & (h < len(hw.names) - 1)
    )
    return own, site, h


def _capital_goods(
    activity: Activity,
    sites: SiteTable,
    hw: HardwareTable,
    per_device: np.ndarray,
    b: _Builder,
    notes: Notes,
) -> None:
    d = activity.deployments
    if not len(d):
        return
    own, site, h = _purchases(activity, sites, hw)
    sel = np.flatnonzero(own)
    kg = d["device_count"] * per_device[h]
    _note(
        notes,
        1,
        d.ids,
        own,
        "capital goods: the hardware's embodied emissions are "
        "counted in full when the deployment started",
    )
    b.add(
        entry_table=1,
        entry_id=d.ids[sel],
        kind=EMBODIED,
        tier=ACTIVITY,
        site=site[sel],
        hardware=h[sel],
        start=d["start_date"][sel],
        end=d["start_date"][sel],
        device_hours=np.nan,
        device_kwh=0.0,
        it_kwh=0.0,
        facility_kwh=0.0,
        embodied_kg=kg[sel],
        rel_low=0.7,
        rel_high=1.3,
        shared=SERVER,
        source_row=0,
    )
