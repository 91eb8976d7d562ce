"""The import wizard's mapping page on real files: ambiguous dates are asked, columns
are remapped, a site is set for the whole file, saved mappings (presets) are applied
with the reference choices they keep, and the plans follow a change made on a return
visit."""

from __future__ import annotations

import import_wizard_support as support
import pytest
from import_wizard_support import (
    MODELS_CSV,
    advance,
    column_row,
    open_wizard,
    preview_column,
    to_page,
)
from PySide6.QtWidgets import QInputDialog

from core import importing

# the wizard tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = support.inv_path
window = support.window


def test_ambiguous_dates_are_asked(qtbot, window, inv_path, tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,Start date,End date\n"
        "a,Llama 3.1 8B,Experiments,03/04/2026,05/04/2026\n"
        "b,Llama 3.1 8B,Experiments,01/02/2026,02/02/2026\n",
        encoding="utf-8",
    )
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    assert page.dates.isVisibleTo(page)
    assert "03/04/2026" in page.dates_label.text()
    assert not page.isComplete()  # Next waits for the answer
    page.mdy.setChecked(True)
    assert page.isComplete()
    qtbot.waitUntil(lambda: not page.updating and page.preview.model() is not None)
    model = page.preview.model()
    assert model.index(0, preview_column(model, "Start")).data() == "2026-03-04"
    page.dmy.setChecked(True)
    qtbot.waitUntil(
        lambda: (
            not page.updating
            and page.preview.model().index(0, preview_column(page.preview.model(), "Start")).data()
            == "2026-04-03"
        )
    )


def test_mapping_changes_and_presets(qtbot, window, inv_path, tmp_path, monkeypatch):
    csv_path = tmp_path / "models.csv"
    csv_path.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    owner = column_row(page, "Owner / team")
    page.combos[owner].setCurrentIndex(0)  # ignore the column
    assert wizard.sheets[0].mapping.columns[owner].field is None
    assert page.columns.item(owner, page.MATCH).text() == "ignored"
    qtbot.waitUntil(lambda: not page.updating)
    assert "Owner / team" not in page.preview.model().labels
    # choosing a field another column has takes it from that column
    params = column_row(page, "Total parameters (billion)")
    page.combos[owner].setCurrentIndex(page.combos[owner].findData("params_total_b"))
    assert page.combos[params].currentData() is None

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Quarterly models", True))
    page.save_preset_button.click()
    assert importing.list_presets(window.inventory) == ["Quarterly models"]
    wizard.reject()

    wizard = open_wizard(qtbot, window, [csv_path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    assert page.combos[owner].currentData() == "owner"  # proposed afresh
    assert page.presets.currentText() == "Quarterly models"
    page.apply_preset_button.click()
    qtbot.waitUntil(lambda: page.combos[owner].currentData() == "params_total_b")
    assert page.combos[params].currentData() is None


def test_a_preset_keeps_the_reference_choices(qtbot, window, inv_path, tmp_path, monkeypatch):
    """Saving a mapping keeps the choices made for unmatched values: applying it next
    quarter chooses the same records (here TPU v4 linked to the TPU v2 record)."""
    path = tmp_path / "runs.csv"
    path.write_text(
        "Run name,Model,Kind,GPU type\nr1,Llama 3.1 8B,Fine-tuning,Google TPU v4\n",
        encoding="utf-8",
    )
    tpu = next(rid for rid, title in window.inventory.ref_options("hardware") if "TPU v2" in title)
    wizard = open_wizard(qtbot, window, [path])
    to_page(qtbot, wizard, wizard.REFERENCES)
    wizard.resolutions[("hardware_id", "Google TPU v4")] = tpu  # the user's choice
    while wizard.currentId() != wizard.MAPPING:
        wizard.back()
    page = wizard.currentPage()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Quarterly runs", True))
    page.save_preset_button.click()
    wizard.reject()

    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    page.presets.setCurrentText("Quarterly runs")
    page.apply_preset_button.click()
    qtbot.waitUntil(lambda: ("hardware_id", "Google TPU v4") in wizard.resolutions)
    assert wizard.resolutions[("hardware_id", "Google TPU v4")] == tpu


def test_codecarbon_log_with_one_site_for_the_whole_file(qtbot, window, inv_path, tmp_path):
    header = (
        "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
        "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
        "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
        "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
        "ram_total_size,tracking_mode,on_cloud,pue"
    )
    rows = [
        "2026-11-28T11:57:39,Llama 3.1 8B,f261c8bf-fe91-411a-91cd-6e8803b48d80,5b0fa12a,"
        "7200,0.5,1e-6,8,300,20,0.1,2.0,0.1,2.2,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
        "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0",
        "2026-11-29T10:00:00,Llama 3.1 8B,0c42d4ce-a989-4fd8-a1d0-535a4954d586,5b0fa12a,"
        "3600,0.25,1e-6,8,300,20,0.05,1.0,0.05,1.1,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
        "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0",
    ]
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    site_id = window.inventory.ref_options("sites")[0][0]
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    assert wizard.sheets[0].table == "codecarbon"
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(site_id))
    assert wizard.sheets[0].mapping.defaults["site_id"] == site_id
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert (wizard.plans[0].new, wizard.plans[0].invalid) == (2, 0)
    advance(qtbot, wizard, wizard.SUMMARY)
    inv = window.inventory
    runs = inv.get_many("training_runs", inv.ordered_ids("training_runs"))
    assert {r["site_id"] for r in runs} == {site_id}
    assert sorted(r["energy_kwh"] for r in runs) == pytest.approx([1.1, 2.2])
    assert {r["external_id"] for r in runs} == {
        "f261c8bf-fe91-411a-91cd-6e8803b48d80",
        "0c42d4ce-a989-4fd8-a1d0-535a4954d586",
    }


# -- plans follow every change made on a return visit -------------------------------------


EMISSIONS_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
    "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,on_cloud,pue"
)


EMISSIONS_ROW = (
    "2026-11-28T11:57:39,Llama 3.1 8B,f261c8bf-fe91-411a-91cd-6e8803b48d80,5b0fa12a,"
    "7200,0.5,1e-6,8,300,20,0.1,2.0,0.1,2.2,France,FRA,,,,Linux,3.11.7,3.3.2,2,"
    "AMD EPYC,1,NVIDIA H100 SXM,,,23.5,machine,N,1.0"
)


def test_changing_the_site_on_a_return_visit_replans(qtbot, window, inv_path, tmp_path):
    path = tmp_path / "emissions.csv"
    path.write_text(f"{EMISSIONS_HEADER}\n{EMISSIONS_ROW}\n", encoding="utf-8")
    (a, _), (b, _) = window.inventory.ref_options("sites")[:2]
    wizard = open_wizard(qtbot, window, [path])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    page = wizard.currentPage()
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(a))
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert [r["values"]["site_id"] for r in wizard.plans[0].preview] == [a]

    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.REFERENCES)
    wizard.back()
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.MAPPING)
    page = wizard.currentPage()
    qtbot.waitUntil(lambda: not page.updating, timeout=10_000)
    site = page.default_combos["site_id"]
    site.setCurrentIndex(site.findData(b))
    assert wizard.sheets[0].mapping.defaults["site_id"] == b
    assert not wizard.plans_fresh()
    advance(qtbot, wizard, wizard.REFERENCES)
    advance(qtbot, wizard, wizard.VALIDATION)
    assert [r["values"]["site_id"] for r in wizard.plans[0].preview] == [b]
    assert wizard.validation_page.preview.model().rows[0]["values"]["site_id"] == b

    # whatever else of the mapping changes the plans makes them stale too
    mapping = wizard.sheets[0].mapping
    into = mapping.into
    mapping.into = "usage"
    assert not wizard.plans_fresh()
    mapping.into = into
    assert wizard.plans_fresh()
    mapping.create_missing = [f for f in mapping.create_missing if f != "site_id"]
    assert not wizard.plans_fresh()
    wizard.reject()
