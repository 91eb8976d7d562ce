"""Damage met by the import wizard's buttons and jobs brings the window's restore offer,
once, and closes the wizard, instead of SQLite's words in a message box or a job's
failure message: saving a mapping (written on the window's connection), applying one
(read by a job on a connection of its own), and the references page listing the
records each value may be matched to once its job has planned the import. The damaged
file is never written; other failures keep their message.

The damage is made as in ``test_damage_offers_dialogs``: a page of the table or index
the read uses overwritten on disk, and the window's connection made to forget what it
has cached.
"""

from __future__ import annotations

import pytest
import test_damage_offers as base
from import_wizard_support import MODELS_CSV, advance, open_wizard, to_page
from PySide6.QtWidgets import QInputDialog
from test_damage_offers import assert_offered, spy
from test_damage_offers_dialogs import shown
from test_damage_offers_more import damage, no_warnings

from core import importing
from core.errors import LedgerError

# the damage tests' fixtures (pytest finds fixtures bound in a test module)
inv_path = base.inv_path
offers = base.offers
crashes = base.crashes
window = base.window

#: a run whose hardware and region are not in the inventory: the references page asks
RUNS_CSV = (
    "Run name,Model,Kind,GPU type,Region\n"
    "r1,Llama 3.1 8B,Fine-tuning,Google TPU v4,Korea (Republic of)\n"
)


def mapping_page(qtbot, window, tmp_path):
    """The wizard on the columns page of a models sheet; the wizard and the page."""
    csv = tmp_path / "models.csv"
    csv.write_text(MODELS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv])
    advance(qtbot, wizard, wizard.SHEETS)
    advance(qtbot, wizard, wizard.MAPPING)
    return wizard, wizard.currentPage()


@pytest.fixture
def preset_name(monkeypatch) -> str:
    name = "Quarterly models"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (name, True))
    return name


def test_saving_a_mapping_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path, preset_name
):
    wizard, page = mapping_page(qtbot, window, tmp_path)
    found = spy(wizard.damaged)
    digest = damage(window, inv_path, "sqlite_autoindex_import_presets_1")
    page.save_preset_button.click()
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and "malformed" in str(error)
    assert not shown(wizard)
    assert no_warnings(messages)  # no "Cannot save the mapping" box


def test_applying_a_mapping_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path, preset_name
):
    """The mapping is read by a job with a connection of its own: its damage is not
    shown as the job's failure ("Cannot use the mapping")."""
    wizard, page = mapping_page(qtbot, window, tmp_path)
    page.save_preset_button.click()
    assert page.presets.currentText() == preset_name
    found = spy(wizard.damaged)
    failed = []
    digest = damage(window, inv_path, "import_presets")  # the list comes from its index
    page.apply_preset_button.click()
    page._load.failed.connect(failed.append)
    error = assert_offered(qtbot, window, offers, inv_path, digest, crashes)
    assert found == [error] and "damaged" in str(error)
    assert not shown(wizard) and not failed
    assert no_warnings(messages)


def test_another_failure_applying_a_mapping_keeps_its_message(
    qtbot, window, offers, crashes, messages, tmp_path, preset_name, monkeypatch
):
    wizard, page = mapping_page(qtbot, window, tmp_path)
    page.save_preset_button.click()

    def gone(_inv, name):
        raise LedgerError(f"No saved mapping is called '{name}'.")

    monkeypatch.setattr(importing, "load_preset", gone)
    page.apply_preset_button.click()
    qtbot.waitUntil(lambda: bool(messages.messages))
    assert messages.messages == [
        ("warning", "Cannot use the mapping", f"No saved mapping is called '{preset_name}'.")
    ]
    assert shown(wizard) and not offers.errors and not crashes
    wizard.reject()


def test_the_references_page_listing_the_choices_on_a_damaged_file_brings_the_restore_offer(
    qtbot, window, inv_path, offers, crashes, messages, tmp_path
):
    """The planning job has read the file; the choices offered for each value (every
    hardware record, from its covering index) are then read on the window's connection,
    after the damage."""
    csv = tmp_path / "runs.csv"
    csv.write_text(RUNS_CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, window, [csv])
    refs = wizard.references_page
    found = spy(wizard.damaged)
    digests = []
    show_choices = refs._on_job_finished

    def damaged_then_shown(plans) -> None:  # the planning job is done: then the damage
        digests.append(damage(window, inv_path, "sqlite_autoindex_hardware_1"))
        show_choices(plans)

    refs._on_job_finished = damaged_then_shown
    to_page(qtbot, wizard, wizard.MAPPING)
    wizard.next()  # to the references page: its job plans the import
    qtbot.waitUntil(lambda: bool(digests), timeout=20_000)
    error = assert_offered(qtbot, window, offers, inv_path, digests[0], crashes)
    assert found == [error] and "malformed" in str(error)
    assert not shown(wizard)
    assert no_warnings(messages)
