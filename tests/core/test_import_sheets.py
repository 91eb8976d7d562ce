"""Several sheets imported together (plan_sheets): planned in the order they are written,
each seeing the records the earlier ones create; and references an import cannot create."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import schema
from core.errors import ImportInvalidError, LedgerError
from core.importing import commit_import, open_source, plan_import, propose_mapping, write_template
from core.importing.commit import _create_template
from core.importing.exporting import EXPORT_ORDER
from core.importing.mapping import propose_table
from core.importing.plan import import_order, import_rank, plan_sheets
from core.importing.resolving import CREATABLE, PENDING_FIRST, REFERENCED


def _pairs(path: Path) -> list:
    out = []
    for sheet in open_source(path):
        table, _ = propose_table(sheet)
        if table:
            out.append((sheet, propose_mapping(sheet, table)))
    return out


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


USAGE = "Deployment,Period start,Period end,Requests\nBrand new dep,2026-01-01,2026-01-31,5\n"


def test_the_template_links_to_what_its_own_sheets_create(demo, tmp_path):
    """The demo holds "Support Assistant 2.0" and "Support chat EU (Assistant 2.0)";
    the template's run and usage name the model and deployment its sheets add."""
    pairs = _pairs(write_template(tmp_path / "template.xlsx"))
    plans = plan_sheets(demo, pairs)
    assert [p.table for p in plans] == [
        "sites",
        "models",
        "training_runs",
        "deployments",
        "usage",
        "sourcing",
    ]
    assert all(p.invalid == 0 and not p.problems and not p.unresolved for p in plans)
    by_table = {p.table: p for p in plans}
    model = by_table["training_runs"].preview[0]["values"]["model_id"]
    assert model <= PENDING_FIRST  # the model the models sheet adds, not an existing one
    assert by_table["deployments"].preview[0]["values"]["model_id"] == model
    deployment = by_table["usage"].preview[0]["values"]["deployment_id"]
    assert deployment <= PENDING_FIRST
    assert by_table["sourcing"].preview[0]["values"]["site_id"] <= PENDING_FIRST

    result = commit_import(demo, plans)
    run = demo.conn.execute(
        "SELECT m.name, m.version FROM training_runs r JOIN models m ON m.id = r.model_id "
        "WHERE r.name = 'Support assistant fine-tune Q1'"
    ).fetchall()
    assert run == [("Support assistant", "2.1")]
    names = demo.conn.execute(
        "SELECT DISTINCT d.name FROM usage u JOIN deployments d ON d.id = u.deployment_id "
        "WHERE u.requests IN (1250000, 1410000)"
    ).fetchall()
    assert names == [("Support chat (EU)",)]
    assert result.counts["usage"]["new"] == 2


def test_a_usage_file_sees_the_deployments_file_of_the_same_import(inv, model_id, tmp_path):
    deployments = _csv(
        tmp_path / "deployments.csv",
        "Name,Model,Kind\nBrand new dep,Support bot 2,Cloud instances\n",
    )
    usage = _csv(tmp_path / "usage.csv", USAGE)
    pairs = [*_pairs(usage), *_pairs(deployments)]  # usage first, as the user gave them
    assert [m.target for _, m in pairs] == ["usage", "deployments"]
    # alone, the usage file names an unknown deployment
    alone = plan_import(inv, *pairs[0])
    assert alone.invalid == 1 and "unknown deployment" in alone.problems[0].reason
    plans = plan_sheets(inv, pairs)
    assert [p.table for p in plans] == ["deployments", "usage"]
    assert [(p.new, p.invalid) for p in plans] == [(1, 0), (1, 0)]
    assert plans[1].unresolved == []  # a pending record is not one to create
    commit_import(inv, plans)
    (dep,) = inv.ref_options("deployments")
    assert [u["deployment_id"] for u in inv.get_many("usage", inv.ordered_ids("usage"))] == [dep[0]]


def test_an_invalid_row_creates_nothing_later_sheets_could_name(inv, tmp_path):
    deployments = _csv(
        tmp_path / "deployments.csv", "Name,Model,Kind\nBrand new dep,No such model,Cloud\n"
    )
    plans = plan_sheets(inv, [*_pairs(_csv(tmp_path / "usage.csv", USAGE)), *_pairs(deployments)])
    assert [(p.table, p.invalid) for p in plans] == [("deployments", 1), ("usage", 1)]


def test_import_order_is_the_export_order(tmp_path):
    pairs = [*_pairs(write_template(tmp_path / "template.xlsx"))]
    ordered = import_order(pairs)
    assert [m.target for _, m in ordered] == sorted(
        (m.target for _, m in pairs), key=EXPORT_ORDER.index
    )
    assert import_rank("no such table") == len(EXPORT_ORDER)


def test_creating_a_deployment_is_refused_when_planning(inv, tmp_path):
    sheet = open_source(_csv(tmp_path / "usage.csv", USAGE))[0]
    mapping = propose_mapping(sheet, "usage")
    create = {("deployment_id", "Brand new dep"): "create"}
    plan = plan_import(inv, sheet, mapping, resolutions=create)
    assert (plan.new, plan.invalid) == (0, 1)
    reason = plan.problems[0].reason
    assert reason.startswith("unknown deployment")
    assert "an import cannot create a deployment" in reason
    assert [(u.field, u.value, u.will_create) for u in plan.unresolved] == [
        ("deployment_id", "Brand new dep", False)
    ]
    # a mapping asking to create missing deployments gets the same answer
    mapping.create_missing = ["deployment_id"]
    plan = plan_import(inv, sheet, mapping)
    assert plan.invalid == 1 and "cannot create a deployment" in plan.problems[0].reason
    with pytest.raises(ImportInvalidError):
        commit_import(inv, [plan])
    assert inv.count("usage") == 0


@pytest.mark.parametrize("table", sorted(REFERENCED))
def test_creatable_tables_are_the_ones_the_commit_can_create(table):
    assert {
        f.ref for spec in schema.TABLES.values() for f in spec.fields if f.kind == "ref"
    } == REFERENCED
    if table in CREATABLE:
        assert _create_template(table, "Something new")["name"]
    else:
        with pytest.raises(LedgerError, match="during an import"):
            _create_template(table, "Something new")


def test_records_of_earlier_sheets_are_not_offered_by_id(inv, model_id, tmp_path):
    """A name close to a record an earlier sheet adds is unmatched, and that record is
    not among the suggestions: it has no id the user could pick before the commit."""
    deployments = _csv(
        tmp_path / "deployments.csv",
        "Name,Model,Kind\nBrand new dep,Support bot 2,Cloud instances\n",
    )
    usage = _csv(tmp_path / "usage.csv", USAGE.replace("Brand new dep", "Brand new deployment"))
    plans = plan_sheets(inv, [*_pairs(usage), *_pairs(deployments)])
    assert plans[1].invalid == 1
    assert "closest: Brand new dep" in plans[1].problems[0].reason
    (u,) = plans[1].unresolved
    assert u.value == "Brand new deployment"
    assert all(rid > PENDING_FIRST for rid, _, _ in u.suggestions)
