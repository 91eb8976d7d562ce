"""Grid factors of sub-national zones from CodeCarbon's bundled data, in g/kWh.

US states (EPA eGRID2023), Chinese provinces (MEE/NBS) and Swedish and Norwegian
bidding zones (ENTSO-E).
"""

from __future__ import annotations

from pathlib import Path

from .common import GRAMS_PER_LB, BuildError, _dec, _fmt, _json
from .tables import GRID_COLUMNS, _row

# CodeCarbon's bundled data is MIT; each row's source names the upstream source.
CODECARBON = "CodeCarbon 3.3.2"
PRIVATE_INFRA = ("data", "codecarbon_3.3.2", "private_infra")
EGRID_NOTE = (
    "Converted from lb/MWh (x 0.45359237). eGRID's state total output emission rate: "
    "emissions of the generation located in the state per MWh it generates."
)
CHINA_NOTE = (
    "CO2 only (not CO2e, no lifecycle emissions); official provincial average factor, "
    "location-based, accounting for inter-provincial electricity transfers. Tibet, Hong "
    "Kong, Macao and Taiwan are not in the official table."
)
NORDIC_NOTE = (
    "Production-based generation mix (ENTSO-E, full year 2025) weighted by CodeCarbon's "
    "per-source factors (carbon_intensity_per_source.json); not consumption-based."
)
NORDIC_ZONES = ("SE1", "SE2", "SE3", "SE4", "NO1", "NO2", "NO3", "NO4", "NO5")


def _subnational(zone: str, name: str, year: int, g: str, gas: str, source: str, notes: str):
    return _row(
        GRID_COLUMNS,
        zone=zone,
        zone_name=name,
        kind="subnational",
        year=year,
        g_per_kwh=g,
        gas=gas,
        source=source,
        licence="MIT",
        notes=notes,
    )


def egrid_rows(shared: Path) -> list[dict[str, str]]:
    """US states as ``US-XX`` (eGRID2023, lb/MWh converted to g/kWh)."""
    path = shared.joinpath(*PRIVATE_INFRA, "2023", "usa_emissions.json")
    data = _json(path)
    if data["_unit"]["emissions"] != "lbs/MWh" or data["_source"]["year"] != 2023:
        raise BuildError(f"{path.name}: expected lbs/MWh for 2023, found {data['_unit']}")
    source = f"{CODECARBON} usa_emissions.json (EPA eGRID2023, {data['_source']['field']})"
    rows = []
    for key, entry in data.items():
        if key.startswith("_") or key == "usa":
            continue  # the national 'usa' value would clash with the country series
        lb = _dec(str(entry["emissions"]), f"{path.name} {key}")
        name = f"{key.title().replace(' Of ', ' of ')} (US)"
        g = _fmt(lb * GRAMS_PER_LB / 1000, 3)
        zone = f"US-{entry['regionCode']}"
        rows.append(_subnational(zone, name, 2023, g, "CO2e", source, EGRID_NOTE))
    return rows


def china_rows(shared: Path) -> list[dict[str, str]]:
    """Chinese provinces as ``CN-XX`` (official 2023 CO2 factors, gCO2/kWh)."""
    path = shared.joinpath(*PRIVATE_INFRA, "2023", "china_provincial_emissions.json")
    data = _json(path)
    source = (
        f"{CODECARBON} china_provincial_emissions.json "
        f"(MEE/NBS Announcement {data['metadata']['announcement']}, Table 3)"
    )
    rows = []
    for zone, entry in data["data"].items():
        if entry["unit"] != "gCO2/kWh" or not zone.startswith("CN-"):
            raise BuildError(f"{path.name} {zone}: unexpected unit or code")
        g = _fmt(_dec(str(entry["emission_factor"]), f"{path.name} {zone}"))
        name = f"{entry['description']} (CN)"
        rows.append(_subnational(zone, name, int(entry["year"]), g, "CO2", source, CHINA_NOTE))
    return rows


def nordic_rows(shared: Path) -> list[dict[str, str]]:
    """Swedish and Norwegian bidding zones (``SE1``..``SE4``, ``NO1``..``NO5``).

    The file's ``FI`` entry is Finland as a whole (a "prior value, unchanged" without a
    source) and would clash with the country series, so it is not shipped.
    """
    path = shared.joinpath(*PRIVATE_INFRA, "nordic_emissions.json")
    data = _json(path)["data"]
    source = f"{CODECARBON} nordic_emissions.json (ENTSO-E A75 generation data)"
    rows = []
    for zone in NORDIC_ZONES:
        entry = data[zone]
        if entry["unit"] != "gCO2eq/kWh":
            raise BuildError(f"{path.name} {zone}: unexpected unit {entry['unit']!r}")
        g = _fmt(_dec(str(entry["emission_factor"]), f"{path.name} {zone}"))
        notes = f"{NORDIC_NOTE} Coverage {entry['coverage']}. {entry['note']}"
        rows.append(
            _subnational(zone, entry["description"], int(entry["year"]), g, "CO2e", source, notes)
        )
    return rows
