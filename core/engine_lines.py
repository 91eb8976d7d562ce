"""The engine's activity lines: their columns (:class:`Lines`), the vocabulary of kinds,
tiers and shared assumptions, the builder that concatenates groups of lines, and the
small array helpers the line builders share (units as in :class:`Lines`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core import columns
from core.assumptions import SiteTable

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
