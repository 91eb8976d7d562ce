"""The sourcing form's heads-up: a supplier-specific factor sharing days with another
of the same site is named below the fields, saving stays possible, and the names show
as typed (not as markup)."""

from __future__ import annotations

import pytest
from PySide6.QtTest import QTest

from core.inventory import Inventory
from ui.record_dialog import RecordDialog


@pytest.fixture
def inv(tmp_path):
    inventory = Inventory.create(tmp_path / "inv.aicl")
    site = inventory.insert_logged("sites", [{"name": "Paris DC", "kind": "own"}], "t")[0]
    inventory.insert_logged(
        "sourcing",
        [{"name": "<b>Utility</b> letter", "kind": "supplier-factor", "site_id": site,
          "period_start": "2026-03-08", "period_end": "2026-03-31", "factor_g_per_kwh": 100.0}],
        "t",
    )  # fmt: skip
    yield inventory
    inventory.close()


def _choose(dialog: RecordDialog, name: str, text: str) -> None:
    combo = dialog.editor(name)
    combo.setCurrentIndex(combo.findText(text))
    assert combo.currentIndex() >= 0, text


def test_a_supplier_factor_sharing_days_is_named_and_can_still_be_saved(qtbot, inv):
    dialog = RecordDialog(inv, "sourcing")
    qtbot.addWidget(dialog)
    dialog.show()
    QTest.keyClicks(dialog.editor("name"), "Spring letter")
    _choose(dialog, "kind", "Supplier-specific factor")
    _choose(dialog, "site_id", "Paris DC")
    QTest.keyClicks(dialog.editor("factor_g_per_kwh"), "20")
    dialog.editor("period_start").set_iso("2026-03-05")
    assert not dialog.notice.isVisible()  # no end date yet: nothing to compare
    dialog.editor("period_end").set_iso("2026-03-10")
    assert dialog.notice.isVisible()
    assert dialog.notice.text() == (
        "Note: Supplier-specific factor #1 '<b>Utility</b> letter' of the same site also covers "
        "2026-03-08..2026-03-10: for those days this record's factor is used (the one "
        "starting earlier; on the same start, the one listed first)."
    )
    assert dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()
    dialog.editor("period_start").set_iso("2026-03-09")  # now starting after the other
    assert "for those days its factor is used" in dialog.notice.text()
    _choose(dialog, "kind", "Power purchase agreement")  # other instruments: no notice
    assert not dialog.notice.isVisible()


def test_editing_the_record_itself_gives_no_notice(qtbot, inv):
    dialog = RecordDialog(inv, "sourcing", inv.get("sourcing", 1), title="Edit")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.notice.isVisible()
