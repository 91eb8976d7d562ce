"""What-if scenarios: the numbers the engine gives for each kind of change, and saving them."""

from __future__ import annotations

import json

import pytest

from core import scenarios as scen
from core.demo import build_demo
from core.errors import RecordNotFoundError
from core.estimate import Engine
from core.inventory import Inventory

Q3 = "2026-Q3"
EMAIL = 7  # "Email intent tagging": AWS eu-west-1 (Ireland), A10G, device-hours, no sourcing
IRELAND, STOCKHOLM_AWS = 19, 23  # both AWS, PUE 1.15
VIRGINIA = 101  # own site; no renewable instrument after June 2026
A10G, L4 = 13, 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    inv = build_demo(tmp_path_factory.mktemp("scen") / "demo.aicl")
    yield inv
    inv.close()


@pytest.fixture(scope="module")
def engine(demo):
    return Engine(demo)


def entry_rows(engine, entry, period=Q3):
    return {r.kind: r for r in engine.estimate(period, by="entry", samples=0, entries={entry}).rows}


def grid(engine, site_id, year=2026):
    i = next(i for i, s in enumerate(engine.activity.site_rows) if s["id"] == site_id)
    zone, country = engine.sites.zone[i], engine.sites.country[i]
    return engine.assumptions.grid.lookup(zone, year, country).value


def run(engine, *changes):
    return scen.scenario_engine(engine, scen.Scenario("test", list(changes)))


def test_moving_a_deployment_to_a_lower_carbon_region_scales_by_the_factor_ratio(engine):
    before = entry_rows(engine, (1, EMAIL))
    after = entry_rows(
        run(
            engine, {"kind": "move_deployment", "deployment_id": EMAIL, "to_site_id": STOCKHOLM_AWS}
        ),
        (1, EMAIL),
    )
    ratio = grid(engine, STOCKHOLM_AWS) / grid(engine, IRELAND)
    assert ratio < 0.5  # Sweden's grid is far cleaner than Ireland's
    assert after["inference"].energy_kwh == pytest.approx(before["inference"].energy_kwh)
    assert after["inference"].location_kgco2e == pytest.approx(
        before["inference"].location_kgco2e * ratio
    )
    assert after["embodied"].location_kgco2e == pytest.approx(before["embodied"].location_kgco2e)
    # the baseline engine and the inventory are untouched
    assert entry_rows(engine, (1, EMAIL))["inference"].location_kgco2e == pytest.approx(
        before["inference"].location_kgco2e
    )


def test_moving_to_a_new_region_adds_a_site_only_in_the_scenario(engine, demo):
    sites_before = demo.count("sites")
    what_if = run(
        engine,
        {
            "kind": "move_deployment",
            "deployment_id": EMAIL,
            "to_site": {
                "kind": "cloud",
                "provider": "AWS",
                "region_code": "eu-north-1",
                "country": "SE",
                "pue": 1.15,
            },
        },
    )
    moved = entry_rows(what_if, (1, EMAIL))["inference"]
    same_as_existing = entry_rows(
        run(
            engine, {"kind": "move_deployment", "deployment_id": EMAIL, "to_site_id": STOCKHOLM_AWS}
        ),
        (1, EMAIL),
    )["inference"]
    assert moved.location_kgco2e == pytest.approx(same_as_existing.location_kgco2e)
    names = [r.name for r in what_if.estimate(Q3, by="site", samples=0).rows]
    assert "What-if: AWS eu-north-1 SE" in names
    assert demo.count("sites") == sites_before


def test_moving_all_of_a_sites_load_moves_every_entry_there(engine):
    what_if = run(engine, {"kind": "move_site", "site_id": IRELAND, "to_site_id": STOCKHOLM_AWS})
    sites = {r.id: r for r in what_if.estimate(Q3, by="site", samples=0).rows}
    base = {r.id: r for r in engine.estimate(Q3, by="site", samples=0).rows}
    assert f"sites:{IRELAND}" not in sites
    moved = sites[f"sites:{STOCKHOLM_AWS}"]
    assert moved.energy_kwh == pytest.approx(
        base[f"sites:{IRELAND}"].energy_kwh
        + (base[f"sites:{STOCKHOLM_AWS}"].energy_kwh if f"sites:{STOCKHOLM_AWS}" in base else 0)
    )


def test_changing_pue_scales_facility_energy_by_the_pue_ratio(engine):
    stockholm = 100  # own site, PUE 1.12
    base = engine.estimate(Q3, by="site", samples=0).rows
    what_if = run(engine, {"kind": "set_pue", "site_id": stockholm, "pue": 1.5})
    after = {r.id: r for r in what_if.estimate(Q3, by="site", samples=0).rows}
    for r in base:
        expected = r.energy_kwh * (1.5 / 1.12 if r.id == f"sites:{stockholm}" else 1.0)
        assert after[r.id].energy_kwh == pytest.approx(expected)


def test_a_ppa_for_all_of_a_sites_consumption_brings_its_market_emissions_to_zero(demo, engine):
    base = {r.id: r for r in engine.estimate(Q3, by="site", samples=0).rows}[f"sites:{VIRGINIA}"]
    assert base.savings_kgco2e == pytest.approx(0)  # nothing covers Virginia in Q3
    what_if = run(
        engine,
        {
            "kind": "add_sourcing",
            "instrument": "ppa",
            "site_id": VIRGINIA,
            "share_pct": 100,
            "period_start": "2026-07-01",
            "period_end": "2026-12-31",
        },
    )
    rows = what_if.estimate(Q3, by="entry", samples=0).rows  # one per entry and part
    virginia_ops = [
        r for r in rows if r.part == "operational" and r.id == "deployments:27"
    ]  # the code assistant runs in Virginia
    assert virginia_ops and all(r.market_kgco2e == pytest.approx(0) for r in virginia_ops)
    after = {r.id: r for r in what_if.estimate(Q3, by="site", samples=0).rows}[f"sites:{VIRGINIA}"]
    assert after.location_kgco2e == pytest.approx(base.location_kgco2e)
    at_site = {
        f"{table}:{rid}"
        for table in ("deployments", "training_runs")
        for (rid,) in demo.conn.execute(f"SELECT id FROM {table} WHERE site_id = ?", (VIRGINIA,))
    }
    embodied = sum(  # the hardware's embodied emissions: no instrument covers them
        r.location_kgco2e
        for r in engine.estimate(Q3, by="entry", samples=0).rows
        if r.part == "embodied" and r.id in at_site
    )
    assert embodied > 0
    assert after.savings_kgco2e == pytest.approx(base.location_kgco2e - embodied, rel=0.05)
    # half the share, half the savings
    half = run(
        engine,
        {
            "kind": "add_sourcing",
            "instrument": "eac",
            "site_id": VIRGINIA,
            "share_pct": 50,
            "period_start": "2026-07-01",
            "period_end": "2026-12-31",
        },
    )
    half_site = {r.id: r for r in half.estimate(Q3, by="site", samples=0).rows}[f"sites:{VIRGINIA}"]
    assert half_site.savings_kgco2e == pytest.approx(after.savings_kgco2e / 2)


def test_scaling_requests_scales_usage_based_energy(engine):
    base = entry_rows(engine, (1, EMAIL))
    other = entry_rows(engine, (1, 14))
    what_if = run(engine, {"kind": "scale_requests", "deployment_id": EMAIL, "factor": 2.5})
    after = entry_rows(what_if, (1, EMAIL))
    assert after["inference"].energy_kwh == pytest.approx(2.5 * base["inference"].energy_kwh)
    assert after["inference"].location_kgco2e == pytest.approx(
        2.5 * base["inference"].location_kgco2e
    )
    assert entry_rows(what_if, (1, 14))["inference"].energy_kwh == pytest.approx(
        other["inference"].energy_kwh
    )


def test_switching_hardware_follows_the_new_tdp(engine):
    base = entry_rows(engine, (1, EMAIL))
    assert base["inference"].method_tier == "activity-based"
    what_if = run(
        engine,
        {
            "kind": "switch_hardware",
            "from_hardware_id": A10G,
            "to_hardware_id": L4,
            "deployment_id": EMAIL,
        },
    )
    after = entry_rows(what_if, (1, EMAIL))
    tdp = {r["id"]: r["tdp_w"] for r in engine.activity.hardware_rows}
    assert after["inference"].energy_kwh == pytest.approx(
        base["inference"].energy_kwh * tdp[L4] / tdp[A10G]
    )


def test_capital_goods_convention_changes_embodied_only(engine):
    what_if = run(engine, {"kind": "embodied_convention", "convention": "capital-goods"})
    base = {r.id: r for r in engine.estimate("2025", by="phase", samples=0).rows}
    after = {r.id: r for r in what_if.estimate("2025", by="phase", samples=0).rows}
    for kind in ("training", "inference", "api"):
        assert after[kind].location_kgco2e == pytest.approx(base[kind].location_kgco2e)
    assert after["embodied"].location_kgco2e != pytest.approx(base["embodied"].location_kgco2e)


def test_bad_changes_name_the_scenario_the_change_and_the_problem(engine):
    with pytest.raises(
        scen.ScenarioError, match=r"'test', change 1: there is no deployment with id 9999"
    ):
        run(engine, {"kind": "move_deployment", "deployment_id": 9999, "to_site_id": 1})
    with pytest.raises(scen.ScenarioError, match="change 2: 'pue' must be a number >= 1"):
        run(engine, {"kind": "set_pue", "pue": 1.2}, {"kind": "set_pue", "pue": 0.5})
    with pytest.raises(scen.ScenarioError, match="unknown kind 'teleport'"):
        run(engine, {"kind": "teleport"})


def test_scenarios_are_saved_by_name_logged_and_deleted(tmp_path):
    path = tmp_path / "inv.aicl"
    with Inventory.create(path) as inv:
        s = scen.Scenario("Greener EU", [{"kind": "set_pue", "pue": 1.1}], "PUE 1.1 everywhere")
        rid = scen.save_scenario(inv, s)
        s.changes.append({"kind": "scale_requests", "factor": 2})
        assert scen.save_scenario(inv, s) == rid  # same name: replaced
        with pytest.raises(scen.ScenarioError, match="unknown kind"):
            scen.save_scenario(inv, scen.Scenario("Bad", [{"kind": "nope"}]))
    with Inventory.open(path) as inv:
        (loaded,) = scen.list_scenarios(inv)
        assert loaded.name == "Greener EU" and loaded.description == "PUE 1.1 everywhere"
        assert loaded.changes == [
            {"kind": "set_pue", "pue": 1.1},
            {"kind": "scale_requests", "factor": 2},
        ]
        assert scen.load_scenario(inv, "Greener EU").id == rid
        log = [r for r in inv.change_log() if r["table_name"] == "scenarios"]
        assert [r["action"] for r in log] == ["update", "insert"]
        assert json.loads(json.loads(log[0]["new_value"]))[1]["kind"] == "scale_requests"
        scen.delete_scenario(inv, "Greener EU")
        assert scen.list_scenarios(inv) == []
        with pytest.raises(RecordNotFoundError):
            scen.load_scenario(inv, "Greener EU")


def test_summary_reads_as_words():
    s = scen.Scenario(
        "x",
        [
            {"kind": "set_pue", "pue": 1.2},
            {
                "kind": "add_sourcing",
                "instrument": "ppa",
                "site_id": 3,
                "share_pct": 80,
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
            },
        ],
    )
    assert s.summary() == [
        "PUE 1.2 at every site",
        "Add ppa covering 80 % of consumption at site #3, 2026-01-01..2026-12-31",
    ]


def test_saving_refuses_changes_that_name_missing_records(tmp_path):
    inv = build_demo(tmp_path / "refs.aicl")
    try:
        bad = scen.Scenario(
            "Ghosts",
            [
                {"kind": "set_pue", "pue": 1.1, "site_id": IRELAND},
                {"kind": "move_deployment", "deployment_id": 99999, "to_site_id": 88888},
            ],
        )
        problems = scen.reference_problems(inv, bad)
        assert len(problems) == 2
        assert problems[0].startswith("Change 2") and "no deployment with id 99999" in problems[0]
        assert "no site with id 88888" in problems[1]
        with pytest.raises(scen.ScenarioError, match=r"not saved.*99999"):
            scen.save_scenario(inv, bad)
        assert scen.list_scenarios(inv) == []
        assert scen.reference_problems(inv, scen.Scenario("ok", bad.changes[:1])) == []
    finally:
        inv.close()


def test_scenario_commands_return_their_inverse(tmp_path):
    from core.commands import DeleteScenario, SaveScenario

    inv = build_demo(tmp_path / "undo.aicl")
    try:
        first = scen.Scenario("PUE", [{"kind": "set_pue", "pue": 1.2}])
        undo_new = SaveScenario(first).apply(inv)
        assert isinstance(undo_new, DeleteScenario) and undo_new.tables == {"scenarios"}
        second = scen.Scenario("PUE", [{"kind": "set_pue", "pue": 1.05}])
        undo_change = SaveScenario(second).apply(inv)
        assert scen.load_scenario(inv, "PUE").changes == second.changes
        redo_change = undo_change.apply(inv)
        assert scen.load_scenario(inv, "PUE").changes == first.changes
        redo_change.apply(inv)
        undo_delete = DeleteScenario("PUE").apply(inv)
        assert scen.list_scenarios(inv) == []
        undo_delete.apply(inv)
        assert scen.load_scenario(inv, "PUE").changes == second.changes
        log = [r["description"] for r in inv.change_log(3)]
        assert log[0] == "Undo: Delete scenario 'PUE'"
    finally:
        inv.close()


@pytest.mark.parametrize(
    "stored",
    ['{"kind": "pue"}', '[1, "x", null]', '"text"'],  # the schema refuses invalid JSON
)
def test_a_scenario_changed_by_another_program_still_lists(tmp_path, stored):
    """Changes stored in a shape the app never writes are left out, not trusted: the
    scenario still lists (the dialog and the dashboard read this list)."""
    path = tmp_path / "s.aicl"
    with Inventory.create(path, reference_data=False) as inv:
        good = [{"kind": "move_site", "site_id": 1, "to_site_id": 2}]
        with inv.transaction() as conn:
            conn.executemany(
                "INSERT INTO scenarios (name, description, changes, created_at, updated_at) "
                "VALUES (?, ?, ?, '2026-11-28T00:00:00Z', '2026-11-28T00:00:00Z')",
                [("ok", None, json.dumps(good)), ("odd", None, stored)],
            )
        listed = {s.name: s for s in scen.list_scenarios(inv)}
    assert listed["ok"].changes == good
    assert listed["odd"].changes == []
