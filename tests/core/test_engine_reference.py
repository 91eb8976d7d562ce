"""The engine against published footprints (tests/data/reference_cases.json).

Fully specified cases get the published inputs (power, PUE, grid factor) and must match
within 2 %. Cases given only what a user would know (hardware, count, hours, place) must
have the published figure inside the reported P5-P95 range; the rate is measured.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from core import reference
from core.engine import load_assumptions
from core.estimate import Engine
from core.factors import Factor
from core.inventory import Inventory

CASES = {
    c["id"]: c
    for c in json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "reference_cases.json").read_text()
    )
}
LB = 0.45359237


def assumptions(**overrides: float):
    """The shipped assumptions with some parameters fixed to published values."""
    a = load_assumptions()
    params = dict(a.params)
    for name, value in overrides.items():
        params[name] = Factor(
            value, value, value, params[name].unit, "test: published input", None, "", ""
        )
    return dataclasses.replace(a, params=params)


def shipped_hardware(name: str) -> dict:
    rows = {r["name"]: r for r in reference.load_csv("hardware")}
    row = rows[name]
    return {k: row[k] for k in ("name", "kind", "tdp_w", "embodied_kgco2e", "lifetime_years")}


def inventory(
    tmp_path,
    *,
    site: dict,
    hardware: dict | None = None,
    runs=(),
    deployments=(),
    usage=(),
    sourcing=(),
) -> Inventory:
    inv = Inventory.create(tmp_path / "case.aicl", reference_data=False)
    model = inv.insert_logged(
        "models", [{"name": "M", "params_active_b": 123, "task": "classification"}], "t"
    )[0]
    site_id = inv.insert_logged("sites", [{"name": "S", **site}], "t")[0]
    hw_id = inv.insert_logged("hardware", [hardware], "t")[0] if hardware else None
    common = {"model_id": model, "site_id": site_id, "hardware_id": hw_id}
    inv.insert_logged(
        "training_runs", [{"name": "r", "kind": "pre-training", **common, **r} for r in runs], "t"
    )
    deps = inv.insert_logged(
        "deployments", [{"name": "d", **common, **d} for d in deployments], "t"
    )
    inv.insert_logged("usage", [{"deployment_id": deps[0], **u} for u in usage], "t")
    inv.insert_logged("sourcing", [{"name": "i", "site_id": site_id, **s} for s in sourcing], "t")
    return inv


def total(tmp_path, a=None, **kwargs):
    with inventory(tmp_path, **kwargs) as inv:
        return Engine(inv, a or load_assumptions()).estimate(None, samples=200).totals


def operational(tmp_path, a=None, **kwargs):
    """The training phase alone (without the hardware's embodied emissions)."""
    with inventory(tmp_path, **kwargs) as inv:
        rows = Engine(inv, a or load_assumptions()).estimate(None, by="phase", samples=0).rows
    row = next(r for r in rows if r.kind == "training")
    return {
        "energy_kwh": row.energy_kwh,
        "location_kgco2e": row.location_kgco2e,
        "market_kgco2e": row.market_kgco2e,
        "savings_kgco2e": row.savings_kgco2e,
    }


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("strubell2019")])
def test_strubell_whole_system_power(tmp_path, case_id):
    """Eq. 1: kWh = 1.58 x hours x whole-system W / 1000; lbs CO2e = 0.954 x kWh."""
    c = CASES[case_id]
    inp, out = c["inputs"], c["expected"]
    it_kwh = inp["avg_total_power_W"] * inp["training_hours"] / 1000  # measured IT energy
    t = total(
        tmp_path,
        site={
            "kind": "own",
            "pue": inp["pue"],
            "grid_factor_g_per_kwh": inp["carbon_intensity_lbs_per_kWh"] * LB * 1000,
        },
        runs=[
            {
                "energy_kwh": it_kwh,
                "energy_boundary": "it",
                "start_date": "2019-01-01",
                "end_date": "2019-01-02",
            }
        ],
    )
    assert t["energy_kwh"] == pytest.approx(out["energy_kWh_incl_PUE"], rel=0.02, abs=0.5)
    assert t["location_kgco2e"] / LB == pytest.approx(out["co2e_lbs"], rel=0.02, abs=0.5)


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("patterson2021")])
def test_patterson_location_and_market(tmp_path, case_id):
    """Same energy, gross (location) and net (market: a supplier-specific factor) CO2e."""
    c = CASES[case_id]
    inp, out = c["inputs"], c["expected"]
    # per-processor *system* power already includes the host: no host overhead on top
    a = assumptions(host_overhead_ratio=0.0)
    t = operational(
        tmp_path,
        a,
        hardware={"name": inp["processor"], "kind": "accelerator", "tdp_w": 300},
        site={
            "kind": "cloud",
            "pue": inp["pue"],
            "grid_factor_g_per_kwh": inp["grid_gross_kgCO2e_per_kWh"] * 1000,
        },
        runs=[
            {
                "device_count": inp["processor_count"],
                "wall_hours": inp["training_days"] * 24,
                "avg_power_w": inp["avg_system_power_per_processor_W"],
                "start_date": "2019-06-01",
                "end_date": "2019-06-04",
            }
        ],
        sourcing=[
            {
                "kind": "supplier-factor",
                "period_start": "2019-01-01",
                "period_end": "2019-12-31",
                "factor_g_per_kwh": inp["grid_net_kgCO2e_per_kWh"] * 1000,
            }
        ],
    )
    assert t["energy_kwh"] == pytest.approx(out["energy_kWh"], rel=0.02)
    assert t["location_kgco2e"] / 1000 == pytest.approx(out["gross_tCO2e"], rel=0.02)
    assert t["market_kgco2e"] / 1000 == pytest.approx(out["net_tCO2e"], rel=0.02, abs=2e-4)
    assert t["savings_kgco2e"] == pytest.approx(t["location_kgco2e"] - t["market_kgco2e"])


def test_bloom_dynamic_energy(tmp_path):
    """GPU-hours x TDP, no PUE, no host: 433,196 kWh and 24.69 t at 57 g/kWh."""
    inp, out = (
        CASES["bloom-176b-training-dynamic"]["inputs"],
        CASES["bloom-176b-training-dynamic"]["expected"],
    )
    a = assumptions(host_overhead_ratio=0.0)
    t = total(
        tmp_path,
        a,
        site={"kind": "own", "pue": 1.0, "grid_factor_g_per_kwh": inp["grid_gCO2e_per_kWh"]},
        runs=[
            {
                "device_hours": inp["gpu_hours"],
                "avg_power_w": inp["gpu_power_W_assumed_TDP"],
                "start_date": "2022-03-11",
                "end_date": "2022-07-06",
            }
        ],
    )
    assert t["energy_kwh"] == pytest.approx(out["dynamic_energy_kWh"], rel=0.02)
    assert t["location_kgco2e"] / 1000 == pytest.approx(out["dynamic_tCO2e"], rel=0.02)


def test_bloom_embodied_amortised(tmp_path):
    """Node 3,700 kg per 8 GPUs over 6 years at 85 % utilisation: 11.2 t for 1,082,990
    GPU-hours. The 85 % goes into the lifetime (6 x 0.85 years of use)."""
    c = CASES["bloom-176b-embodied"]
    inp, out = c["inputs"], c["expected"]
    a = assumptions(
        embodied_server_per_accelerator_kgco2e=inp["server_embodied_kgCO2e_excl_gpu"]
        / inp["gpus_per_node"]
    )
    with inventory(
        tmp_path,
        site={"kind": "own", "pue": 1.0, "grid_factor_g_per_kwh": 57},
        hardware={
            "name": "A100",
            "kind": "accelerator",
            "tdp_w": 400,
            "embodied_kgco2e": inp["gpu_embodied_kgCO2e_each"],
            "lifetime_years": inp["hardware_lifetime_years"] * inp["average_utilisation"],
        },
        runs=[
            {
                "device_hours": inp["gpu_hours"],
                "avg_power_w": 400,
                "start_date": "2022-03-11",
                "end_date": "2022-07-06",
            }
        ],
    ) as inv:
        rows = Engine(inv, a).estimate(None, by="phase", samples=0).rows
    embodied = next(r for r in rows if r.kind == "embodied")
    assert embodied.location_kgco2e / 1000 == pytest.approx(out["embodied_tCO2e"], rel=0.02)


def test_ecologits_h100_server_per_hour(tmp_path):
    """5,700 kg server + 8 x 164 kg GPUs over 3 years: 0.2668 kgCO2e per server-hour."""
    c = CASES["ecologits-h100-server-embodied"]
    with inventory(
        tmp_path,
        site={"kind": "own", "pue": 1.0, "grid_factor_g_per_kwh": 0},
        hardware=shipped_hardware("NVIDIA H100 SXM"),
        runs=[
            {
                "device_hours": 8.0,
                "avg_power_w": 700,
                "start_date": "2026-01-01",
                "end_date": "2026-01-01",
            }
        ],
    ) as inv:
        rows = Engine(inv).estimate(None, by="phase", samples=0).rows
    embodied = next(r for r in rows if r.kind == "embodied")
    assert embodied.location_kgco2e == pytest.approx(c["expected"]["per_hour_kgCO2e"], rel=0.02)


@pytest.mark.parametrize(
    ("task", "kwh"),
    [("classification", 0.002), ("summarisation", 0.049), ("object-detection", 0.038)],
)
def test_power_hungry_processing_per_request(tmp_path, task, kwh):
    expected = CASES["power-hungry-task-means"]["expected"]["kWh_per_1000_inferences_mean"]
    assert kwh in expected.values()
    with inventory(
        tmp_path,
        site={"kind": "own", "pue": 1.0, "grid_factor_g_per_kwh": 297.6},
        deployments=[{"kind": "self-hosted"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "requests": 1000}],
    ) as inv:
        inv.conn.execute("UPDATE models SET task = ?", (task,))
        t = Engine(inv).estimate(None, samples=0).totals
    assert t["energy_kwh"] == pytest.approx(kwh, rel=0.02)
    assert t["location_kgco2e"] == pytest.approx(kwh * 0.2976, rel=0.02)


# -- only what a user would know -------------------------------------------------------

USER_KNOWN = {
    # case id: (shipped hardware, devices, hours, country, year, published kgCO2e)
    "strubell2019-transformer-base": ("NVIDIA P100", 8, 12, "US", 2018, 26 * LB),
    "strubell2019-transformer-big": ("NVIDIA P100", 8, 84, "US", 2018, 192 * LB),
    "strubell2019-elmo": ("NVIDIA P100", 3, 336, "US", 2018, 262 * LB),
    "strubell2019-bert-base-gpu": ("NVIDIA V100 SXM2", 64, 79, "US", 2018, 1438 * LB),
    "patterson2021-transformer-big-p100-us-average": ("NVIDIA P100", 8, 84, "US", 2019, 135.7),
    "patterson2021-transformer-big-p100-iowa": ("NVIDIA P100", 8, 84, "US-IA", 2019, 105.5),
    "patterson2021-evolved-transformer-medium-tpuv2-iowa": (
        "Google TPU v2",
        8,
        0.62 * 24,
        "US-IA",
        2019,
        14.3,
    ),
    # BLOOM's operational total (GPU dynamic 24.69 t + idle and infrastructure 14.6 t): the
    # estimate covers host, idle share and PUE, so the GPU-only figure is not comparable
    "bloom-176b-training-total": (
        "NVIDIA A100 SXM4",
        384,
        1_082_990 / 384,
        "FR",
        2022,
        (24.69 + 14.6) * 1000,
    ),
}


def user_known_range(tmp_path, hardware, devices, hours, zone, year):
    site = {"kind": "own", "country": zone[:2]}
    if "-" in zone:
        site["grid_region"] = zone
    with inventory(
        tmp_path,
        site=site,
        hardware=shipped_hardware(hardware),
        runs=[
            {
                "device_count": devices,
                "wall_hours": hours,
                "start_date": f"{year}-06-01",
                "end_date": f"{year}-06-01",
            }
        ],
    ) as inv:
        rows = Engine(inv).estimate(None, by="phase", samples=2000, seed=1).rows
    op = next(r for r in rows if r.kind == "training")
    return op.location_kgco2e, op.low_kgco2e, op.high_kgco2e


def test_user_known_ranges_contain_most_published_figures(tmp_path, capsys):
    contained = []
    for i, (case_id, (hw, n, h, zone, year, published)) in enumerate(USER_KNOWN.items()):
        folder = tmp_path / str(i)
        folder.mkdir()
        central, low, high = user_known_range(folder, hw, n, h, zone, year)
        inside = low <= published <= high
        contained.append(inside)
        print(
            f"{case_id}: published {published:,.1f} kg; estimate {central:,.1f} "
            f"[{low:,.1f}, {high:,.1f}] {'inside' if inside else 'OUTSIDE'}"
        )
        assert 0.2 < central / published < 5, case_id  # same order of magnitude at least
    rate = sum(contained) / len(contained)
    print(
        f"P5-P95 contains the published figure in {sum(contained)} of {len(contained)} "
        f"cases ({rate:.0%})"
    )
    assert rate >= 0.5
