"""Gaps an audit found in the engine: embodied emissions of usage whose energy is measured
or per request, market-based instruments and cloud electricity, entries that cannot be
estimated, undated activity in calendar groupings."""

from __future__ import annotations

import pytest

from core.engine import load_assumptions
from core.estimate import Engine
from core.explain import explain
from core.inventory import Inventory

H100 = {
    "name": "NVIDIA H100 SXM",
    "kind": "accelerator",
    "tdp_w": 700.0,
    "embodied_kgco2e": 164.0,
    "lifetime_years": 3.0,
}


def make(
    path,
    *,
    site: dict | None = None,
    hardware: dict | None = H100,
    deployments=(),
    usage=(),
    runs=(),
    sourcing=(),
    task: str | None = "chat",
) -> Inventory:
    """A small inventory: one model, one site, one hardware type; usage rows name their
    deployment by position (``dep``, default 0)."""
    inv = Inventory.create(path, reference_data=False)
    model = inv.insert_logged("models", [{"name": "M", "params_active_b": 8, "task": task}], "t")[0]
    site_id = inv.insert_logged(
        "sites", [site or {"name": "Own DC", "kind": "own", "country": "FR", "pue": 1.2}], "t"
    )[0]
    hw_id = inv.insert_logged("hardware", [hardware], "t")[0] if hardware else None
    common = {"model_id": model, "site_id": site_id, "hardware_id": hw_id}
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
    inv.insert_logged(
        "training_runs",
        [{"name": f"r{i}", "kind": "pre-training", **common, **r} for i, r in enumerate(runs)],
        "t",
    )
    inv.insert_logged("sourcing", [{"name": f"i{i}", **s} for i, s in enumerate(sourcing)], "t")
    return inv


def per_device_hour(hardware: dict = H100) -> float:
    """Amortised embodied kgCO2e per device-hour: (device + server share) / lifetime h."""
    server = load_assumptions().param("embodied_server_per_accelerator_kgco2e").value
    life = (
        hardware.get("lifetime_years") or load_assumptions().param("embodied_lifetime_years").value
    )
    return ((hardware.get("embodied_kgco2e") or 0.0) + server) / (life * 8760.0)


def embodied_kg(engine: Engine, period=None) -> float:
    rows = engine.estimate(period, by="phase", samples=0).rows
    return sum(r.location_kgco2e for r in rows if r.kind == "embodied")


# -- 1. embodied emissions whatever method gives the energy ------------------------------


def test_measured_usage_amortises_embodied_by_its_device_hours(tmp_path):
    with make(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "device_count": 8, "start_date": "2026-01-01"}],
        usage=[
            {
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 3000.0,
                "energy_boundary": "it",
                "device_hours": 744.0,
            }
        ],
    ) as inv:
        engine = Engine(inv)
        got = embodied_kg(engine)
        total = engine.estimate(None, samples=0).totals
    assert got == pytest.approx(744.0 * per_device_hour())
    # the operational part is still the measured energy x PUE
    assert total["energy_kwh"] == pytest.approx(3000.0 * 1.2)


def test_without_device_hours_embodied_uses_devices_times_the_period(tmp_path):
    """Measured energy, and requests at a Power Hungry Processing rate: both amortise
    the deployment's devices over the hours of the usage row's period."""
    with make(
        tmp_path / "a.aicl",
        task="classification",
        deployments=[
            {"kind": "self-hosted", "device_count": 8, "start_date": "2026-01-01"},
            {"kind": "self-hosted", "device_count": 2, "start_date": "2026-01-01"},
        ],
        usage=[
            {
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 3000.0,
                "energy_boundary": "it",
            },
            {"dep": 1, "period_start": "2026-02-01", "period_end": "2026-02-28", "requests": 10**6},
        ],
    ) as inv:
        engine = Engine(inv)
        first = engine.estimate(None, by="entry", samples=0, entry=(1, 1))
        second = engine.estimate(None, by="entry", samples=0, entry=(1, 2))
        text = explain(engine, "deployments:1").text()
    emb1 = sum(r.location_kgco2e for r in first.rows if r.kind == "embodied")
    emb2 = sum(r.location_kgco2e for r in second.rows if r.kind == "embodied")
    assert emb1 == pytest.approx(8 * 31 * 24 * per_device_hour())
    assert emb2 == pytest.approx(2 * 28 * 24 * per_device_hour())
    assert "5,952 device-hours" in text  # 8 devices x 744 h


def test_server_share_note_only_when_something_is_counted(tmp_path):
    no_embodied = {"name": "AMD MI300X", "kind": "accelerator", "tdp_w": 750.0}
    with make(
        tmp_path / "a.aicl",
        hardware=no_embodied,
        deployments=[
            {"kind": "self-hosted", "device_count": 2, "start_date": "2026-01-01"},
            {"kind": "self-hosted", "start_date": "2026-01-01"},  # no device count
        ],
        usage=[
            {
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 500.0,
                "energy_boundary": "it",
            },
            {
                "dep": 1,
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 500.0,
                "energy_boundary": "it",
            },
        ],
    ) as inv:
        engine = Engine(inv)
        counted = explain(engine, "deployments:1").text()
        uncounted = explain(engine, "deployments:2").text()
        kg = embodied_kg(engine)
    server = load_assumptions().param("embodied_server_per_accelerator_kgco2e").value
    life = load_assumptions().param("embodied_lifetime_years").value
    assert kg == pytest.approx(2 * 744 * server / (life * 8760))
    assert "only the server share is counted" in counted
    assert "Embodied emissions" in counted
    assert "only the server share is counted" not in uncounted
    assert "embodied emissions not estimated" in uncounted


def test_capital_goods_convention_still_counts_own_hardware_once(tmp_path):
    with make(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "device_count": 8, "start_date": "2026-01-01"}],
        usage=[
            {
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "energy_kwh": 3000.0,
                "energy_boundary": "it",
            }
        ],
    ) as inv:
        inv.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('embodied_convention', 'capital-goods')"
        )
        got = embodied_kg(Engine(inv))
    server = load_assumptions().param("embodied_server_per_accelerator_kgco2e").value
    assert got == pytest.approx(8 * (164.0 + server))


# -- 2. the organisation's instruments cover its own Scope 2 electricity only -----------

CLOUD_DE = {
    "name": "AWS eu-central-1",
    "kind": "cloud",
    "provider": "AWS",
    "region_code": "eu-central-1",
    "country": "DE",
}


def two_sites(path, sourcing) -> Inventory:
    """A cloud deployment in Frankfurt and an own one in Germany, a month each."""
    inv = make(
        path,
        site=CLOUD_DE,
        deployments=[{"kind": "cloud", "device_count": 1, "start_date": "2026-01-01"}],
        usage=[{"period_start": "2026-01-01", "period_end": "2026-01-31", "device_hours": 744.0}],
    )
    own = inv.insert_logged(
        "sites", [{"name": "Berlin DC", "kind": "own", "country": "DE", "pue": 1.3}], "t"
    )[0]
    dep = inv.insert_logged(
        "deployments",
        [
            {
                "name": "own",
                "model_id": 1,
                "kind": "self-hosted",
                "site_id": own,
                "hardware_id": 1,
                "device_count": 1,
                "start_date": "2026-01-01",
            }
        ],
        "t",
    )[0]
    inv.insert_logged(
        "usage",
        [
            {
                "deployment_id": dep,
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "device_hours": 744.0,
            }
        ],
        "t",
    )
    inv.insert_logged("sourcing", sourcing, "t")
    return inv


GO_DE = {
    "name": "German GOs",
    "kind": "eac",
    "grid_region": "DE",
    "period_start": "2026-01-01",
    "period_end": "2026-12-31",
    "share_pct": 100.0,
    "factor_g_per_kwh": 0.0,
}


def operational(engine: Engine, dep: int) -> tuple[float, float]:
    rows = engine.estimate(None, by="entry", samples=0, entry=(1, dep)).rows
    ops = [r for r in rows if r.kind != "embodied"]
    return sum(r.location_kgco2e for r in ops), sum(r.market_kgco2e for r in ops)


def test_region_instruments_leave_cloud_consumption_at_the_location_factor(tmp_path):
    with two_sites(tmp_path / "a.aicl", [GO_DE]) as inv:
        engine = Engine(inv)
        cloud_loc, cloud_mkt = operational(engine, 1)
        own_loc, own_mkt = operational(engine, 2)
        text = explain(engine, "deployments:1").text()
    assert cloud_loc > 0 and own_loc > 0
    assert cloud_mkt == pytest.approx(cloud_loc)  # the provider's electricity
    assert own_mkt == pytest.approx(0.0)  # the organisation's own, fully covered
    assert "German GOs" not in text
    assert "cloud" in text.lower() and "Scope 3" in text


def test_an_instrument_naming_a_cloud_site_covers_nothing(tmp_path):
    named = {**GO_DE, "grid_region": None, "site_id": 1}
    with two_sites(tmp_path / "a.aicl", [named]) as inv:
        loc, mkt = operational(Engine(inv), 1)
    assert mkt == pytest.approx(loc)


def test_incremental_market_update_with_region_instruments_matches_a_full_pass(tmp_path):
    import numpy as np

    from core import emissions

    with two_sites(tmp_path / "a.aicl", [{**GO_DE, "share_pct": None, "mwh": 0.2}]) as inv:
        engine = Engine(inv)
        for uid, hours in ((1, 500.0), (2, 300.0), (1, 900.0)):
            inv.update_row("usage", uid, {"device_hours": hours})
            engine.apply_changes({"usage": [uid]})
        p = engine.pieces
        got = (p.market_kg.copy(), p.renewable_kwh.copy(), p.residual_fallback.copy())
        emissions.apply_market(p, engine.sites, engine.activity.sourcing, engine._site_ids)
        fresh = Engine(inv)
        cloud = operational(engine, 1)
        assert operational(fresh, 1) == pytest.approx(cloud)
        assert operational(fresh, 2) == pytest.approx(operational(engine, 2))
    assert np.array_equal(got[0], p.market_kg)
    assert np.array_equal(got[1], p.renewable_kwh)
    assert np.array_equal(got[2], p.residual_fallback)
    assert cloud[1] == pytest.approx(cloud[0])


# -- 3. what cannot be estimated is said, per entry and in a summary --------------------


def test_entries_that_cannot_be_estimated_say_why(tmp_path):
    from core import engine as eng
    from core.periods import parse_period

    no_tdp = {"name": "Mystery card", "kind": "accelerator"}
    with make(
        tmp_path / "a.aicl",
        hardware=no_tdp,
        deployments=[
            {"kind": "self-hosted", "device_count": 4, "start_date": "2026-02-01"},  # ongoing
            {"kind": "api", "start_date": "2026-01-01"},
            {"kind": "self-hosted", "device_count": 1, "start_date": "2026-01-01"},
            {
                "kind": "self-hosted",
                "device_count": 1,
                "start_date": "2024-01-01",
                "end_date": "2024-12-31",
            },  # no TDP, long before 2026
        ],
        usage=[
            {
                "dep": 2,
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
                "device_hours": 744.0,
            }
        ],
        runs=[
            {"device_hours": 100.0, "start_date": "2026-03-01", "end_date": "2026-03-02"},
            {
                "device_hours": 0.0,
                "avg_power_w": 300.0,
                "start_date": "2026-03-01",
                "end_date": "2026-03-01",
            },
            {"wall_hours": 0.0, "device_count": 8, "avg_power_w": 300.0},
        ],
    ) as inv:
        engine = Engine(inv)
        text = explain(engine, "deployments:1").text()
        zero = explain(engine, "training_runs:2").text()
        notes = engine.notes
        all_time = eng.not_estimated(notes)
        in_2026 = eng.not_estimated(notes, engine.activity, parse_period("2026"))
        one = eng.not_estimated(notes, entries=[(0, 2)])
        totals = engine.estimate(None, samples=0).totals
    assert "no usage recorded for the period; not estimated" in text
    assert "Not estimated: no usage recorded for the period (ongoing deployment)." in text
    assert "no energy estimated (device-hours or wall-clock hours are 0)" in zero
    assert notes[(1, 1)] == [eng.D_ONGOING]
    assert notes[(1, 2)] == [eng.D_API]
    assert eng.U_NO_TDP in notes[(1, 3)]
    assert notes[(1, 4)] == [eng.D_NO_TDP]
    assert eng.T_NO_TDP in notes[(0, 1)]
    assert eng.T_ZERO_HOURS in notes[(0, 2)] and eng.T_ZERO_HOURS in notes[(0, 3)]
    assert "1 entry not estimated: no usage recorded for the period (ongoing deployment)." in (
        all_time
    )
    assert "2 entries not estimated: device-hours or wall-clock hours are 0." in all_time
    assert (
        "1 entry not estimated: no measured energy or average power, and no TDP for the "
        "hardware." in all_time
    )
    assert (
        "1 entry: some usage records not estimated: device-hours only, and no TDP for "
        "the hardware." in all_time
    )
    assert "1 entry not estimated: no usage recorded and no TDP for the hardware." in all_time
    # 2026: the 2024 deployment is left out; the undated run (no dates) stays in
    assert not any("no usage recorded and no TDP" in n for n in in_2026)
    assert "2 entries not estimated: device-hours or wall-clock hours are 0." in in_2026
    assert one == ["1 entry not estimated: device-hours or wall-clock hours are 0."]
    # embodied emissions of the device-hours are still counted where there are hours
    assert totals["location_kgco2e"] > 0


def test_estimate_notes_say_what_was_not_estimated(tmp_path):
    with make(
        tmp_path / "a.aicl",
        deployments=[{"kind": "self-hosted", "device_count": 4, "start_date": "2026-02-01"}],
    ) as inv:
        notes = Engine(inv).estimate("2026", samples=0).notes
    assert "1 entry not estimated: no usage recorded for the period (ongoing deployment)." in (
        notes
    )


# -- 4. undated activity is its own group in calendar groupings --------------------------


def test_calendar_groups_file_undated_pieces_apart():
    import numpy as np

    from core.emissions import UNDATED, calendar_groups

    start = np.array(["2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01"], "datetime64[D]")
    dated = np.array([True, True, True, False])
    group, labels = calendar_groups(start, dated, "quarter")
    assert labels == ["2026-Q1", "2026-Q2", UNDATED]
    assert [labels[g] for g in group] == ["2026-Q1", "2026-Q1", "2026-Q2", "undated"]
    group, labels = calendar_groups(start, dated, "month")
    assert [labels[g] for g in group] == ["2026-01", "2026-02", "2026-04", "undated"]
    assert calendar_groups(start[:0], dated[:0], "month")[1] == []


def test_undated_runs_are_an_undated_group_not_the_current_quarter(tmp_path):
    with make(
        tmp_path / "a.aicl",
        runs=[
            {"device_hours": 100.0, "avg_power_w": 300.0},  # no dates
            {
                "device_hours": 100.0,
                "avg_power_w": 300.0,
                "start_date": "2026-03-01",
                "end_date": "2026-03-01",
            },
        ],
    ) as inv:
        engine = Engine(inv)
        rows = engine.estimate(None, by="quarter", samples=0).rows
        ids = sorted(r.id for r in rows)
    assert ids == ["2026-Q1", "undated"]


def test_a_providers_own_factor_named_for_its_cloud_site_applies(tmp_path):
    """A supplier-specific factor for the cloud site itself is the provider's market-based
    figure (Patterson et al. 2021: Google's net factor), unlike the buyer's certificates."""
    provider = {
        "name": "AWS net factor",
        "kind": "supplier-factor",
        "site_id": 1,
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "factor_g_per_kwh": 100.0,
    }
    with two_sites(tmp_path / "a.aicl", [provider]) as inv:
        engine = Engine(inv)
        loc, mkt = operational(engine, 1)
        kwh = engine.estimate(None, by="entry", samples=0, entry=(1, 1)).totals["energy_kwh"]
    assert mkt == pytest.approx(kwh * 0.1)
    assert mkt < loc


def test_market_notes_say_cloud_electricity_keeps_the_providers_figure(tmp_path):
    from core.emissions import CLOUD_MARKET_NOTE, market_notes

    with two_sites(tmp_path / "a.aicl", [GO_DE]) as inv:
        engine = Engine(inv)
        p = engine.pieces
        everything, _ = p.select(None)
        own_only = everything[engine.lines.entry_id[p.line[everything]] == 2]
        assert market_notes(p, everything, engine.lines, engine.sites) == [CLOUD_MARKET_NOTE]
        assert market_notes(p, own_only, engine.lines, engine.sites) == []
