"""The import wizard's references page: weak matches are not chosen for the user, a
deployment must be chosen (an import cannot create one) or knowingly left unmatched,
and the sheets of one workbook refer to the records the other sheets create."""

from __future__ import annotations

import import_wizard_support as support
import pytest
from import_wizard_support import MODELS_CSV, advance, counts, open_wizard, to_page, use_combo

from core import importing
from core.inventory import Inventory
from ui.main_window import MainWindow
from ui.settings import SettingsStore

# the wizard tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = support.inv_path
window = support.window


# -- references: weak matches, what can be created ------------------------------------------


def test_weak_matches_are_not_chosen_for_the_user(qtbot, window, inv_path, tmp_path):
    """A reference whose best match is weak (TPU v4 against TPU v2, a country against
    one cloud region in it) is created as a new entry, not linked to that record."""
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,GPU type,Region\n"
        "r1,Llama 3.1 8B,Fine-tuning,Google TPU v4,Korea (Republic of)\n",
        encoding="utf-8",
    )
    before = counts(inv_path)
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    # nothing is linked to a record it only resembles
    assert wizard.resolutions == {
        ("hardware_id", "Google TPU v4"): "create",
        ("site_id", "Korea (Republic of)"): "create",
    }
    refs = wizard.references_page
    rows = {refs.table.item(r, 1).text(): r for r in range(refs.table.rowCount())}
    assert set(rows) == {"Google TPU v4", "Korea (Republic of)"}
    for value, row in rows.items():
        u = refs.items[(("hardware_id" if "TPU" in value else "site_id"), value)]
        assert u.suggestions and u.suggestions[0][2] < 0.6  # only weak matches
        combo = use_combo(refs, row)
        assert combo.currentData() == "create"
        assert combo.currentText().startswith("Create a new")
        # each suggestion shows its confidence, weak ones marked
        best = combo.itemText(combo.findData(u.suggestions[0][0]))
        assert f"({u.suggestions[0][2]:.0%} match, weak)" in best
        assert "% match, weak)" in refs.table.item(row, refs.CLOSEST).text()
    assert refs.isComplete()

    advance(qtbot, wizard, wizard.VALIDATION)
    row = wizard.plans[0].preview[0]
    assert row["display"]["hardware_id"] == "Google TPU v4 (new)"
    assert row["display"]["site_id"] == "Korea (Republic of) (new)"
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    run = inv.get_many("training_runs", inv.ordered_ids("training_runs"))[-1]
    assert inv.title("hardware", run["hardware_id"]) == "Google TPU v4"
    site = inv.get("sites", run["site_id"])
    assert (site["name"], site["country"]) == ("Korea (Republic of)", "KR")
    assert counts(inv_path)["hardware"] == before["hardware"] + 1


def test_a_close_match_is_chosen_and_a_weak_one_never(qtbot, window, tmp_path):
    from core.importing import Unresolved

    path = tmp_path / "models.csv"
    path.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    refs = wizard.references_page
    choose = refs.default_choice
    assert choose(Unresolved("hardware_id", "A100", 1, [(7, "A100 SXM", 0.7), (8, "B", 0.65)])) == 7
    assert choose(Unresolved("hardware_id", "TPU v4", 1, [(7, "TPU v2", 0.1)])) == "create"
    assert choose(Unresolved("site_id", "Korea", 1, [(3, "Seoul", 0.35)])) == "create"
    assert choose(Unresolved("model_id", "X 2.1", 1, [(3, "X 2.0", 0.4)])) == "create"
    assert choose(Unresolved("deployment_id", "New", 1, [(3, "Old", 0.4)])) == refs.CHOOSE
    assert choose(Unresolved("deployment_id", "New", 1, [])) == refs.CHOOSE
    wizard.reject()


USAGE_CSV = "Deployment,Period start,Period end,Requests\nBrand new dep,2025-01-01,2025-01-31,5\n"


def test_an_unknown_deployment_must_be_chosen_it_cannot_be_created(
    qtbot, window, inv_path, tmp_path, messages
):
    inv = window.inventory
    model_id = inv.ref_options("models")[0][0]
    inv.insert_logged(
        "deployments", [{"name": "Chat (EU)", "model_id": model_id, "kind": "api"}], "test"
    )
    dep_id = next(i for i, t in inv.ref_options("deployments") if t == "Chat (EU)")
    path = tmp_path / "usage.csv"
    path.write_text(USAGE_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    refs = wizard.references_page
    assert wizard.resolutions == {}  # not "create": an import cannot create a deployment
    wizard.next()  # Next waits for the choice
    assert wizard.currentId() == wizard.REFERENCES
    assert refs.table.rowCount() == 1
    combo = use_combo(refs, 0)
    assert combo.findData("create") < 0
    assert not any("Create" in combo.itemText(i) for i in range(combo.count()))
    assert combo.currentData() == refs.CHOOSE and combo.currentText() == "Choose…"
    assert not refs.isComplete()
    assert refs.hint.isVisibleTo(refs)
    assert "'Brand new dep'" in refs.hint.text() and "deployments" in refs.hint.text()

    combo.setCurrentIndex(combo.findData(dep_id))
    assert refs.isComplete() and not refs.hint.isVisibleTo(refs)
    assert combo.findData(refs.CHOOSE) < 0  # not offered again once chosen
    advance(qtbot, wizard, wizard.VALIDATION)
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (1, 0)
    advance(qtbot, wizard, wizard.SUMMARY)
    assert not messages.messages
    usage = inv.get_many("usage", inv.ordered_ids("usage"))
    assert [u["deployment_id"] for u in usage] == [dep_id]


def test_leaving_a_deployment_unmatched_is_a_choice_that_sticks(qtbot, window, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(USAGE_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    refs = wizard.references_page
    combo = use_combo(refs, 0)
    combo.setCurrentIndex(combo.findData(refs.LEAVE))
    assert refs.isComplete()
    advance(qtbot, wizard, wizard.VALIDATION)
    assert wizard.plans[0].invalid == 1
    assert "unknown deployment" in wizard.plans[0].problems[0].reason
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REFERENCES)
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING)
    advance(qtbot, wizard, wizard.REFERENCES)  # the page is shown afresh
    combo = use_combo(refs, 0)
    assert combo.currentData() == refs.LEAVE  # not reset to a default on a return visit
    assert refs.isComplete()
    assert wizard.resolutions == {}
    wizard.reject()


# -- several sheets: referenced tables first, references between the sheets --------------


@pytest.fixture
def demo_window(qtbot, demo_path, tmp_path):
    path = tmp_path / "demo copy.aicl"
    with Inventory.open(demo_path) as src:
        src.save_copy(path)
    w = MainWindow(SettingsStore())
    qtbot.addWidget(w)
    assert w.open_inventory(path)
    w.show()
    return w


def test_template_sheets_refer_to_the_records_the_other_sheets_create(qtbot, demo_window, tmp_path):
    """The import template's training run and usage name the model and deployment its
    other sheets add; the demo holds similar ones ("Support Assistant 2.0", "Support chat
    EU (Assistant 2.0)"): the rows link to the new records, as the CLI links them."""
    window = demo_window
    template = importing.write_template(tmp_path / "template.xlsx")
    wizard = open_wizard(qtbot, window, [template])
    to_page(qtbot, wizard, wizard.REFERENCES)
    # nothing to ask: every name is in the inventory or in an earlier sheet
    assert wizard.references_page.table.rowCount() == 0
    assert wizard.resolutions == {}
    advance(qtbot, wizard, wizard.VALIDATION)
    plans = wizard.plans
    # planned (and committed) referenced tables first, as the import command does
    assert [p.table for p in plans] == [
        "sites",
        "models",
        "training_runs",
        "deployments",
        "usage",
        "sourcing",
    ]
    assert all(p.invalid == 0 and not p.unresolved for p in plans)
    by_table = {p.table: p for p in plans}
    run = by_table["training_runs"].preview[0]
    assert run["display"]["model_id"] == "Support assistant 2.1 (new)"
    usage = by_table["usage"].preview[0]
    assert usage["display"]["deployment_id"] == "Support chat (EU) (new)"
    deployment = by_table["deployments"].preview[0]
    assert deployment["display"]["model_id"] == "Support assistant 2.1 (new)"
    assert by_table["sourcing"].preview[0]["display"]["site_id"] == (
        "Head office server room (new)"
    )
    labels = [wizard.validation_page.sheet_box.itemText(i) for i in range(len(plans))]
    assert labels[0].endswith("Sites") and labels[-1].endswith("Renewable sourcing")

    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    rows = inv.conn.execute(
        "SELECT m.name, m.version FROM training_runs r JOIN models m ON m.id = r.model_id "
        "WHERE r.name = 'Support assistant fine-tune Q1'"
    ).fetchall()
    assert rows == [("Support assistant", "2.1")]
    rows = inv.conn.execute(
        "SELECT d.name FROM usage u JOIN deployments d ON d.id = u.deployment_id "
        "WHERE u.period_start IN ('2026-02-01', '2026-03-01') AND u.requests IN "
        "(1250000, 1410000)"
    ).fetchall()
    assert rows == [("Support chat (EU)",), ("Support chat (EU)",)]
    rows = inv.conn.execute(
        "SELECT m.name, m.version FROM deployments d JOIN models m ON m.id = d.model_id "
        "WHERE d.name = 'Support chat (EU)'"
    ).fetchall()
    assert rows == [("Support assistant", "2.1")]
