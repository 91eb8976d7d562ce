"""Grid factors of cloud regions in gCO2e/kWh: Google Cloud (Google), AWS and Azure (CCF)."""

from __future__ import annotations

from pathlib import Path

from .common import _dec, _fmt, _read_csv
from .places import PLACE_FIXES  # Google's location names: same spelling fixes as sites
from .tables import GRID_COLUMNS, _row

GOOGLE_YEARS = range(2019, 2025)
GOOGLE_LIFECYCLE = "Lifecycle grid carbon intensity (gCO2eq / kWh)"
GOOGLE_GRID = "Grid carbon intensity (gCO2eq / kWh)"
GOOGLE_NOTES = {
    GOOGLE_LIFECYCLE: "Google's 'lifecycle grid carbon intensity' (2019-2020 files).",
    GOOGLE_GRID: (
        "Google's 'grid carbon intensity' (2021 onwards), described by Google as average "
        "operational gross emissions per kWh from the grid; the 2019-2020 files gave "
        "lifecycle figures, so years are not strictly comparable."
    ),
}
CFE_NOTE = (
    " cfe_pct is Google's hourly carbon-free energy share including its own purchases "
    "(market-style); the g/kWh figure is the grid's, without them."
)

CCF = "Cloud Carbon Footprint"
#: Vintage of a Cloud Carbon Footprint factor by its ``Source`` cell, from CCF's
#: methodology page that lists these same values. Rows whose vintage is not stated there
#: (EEA, EMA Singapore) are not shipped.
CCF_VINTAGES = {
    "EPA": (2019, "EPA eGRID2019, NERC region {nerc}", "NERC-region average."),
    "carbonfootprint.com": (
        2020,
        "carbonfootprint.com country factors for 2020 electricity, v1.3, July 2020",
        "Country average.",
    ),
}
CCF_PROVIDERS = (("aws", "AWS", "Country"), ("azure", "Azure", "Location"))


def google_rows(shared: Path) -> list[dict[str, str]]:
    """Google Cloud regions as ``gcp:<region>``, one row per region and year."""
    folder = shared / "data" / "grid_intensity" / "gcp_region_carbon_info"
    rows = []
    for year in GOOGLE_YEARS:
        path = folder / f"{year}.csv"
        for r in _read_csv(path):
            column = GOOGLE_LIFECYCLE if GOOGLE_LIFECYCLE in r else GOOGLE_GRID
            region, cfe = r["Google Cloud Region"], r["Google CFE"]
            where = f"{path.name} {region}"
            place = PLACE_FIXES.get(r["Location"], r["Location"])
            rows.append(
                _row(
                    GRID_COLUMNS,
                    zone=f"gcp:{region}",
                    zone_name=f"Google Cloud {region} ({place})",
                    kind="cloud-region",
                    year=year,
                    g_per_kwh=_fmt(_dec(r[column], where)),
                    cfe_pct=_fmt(_dec(cfe, where) * 100) if cfe else "",
                    gas="CO2e",
                    source=f"Google Cloud region carbon data {year}.csv (region-carbon-info)",
                    licence="Apache-2.0",
                    notes=GOOGLE_NOTES[column] + (CFE_NOTE if cfe else " No CFE figure."),
                )
            )
    return rows


def ccf_rows(shared: Path) -> tuple[list[dict[str, str]], list[str]]:
    """AWS and Azure regions from Cloud Carbon Footprint (t CO2e/kWh x 1e6 = g/kWh).

    Returns the rows and ``zone (reason)`` texts for the regions left out.
    """
    folder = shared / "data" / "cloud_carbon_footprint" / "data"
    rows, skipped = [], []
    for prefix, label, place_column in CCF_PROVIDERS:
        path = folder / f"grid-emissions-factors-{prefix}.csv"
        for r in _read_csv(path):
            zone = f"{prefix}:{r['Region'].lower().replace(' ', '')}"
            if r["Source"] not in CCF_VINTAGES:
                skipped.append(f"{zone} ({r['Source']}: year not stated)")
                continue
            year, origin, note = CCF_VINTAGES[r["Source"]]
            tonnes = _dec(r["CO2e (metric ton/kWh)"], f"{path.name} {zone}")
            rows.append(
                _row(
                    GRID_COLUMNS,
                    zone=zone,
                    zone_name=f"{label} {r['Region']} ({r[place_column]})",
                    kind="cloud-region",
                    year=year,
                    g_per_kwh=_fmt(tonnes * 1_000_000),
                    gas="CO2e",
                    source=f"{CCF} {path.name} ({origin.format(nerc=r['NERC Region'])})",
                    licence="Apache-2.0",
                    notes=f"{note} Converted from metric t CO2e/kWh (x 1e6).",
                )
            )
    return rows, skipped
