"""The import wizard: spreadsheets and CodeCarbon logs into the inventory.

Pages, in order: files -> sheets and their target tables -> one column-mapping page per
sheet -> unmatched hardware and regions -> validation preview (the commit page) ->
summary. Everything that reads a file or the whole inventory runs on the thread pool
(``ui.import_jobs``) with a connection of its own; the commit is one transaction in
``core.importing.commit_import`` and lands on the undo stack as one step.

The wizard keeps the choices (``sheets`` with their mappings and the cells fixed in the
preview, ``resolutions``) and the results (``plans``, ``result``); the pages show and
change them. The sheets are planned and committed in the import's order (referenced
tables first, ``core.importing.plan.import_order``), each seeing the records the
earlier ones create, as the ``import`` command does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget, QWizard

from core import importing, schema
from core.errors import LedgerError
from core.importing.mapping import IMPORT_TABLES
from core.importing.plan import Edits, plan_sheets
from core.importing.resolving import CREATABLE
from core.inventory import Inventory
from ui.import_jobs import Cancel, Job, JobProgressDialog, Progress
from ui.plain_text import literal
from ui.undo import InventoryEditor, InventoryUndoCommand

if TYPE_CHECKING:
    from core.importing import ImportPlan, ImportResult, SheetInfo, SheetMapping

#: what the file dialogs offer to import
IMPORT_FILTER = (
    "Spreadsheets, CSV and CodeCarbon logs "
    "(*.xlsx *.xlsm *.xls *.ods *.csv *.tsv *.txt *.bak);;All files (*)"
)
#: suffixes a file dropped on the main window may have to start the wizard
IMPORT_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt", ".bak")
EXPORT_FILTER = "Excel workbook (*.xlsx);;CSV (*.csv);;JSON (*.json)"
TEMPLATE_FILTER = "Excel workbook (*.xlsx)"

#: tables a sheet can go to, in the order offered (None: the sheet is not imported)
TARGET_TABLES: tuple[str, ...] = (*IMPORT_TABLES, "codecarbon")


def table_label(table: str | None) -> str:
    if table is None:
        return "Don't import"
    if table == "codecarbon":
        return "CodeCarbon log"
    return schema.TABLES[table].label


def sheet_title(info: SheetInfo, *, with_file: bool = True) -> str:
    """``"runs.xlsx › Q3 runs"``; a CSV is called by its file name alone."""
    if not with_file:
        return info.name
    if not info.name or info.name == info.file.name or info.name == info.file.stem:
        return info.file.name
    return f"{info.file.name} › {info.name}"


@dataclass
class SheetChoice:
    """One sheet of a chosen file and what the user decided for it."""

    info: SheetInfo
    #: proposed from the sheet's name and headers, then the user's choice (None: skip)
    table: str | None
    confidence: float = 0.0
    mapping: SheetMapping | None = None
    #: the first rows as read (raw cells), for the mapping page
    raw_preview: list[list[Any]] | None = None
    #: messages for the user about this sheet (e.g. hidden)
    notes: list[str] = field(default_factory=list)
    #: cells fixed in the preview: ``(row number in the file, field)`` -> text typed
    edits: Edits = field(default_factory=dict)
    #: what the file says in each edited cell (shown beside the fix)
    edited_from: dict[tuple[int, str], Any] = field(default_factory=dict)

    def plan_edits(self) -> Edits:
        """The edits that apply to the current mapping: cells of fields read from a
        column (a CodeCarbon log's cells are not edited; a field no longer mapped has
        no cell to replace)."""
        if self.mapping is None or self.mapping.table == "codecarbon":
            return {}
        mapped = {c.field for c in self.mapping.columns if c.field}
        return {k: v for k, v in self.edits.items() if k[1] in mapped}

    @property
    def title(self) -> str:
        return sheet_title(self.info)


# -- work done on the thread pool (each opens what it needs itself) ----------------------


def read_sheets(path: Path, progress: Progress, cancel: Cancel) -> list[SheetChoice]:
    """The sheets of ``path`` with their proposed tables."""
    out = []
    for info in importing.open_source(path, progress=progress, cancel=cancel):
        table, confidence = importing.propose_table(info)
        choice = SheetChoice(info, table if not info.hidden else None, confidence)
        if info.hidden:
            choice.notes.append("hidden sheet")
        out.append(choice)
    return out


def read_mapping(
    info: SheetInfo, table: str, mapping: SheetMapping | None
) -> tuple[SheetMapping, list[list[Any]]]:
    """The proposed mapping (unless one is given) and the first rows of a sheet."""
    if mapping is None or mapping.table != table:
        mapping = importing.propose_mapping(info, table)
    return mapping, importing.preview_rows(info, 50)


def make_plans(
    path: Path,
    sheets: list[tuple[SheetInfo, SheetMapping]],
    resolutions: dict[tuple[str, str], int | str],
    progress: Progress,
    cancel: Cancel,
    edits: list[Edits] | None = None,
) -> list[ImportPlan]:
    """Plan every sheet against the inventory at ``path`` (read only), as one import:
    the plans come in the import's order, each sheet seeing the records the earlier
    ones create (``core.importing.plan.plan_sheets``). ``edits[i]``: the cells fixed in
    the preview of ``sheets[i]``."""
    with Inventory.open(path) as inv:
        plans = plan_sheets(
            inv, sheets, resolutions=resolutions, edits=edits, progress=progress, cancel=cancel
        )
        return [add_titles(inv, plan) for plan in plans]


def add_titles(inv: Inventory, plan: ImportPlan) -> ImportPlan:
    """Name the records that references in ``plan.preview`` point at, for display:
    ``row["display"][field]`` (a record the import will create is named as the file
    names it, marked new)."""
    spec = schema.table(plan.table)
    refs = [f for f in spec.fields if f.kind == "ref" and f.ref]
    titles: dict[tuple[str, int], str] = {}
    for row in plan.preview:
        shown = row.setdefault("display", {})
        for f in refs:
            rid = row["values"].get(f.name)
            if not isinstance(rid, int):
                continue
            if rid < 0:  # created by this import (an earlier sheet, or for an unmatched name)
                raw = row.get("raw", {}).get(f.name)
                shown[f.name] = "(new entry)" if raw in (None, "") else f"{raw} (new)"
                continue
            key = (f.ref, rid)
            if key not in titles:
                titles[key] = inv.title(f.ref, rid)
            shown[f.name] = titles[key]
    return plan


def commit_plans(
    path: Path,
    plans: list[ImportPlan],
    skip_invalid: bool,
    errors_path: Path | None,
    progress: Progress,
    cancel: Cancel,
) -> ImportResult:
    with Inventory.open(path) as inv:
        return importing.commit_import(
            inv,
            plans,
            skip_invalid=skip_invalid,
            errors_path=errors_path,
            progress=progress,
            cancel=cancel,
        )


# -- the wizard ---------------------------------------------------------------------------


class ImportWizard(QWizard):
    """Import files into ``inventory``; the import lands on ``editor``'s undo stack."""

    FILES, SHEETS, REFERENCES, VALIDATION, SUMMARY = 0, 1, 2, 3, 4
    MAPPING = 100  # MAPPING + i: the columns of the i-th chosen sheet

    #: the import was committed (ImportResult)
    imported = Signal(object)

    def __init__(
        self,
        inventory: Inventory,
        editor: InventoryEditor,
        files: list[Path] | None = None,
        parent: QWidget | None = None,
    ):
        from ui import import_pages as pages
        from ui.import_mapping import MappingPage

        super().__init__(parent)
        self._mapping_page_class = MappingPage
        self.inventory = inventory
        self.editor = editor
        self.sheets: list[SheetChoice] = []
        self.resolutions: dict[tuple[str, str], int | str] = {}
        self.plans: list[ImportPlan] | None = None
        #: what the plans were made from (so a changed choice makes them stale)
        self.plans_key: object = None
        self.result: ImportResult | None = None
        self.jobs: list[Job] = []

        self.setWindowTitle("Import into the inventory")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Import")
        self.resize(1000, 680)
        self.setMinimumSize(760, 520)

        self.files_page = pages.FilesPage(files or [])
        self.sheets_page = pages.SheetsPage()
        self.references_page = pages.ReferencesPage()
        self.validation_page = pages.ValidationPage()
        self.summary_page = pages.SummaryPage()
        self.setPage(self.FILES, self.files_page)
        self.setPage(self.SHEETS, self.sheets_page)
        self.setPage(self.REFERENCES, self.references_page)
        self.setPage(self.VALIDATION, self.validation_page)
        self.setPage(self.SUMMARY, self.summary_page)
        self.rejected.connect(self._on_rejected)

    # -- sheets and mapping pages --------------------------------------------------------

    def chosen(self) -> list[SheetChoice]:
        """The sheets that will be imported, in order."""
        return [s for s in self.sheets if s.table is not None]

    def mapping_page(self, i: int) -> Any:
        return self.page(self.MAPPING + i)

    def build_mapping_pages(self) -> None:
        """One mapping page per chosen sheet (called when leaving the sheets page)."""
        for page_id in self.pageIds():
            if page_id >= self.MAPPING:
                page = self.page(page_id)
                self.removePage(page_id)
                page.deleteLater()
        for i, _choice in enumerate(self.chosen()):
            self.setPage(self.MAPPING + i, self._mapping_page_class(i))

    def next_after_mapping(self, i: int) -> int:
        return self.MAPPING + i + 1 if i + 1 < len(self.chosen()) else self.REFERENCES

    # -- jobs -----------------------------------------------------------------------------

    def start_job(self, fn: Any) -> Job:
        """Run ``fn(progress, cancel)`` on the thread pool; cancelled if the wizard is."""
        job = Job(fn, self)
        self.jobs.append(job)
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(lambda *_a, job=job: self._forget(job))
        return job.start()

    def _forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        job.deleteLater()

    def _on_rejected(self) -> None:
        for job in list(self.jobs):
            job.cancel()

    # -- planning -------------------------------------------------------------------------

    def planning_key(self) -> object:
        """Everything the plans depend on: the chosen sheets, their whole mappings
        (columns, units, date order, values for every row, what CodeCarbon rows become,
        references created), the cells fixed in the preview, and the resolutions."""

        def mapping_key(m: SheetMapping | None) -> object:
            if m is None:
                return None
            return json.dumps(m.to_json(), sort_keys=True, default=repr)

        return (
            tuple(
                (
                    id(s.info),
                    s.table,
                    mapping_key(s.mapping),
                    tuple(sorted(s.plan_edits().items(), key=repr)),
                )
                for s in self.chosen()
            ),
            tuple(sorted(self.resolutions.items(), key=repr)),
        )

    def plans_fresh(self) -> bool:
        return self.plans is not None and self.plans_key == self.planning_key()

    def start_planning(self) -> Job:
        """Plan every chosen sheet with the current mappings and resolutions."""
        self.plans = None
        key = self.planning_key()
        sheets = []
        edits = []
        for s in self.chosen():
            assert s.mapping is not None
            sheets.append((s.info, s.mapping))
            edits.append(s.plan_edits())
        resolutions = dict(self.resolutions)
        path = self.inventory.path
        job = self.start_job(
            lambda progress, cancel: make_plans(path, sheets, resolutions, progress, cancel, edits)
        )

        def keep(plans: list[ImportPlan]) -> None:
            self.plans, self.plans_key = plans, key

        job.finished.connect(keep)
        return job

    def choice_of(self, plan: ImportPlan) -> SheetChoice | None:
        """The chosen sheet ``plan`` was made from."""
        return next((s for s in self.chosen() if s.info is plan.sheet), None)

    def set_edit(self, choice: SheetChoice, row: int, name: str, text: str, was: Any) -> bool:
        """Fix cell ``(row, name)`` of ``choice`` with ``text`` (``was``: what the file
        says there). Typing the file's value again takes the fix back. Returns whether
        anything changed (the plans are then stale)."""
        key = (row, name)
        if key not in choice.edits:
            choice.edited_from[key] = was
        if text == cell_text(choice.edited_from.get(key)):
            changed = key in choice.edits
            choice.edits.pop(key, None)
            choice.edited_from.pop(key, None)
            return changed
        if choice.edits.get(key) == text:
            return False
        choice.edits[key] = text
        return True

    # -- committing -----------------------------------------------------------------------

    def start_commit(self, skip_invalid: bool, errors_path: Path | None) -> Job:
        """Commit the plans on a worker with a progress dialog; on success the import
        goes on the undo stack and :attr:`imported` is emitted."""
        assert self.plans is not None
        plans = list(self.plans)
        path = self.inventory.path
        job = self.start_job(
            lambda progress, cancel: commit_plans(
                path, plans, skip_invalid, errors_path, progress, cancel
            )
        )
        JobProgressDialog(job, "Importing", self).show()
        job.finished.connect(self._on_commit_finished)
        return job

    def _on_commit_finished(self, result: ImportResult) -> None:
        from core.commands import UndoImport

        self.result = result
        tables = frozenset(result.counts) | self._touched_tables()
        names = ", ".join(sorted({s.info.file.name for s in self.chosen()}))
        text = f"Import {names}"
        # The import is already in the file (committed by the worker's connection):
        # the stack gets the command that undoes it, as after any edit.
        inverse = UndoImport(result.import_id, description=f"Undo: {text}")
        self.editor.stack.push(InventoryUndoCommand(self.editor, inverse, text))
        self.editor.edited.emit(tables)
        self.imported.emit(result)

    def _touched_tables(self) -> frozenset[str]:
        """Tables an import may add rows to besides its targets (created references)."""
        out: set[str] = set()
        if any(v == "create" for v in self.resolutions.values()):
            out |= CREATABLE
        for s in self.chosen():
            if s.table == "codecarbon":
                out |= {"training_runs", "models", "hardware", "sites"}
        return frozenset(out)


def cell_text(value: Any) -> str:
    """A cell as the user types it again: numbers in full, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# -- File menu entries that are not the wizard ----------------------------------------------


def _export(path: Path, out: Path, progress: Progress, cancel: Cancel) -> Path:
    with Inventory.open(path) as inv:
        importing.export_inventory(inv, out, progress=progress, cancel=cancel)
    return out


def export_inventory_dialog(parent: QWidget, inventory: Inventory) -> Job | None:
    """Ask where to export ``inventory`` (XLSX, CSV or JSON by suffix) and export it on
    a worker with a progress dialog; the status bar of ``parent`` says where it went."""
    suggestion = str(inventory.path.with_suffix(".xlsx"))
    name, chosen_filter = QFileDialog.getSaveFileName(
        parent, "Export the inventory", suggestion, EXPORT_FILTER
    )
    if not name:
        return None
    out = Path(name)
    if out.suffix.lower() not in (".xlsx", ".csv", ".json"):
        suffix = {"CSV": ".csv", "JSON": ".json"}.get(chosen_filter.split(" ")[0], ".xlsx")
        out = out.with_name(out.name + suffix)
    job = Job(lambda progress, cancel: _export(inventory.path, out, progress, cancel), parent)
    JobProgressDialog(job, "Exporting", parent).show()

    def done(written: Path) -> None:
        _status(parent, f"Exported the inventory to {written}")
        job.deleteLater()

    def failed(message: str) -> None:
        QMessageBox.warning(parent, "Export failed", literal(message))
        job.deleteLater()

    job.finished.connect(done)
    job.failed.connect(failed)
    job.cancelled.connect(lambda: (_status(parent, "Export cancelled"), job.deleteLater()))
    return job.start()


def save_template_dialog(parent: QWidget, start: Path | None = None) -> Path | None:
    """Ask where to save an empty import workbook (expected columns, units, examples)."""
    suggestion = str((start or Path.home()) / "AI Carbon Ledger import template.xlsx")
    name, _ = QFileDialog.getSaveFileName(
        parent, "Save import template", suggestion, TEMPLATE_FILTER
    )
    if not name:
        return None
    out = Path(name)
    if out.suffix.lower() != ".xlsx":
        out = out.with_name(out.name + ".xlsx")
    try:
        importing.write_template(out)  # a small workbook: quick enough for the UI thread
    except (OSError, LedgerError) as exc:
        QMessageBox.warning(parent, "Cannot save the template", literal(str(exc)))
        return None
    _status(parent, f"Saved the import template as {out}")
    return out


def _status(parent: QWidget, text: str) -> None:
    status = getattr(parent, "statusBar", None)
    if callable(status):
        status().showMessage(text, 8000)
