"""Shipped emission factors and defaults: sourced, sane, and looked up with explained fallbacks."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from core import factors
from core.errors import LedgerError
from core.factors import (
    Factor,
    load_grid_factors,
    load_inference_energy,
    load_parameters,
    zone_for_site,
)
from core.reference import ReferenceDataError, reference_dir

FILES = ("grid_factors.csv", "parameters.csv", "inference_energy.csv")
SECONDARY = "secondary source; verify"


@pytest.fixture(scope="module")
def grid() -> factors.GridFactors:
    return load_grid_factors()


@pytest.fixture(scope="module")
def params() -> dict[str, Factor]:
    return load_parameters()


@pytest.fixture(scope="module")
def inference() -> dict[str, dict]:
    return {row["key"]: row for row in load_inference_energy()}


def _raw(name: str) -> list[dict[str, str]]:
    with (reference_dir() / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _sites() -> list[dict[str, str]]:
    return _raw("sites.csv")


# --------------------------------------------------------------------------------------
# The shipped files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_every_shipped_row_has_a_source_licence_and_year(name):
    rows = _raw(name)
    assert rows
    for row in rows:
        label = next(iter(row.values()))
        assert row["source"].strip(), label
        assert row["licence"].strip(), label
        years = [y.strip() for y in row["year"].split(";")]
        assert all(y.isdigit() and 1990 <= int(y) <= 2030 for y in years), label


def test_the_shipped_files_load(grid, params, inference):
    assert len(grid) == len(_raw("grid_factors.csv"))
    assert len(params) == len(_raw("parameters.csv"))
    assert len(inference) == len(_raw("inference_energy.csv"))
    kinds = {row["kind"] for row in _raw("grid_factors.csv")}
    assert kinds == {"country", "world", "subnational", "cloud-region"}


def test_grid_factors_are_plausible_and_carry_their_gas(grid):
    for zone in grid.zones:
        for year in grid.years(zone):
            found = grid.lookup(zone, year)
            assert found.exact, (zone, year)
            assert 0 <= found.value <= 1500, (zone, year)
            assert found.gas in ("CO2", "CO2e")
            assert found.factor.unit == f"g{found.gas}/kWh"
            assert found.factor.low == found.factor.high == found.value
            if found.cfe_pct is not None:
                assert zone.startswith("gcp:") and 0 <= found.cfe_pct <= 100


@pytest.mark.parametrize(
    ("zone", "expected"),
    [("FR", 56), ("SE", 41), ("US", 370), ("DE", 381), ("PL", 662), ("IN", 713), ("CN", 582)],
)
def test_ember_owid_2023_examples_of_the_methodology_notes(grid, zone, expected):
    found = grid.lookup(zone, 2023)
    assert found.exact
    assert abs(found.value - expected) <= 1  # the notes round to whole grams
    assert found.factor.source == "Ember via Our World in Data"
    assert found.factor.licence == "CC BY 4.0"
    assert found.gas == "CO2"  # the OWID column is headed gCO2/kWh


def test_countries_use_iso_alpha2_codes_and_keep_every_year(grid):
    countries = [z for z in grid.zones if grid.lookup(z, 2023).kind == "country"]
    assert len(countries) > 200
    assert all(len(z) == 2 and z.isupper() for z in countries)
    assert grid.years("FR")[0] == 1990 and grid.years("FR")[-1] == 2023
    assert "WORLD" in grid and "EU27" not in grid


def test_egrid_state_factors_are_converted_from_pounds_per_mwh(grid):
    # EPA eGRID2023 via CodeCarbon's usa_emissions.json: California 394.769 lb/MWh.
    california = grid.lookup("US-CA", 2023)
    assert california.value == pytest.approx(394.769 * 453.59237 / 1000, abs=0.001)
    assert california.value == pytest.approx(179.064, abs=0.001)
    assert (california.kind, california.gas) == ("subnational", "CO2e")
    assert "eGRID2023" in california.factor.source
    assert sum(1 for z in grid.zones if z.startswith("US-")) == 51  # 50 states and DC


def test_google_region_years_come_from_googles_files(grid):
    belgium = grid.lookup("gcp:europe-west1", 2022)
    assert (belgium.value, belgium.cfe_pct, belgium.gas) == (123, 80, "CO2e")
    assert grid.lookup("gcp:europe-west1", 2024).value == pytest.approx(103.37)
    assert grid.years("gcp:europe-west1") == [2019, 2020, 2021, 2022, 2023, 2024]
    iowa_2019 = grid.lookup("gcp:us-central1", 2019)
    assert (iowa_2019.value, iowa_2019.cfe_pct) == (479, 78)
    assert "lifecycle" in iowa_2019.factor.note
    assert grid.lookup("gcp:asia-east2", 2019).cfe_pct is None  # no CFE published


def test_cloud_factors_are_converted_from_tonnes_per_kwh(grid):
    # Cloud Carbon Footprint: us-east-1 (SERC) 0.000415755 t CO2e/kWh, eGRID2019.
    virginia = grid.lookup("aws:us-east-1", 2019)
    assert virginia.exact and virginia.value == pytest.approx(415.755)
    assert grid.lookup("azure:centralus", 2019).value == pytest.approx(472.23)


def test_chinese_provinces_and_nordic_zones(grid):
    beijing = grid.lookup("CN-BJ", 2023)
    assert (beijing.value, beijing.gas) == (555.4, "CO2")
    assert grid.lookup("SE3", 2025).value == 27.0
    assert "FI" in grid and grid.years("FI")[-1] == 2023  # Finland stays the OWID series


def test_every_cloud_site_maps_to_a_factor_of_its_region_or_country(grid):
    for site in _sites():
        zone, country = zone_for_site(
            site["kind"], site["provider"], site["region_code"], site["country"], ""
        )
        found = grid.lookup(zone, 2024, country)
        assert found.zone in (zone, site["country"]), site["name"]
        if site["kind"] == "cloud":
            assert zone.split(":")[1] == site["region_code"], site["name"]
    gcp = [s for s in _sites() if s["provider"] == "Google Cloud"]
    assert all(f"gcp:{s['region_code']}" in grid for s in gcp)


def test_secondary_figures_are_flagged(params, inference):
    for name in ("pue:azure", "wue:azure", "pue:gcp", "host_overhead_ratio"):
        assert SECONDARY in params[name].note, name
    assert SECONDARY in inference["gemini-apps:median-text-prompt"]["notes"]


# --------------------------------------------------------------------------------------
# The fallback chain
# --------------------------------------------------------------------------------------


def test_an_exact_match_has_no_fallback(grid):
    found = grid.lookup("FR", 2023)
    assert (found.zone, found.year, found.fallback) == ("FR", 2023, "")


def test_a_future_year_uses_the_latest_earlier_year_and_says_so(grid):
    found = grid.lookup("FR", 2026)
    assert (found.zone, found.year) == ("FR", 2023)
    assert found.value == grid.lookup("FR", 2023).value
    assert found.fallback == "no 2026 figure for FR; used 2023"
    assert (found.requested_zone, found.requested_year) == ("FR", 2026)


def test_a_year_before_the_series_uses_the_earliest(grid):
    found = grid.lookup("FR", 1980)
    assert found.year == 1990
    assert found.fallback == "no 1980 figure for FR; used 1990, the earliest available"


def test_an_unknown_cloud_region_uses_its_country(grid):
    found = grid.lookup("aws:xx-east-9", 2024, "US")
    assert (found.zone, found.year, found.kind) == ("US", 2023, "country")
    assert found.fallback == "no factor for aws:xx-east-9; used country US 2023"


def test_an_unknown_state_uses_the_country_of_its_code(grid):
    found = grid.lookup("US-ZZ", 2023)
    assert found.zone == "US"
    assert found.fallback == "no factor for US-ZZ; used country US 2023"


def test_an_unknown_country_uses_the_world_average(grid):
    found = grid.lookup("ZZ", 2023)
    assert (found.zone, found.kind) == ("WORLD", "world")
    assert found.fallback == "no factor for ZZ; used the world average 2023"
    unknown_both = grid.lookup("aws:moon-1", 2023, "QQ")
    assert unknown_both.fallback == (
        "no factor for aws:moon-1 or its country QQ; used the world average 2023"
    )
    assert grid.lookup("", 2023).fallback == "no zone given; used the world average 2023"


def test_zones_are_normalised(grid):
    assert grid.lookup(" fr ", 2023).zone == "FR"
    assert grid.lookup("GCP:Europe-West1", 2023).exact


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (("cloud", "AWS", "us-east-1", "US", "SERC"), ("aws:us-east-1", "US")),
        (("cloud", "Microsoft Azure", "westeurope", "NL", ""), ("azure:westeurope", "NL")),
        (("cloud", "Google Cloud", "europe-west1", "BE", ""), ("gcp:europe-west1", "BE")),
        (("own", "", "", "SE", "SE3"), ("SE3", "SE")),
        (("colocation", "Equinix", "", "US", "us-ca"), ("US-CA", "US")),
        (("own", "", "", "US", "SERC"), ("US", None)),
        (("api", "OpenAI", "", "US", ""), ("US", None)),
        (("own", "", "", "", ""), ("", None)),
        (("cloud", "OVHcloud", "gra", "FR", ""), ("FR", None)),
    ],
)
def test_zone_for_site(site, expected):
    assert zone_for_site(*site) == expected


# --------------------------------------------------------------------------------------
# Vectorised lookups
# --------------------------------------------------------------------------------------


def _sample_keys(n: int, seed: int = 1) -> tuple[list[str], np.ndarray, list[str | None]]:
    keys = [
        zone_for_site(s["kind"], s["provider"], s["region_code"], s["country"], "")
        for s in _sites()
    ]
    keys += [("ZZ", None), ("US-CA", "US"), ("SE3", "SE"), ("", None), ("aws:xx-1", "US")]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(keys), n)
    zones = [keys[i][0] for i in pick]
    countries = [keys[i][1] for i in pick]
    return zones, rng.integers(2015, 2028, n), countries


def test_lookup_many_equals_lookup_row_by_row(grid):
    zones, years, countries = _sample_keys(5_000)
    values, found = grid.lookup_many(zones, years, countries)
    assert values.dtype == np.float64 and len(found) == len(zones)
    for i in np.random.default_rng(2).integers(0, len(zones), 500):
        one = grid.lookup(zones[i], int(years[i]), countries[i])
        assert found[i] == one
        assert values[i] == one.value


def test_lookup_many_handles_a_million_rows(grid):
    zones, years, countries = _sample_keys(1_000_000, seed=3)
    values, found = grid.lookup_many(zones, years, countries)
    assert values.shape == (1_000_000,) and len(found) == 1_000_000
    assert np.isfinite(values).all()
    assert values[-1] == grid.lookup(zones[-1], int(years[-1]), countries[-1]).value


def test_lookup_many_without_countries_and_when_empty(grid):
    values, found = grid.lookup_many(["FR", "US-CA"], np.array([2023, 2030]))
    assert values.tolist() == [grid.lookup("FR", 2023).value, grid.lookup("US-CA", 2023).value]
    assert found[1].fallback == "no 2030 figure for US-CA; used 2023"
    assert grid.lookup_many([], np.array([], dtype=int))[1] == []
    with pytest.raises(ValueError):
        grid.lookup_many(["FR"], np.array([2023, 2024]))


# --------------------------------------------------------------------------------------
# Parameters and inference energy
# --------------------------------------------------------------------------------------


def test_parameters_hold_low_central_high(params):
    for name, p in params.items():
        assert p.low <= p.value <= p.high, name
        assert p.unit and p.source and p.licence and p.year, name


def test_the_named_defaults_are_there(params):
    expected = {
        "pue_industry_average": (1.56, 1.09, 1.58),
        "pue:aws": (1.15, 1.09, 1.20),
        "wue:aws": (0.15, 0.15, 0.99),
        "pue:azure": (1.17, 1.09, 1.20),
        "pue:gcp": (1.10, 1.09, 1.20),
        "pue:openai": (1.20, 1.09, 1.20),
        "wue:openai": (0.569, 0.15, 0.99),
        "pue:google-api": (1.09, 1.09, 1.20),
        "embodied_lifetime_years": (4, 3, 6),
        # accelerator-only: system power / (1 + host overhead) / TDP (Patterson, Strubell)
        "utilisation_training": (0.5, 0.4, 0.99),
        "host_overhead_ratio": (0.43, 0.43, 0.60),
    }
    for name, (central, low, high) in expected.items():
        p = params[name]
        assert (p.value, p.low, p.high) == pytest.approx((central, low, high)), name
    util = params["utilisation_inference"]
    assert 0.3 <= util.low < util.value < util.high <= 1.0
    assert "wue_industry_average" not in params and "offsite_water_l_per_kwh" not in params


def test_equivalences_are_fixed_numbers(params):
    assert params["equiv:smartphone_charge_kwh"].value == 0.022
    assert params["equiv:car_km_kgco2e_eu"].value == 0.175
    assert params["equiv:car_km_kgco2e_us"].value == 0.251
    assert params["equiv:car_lifetime_kgco2e"].value == pytest.approx(126_000 * 0.45359237, 0.01)
    for name, p in params.items():
        if name.startswith("equiv:"):
            assert p.low == p.value == p.high, name


def test_ecologits_rows_reproduce_the_methodology_coefficients(inference):
    coeff = {k.split(":")[1]: r for k, r in inference.items() if r["metric"] == "ecologits_coeff"}
    assert coeff["a"]["central"] == 1.1665e-6
    assert coeff["b"]["central"] == -0.0112
    assert coeff["c"]["central"] == 4.053e-5
    assert coeff["batch"]["central"] == 64
    a, b, c = (coeff[k]["central"] for k in "abc")
    per_token_wh = a * math.exp(b * 64) * 70 + c  # a 70B model at batch 64
    assert per_token_wh == pytest.approx(8.04e-5, rel=0.01)


def test_power_hungry_processing_means(inference):
    assert inference["php:text-generation"]["central"] == 0.047
    assert inference["php:image-generation"]["central"] == 2.907
    # the SD (3.31) exceeds the mean: low = mean^2 / (mean + SD), as far below the mean as
    # a ratio as mean + SD is above it, so the central value lies inside its own range
    image = inference["php:image-generation"]
    assert image["low"] == pytest.approx(2.907**2 / (2.907 + 3.31), rel=1e-3)
    assert image["low"] / image["central"] == pytest.approx(
        image["central"] / image["high"], rel=1e-3
    )
    assert inference["php:text-classification"]["unit"] == "kWh/1000 inferences"


def test_mlenergy_summaries_are_ordered_and_in_joules(inference):
    rows = [r for k, r in inference.items() if k.startswith("mlenergy:")]
    assert {r["gpu"] for r in rows} == {"NVIDIA H100 SXM", "NVIDIA B200"}
    for r in rows:
        assert r["low"] <= r["central"] <= r["high"], r["key"]
        assert r["unit"] in ("J/token", "J/request", "J/image")
    eight_b = inference["mlenergy:chat:h100:dense-8b:token"]
    assert (eight_b["params_low_b"], eight_b["params_high_b"]) == (8, 8)
    moe = inference["mlenergy:chat:h100:moe-17b-37b-active:token"]
    assert (moe["params_low_b"], moe["params_high_b"]) == (17, 37)


# --------------------------------------------------------------------------------------
# Broken files are named, with the line
# --------------------------------------------------------------------------------------


@pytest.fixture
def ref_copy(tmp_path) -> Path:
    folder = tmp_path / "reference"
    folder.mkdir()
    for name in FILES:
        shutil.copy(reference_dir() / name, folder / name)
    return folder


def _append(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


@pytest.mark.parametrize(
    ("loader", "name"),
    [
        (load_grid_factors, "grid_factors.csv"),
        (load_parameters, "parameters.csv"),
        (load_inference_energy, "inference_energy.csv"),
    ],
)
def test_a_missing_file_is_named(tmp_path, loader, name):
    with pytest.raises(ReferenceDataError, match=rf"{name}.*missing") as err:
        loader(tmp_path)
    assert isinstance(err.value, LedgerError)


def test_a_malformed_grid_row_names_file_and_line(ref_copy):
    line = _append(ref_copy / "grid_factors.csv", "ZZ,Nowhere,country,2023,lots,,CO2,Src,MIT,")
    with pytest.raises(ReferenceDataError, match=rf"grid_factors\.csv, line {line}: g_per_kwh"):
        load_grid_factors(ref_copy)


def test_a_grid_row_without_licence_is_refused(ref_copy):
    line = _append(ref_copy / "grid_factors.csv", "ZZ,Nowhere,country,2023,100,,CO2,Src,,")
    with pytest.raises(ReferenceDataError, match=rf"line {line}: the licence is empty"):
        load_grid_factors(ref_copy)


def test_a_repeated_zone_and_year_is_refused(ref_copy):
    line = _append(ref_copy / "grid_factors.csv", "FR,France,country,2023,56,,CO2,Src,MIT,")
    with pytest.raises(ReferenceDataError, match=rf"line {line}: FR 2023 repeats line \d+"):
        load_grid_factors(ref_copy)


def test_a_short_row_and_a_wrong_header_are_refused(ref_copy):
    line = _append(ref_copy / "parameters.csv", "broken,1,2")
    with pytest.raises(ReferenceDataError, match=rf"parameters\.csv, line {line}: expected 10"):
        load_parameters(ref_copy)
    (ref_copy / "inference_energy.csv").write_text("key,value\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"inference_energy\.csv, line 1: expected"):
        load_inference_energy(ref_copy)


def test_a_parameter_outside_its_range_is_refused(ref_copy):
    line = _append(ref_copy / "parameters.csv", "odd,2,1,1.5,ratio,x,Src,2024,MIT,")
    with pytest.raises(ReferenceDataError, match=rf"line {line}: odd needs low <= central"):
        load_parameters(ref_copy)
