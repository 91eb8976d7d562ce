"""``explain`` gives every factor its value, unit, source, year and licence, says whether
it is a shipped default or the user's input, and writes out the market-based formula."""

from __future__ import annotations

import re

import pytest

from core import engine as eng
from core.commands import SetSetting, UpdateRecord
from core.demo import build_demo
from core.estimate import Engine
from core.explain import CO2_ONLY, SUB, _n, explain
from core.inventory import Inventory

YEAR = re.compile(r", (19|20)\d\d(; (19|20)\d\d)*, ")


def factor_lines(text: str) -> list[str]:
    """The factor lines of an explanation's text (indented under their formula)."""
    return [line.strip() for line in text.splitlines() if line.startswith("  " + SUB)]


def section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n\n", 1)[0]


def build(path, *, runs=(), deployments=(), usage=(), sourcing=(), model=None, site=None):
    """An inventory with the shipped reference data, one model, one site (an own data
    centre in France without a PUE unless ``site`` says otherwise), and the A100 SXM4."""
    inv = Inventory.create(path)
    mid = inv.insert_logged("models", [model or {"name": "M", "task": "chat"}], "t")[0]
    sid = inv.insert_logged(
        "sites", [site or {"name": "Lyon DC", "kind": "own", "country": "FR"}], "t"
    )[0]
    hw = int(inv.ordered_ids("hardware", search="A100 SXM4")[0])
    common = {"model_id": mid, "site_id": sid, "hardware_id": hw}
    inv.insert_logged(
        "training_runs",
        [{"name": f"r{i}", "kind": "pre-training", **common, **r} for i, r in enumerate(runs)],
        "t",
    )
    deps = inv.insert_logged(
        "deployments", [{"name": f"d{i}", **common, **d} for i, d in enumerate(deployments)], "t"
    )
    inv.insert_logged(
        "usage",
        [
            {"deployment_id": deps[u.get("dep", 0)], **{k: v for k, v in u.items() if k != "dep"}}
            for u in usage
        ],
        "t",
    )
    for i, s in enumerate(sourcing):
        inv.insert_logged("sourcing", [{"name": f"i{i}", "site_id": sid, **s}], "t")
    return inv


RUN = {"device_count": 8, "start_date": "2026-02-01", "end_date": "2026-02-03"}


def test_tdp_times_utilisation_is_written_out_with_both_sources(tmp_path):
    with build(tmp_path / "a.aicl", runs=[{**RUN, "device_hours": 800.0}]) as inv:
        text = explain(Engine(inv), "training_runs:1", "2026-Q1").text()
    energy = section(text, "Energy (training)")
    assert "800 device-hours x 200 W / 1000 = 160 kWh" in energy
    assert "200 W per device = TDP 400 W of NVIDIA A100 SXM4 x utilisation_training 0.5" in energy
    assert (
        "TDP 400 W of NVIDIA A100 SXM4: NVIDIA A100 datasheet, 2020, cited fact; "
        "default (shipped hardware table)" in energy
    )
    assert "utilisation_training 0.5 fraction of TDP (range 0.4-0.99): Patterson" in energy
    assert "host_overhead_ratio 0.43" in energy
    assert "PUE 1.56 (no PUE stated for the site): pue_industry_average 1.56 ratio" in energy
    defaults = section(text, "Defaults used")
    assert "TDP 400 W of NVIDIA A100 SXM4" in defaults
    assert "utilisation_training = 0.5" in defaults and "PUE 1.56" in defaults


def test_a_power_or_a_hardware_figure_of_the_user_is_their_input(tmp_path):
    with build(
        tmp_path / "a.aicl",
        runs=[{**RUN, "device_hours": 100.0}, {**RUN, "device_hours": 100.0, "avg_power_w": 310.0}],
    ) as inv:
        hw = int(inv.ordered_ids("hardware", search="A100 SXM4")[0])
        UpdateRecord("hardware", hw, {"tdp_w": 380.0}).apply(inv)
        engine = Engine(inv)
        edited = explain(engine, "training_runs:1").text()
        stated = explain(engine, "training_runs:2").text()
    assert "TDP 380 W of NVIDIA A100 SXM4: your input (hardware type 'NVIDIA A100 SXM4'" in edited
    assert "TDP 380 W" not in section(edited, "Defaults used")
    assert "average power 310 W per device: your input" in stated
    assert "utilisation_training" not in stated


def test_measured_energy_at_the_devices_cites_host_overhead_and_pue(tmp_path):
    with build(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "device_count": 2, "start_date": "2026-01-01"}],
        usage=[
            {
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 100.0,
                "energy_boundary": "device",
            }
        ],
        site={"name": "Lyon DC", "kind": "own", "country": "FR", "pue": 1.25},
    ) as inv:
        text = explain(Engine(inv), "deployments:1", "2026-01").text()
    energy = section(text, "Energy (inference)")
    assert "100 kWh measured at the devices boundary (your input: usage records)" in energy
    assert "x (1 + host overhead 0.43) = 143 kWh IT; x PUE 1.25 = 179 kWh" in energy
    assert "PUE 1.25 of Lyon DC: your input (site 'Lyon DC'; no source given)" in energy


def test_requests_cite_the_power_hungry_processing_row(tmp_path):
    with build(
        tmp_path / "a.aicl",
        model={"name": "Clf", "task": "classification"},
        deployments=[{"kind": "self-hosted", "start_date": "2026-01-01"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "requests": 1e6}],
    ) as inv:
        text = explain(Engine(inv), "deployments:1", "2026").text()
    energy = section(text, "Energy (inference)")
    assert "1,000,000 requests x 0.002 kWh per 1,000 inferences / 1,000 = 2 kWh IT" in energy
    assert (
        "energy per 1,000 inferences 0.002 kWh/1000 inferences (range 0.001-0.003) "
        "(php:text-classification): Luccioni, Jernite, Strubell 2024, Power Hungry Processing"
        in energy
    )
    assert ", 2024, cited fact; default" in energy
    assert "php:text-classification" in section(text, "Defaults used")


def test_requests_of_a_chat_model_cite_ml_energy_and_the_model_size(tmp_path):
    with build(
        tmp_path / "a.aicl",
        model={"name": "Chat 8B", "task": "chat", "params_active_b": 8},
        deployments=[{"kind": "self-hosted", "start_date": "2026-01-01"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "requests": 36000.0}],
    ) as inv:
        text = explain(Engine(inv), "deployments:1", "2026").text()
    energy = section(text, "Energy (inference)")
    # 36,000 requests x 53.62 J = 1,930,320 J = 0.536 kWh on the GPUs
    assert "36,000 requests x 53.62 J per request / 3,600,000 J per kWh = 0.536 kWh" in energy
    assert "(mlenergy:chat:h100:dense-8b:request): ML.ENERGY leaderboard v3" in energy
    assert "2026, Apache-2.0; default" in energy
    assert "model size 8 billion parameters: your input (model 'Chat 8B')" in energy


def test_tokens_write_out_the_ecologits_formula(tmp_path):
    with build(
        tmp_path / "a.aicl",
        model={"name": "Chat 8B", "task": "chat", "params_active_b": 8, "params_total_b": 8},
        deployments=[{"kind": "self-hosted", "start_date": "2026-01-01"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "output_tokens": 1e9}],
    ) as inv:
        text = explain(Engine(inv), "deployments:1", "2026").text()
    energy = section(text, "Energy (inference)")
    # one GPU: a x exp(b x 64) x 8 + c = 4.51e-05 Wh per token
    assert "1,000,000,000 output tokens x 4.51e-05 Wh per token / 1000 = 45.1 kWh" in energy
    assert "= 1.1665e-06 x exp(-0.0112 x 64) x 8 + 4.053e-05" in energy
    assert "EcoLogits methodology (GenAI Impact 2025), LLM inference, 2025, CC BY-SA 4.0" in energy
    assert "model size 8 billion parameters: your input (model 'Chat 8B')" in energy


def test_tokens_of_a_model_of_unknown_size_take_the_default_size(tmp_path):
    with build(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "start_date": "2026-01-01"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "output_tokens": 1e9}],
    ) as inv:
        engine = Engine(inv)
        text = explain(engine, "deployments:1", "2026").text()
        kwh = engine.estimate("2026", samples=0).rows[0].energy_kwh
    energy = section(text, "Energy (inference)")
    assert "x exp(-0.0112 x 64) x 70 + 4.053e-05" in energy
    assert "model size 70 billion parameters: default (the model's size is not given" in energy
    assert "model size 70 billion" in section(text, "Defaults used")
    assert f"= {_n(kwh, 'kWh')}" in energy.splitlines()[0]
    if hasattr(eng, "token_gpus"):  # the GPUs holding a 70B model: 168 GB over 80 GB
        assert "3 GPUs holding the model = ceil(1.2 x 70 billion parameters x 16 bits" in energy


def test_an_api_deployment_cites_the_providers_shipped_pue(tmp_path):
    with build(tmp_path / "a.aicl") as inv:
        site = int(inv.ordered_ids("sites", search="OpenAI API")[0])
        model = inv.insert_logged("models", [{"name": "GPT", "task": "chat"}], "t")[0]
        dep = inv.insert_logged(
            "deployments",
            [{"name": "api", "model_id": model, "kind": "api", "site_id": site}],
            "t",
        )[0]
        inv.insert_logged(
            "usage",
            [
                {
                    "deployment_id": dep,
                    "period_start": "2026-03-01",
                    "period_end": "2026-03-31",
                    "output_tokens": 5e6,
                }
            ],
            "t",
        )
        text = explain(Engine(inv), f"deployments:{dep}", "2026-Q1").text()
    energy = section(text, "Energy (api)")
    assert "x PUE 1.2 = " in energy
    assert (
        "PUE 1.2 of OpenAI API (on Azure): EcoLogits methodology update 2025 (provider table), "
        "2025, CC BY-SA 4.0; default (shipped sites table)" in energy
    )
    assert "your Scope 3 cat. 1" in section(text, "Market-based emissions")


def test_embodied_cites_the_hardware_figure_server_share_and_lifetime(tmp_path):
    with build(
        tmp_path / "a.aicl", runs=[{**RUN, "device_hours": 8760.0, "energy_kwh": 10.0}]
    ) as inv:
        text = explain(Engine(inv), "training_runs:1").text()
    embodied = section(text, "Embodied emissions")
    assert "8,760 device-hours x (150 kgCO2e accelerator + 712 kgCO2e server share)" in embodied
    assert "/ (4 years x 8,760 h) = 216 kgCO2e" in embodied
    assert (
        "embodied 150 kgCO2e per NVIDIA A100 SXM4: Luccioni et al. 2023 (BLOOM), 2023, "
        "CC BY 4.0; default (shipped hardware table)" in embodied
    )
    assert "server share (embodied_server_per_accelerator_kgco2e) 712 kgCO2e" in embodied
    assert "embodied_lifetime_years 4 years (range 3-6)" in embodied
    assert "device-hours: your input (the training run)" in embodied


def test_capital_goods_count_the_devices_in_full(tmp_path):
    with build(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "device_count": 4, "start_date": "2026-01-10"}],
        usage=[
            {
                "period_start": "2026-01-10",
                "period_end": "2026-01-31",
                "energy_kwh": 50.0,
                "energy_boundary": "it",
            }
        ],
    ) as inv:
        SetSetting("embodied_convention", "capital-goods").apply(inv)
        text = explain(Engine(inv), "deployments:1", "2026-Q1").text()
    embodied = section(text, "Embodied emissions")
    assert "NVIDIA A100 SXM4: 4 devices x (150 kgCO2e accelerator + 712 kgCO2e server share)" in (
        embodied
    )
    assert "= 3,450 kgCO2e, counted in full" in embodied


def test_the_market_based_formula_shows_each_instrument_and_the_rest(tmp_path):
    """Two instruments on one site, a 40 % green tariff applied after a 30 % PPA (earlier
    start): covered kWh per instrument, the rest at the location factor, and the totals
    the estimate gives."""
    with build(
        tmp_path / "a.aicl",
        runs=[{**RUN, "energy_kwh": 1000.0, "energy_boundary": "facility"}],
        sourcing=[
            {
                "kind": "ppa",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "share_pct": 30.0,
                "factor_g_per_kwh": 0.0,
            },
            {
                "kind": "green-tariff",
                "period_start": "2026-02-01",
                "period_end": "2026-12-31",
                "share_pct": 40.0,
                "factor_g_per_kwh": 10.0,
            },
        ],
    ) as inv:
        engine = Engine(inv)
        text = explain(engine, "training_runs:1", "2026").text()
        totals = engine.estimate("2026", samples=0, entry=(0, 1)).totals
    market = section(text, "Market-based emissions")
    assert "Consumption: 1,000 kWh" in market
    assert "covered by 'i0': 300 kWh x 0 gCO2e/kWh = 0 kgCO2e" in market
    # the tariff covers 40 % of what the PPA left: 280 kWh
    assert "covered by 'i1': 280 kWh x 10 gCO2e/kWh = 2.8 kgCO2e" in market
    assert "Green tariff, 2026-02-01..2026-12-31, factor 10 gCO2e/kWh: your input" in market
    assert "not covered: 420 kWh x 56 gCO2/kWh location factor (FR 2023) = 23.5 kgCO2e" in market
    assert "no residual-mix factor is bundled" in market
    embodied = totals["location_kgco2e"] - 1000 * 56 / 1000  # the same in both methods
    assert totals["market_kgco2e"] == pytest.approx(2.8 + 420 * 56 / 1000 + embodied, rel=0.01)
    assert f"= {_n(totals['market_kgco2e'], 'kgCO2e')};" in market


def test_a_supplier_factor_for_some_of_the_days_covers_those_days_only(tmp_path):
    """A run over 10 February days (1,000 kWh, 100 a day) and a supplier-specific factor
    of 20 g/kWh from 8 February: the factor takes the 3 days it covers (300 kWh), the
    other 700 kWh take the location factor, and the explanation shows both and adds up
    to the estimate's market-based figure."""
    run = {
        "device_count": 8,
        "start_date": "2026-02-01",
        "end_date": "2026-02-10",
        "energy_kwh": 1000.0,
        "energy_boundary": "facility",
    }
    supplier = {
        "kind": "supplier-factor",
        "period_start": "2026-02-08",
        "period_end": "2026-12-31",
        "factor_g_per_kwh": 20.0,
    }
    with build(tmp_path / "a.aicl", runs=[run], sourcing=[supplier]) as inv:
        engine = Engine(inv)
        text = explain(engine, "training_runs:1", "2026").text()
        totals = engine.estimate("2026", samples=0, entry=(0, 1)).totals
    market = section(text, "Market-based emissions")
    assert "at a supplier-specific factor: 300 kWh x 20 gCO2e/kWh = 6 kgCO2e" in market
    assert "not covered: 700 kWh x 56 gCO2/kWh location factor (FR 2023) = 39.2 kgCO2e" in market
    embodied = totals["location_kgco2e"] - 1000 * 56 / 1000  # the same in both methods
    assert totals["market_kgco2e"] == pytest.approx(6 + 700 * 56 / 1000 + embodied, rel=0.01)
    assert f"= {_n(totals['market_kgco2e'], 'kgCO2e')};" in market


def test_no_activity_says_so_instead_of_every_input_given(tmp_path):
    with build(tmp_path / "a.aicl", runs=[{**RUN, "device_hours": 800.0}]) as inv:
        text = explain(Engine(inv), "training_runs:1", "2025").text()
    assert "No activity in this period." in text
    assert "every input was given" not in text
    assert "none: no activity in this period, so nothing was estimated" in text


def test_co2_only_grid_factors_are_flagged_and_co2e_ones_are_not(tmp_path):
    with build(
        tmp_path / "a.aicl",
        runs=[{**RUN, "energy_kwh": 100.0}],
        site={"name": "Bay Area", "kind": "own", "country": "US", "grid_region": "US-CA"},
    ) as inv:
        co2e = explain(Engine(inv), "training_runs:1").text()
    with build(tmp_path / "b.aicl", runs=[{**RUN, "energy_kwh": 100.0}]) as inv:
        co2 = explain(Engine(inv), "training_runs:1").text()
    assert "gCO2/kWh" in co2 and CO2_ONLY in co2
    assert "gCO2e/kWh" in co2e and CO2_ONLY not in co2e
    assert "grid factor US-CA 2023, " in co2e and "EPA eGRID2023" in co2e


def test_a_run_over_several_months_counts_its_energy_once(tmp_path):
    """A run from November to January is cut into three month pieces; its energy line
    adds the pieces' shares, not the whole run three times."""
    with build(
        tmp_path / "a.aicl",
        runs=[
            {
                "device_count": 8,
                "start_date": "2025-11-01",
                "end_date": "2026-01-31",
                "energy_kwh": 920.0,
                "energy_boundary": "facility",
                "device_hours": 920.0,
            }
        ],
    ) as inv:
        engine = Engine(inv)
        everything = explain(engine, "training_runs:1").text()
        january = explain(engine, "training_runs:1", "2026-01").text()
    assert "920 kWh measured at the facility boundary" in everything
    assert "= 920 kWh" in section(everything, "Energy (training)")
    # January: 31 of the run's 92 days
    assert "310 kWh measured at the facility boundary" in january
    assert "310 device-hours x" in section(january, "Embodied emissions")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    inv = build_demo(tmp_path_factory.mktemp("demo") / "demo.aicl")
    yield Engine(inv)
    inv.close()


def test_every_factor_line_of_the_demo_says_default_or_input_with_year_and_licence(demo):
    checked = 0
    for table, rid in [(0, i) for i in range(1, 43)] + [(1, i) for i in range(1, 30)]:
        entry = f"{('training_runs', 'deployments')[table]}:{rid}"
        for period in ("2026", None):
            text = explain(demo, entry, period, samples=0).text()
            defaults = section(text, "Defaults used")
            for line in factor_lines(text):
                if line.startswith("range of this factor"):  # its parameters, cited below
                    for name in re.findall(r"grid_range:\w+", line):
                        cited = defaults.split(f"{name} = ", 1)[1].split("\n", 1)[0]
                        assert YEAR.search(cited), cited
                elif "; default" in line:
                    assert YEAR.search(line) or line.startswith("model size"), line
                    checked += 1
                if line.startswith(("TDP", "PUE", "embodied ", "WUE", "grid factor")):
                    assert "default" in line or "your input" in line, line
            assert "every input was given" not in defaults or "No activity" not in text
    assert checked > 300


def test_market_total_and_location_total_match_the_estimate_for_the_demo(demo):
    for entry, key in (("deployments:2", (1, 2)), ("training_runs:6", (0, 6))):
        text = explain(demo, entry, "2026", samples=0).text()
        t = demo.estimate("2026", samples=0, entry=key).totals
        market = section(text, "Market-based emissions").splitlines()[-1]
        location = section(text, "Location-based emissions").splitlines()[-1]
        assert f"= {_n(t['market_kgco2e'], 'kgCO2e')};" in market, market
        assert location.endswith(f"= {_n(t['location_kgco2e'], 'kgCO2e')}"), location
