"""Rows with problems anywhere in a file are kept for the preview (up to a cap), so they
can be fixed there: real CSV files written here, planned against real inventories."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.importing import commit_import, open_source, plan_import, propose_mapping
from core.importing import plan as plan_module
from core.importing.plan import PREVIEW_ROWS, PROBLEM_PREVIEW_ROWS, ImportPlan
from core.inventory import Inventory

HEADER = "Name,Version,Owner / team,Total parameters (billion)"


def write_models(path: Path, n_rows: int, bad: set[int]) -> Path:
    """A models CSV of ``n_rows`` data rows; file rows in ``bad`` (the header is row 1)
    have text in the parameters column."""
    lines = [HEADER]
    for number in range(2, n_rows + 2):
        params = "lots" if number in bad else f"{number / 10}"
        lines.append(f"model-{number},1,Team {number % 7},{params}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def inv(tmp_path):
    with Inventory.create(tmp_path / "team.aicl") as inv:
        yield inv


def plan_file(inv: Inventory, path: Path, edits=None) -> ImportPlan:
    sheet = open_source(path)[0]
    return plan_import(inv, sheet, propose_mapping(sheet, "models"), edits=edits)


def test_problem_rows_beyond_the_first_rows_are_kept_with_their_reasons(inv, tmp_path):
    plan = plan_file(inv, write_models(tmp_path / "models.csv", 1_000, {3, 450, 999}))
    assert (plan.new, plan.invalid) == (997, 3)
    assert len(plan.preview) == PREVIEW_ROWS
    rows = plan.problem_preview
    assert [r["row"] for r in rows] == [3, 450, 999]
    for r in rows:
        assert r["status"] == "invalid"
        assert r["problems"] == {"params_total_b": "must be a number"}
        assert r["raw"]["params_total_b"] == "lots"
        assert r["values"]["name"] == f"model-{r['row']}"
    assert plan.problem_preview_omitted == 0
    # a problem row among the first rows is the same object in both lists
    assert rows[0] is next(r for r in plan.preview if r["row"] == 3)
    # the reasons match the plan's problems
    assert [(p.row, p.column) for p in plan.problems] == [
        (n, "Total parameters (billion)") for n in (3, 450, 999)
    ]


def test_the_cap_keeps_the_first_problem_rows_and_counts_the_rest(inv, tmp_path):
    bad = set(range(2, 1_502))  # 1,500 bad rows, then clean ones
    plan = plan_file(inv, write_models(tmp_path / "models.csv", 1_600, bad))
    assert plan.invalid == 1_500
    assert len(plan.problem_preview) == PROBLEM_PREVIEW_ROWS == 1_000
    assert [r["row"] for r in plan.problem_preview] == list(range(2, 1_002))
    assert plan.problem_preview_omitted == 500
    assert len(plan.preview) == PREVIEW_ROWS


def test_a_fix_anywhere_in_the_file_is_kept_in_sight_and_lands(inv, tmp_path):
    path = write_models(tmp_path / "models.csv", 1_000, {3, 450, 999})
    plan = plan_file(inv, path, edits={(999, "params_total_b"): "12.5"})
    assert plan.invalid == 2
    fixed = plan.problem_preview[-1]
    assert (fixed["row"], fixed["status"], fixed["problems"]) == (999, "new", {})
    assert fixed["values"]["params_total_b"] == 12.5
    assert [r["row"] for r in plan.problem_preview] == [3, 450, 999]
    result = commit_import(inv, [plan], skip_invalid=True, errors_path=tmp_path / "err.csv")
    assert result.counts["models"]["new"] == 998
    rows = inv.get_many("models", inv.ordered_ids("models"))
    assert {r["name"]: r["params_total_b"] for r in rows}["model-999"] == 12.5


def test_fixed_rows_do_not_count_against_the_cap(inv, tmp_path, monkeypatch):
    monkeypatch.setattr(plan_module, "PROBLEM_PREVIEW_ROWS", 2)
    path = write_models(tmp_path / "models.csv", 50, {3, 4, 5, 6})
    plan = plan_file(inv, path, edits={(3, "params_total_b"): "1"})
    assert [(r["row"], r["status"]) for r in plan.problem_preview] == [
        (3, "new"),
        (4, "invalid"),
        (5, "invalid"),
    ]
    assert (plan.invalid, plan.problem_preview_omitted) == (3, 1)


@pytest.mark.parametrize("fast", [True, False])
def test_clean_rows_are_not_copied_for_the_problem_rows(inv, tmp_path, monkeypatch, fast):
    """Only the first rows and the problem rows become preview rows (memory stays
    bounded, the fast path's clean rows are not touched); both paths agree."""
    monkeypatch.setattr(plan_module, "FAST_PATH", fast)
    monkeypatch.setattr(plan_module, "CHUNK_ROWS", 97)  # problems straddle chunks
    made = []
    real = plan_module._preview_row
    monkeypatch.setattr(plan_module, "_preview_row", lambda row: made.append(row) or real(row))
    bad = {3, 450, 999, 1_500, 2_901}
    plan = plan_file(inv, write_models(tmp_path / "models.csv", 3_000, bad))
    assert [r["row"] for r in plan.problem_preview] == sorted(bad)
    assert len(made) == PREVIEW_ROWS + 4  # row 3 is among the first rows


def test_a_mapping_with_problems_keeps_no_rows_and_says_how_many(inv, tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("Owner / team\r\nLegal\r\nSupport\r\n", encoding="utf-8")
    plan = plan_file(inv, path)
    assert plan.invalid == 2
    assert plan.problem_preview == []
    assert plan.problem_preview_omitted == 2
