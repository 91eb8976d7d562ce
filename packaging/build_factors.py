"""Build the shipped factor tables in ``resources/reference/``.

* ``grid_factors.csv`` -- location-based grid emission factors in g per kWh by zone and year:
  countries and the world (Ember via Our World in Data), US states (EPA eGRID2023 via
  CodeCarbon), Chinese provinces (MEE/NBS via CodeCarbon), Swedish and Norwegian bidding
  zones (CodeCarbon), Google Cloud regions (Google, 2019-2024) and AWS/Azure regions (Cloud
  Carbon Footprint).
* ``parameters.csv`` -- named engine defaults with a central value and a plausible range.
* ``inference_energy.csv`` -- energy per inference, per token and per image, and the
  EcoLogits per-token formula coefficients.

Stdlib only; reproducible: the same inputs give byte-identical files. Curated figures are
checked against ``design/methodology.md`` and ``reference/cases.json`` under ``--shared``,
so a change there fails the build instead of drifting.

Usage::

    python packaging/build_factors.py --shared <shared folder> [--out resources/reference]

Units: grid factors in g per kWh (CO2 or CO2e as the ``gas`` column says), PUE as a
ratio, WUE in L/kWh of IT energy, energy in kWh, J or Wh as each row's ``unit`` says.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from build_reference import (
    API_SITES,
    CITED,
    PROVIDERS,
    SECONDARY,
    BuildError,
    _check_methodology,
    _normalise,
    _read_csv,
    write_csv,
)

GRID_COLUMNS = ("zone", "zone_name", "kind", "year", "g_per_kwh", "cfe_pct", "gas")
GRID_COLUMNS += ("source", "licence", "notes")
PARAMETER_COLUMNS = ("name", "central", "low", "high", "unit", "applies_to", "source", "year")
PARAMETER_COLUMNS += ("licence", "notes")
INFERENCE_COLUMNS = ("key", "task", "model_params_b", "gpu", "metric", "central", "low", "high")
INFERENCE_COLUMNS += ("unit", "source", "year", "licence", "notes")

#: Grams per pound (exact, by definition of the international pound).
GRAMS_PER_LB = Decimal("453.59237")
KIND_ORDER = {"world": 0, "country": 1, "subnational": 2, "cloud-region": 3}
FIXED = "Not an uncertain input: low = high = central."

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _dec(text: str, where: str) -> Decimal:
    """``text`` as a finite, non-negative Decimal, or a BuildError naming ``where``."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise BuildError(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise BuildError(f"{where}: {text!r} is not a finite non-negative number")
    return value


def _fmt(value: Decimal, places: int | None = None) -> str:
    """Plain decimal text without exponent or trailing zeros, optionally rounded."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _sig(value: float | None) -> str:
    """Four significant digits as plain decimal text; ``None`` becomes an empty cell."""
    return "" if value is None else _fmt(Decimal(f"{value:.4g}"))


def _json(path: Path) -> Any:
    if not path.is_file():
        raise BuildError(f"{path}: missing input file")
    return json.loads(path.read_text("utf-8"))


def _methodology(shared: Path) -> str:
    return _normalise((shared / "design" / "methodology.md").read_text("utf-8"))


def _cases(shared: Path) -> dict[str, dict]:
    return {c["id"]: c for c in _json(shared / "reference" / "cases.json")}


def _row(columns: tuple[str, ...], **cells: object) -> dict[str, str]:
    unknown = set(cells) - set(columns)
    if unknown:
        raise BuildError(f"unknown column(s) {sorted(unknown)}")
    return {c: str(cells.get(c, "")) for c in columns}


# --------------------------------------------------------------------------------------
# Countries: ISO 3166-1 alpha-3 (as Our World in Data gives them) -> alpha-2.
# --------------------------------------------------------------------------------------

_ISO3_TO_ISO2 = """
ABW AW AFG AF AGO AO ALB AL ARE AE ARG AR ARM AM ASM AS ATG AG AUS AU AUT AT AZE AZ
BDI BI BEL BE BEN BJ BFA BF BGD BD BGR BG BHR BH BHS BS BIH BA BLR BY BLZ BZ BMU BM
BOL BO BRA BR BRB BB BRN BN BTN BT BWA BW CAF CF CAN CA CHE CH CHL CL CHN CN CIV CI
CMR CM COD CD COG CG COK CK COL CO COM KM CPV CV CRI CR CUB CU CYM KY CYP CY CZE CZ
DEU DE DJI DJ DMA DM DNK DK DOM DO DZA DZ ECU EC EGY EG ERI ER ESH EH ESP ES EST EE
ETH ET FIN FI FJI FJ FLK FK FRA FR FRO FO GAB GA GBR GB GEO GE GHA GH GIB GI GIN GN
GLP GP GMB GM GNB GW GNQ GQ GRC GR GRD GD GRL GL GTM GT GUF GF GUM GU GUY GY HKG HK
HND HN HRV HR HTI HT HUN HU IDN ID IND IN IRL IE IRN IR IRQ IQ ISL IS ISR IL ITA IT
JAM JM JOR JO JPN JP KAZ KZ KEN KE KGZ KG KHM KH KIR KI KNA KN KOR KR KWT KW LAO LA
LBN LB LBR LR LBY LY LCA LC LKA LK LSO LS LTU LT LUX LU LVA LV MAC MO MAR MA MDA MD
MDG MG MDV MV MEX MX MKD MK MLI ML MLT MT MMR MM MNE ME MNG MN MOZ MZ MRT MR MSR MS
MTQ MQ MUS MU MWI MW MYS MY NAM NA NCL NC NER NE NGA NG NIC NI NLD NL NOR NO NPL NP
NRU NR NZL NZ OMN OM PAK PK PAN PA PER PE PHL PH PNG PG POL PL PRI PR PRK KP PRT PT
PRY PY PSE PS PYF PF QAT QA REU RE ROU RO RUS RU RWA RW SAU SA SDN SD SEN SN SGP SG
SHN SH SLB SB SLE SL SLV SV SOM SO SPM PM SRB RS SSD SS STP ST SUR SR SVK SK SVN SI
SWE SE SWZ SZ SYC SC SYR SY TCA TC TCD TD TGO TG THA TH TJK TJ TKM TM TLS TL TON TO
TTO TT TUN TN TUR TR TWN TW TZA TZ UGA UG UKR UA URY UY USA US UZB UZ VCT VC VEN VE
VGB VG VIR VI VNM VN VUT VU WSM WS YEM YE ZAF ZA ZMB ZM ZWE ZW
"""
ISO3_TO_ISO2 = dict(zip(_ISO3_TO_ISO2.split()[::2], _ISO3_TO_ISO2.split()[1::2], strict=True))
#: Our World in Data's own codes for rows without an ISO code.
OWID_CODES = {"OWID_WRL": "WORLD", "OWID_KOS": "XK"}
OWID = "Ember via Our World in Data"
OWID_COLUMN = "Carbon intensity of electricity - gCO2/kWh"
OWID_KOSOVO = "XK is not an ISO 3166-1 code; it is the user-assigned code in common use."


def owid_rows(shared: Path) -> list[dict[str, str]]:
    """Countries (ISO alpha-2) and the world, every year the file gives (gCO2/kWh)."""
    path = shared / "data" / "grid_intensity" / "owid_carbon_intensity_electricity.csv"
    rows = []
    for r in _read_csv(path):
        code = r["Code"]
        if not code:
            continue  # regional aggregates (Africa, EU, income groups, ...) are not shipped
        zone = OWID_CODES.get(code) or ISO3_TO_ISO2.get(code)
        if zone is None:
            raise BuildError(f"{path.name}: no ISO alpha-2 code for {code!r}; add it")
        value = _dec(r[OWID_COLUMN], f"{path.name}, {r['Entity']} {r['Year']}")
        rows.append(
            _row(
                GRID_COLUMNS,
                zone=zone,
                zone_name=r["Entity"],
                kind="world" if zone == "WORLD" else "country",
                year=int(r["Year"]),
                g_per_kwh=_fmt(value),
                gas="CO2",
                source=OWID,
                licence="CC BY 4.0",
                notes=OWID_KOSOVO if zone == "XK" else "",
            )
        )
    return rows


# --------------------------------------------------------------------------------------
# Sub-national zones from CodeCarbon's bundled data (MIT; upstream sources named).
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Cloud regions.
# --------------------------------------------------------------------------------------

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
#: Spelling fixes for Google's location names (as in build_reference.PLACE_FIXES).
PLACE_FIXES = {"S\u0101o Paulo": "S\u00e3o Paulo"}

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


# --------------------------------------------------------------------------------------
# Parameters, curated from methodology.md and cases.json.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One named default; ``check`` holds texts methodology.md must still contain."""

    name: str
    central: float
    low: float
    high: float
    unit: str
    applies_to: str
    source: str
    year: str
    licence: str
    notes: str
    check: tuple[str, ...] = ()


#: Hyperscale fleet PUE and on-site WUE (L/kWh) figures stated in methodology.md.
HYPERSCALE_PUE = (1.09, 1.10, 1.15, 1.17, 1.18, 1.20)
HYPERSCALE_WUE = (0.15, 0.27, 0.569, 0.99)
RANGE_NOTES = {
    "pue": "Range: documented judgement. A region's PUE is taken to lie within the spread "
    "of the fleet averages published for hyperscale providers in the methodology notes "
    "(Google 1.09 and ~1.10, AWS 1.15, Microsoft 1.17-1.18, OpenAI on Azure 1.20); "
    "providers publish fleet averages, not per-region figures.",
    "wue": "Range: documented judgement. On-site WUE is taken to lie within the spread of "
    "the provider figures in the methodology notes (AWS 0.15, Microsoft 0.27, OpenAI on "
    "Azure 0.569, Google 0.99 L/kWh); on-site water varies strongly with climate and "
    "cooling design, which fleet averages hide.",
}
ECOLOGITS = "EcoLogits methodology update (GenAI Impact 2025), provider table"
#: API providers of build_reference.API_SITES with published figures -> parameter key.
API_KEYS = {"OpenAI": "openai", "Google": "google-api"}
API_CHECKS = {
    "openai": ("OpenAI on Azure 1.20 / 0.569 [V]",),
    "google-api": ("Google 1.09 / 0.99",),
}


def _providers() -> list[tuple]:
    """(key, PUE, WUE, applies to, source, year, licence, note, checks) per provider.

    The same curated figures as the sites table (``build_reference``), so the two agree.
    """
    out = []
    for key, p in PROVIDERS.items():
        figures = (float(p.pue), float(p.wue), f"{p.label} regions")
        out.append((key, *figures, p.source, p.year, p.licence, p.notes, p.check))
    for name, provider, _country, pue, wue, notes in API_SITES:
        if pue and provider in API_KEYS:
            key = API_KEYS[provider]
            figures = (float(pue), float(wue), name, ECOLOGITS, "2025", "CC BY-SA 4.0")
            out.append((key, *figures, notes, API_CHECKS[key]))
    return out


def _provider_params() -> list[Param]:
    """``pue:<key>`` and ``wue:<key>`` for each cloud and API provider."""
    params = []
    for key, pue, wue, applies, source, year, licence, note, check in _providers():
        for kind, value, spread, unit, what in (
            ("pue", pue, HYPERSCALE_PUE, "ratio", applies),
            ("wue", wue, HYPERSCALE_WUE, "L/kWh", f"{applies}; on-site water per kWh of IT"),
        ):
            low, high = min(*spread, value), max(*spread, value)
            notes = f"{note} {RANGE_NOTES[kind]}"
            name = f"{kind}:{key}"
            params.append(
                Param(name, value, low, high, unit, what, source, year, licence, notes, check)
            )
    return params


#: (label, measured W, rated W) behind ``utilisation_training``.
UTILISATION_EVIDENCE = (
    ("TPU v2 (Patterson)", 221, 280),
    ("TPU v3 (Patterson)", 283, 450),
    ("P100 (Patterson)", 271, 300),
    ("V100 (Patterson)", 325, 300),
    ("H100 SXM (ML.ENERGY, low)", 610, 700),
    ("H100 SXM (ML.ENERGY, high)", 690, 700),
)
UTILISATION_CHECKS = (
    "TPU v2 280 (measured average 221) [V]",
    "TPU v3 450 (measured 283) [V]",
    "Patterson Table 3: P100 271 W",
    "V100 325 W system power per chip",
    "ML.ENERGY saw 610-690 W on a saturated H100",
    "V100 SXM2 300 [V]",
    "H100 SXM 700 [V]",
)


#: Strubell et al. 2019 Table 3 runs (whole-system power for all GPUs) and their GPUs' TDP
STRUBELL_RUNS = (
    ("strubell2019-transformer-base", 300),  # P100
    ("strubell2019-transformer-big", 300),  # P100
    ("strubell2019-elmo", 300),  # P100 (table)
    ("strubell2019-bert-base-gpu", 300),  # V100 SXM2
)


def _utilisation_training(shared: Path) -> Param:
    """Accelerator-only draw as a fraction of TDP.

    The engine adds host overhead on top of accelerator power, so evidence measured as
    system power (Patterson: per chip, host share included; Strubell: whole machine) is
    first divided by (1 + central host overhead); ML.ENERGY measured the GPUs alone.
    """
    cases = _cases(shared)
    p100_tdp = cases["patterson2021-transformer-big-p100-us-average"]["inputs"]["chip_TDP_W"]
    if p100_tdp != 300:
        raise BuildError(f"cases.json gives a P100 TDP of {p100_tdp} W, not 300 W")
    host = _host_overhead(shared).central
    points = []
    for label, w, tdp in UTILISATION_EVIDENCE:
        system = "Patterson" in label
        points.append((label, w / (1 + host) / tdp if system else w / tdp))
    for case_id, tdp in STRUBELL_RUNS:
        inp = cases[case_id]["inputs"]
        per_gpu = inp["avg_total_power_W"] / inp["gpu_count"]
        points.append((f"{case_id} (Strubell)", per_gpu / (1 + host) / tdp))
    ratios = [r for _, r in points]
    listed = "; ".join(f"{label} {r:.2f}" for label, r in points)
    return Param(
        "utilisation_training",
        round(statistics.median(ratios), 2),
        round(min(ratios), 2),
        round(max(ratios), 2),
        "fraction of TDP",
        "accelerator average power during training = TDP x this (host overhead added apart)",
        "Patterson et al. 2021, arXiv:2104.10350 (Table 3); Strubell et al. 2019 (Table 3); "
        "ML.ENERGY (Chung et al. 2025) as stated in the methodology notes",
        "2019; 2021; 2025",
        CITED,
        f"Accelerator-only power / TDP. System-power evidence (Patterson per chip, Strubell "
        f"whole machine) divided by (1 + host overhead {host:.2f}) first, since the engine "
        f"adds the host apart. Points: {listed}. Central: median; low and high: the "
        "smallest and largest point (spread of published values). ML.ENERGY's 610-690 W was "
        "measured on a saturated H100 serving inference, not training.",
        UTILISATION_CHECKS,
    )


def _utilisation_inference(shared: Path) -> Param:
    ratios = [
        c["avg_power_watts"] / c["num_gpus"] / 700
        for task in ("lm-arena-chat", "gpqa")
        for c in _json(shared / "data" / "mlenergy_v3" / f"{task}.json")["configurations"]
        if c["gpu_model"] == "H100"
    ]
    return Param(
        "utilisation_inference",
        round(statistics.median(ratios), 2),
        round(min(ratios), 2),
        round(max(ratios), 2),
        "fraction of TDP",
        "accelerator average power while serving LLM requests = TDP x this",
        "ML.ENERGY leaderboard v3 (Chung et al. 2025), lm-arena-chat and gpqa",
        "2026",
        "Apache-2.0",
        "Per-GPU average power (avg_power_watts / num_gpus) over 700 W, for all "
        f"{len(ratios)} H100 configurations of the two LLM tasks (every model, GPU count and "
        "batch limit). Central: median; low/high: min/max (spread of measured values). "
        "H100 taken as the SXM part: measured draws up to 694 W exceed the PCIe and NVL "
        "TDPs. Benchmarks keep a full request queue, so idle periods of a real deployment "
        "are not included. B200 not used: its 1,000 W TDP is a secondary figure.",
        ("H100 SXM 700 [V]",),
    )


def _host_overhead(shared: Path) -> Param:
    cases = _cases(shared)
    gemini = cases["gemini-apps-median-text-prompt-2025"]["inputs"]["energy_breakdown_percent"]
    idle_kwh = cases["bloom-176b-training-total"]["inputs"]["idle_infrastructure_energy_kWh"]
    dynamic_kwh = cases["bloom-176b-training-dynamic"]["expected"]["dynamic_energy_kWh"]
    accel, host_pct = gemini["accelerators_TPU"], gemini["host_CPU_DRAM"]
    host = host_pct / accel
    host_idle = (host_pct + gemini["idle_machines"]) / accel
    bloom = idle_kwh / dynamic_kwh
    return Param(
        "host_overhead_ratio",
        round(host, 2),
        round(host, 2),
        round(max(host_idle, bloom), 2),
        "ratio to accelerator power",
        "server power beyond the accelerators (CPU, DRAM, ...) = accelerator power x this",
        "Google 2025, Gemini Apps median prompt energy breakdown; Luccioni et al. 2023 (BLOOM)",
        "2025; 2023",
        CITED,
        f"Central: Gemini host CPU/DRAM {host_pct}% / accelerators {accel}% = {host:.3f}. "
        f"High: the larger of Gemini (host + idle machines) / accelerators = {host_idle:.3f} "
        f"and BLOOM idle and infrastructure / dynamic energy = {idle_kwh:,} / {dynamic_kwh:,} "
        f"kWh = {bloom:.3f}. Low = central: no published value below it in the shared "
        "material (spread of published values). Strubell et al. 2019 give whole-system power "
        f"only, which cannot be split into host and GPUs. Both inputs: {SECONDARY}.",
    )


PUE_AVERAGE = Param(
    "pue_industry_average",
    1.56,
    min(HYPERSCALE_PUE),
    1.58,
    "ratio",
    "own and colocation sites without a PUE of their own",
    "Uptime Institute global data center survey 2024 (average PUE)",
    "2024",
    CITED,
    "Status not recorded in the methodology notes; verify against Uptime's survey report. "
    "Range: spread of published averages: low = best hyperscale fleet average in the notes "
    "(1.09, Google via EcoLogits), high = Uptime 2018 average 1.58. Individual facilities "
    "can lie outside this range.",
    ("Industry average (Uptime survey) 1.56 (2024), 1.58 (2018)",),
)
LIFETIME = Param(
    "embodied_lifetime_years",
    4,
    3,
    6,
    "years",
    "hardware without a lifetime of its own (embodied amortisation)",
    "EcoLogits and Boavizta (3 y); OLMo and Cloud Carbon Footprint (4 y); LLMCarbon (5 y); "
    "BLOOM (6 y), as listed in the methodology notes",
    "2023; 2025",
    CITED,
    "Central 4 y (OLMo, Cloud Carbon Footprint); range: spread of published values (3-6 y). "
    "BLOOM's 6 y is itself a reconstruction, not confirmed in the paper.",
    (
        "Lifetimes in use: 3 y (EcoLogits, Boavizta), 4 y (OLMo, Cloud Carbon Footprint), "
        "5 y (LLMCarbon), 6 y (BLOOM)",
    ),
)
SERVER_SHARE = Param(
    "embodied_server_per_accelerator_kgco2e",
    712.5,
    312.5,
    712.5,
    "kgCO2e per accelerator",
    "the server around each accelerator (chassis, CPUs, memory, storage), amortised with it",
    "EcoLogits methodology via Boavizta (8x H100 server without GPUs, 5,700 kg); "
    "Luccioni et al. 2023 (BLOOM; HPE Apollo server without GPUs, 2,500 kg)",
    "2023; 2025",
    CITED,
    "Per accelerator slot of an 8-accelerator server: 5,700 kg / 8 (central and high), "
    "2,500 kg / 8 (low). Range: spread of published values. BLOOM's figure is read in "
    "secondary sources citing the paper; secondary source; verify.",
    (
        "8xH100 server without GPUs 5,700 kg (EcoLogits via Boavizta) [V]",
        "HPE Apollo server without GPUs 2,500 kg",
    ),
)
LB_TO_KG = float(GRAMS_PER_LB) / 1000
GREEN_ALGORITHMS = "Green Algorithms (Lannelongue, Grealey, Inouye 2021)"
GA_NOTE = f"Year: the Green Algorithms paper; the methodology notes give none. {FIXED}"
GA_CHECK = ("US car per km 251 g, EU 175 g (Green Algorithms) [V]",)
STRUBELL = "Strubell, Ganesh, McCallum 2019 (Table 1)"
#: name, value, unit, what it is, source, year, notes, methodology checks
EQUIVALENCES = (
    (
        *("equiv:smartphone_charge_kwh", 0.022, "kWh per full charge", "one smartphone charge"),
        "US EPA greenhouse gas equivalencies (since Jan 2024), via Luccioni et al. 2024",
        *("2024", f"EPA used 0.012 kWh before 2024. {FIXED}"),
        ("Smartphone charge 0.022 kWh (EPA, since Jan 2024; 0.012 before)",),
    ),
    (
        *("equiv:car_km_kgco2e_eu", 0.175, "kgCO2e per km", "EU average passenger car, 1 km"),
        *(GREEN_ALGORITHMS, "2021", GA_NOTE, GA_CHECK),
    ),
    (
        *("equiv:car_km_kgco2e_us", 0.251, "kgCO2e per km", "US average passenger car, 1 km"),
        *(GREEN_ALGORITHMS, "2021", GA_NOTE, GA_CHECK),
    ),
    (
        *("equiv:car_lifetime_kgco2e", round(126_000 * LB_TO_KG, 1), "kgCO2e per car lifetime"),
        *("average car incl. fuel, one lifetime", STRUBELL, "2019"),
        f"126,000 lb x 0.45359237 kg/lb. {FIXED}",
        ("car lifetime incl. fuel 126,000 lb = 57.2 tCO2e (Strubell Table 1) [V]",),
    ),
    (
        *("equiv:home_electricity_year_kwh", 10791, "kWh per home and year"),
        "a US home's electricity use for a year",
        "US Energy Information Administration, FAQ 'How much electricity does an American "
        "home use?' (average residential utility customer, 2022)",
        "2022",
        f"10,791 kWh a year, about 899 kWh a month. Not in the methodology notes. {FIXED}",
        (),
    ),
    (
        *("equiv:flight_ny_sf_passenger_kgco2e", round(1984 * LB_TO_KG, 1)),
        *("kgCO2e per passenger", "one New York - San Francisco flight, one passenger"),
        *(STRUBELL, "2019", f"1,984 lb x 0.45359237 kg/lb. {FIXED}"),
        ("one NY-SF flight per passenger 1,984 lb [V]",),
    ),
)


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


# --------------------------------------------------------------------------------------
# Inference energy.
# --------------------------------------------------------------------------------------

PHP = "Luccioni, Jernite, Strubell 2024, Power Hungry Processing (FAccT 2024), Table 2"
#: Power Hungry Processing task (as in cases.json) -> (key part, inventory task, wording
#: in methodology.md).
PHP_TASKS = {
    "text_classification": ("text-classification", "classification", "text classification"),
    "extractive_QA": ("extractive-qa", "question-answering", "extractive QA"),
    "masked_language_modeling": ("masked-lm", "other", "masked LM"),
    "token_classification": ("token-classification", "classification", "token classification"),
    "image_classification": (
        "image-classification",
        "image-classification",
        "image classification",
    ),
    "object_detection": ("object-detection", "object-detection", "object detection"),
    "text_generation": ("text-generation", "text-generation", "text generation"),
    "summarization": ("summarisation", "summarisation", "summarisation"),
    "image_captioning": ("image-captioning", "other", "image captioning"),
    "image_generation": ("image-generation", "image-generation", "image generation"),
}
PHP_NOTE = (
    "Mean over the task's models and datasets, measured with CodeCarbon on one node of "
    "8x NVIDIA A100-SXM4-80GB (AWS us-west-2). Range: mean +- one standard deviation "
    "(Table 2, via the project's cases file); a documented choice, not a published range."
)

MLENERGY = "ML.ENERGY leaderboard v3 (Chung et al. 2025)"
#: Size buckets: key part, label, architecture, active parameters (billions, inclusive).
MLENERGY_BUCKETS = (
    ("dense-8b", "dense ~8B", "Dense Transformer", 8, 8),
    ("dense-12b-14b", "dense 12-14B", "Dense Transformer", 12, 14),
    ("dense-27b-32b", "dense 27-32B", "Dense Transformer", 27, 32),
    ("dense-70b", "dense ~70B", "Dense Transformer", 70, 70),
    ("dense-405b", "dense 405B", "Dense Transformer", 405, 405),
    ("moe-3b-5b-active", "MoE, 3-5B active", "MoE", 3, 5),
    ("moe-17b-37b-active", "MoE, 17-37B active", "MoE", 17, 37),
)
#: file, key part, inventory task, description, metrics (metric, field, unit)
TOKEN = ("gpu_energy_per_output_token", "energy_per_token_joules", "J/token")
REQUEST = ("gpu_energy_per_request", "energy_per_request_joules", "J/request")
MLENERGY_TASKS = (
    ("lm-arena-chat", "chat", "chat", "LLM chat (LM Arena prompts)", (TOKEN, REQUEST)),
    ("gpqa", "reasoning", "text-generation", "GPQA Diamond by reasoning models", (TOKEN,)),
)
MLENERGY_METHOD = (
    "Measured GPU energy only (no host, no PUE), all GPUs of the configuration together. "
    "Aggregation: every configuration of the bucket's models on this GPU type (all GPU "
    "counts, batch limits and weight precisions); central = median, low = min, high = max."
)
GPU_NAMES = {"H100": "NVIDIA H100 SXM", "B200": "NVIDIA B200"}
GPU_NOTES = {
    "H100": " The dataset says 'H100'; taken as the SXM part, since measured draws reach "
    "694 W per GPU, above the PCIe (350 W) and NVL (400 W) TDPs.",
    "B200": "",
}


def _energy(stats: tuple[float | None, float | None, float | None], **cells: object):
    """An inference energy row; ``stats`` are (central, low, high) in the row's unit."""
    central, low, high = (_sig(v) for v in stats)
    return _row(INFERENCE_COLUMNS, central=central, low=low, high=high, **cells)


def php_rows(shared: Path) -> list[dict[str, str]]:
    """Power Hungry Processing task means (kWh per 1,000 inferences)."""
    methodology = _methodology(shared)
    expected = _cases(shared)["power-hungry-task-means"]["expected"]
    means, stds = expected["kWh_per_1000_inferences_mean"], expected["kWh_per_1000_inferences_std"]
    worst = expected["least_efficient_image_generation_model_kWh_per_1000"]
    rows = []
    for name, (key, task, wording) in PHP_TASKS.items():
        mean, std = means[name], stds[name]
        _check_methodology(methodology, (f"{wording} {mean:g}",), f"Power Hungry {name}")
        low = mean - std if mean > std else None
        notes = PHP_NOTE
        if low is None:
            median = expected["medians_kWh_per_1000"][name]
            notes += (
                f" No low value: the standard deviation ({std:g}) exceeds the mean. The least "
                f"efficient model used {worst:g} kWh, the median model {median:g} kWh."
            )
        if name == "text_generation":
            notes += " Only 10 new tokens per input: far below chat-length replies."
        rows.append(
            _energy(
                (mean, low, mean + std),
                key=f"php:{key}",
                task=task,
                gpu="NVIDIA A100 SXM4 80GB (8-GPU node)",
                metric="energy_per_1000_inferences",
                unit="kWh/1000 inferences",
                source=PHP,
                year=2024,
                licence=CITED,
                notes=notes,
            )
        )
    return rows


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def _configs(shared: Path, task: str) -> list[dict]:
    return _json(shared / "data" / "mlenergy_v3" / f"{task}.json")["configurations"]


def _mlenergy(key: str, file: str, task: str, params: str, gpu: str, metric: tuple, chosen, notes):
    """One ML.ENERGY summary row: median, min and max of ``metric`` over ``chosen``."""
    name, field, unit = metric
    return _energy(
        _spread([c[field] for c in chosen]),
        key=key,
        task=task,
        model_params_b=params,
        gpu=GPU_NAMES[gpu],
        metric=name,
        unit=unit,
        source=f"{MLENERGY}, {file}.json",
        year=2026,
        licence="Apache-2.0",
        notes=f"{notes} {MLENERGY_METHOD}{GPU_NOTES[gpu]}",
    )


def _in_bucket(config: dict, gpu: str, arch: str, low: float, high: float) -> bool:
    active = config["activated_params_billions"]
    return config["gpu_model"] == gpu and config["architecture"] == arch and low <= active <= high


def mlenergy_rows(shared: Path) -> list[dict[str, str]]:
    """GPU energy per output token (and per chat request) by size bucket and GPU type."""
    rows = []
    for file, part, task, described, metrics in MLENERGY_TASKS:
        configs = _configs(shared, file)
        for bucket, label, arch, low, high in MLENERGY_BUCKETS:
            params = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            for gpu in GPU_NAMES:
                chosen = [c for c in configs if _in_bucket(c, gpu, arch, low, high)]
                if not chosen:
                    continue
                names = ", ".join(sorted({c["model_id"].split("/")[1] for c in chosen}))
                notes = f"{described}; {label}: {names}; {len(chosen)} configurations."
                for metric in metrics:
                    key = f"mlenergy:{part}:{gpu.lower()}:{bucket}:{metric[0].split('_')[-1]}"
                    rows.append(_mlenergy(key, file, task, params, gpu, metric, chosen, notes))
    configs = _configs(shared, "text-to-image")
    image = ("gpu_energy_per_image", "energy_per_image_joules", "J/image")
    for gpu in GPU_NAMES:
        chosen = [c for c in configs if c["gpu_model"] == gpu]
        names = ", ".join(sorted({c["model_id"].split("/")[1] for c in chosen}))
        notes = (
            f"Text to image, 1024x1024, 20-50 denoising steps; models: {names}; "
            f"{len(chosen)} configurations."
        )
        key = f"mlenergy:text-to-image:{gpu.lower()}:image"
        task, params = "image-generation", "0.6-12"
        rows.append(_mlenergy(key, "text-to-image", task, params, gpu, image, chosen, notes))
    return rows


ECOLOGITS_DOC = "EcoLogits methodology (GenAI Impact 2025), LLM inference"
ECOLOGITS_FORMULA = (
    "GPU Wh per output token = a x exp(b x B) x P_active + c, P_active in billions, batch "
    "size B (64 by default); fitted by EcoLogits on ML.ENERGY H100 data. Request Wh = PUE x "
    "(server share + GPUs x tokens x per-token Wh)."
)
ECOLOGITS_COEFFS = (
    ("a", "1.1665e-6", "Wh per output token per billion active parameters"),
    ("b", "-0.0112", "per unit of batch size"),
    ("c", "4.053e-5", "Wh per output token"),
    ("batch", "64", "requests per batch"),
)


def ecologits_rows(shared: Path) -> list[dict[str, str]]:
    """The EcoLogits per-token formula coefficients, as written in methodology.md."""
    checks = ("a=1.1665e-6, b=-0.0112, c=4.053e-5", "batch B=64 by default")
    _check_methodology(_methodology(shared), checks, "EcoLogits coefficients")
    return [
        _row(
            INFERENCE_COLUMNS,
            key=f"ecologits:{name}",
            task="text-generation",
            gpu="NVIDIA H100",
            metric="ecologits_coeff",
            central=value,
            low=value,
            high=value,
            unit=unit,
            source=ECOLOGITS_DOC,
            year=2025,
            licence="CC BY-SA 4.0",
            notes=f"{ECOLOGITS_FORMULA} {FIXED}",
        )
        for name, value, unit in ECOLOGITS_COEFFS
    ]


GEMINI_BOUNDARIES = (
    (
        *("median-text-prompt", "energy_Wh"),
        "Comprehensive boundary: active accelerators, host CPU/DRAM, idle provisioned "
        "machines and data-centre overhead (PUE).",
    ),
    (
        *("median-text-prompt-accelerators", "narrow_accelerator_only_energy_Wh"),
        "Narrow boundary: active accelerators only.",
    ),
)


def gemini_rows(shared: Path) -> list[dict[str, str]]:
    """Google's Gemini Apps median text prompt (2025), comprehensive and narrow boundary."""
    expected = _cases(shared)["gemini-apps-median-text-prompt-2025"]["expected"]
    note = (
        "Median Gemini Apps text prompt, May 2025; token counts not disclosed. "
        f"{SECONDARY} (press reports of Google's technical paper). Single figure."
    )
    return [
        _energy(
            (expected[field],) * 3,
            key=f"gemini-apps:{key}",
            task="chat",
            gpu="Google TPU",
            metric="energy_per_request",
            unit="Wh/request",
            source="Google 2025, Measuring the environmental impact of delivering AI at "
            "Google Scale",
            year=2025,
            licence=CITED,
            notes=f"{boundary} {note}",
        )
        for key, field, boundary in GEMINI_BOUNDARIES
    ]


def inference_rows(shared: Path) -> list[dict[str, str]]:
    """Every inference energy row; keys are unique."""
    rows = [*php_rows(shared), *mlenergy_rows(shared), *ecologits_rows(shared)]
    rows += gemini_rows(shared)
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        raise BuildError("duplicate inference energy keys")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, required=True, help="the shared material folder (design/, data/)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "resources" / "reference",
        help="output folder (default: resources/reference)",
    )
    args = parser.parse_args(argv)
    try:
        grid, skipped = grid_rows(args.shared)
        params = parameter_rows(args.shared)
        inference = inference_rows(args.shared)
    except (BuildError, OSError, KeyError, ValueError) as exc:
        print(f"build_factors: {exc}", file=sys.stderr)
        return 1
    write_csv(args.out / "grid_factors.csv", GRID_COLUMNS, grid)
    write_csv(args.out / "parameters.csv", PARAMETER_COLUMNS, params)
    write_csv(args.out / "inference_energy.csv", INFERENCE_COLUMNS, inference)
    print(
        f"wrote {len(grid)} grid factors, {len(params)} parameters and {len(inference)} "
        f"inference energy rows to {args.out}"
    )
    if skipped:
        print(f"cloud regions without a dated factor, not shipped: {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
