"""The three factor tables of ``build_factors.py``, assembled from their families."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from .common import BuildError, _check_methodology, _methodology
from .equivalences import EQUIVALENCES
from .grid_cloud import ccf_rows, google_rows
from .grid_countries import owid_rows
from .grid_ranges import grid_range_params
from .grid_subnational import china_rows, egrid_rows, nordic_rows
from .inference_mlenergy import mlenergy_rows
from .inference_php import php_rows
from .inference_published import ecologits_rows, gemini_rows
from .parameters import LIFETIME, PUE_AVERAGE, SERVER_SHARE, Param, _provider_params
from .sources import CITED
from .tables import PARAMETER_COLUMNS, _row
from .utilisation import _host_overhead, _utilisation_inference, _utilisation_training

KIND_ORDER = {"world": 0, "country": 1, "subnational": 2, "cloud-region": 3}


def grid_rows(shared: Path) -> tuple[list[dict[str, str]], list[str]]:
    """All grid factor rows, sorted by kind, zone and year; and the skipped regions."""
    cloud, skipped = ccf_rows(shared)
    rows = [
        *owid_rows(shared),
        *egrid_rows(shared),
        *china_rows(shared),
        *nordic_rows(shared),
        *google_rows(shared),
        *cloud,
    ]
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["zone"], row["year"])
        if key in seen:
            raise BuildError(f"two grid factors for {key[0]} {key[1]}")
        seen.add(key)
    rows.sort(key=lambda r: (KIND_ORDER[r["kind"]], r["zone"], int(r["year"])))
    return rows, skipped


def parameter_list(shared: Path) -> list[Param]:
    """Every parameter row, in output order."""
    equivalences = [
        Param(name, v, v, v, unit, f"equivalence in reports: {what}", src, year, CITED, note, chk)
        for name, v, unit, what, src, year, note, chk in EQUIVALENCES
    ]
    return [
        PUE_AVERAGE,
        *_provider_params(),
        _utilisation_training(shared),
        _utilisation_inference(shared),
        _host_overhead(shared),
        LIFETIME,
        SERVER_SHARE,
        *grid_range_params(grid_rows(shared)[0]),
        *equivalences,
    ]


def parameter_rows(shared: Path) -> list[dict[str, str]]:
    """Parameter rows as text, after checking each curated figure against methodology.md."""
    methodology = _methodology(shared)
    rows = []
    for p in parameter_list(shared):
        _check_methodology(methodology, p.check, p.name)
        if not p.low <= p.central <= p.high:
            raise BuildError(f"{p.name}: low <= central <= high does not hold")
        cells = {k: v for k, v in asdict(p).items() if k != "check"}
        cells.update({k: f"{cells[k]:g}" for k in ("central", "low", "high")})
        rows.append(_row(PARAMETER_COLUMNS, **cells))
    return rows


def inference_rows(shared: Path) -> list[dict[str, str]]:
    """Every inference energy row; keys are unique."""
    rows = [*php_rows(shared), *mlenergy_rows(shared), *ecologits_rows(shared)]
    rows += gemini_rows(shared)
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        raise BuildError("duplicate inference energy keys")
    return rows
