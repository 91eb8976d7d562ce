"""Heads-ups while a supplier-specific factor is typed: other supplier-specific factors
of the same site or grid region sharing its days, and which one the engine uses."""

from __future__ import annotations

from core.inventory import Inventory
from core.sourcing_notices import supplier_factors, supplier_overlap_notices


def _factor(rid, name, start, end, *, site=None, region=None, kind="supplier-factor"):
    return {
        "id": rid,
        "name": name,
        "kind": kind,
        "site_id": site,
        "grid_region": region,
        "period_start": start,
        "period_end": end,
    }


def _typed(start, end, *, site=None, region=None, kind="supplier-factor"):
    record = _factor(None, "typed", start, end, site=site, region=region, kind=kind)
    record.pop("id")
    return record


OTHERS = [
    _factor(1, "Spring PPA letter", "2026-03-05", "2026-03-10", site=7),
    _factor(2, "Utility 2026 disclosure", "2026-03-08", "2026-03-31", site=7),
    _factor(3, "Other site", "2026-03-01", "2026-03-31", site=8),
    _factor(4, "French grid letter", "2026-01-01", "2026-12-31", region="FR"),
    _factor(5, "A PPA, not a factor", "2026-03-01", "2026-03-31", site=7, kind="ppa"),
]


def test_a_new_factor_names_each_overlap_with_the_shared_days_and_who_wins():
    notes = supplier_overlap_notices(_typed("2026-03-09", "2026-04-30", site=7), None, OTHERS)
    assert notes == [
        "Supplier-specific factor #1 'Spring PPA letter' of the same site also covers "
        "2026-03-09..2026-03-10: for those days its factor is used (the one starting "
        "earlier; on the same start, the one listed first).",
        "Supplier-specific factor #2 'Utility 2026 disclosure' of the same site also covers "
        "2026-03-09..2026-03-31: for those days its factor is used (the one starting "
        "earlier; on the same start, the one listed first).",
    ]


def test_the_earlier_start_wins_and_on_the_same_start_the_lower_id():
    earlier = supplier_overlap_notices(_typed("2026-03-01", "2026-03-06", site=7), None, OTHERS)
    assert len(earlier) == 1 and "this record's factor is used" in earlier[0]
    # editing record 2 to start with record 1: the same start, and 1 is listed first
    same = supplier_overlap_notices(_typed("2026-03-05", "2026-03-06", site=7), 2, OTHERS)
    assert len(same) == 1 and same[0].startswith("Supplier-specific factor #1 ")
    assert "its factor is used" in same[0]
    # record 1 itself, edited: it starts with the new dates first of all
    first = supplier_overlap_notices(_typed("2026-03-05", "2026-03-09", site=7), 1, OTHERS)
    assert first == [
        "Supplier-specific factor #2 'Utility 2026 disclosure' of the same site also covers "
        "2026-03-08..2026-03-09: for those days this record's factor is used (the one "
        "starting earlier; on the same start, the one listed first)."
    ]


def test_grid_regions_compare_as_the_engine_reads_them():
    notes = supplier_overlap_notices(
        _typed("2026-06-01", "2026-06-30", region=" fr "), None, OTHERS
    )
    assert len(notes) == 1 and "#4 'French grid letter' of the same grid region" in notes[0]


def test_no_notice_without_a_shared_day_or_for_other_instruments():
    assert supplier_overlap_notices(_typed("2026-04-01", "2026-04-30", site=7), None, OTHERS) == []
    assert supplier_overlap_notices(_typed("2026-03-01", "2026-03-31", site=9), None, OTHERS) == []
    ppa = _typed("2026-03-01", "2026-03-31", site=7, kind="ppa")
    assert supplier_overlap_notices(ppa, None, OTHERS) == []
    # a record is not compared with itself, and incomplete dates say nothing yet
    assert supplier_overlap_notices(_typed("2026-03-08", "2026-03-31", site=7), 2, OTHERS[1:]) == []
    assert supplier_overlap_notices(_typed("2026-03-08", None, site=7), None, OTHERS) == []
    assert supplier_overlap_notices(_typed("2026-03-31", "2026-03-01", site=7), None, OTHERS) == []
    # a day in common at the very edge counts
    edge = supplier_overlap_notices(_typed("2026-03-31", "2026-04-02", site=7), None, OTHERS)
    assert len(edge) == 1 and "2026-03-31..2026-03-31" in edge[0]


def test_the_records_are_read_from_the_inventory(tmp_path):
    with Inventory.create(tmp_path / "inv.aicl") as inv:
        site = inv.insert_logged("sites", [{"name": "Paris DC", "kind": "own"}], "t")[0]
        inv.insert_logged(
            "sourcing",
            [
                {"name": "Letter", "kind": "supplier-factor", "site_id": site,
                 "period_start": "2026-03-01", "period_end": "2026-03-31",
                 "factor_g_per_kwh": 20.0},
                {"name": "PPA", "kind": "ppa", "site_id": site, "period_start": "2026-03-01",
                 "period_end": "2026-03-31", "mwh": 5.0},
            ],
            "t",
        )  # fmt: skip
        rows = supplier_factors(inv.conn)
    assert [r["name"] for r in rows] == ["Letter"]
    notes = supplier_overlap_notices(_typed("2026-03-15", "2026-03-20", site=site), None, rows)
    assert len(notes) == 1 and "2026-03-15..2026-03-20" in notes[0]
