"""Undoable edits of the inventory.

A command's :meth:`Command.apply` performs the edit in one transaction, appends it to
the change log and returns the command that undoes it. Applying that inverse returns a
command equivalent to the original, so undo and redo are the same operation and the UI's
``QUndoStack`` only keeps the latest inverse (see ``ui.undo``).
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from core import schema
from core.errors import InUseError, RecordChangedError, RecordNotFoundError, ValidationError
from core.formatting import format_cell
from core.inventory import Inventory
from core.validation import check_record, normalise

_UNDO_PREFIX = "Undo: "


def _inverse_text(description: str) -> str:
    if description.startswith(_UNDO_PREFIX):
        return description[len(_UNDO_PREFIX) :]
    return _UNDO_PREFIX + description


class Command(ABC):
    """An edit that can be applied to an inventory and undone."""

    description: str

    @property
    @abstractmethod
    def tables(self) -> frozenset[str]:
        """Tables whose rows this command changes (so views know what to refresh)."""

    @abstractmethod
    def apply(self, inv: Inventory) -> Command:
        """Perform the edit atomically, log it, and return the command that undoes it."""


@dataclass
class InsertRecord(Command):
    """Add one record. ``row_id`` is given when redoing, so the record keeps its id."""

    table: str
    values: dict[str, Any]
    row_id: int | None = None
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({self.table})

    def apply(self, inv: Inventory) -> Command:
        spec = schema.table(self.table)
        values = normalise(self.table, self.values)
        check_record(self.table, values, hardware_tdp(inv, values))
        record = {k: v for k, v in values.items() if v is not None}
        with inv.transaction(), _readable_integrity_errors(spec, values):
            row_id = inv.insert_row(self.table, record, self.row_id)
            description = (
                self.description or f"Add {spec.singular} '{inv.title(self.table, row_id)}'"
            )
            inv.log(
                inv.next_log_batch(),
                [("insert", self.table, row_id, None, None, record)],
                description,
            )
        self.row_id = row_id
        self.description = description
        return DeleteRecords(self.table, [row_id], _inverse_text(description))


@dataclass
class UpdateRecord(Command):
    """Change some fields of one record.

    ``expected``: the values of (some of) the changed fields as the editor read them
    before the user changed them. Inside its write transaction the edit compares them
    with the record as it is now and refuses with :class:`RecordChangedError` if another
    program changed any of them meanwhile, instead of putting the old value back. Its
    inverse expects the values it wrote, so an undo never overwrites a later change
    either.
    """

    table: str
    row_id: int
    changes: dict[str, Any]
    description: str = ""
    expected: dict[str, Any] | None = None

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({self.table})

    def apply(self, inv: Inventory) -> Command:
        spec = schema.table(self.table)
        unknown = set(self.changes) - set(spec.field_names)
        if unknown:
            raise ValidationError(f"Unknown fields for a {spec.singular}: {sorted(unknown)}.")
        normalised = normalise(self.table, self.changes)
        wanted = {k: normalised[k] for k in self.changes}
        # the record is read inside the write transaction: nobody can change it between
        # this read and the write, so what is compared and logged is what is replaced
        with inv.transaction():
            old = inv.get(self.table, self.row_id)
            if self.expected:
                _check_unchanged(inv, spec, old, self.expected)
            changes = {k: v for k, v in wanted.items() if old.get(k) != v}
            merged = {**old, **changes}
            check_record(self.table, merged, hardware_tdp(inv, merged))
            description = self.description or (
                f"Edit {spec.singular} '{inv.title(self.table, self.row_id)}'"
            )
            with _readable_integrity_errors(spec, merged):
                if changes:
                    inv.update_row(self.table, self.row_id, changes)
                    inv.log(
                        inv.next_log_batch(),
                        [
                            ("update", self.table, self.row_id, k, old[k], v)
                            for k, v in changes.items()
                        ],
                        description,
                    )
        self.description = description
        inverse = {k: old[k] for k in changes}
        return UpdateRecord(
            self.table, self.row_id, inverse, _inverse_text(description), expected=changes
        )


def _check_unchanged(
    inv: Inventory, spec: schema.TableSpec, now: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Raise :class:`RecordChangedError` if a field of ``now`` (the stored record) no
    longer holds its ``expected`` value."""
    changed = {k: now[k] for k, v in expected.items() if k in now and now[k] != v}
    if not changed:
        return
    parts = [f"{spec.field(k).label} is now {_shown(inv, spec, k, v)}" for k, v in changed.items()]
    title = inv.title(spec.name, int(now["id"]))
    raise RecordChangedError(
        f"The {spec.singular} '{title}' was changed by another program while you edited "
        f"it: {'; '.join(parts)}. Your change was not saved; reopen the record to see it as "
        "it is now and edit it again.",
        changed,
    )


def _shown(inv: Inventory, spec: schema.TableSpec, name: str, value: Any) -> str:
    """A stored value as the form shows it (a reference by its title), quoted."""
    f = spec.field(name)
    if value is None or value == "":
        return "empty"
    if f.kind == "ref" and f.ref:
        return f"'{inv.title(f.ref, int(value))}'"
    return f"'{format_cell(f, value)}'"


@dataclass
class DeleteRecords(Command):
    """Delete records together with what cascades from them (a model's runs...).

    Refused with :class:`InUseError` while other records refer to them through a
    reference that does not cascade (a site still used by a training run).
    """

    table: str
    ids: list[int]
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        tables = {self.table}
        queue = [self.table]
        while queue:
            for dep in schema.DEPENDENTS.get(queue.pop(), ()):
                if dep.on_delete == "cascade" and dep.table not in tables:
                    tables.add(dep.table)
                    queue.append(dep.table)
        return frozenset(tables)

    def apply(self, inv: Inventory) -> Command:
        spec = schema.table(self.table)
        with inv.transaction():
            _, restrict = inv.dependents(self.table, self.ids)
            if restrict:
                raise InUseError(blocked_message(inv, self.table, self.ids, restrict))
            closure = inv.cascade_closure(self.table, self.ids)
            snapshot = [(t, inv.get_many(t, ids)) for t, ids in closure]
            missing = set(self.ids) - {r["id"] for r in snapshot[0][1]}
            if missing:
                raise RecordNotFoundError(
                    f"There is no {spec.singular} with id {min(missing)} any more."
                )
            description = self.description or delete_text(inv, self.table, self.ids)
            entries = []
            for t, rows in reversed(snapshot):  # children first
                inv.delete_ids(t, [r["id"] for r in rows])
                entries.extend(("delete", t, r["id"], None, _strip_id(r), None) for r in rows)
            inv.log(inv.next_log_batch(), entries, description)
        self.description = description
        return RestoreRecords(self.table, list(self.ids), snapshot, _inverse_text(description))


@dataclass
class RestoreRecords(Command):
    """Put deleted records back with their ids, parents first (the inverse of a delete)."""

    table: str
    ids: list[int]
    snapshot: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(t for t, _ in self.snapshot)

    def apply(self, inv: Inventory) -> Command:
        entries = []
        with inv.transaction():
            for t, rows in self.snapshot:
                for r in rows:
                    values = _strip_id(r)
                    inv.insert_row(t, values, r["id"])
                    entries.append(("insert", t, r["id"], None, None, values))
            inv.log(inv.next_log_batch(), entries, self.description)
        return DeleteRecords(self.table, list(self.ids), _inverse_text(self.description))


def hardware_tdp(inv: Inventory, values: dict[str, Any]) -> float | None:
    """TDP (W) of the hardware a record points at, or None."""
    hw = values.get("hardware_id")
    if hw is None:
        return None
    try:
        return inv.get("hardware", int(hw))["tdp_w"]
    except RecordNotFoundError:
        return None


def duplicate_values(inv: Inventory, table: str, row_id: int) -> dict[str, Any]:
    """A copy of a record's values, renamed so that unique names stay unique."""
    spec = schema.table(table)
    values = inv.get(table, row_id)
    values.pop("id")
    name_field = spec.copy_suffix_field
    if name_field:
        base = re.sub(r" \(copy( \d+)?\)$", "", values[name_field] or "")
        n = 1
        while True:
            candidate = f"{base} (copy)" if n == 1 else f"{base} (copy {n})"
            clash = inv.conn.execute(
                f"SELECT 1 FROM {spec.name} WHERE {name_field} = ? LIMIT 1", (candidate,)
            ).fetchone()
            if not clash:
                break
            n += 1
        values[name_field] = candidate
    return values


def delete_text(inv: Inventory, table: str, ids: list[int]) -> str:
    spec = schema.table(table)
    if len(ids) == 1:
        return f"Delete {spec.singular} '{inv.title(table, ids[0])}'"
    return f"Delete {spec.count_text(len(ids))}"


def consequences_text(inv: Inventory, table: str, ids: list[int]) -> str:
    """What else a delete removes, in words ("and 3 training runs, 120 usage records")."""
    cascade, _ = inv.dependents(table, ids)
    parts = [_count_text(t, n) for t, n in cascade.items() if n]
    return ", ".join(parts)


def blocked_message(inv: Inventory, table: str, ids: list[int], restrict: dict[str, int]) -> str:
    spec = schema.table(table)
    what = (
        f"{spec.singular} '{inv.title(table, ids[0])}'"
        if len(ids) == 1
        else f"these {spec.count_text(len(ids))}"
    )
    users = " and ".join(_count_text(t, n) for t, n in restrict.items())
    return (
        f"Cannot delete {what}: {users} still use it. "
        "Point them at another one (or delete them) first."
    )


def _count_text(table: str, n: int) -> str:
    return schema.table(table).count_text(n)


def _strip_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


class _readable_integrity_errors:
    """Turn SQLite constraint failures into :class:`ValidationError` with plain words."""

    def __init__(self, spec: schema.TableSpec, values: dict[str, Any]):
        self.spec, self.values = spec, values

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        if not isinstance(exc, sqlite3.IntegrityError):
            return False
        text = str(exc)
        if "UNIQUE" in text and self.spec.unique:
            key = " ".join(str(self.values.get(k) or "") for k in self.spec.unique).strip()
            field_name = self.spec.unique[0]
            raise ValidationError(
                f"A {self.spec.singular} named '{key}' already exists; choose another name.",
                {field_name: "is already used by another " + self.spec.singular},
            ) from exc
        if "FOREIGN KEY" in text:
            raise ValidationError(
                f"The {self.spec.singular} refers to a record that no longer exists.",
            ) from exc
        raise ValidationError(f"The {self.spec.singular} cannot be saved: {text}.") from exc


#: inventory settings a user may change, with their allowed values (first: the default)
SETTINGS: dict[str, tuple[str, ...]] = {
    "embodied_convention": ("amortised", "capital-goods"),
}


@dataclass
class SetSetting(Command):
    """Change an inventory setting (stored in ``meta``); logged like any edit."""

    key: str
    value: str
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({"meta"})

    def check(self) -> tuple[str, ...]:
        """The values the setting allows; raises ValidationError for an unknown setting
        or a value it does not allow."""
        allowed = SETTINGS.get(self.key)
        if allowed is None:
            raise ValidationError(
                f"There is no setting called '{self.key}' (settings: {', '.join(SETTINGS)})."
            )
        if self.value not in allowed:
            raise ValidationError(f"{self.key} must be one of: {', '.join(allowed)}.")
        return allowed

    def apply(self, inv: Inventory) -> Command:
        allowed = self.check()
        old = inv.meta(self.key, allowed[0]) or allowed[0]
        description = self.description or f"Set {self.key.replace('_', ' ')} to {self.value}"
        with inv.transaction():
            inv.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (self.key, self.value),
            )
            inv.log(
                inv.next_log_batch(),
                [("update", "meta", 0, self.key, old, self.value)],
                description,
            )
        self.description = description
        return SetSetting(self.key, old, _inverse_text(description))


@dataclass
class ImportBatch(Command):
    """Import planned sheets (``core.importing``) as one step; redo of an undone import.

    Built from ``plans`` for a new import, or from the ``snapshot`` an
    :class:`UndoImport` took, to put the same rows back with the same ids.
    """

    plans: list[Any] = field(default_factory=list)
    skip_invalid: bool = False
    snapshot: Any = None
    description: str = ""
    import_id: int | None = None
    result: Any = None

    @property
    def tables(self) -> frozenset[str]:
        if self.snapshot is not None:
            return frozenset(self.snapshot.tables)
        out = {p.table for p in self.plans}
        out |= {"models", "hardware", "sites"}  # references created on the way
        return frozenset(out)

    def apply(self, inv: Inventory) -> Command:
        from core.importing.commit import commit_import, redo_import

        if self.snapshot is not None:
            redo_import(inv, self.snapshot)
            import_id = self.snapshot.import_id
        else:
            self.result = commit_import(inv, self.plans, skip_invalid=self.skip_invalid)
            import_id = self.result.import_id
        self.import_id = import_id
        files = ", ".join(dict.fromkeys(p.sheet.file.name for p in self.plans))
        self.description = self.description or f"Import {files}"
        return UndoImport(import_id, _inverse_text(self.description))


@dataclass
class UndoImport(Command):
    """Take back a whole import in one step; its inverse puts the same rows back."""

    import_id: int
    description: str = ""
    snapshot: Any = None

    @property
    def tables(self) -> frozenset[str]:
        if self.snapshot is not None:
            return frozenset(self.snapshot.tables)
        return frozenset(schema.TABLES)

    def apply(self, inv: Inventory) -> Command:
        from core.importing.commit import undo_import

        self.snapshot = undo_import(inv, self.import_id)
        if not self.description:
            name = inv.conn.execute(
                "SELECT file_name FROM imports_log WHERE id = ?", (self.import_id,)
            ).fetchone()[0]
            self.description = f"Undo: Import {name}"
        return ImportBatch(snapshot=self.snapshot, description=_inverse_text(self.description))


@dataclass
class SaveScenario(Command):
    """Save a what-if scenario (``core.scenarios.Scenario``) by name: a new one, or new
    changes for the one of that name. Undone by deleting it or putting the old back."""

    scenario: Any
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({"scenarios"})

    def apply(self, inv: Inventory) -> Command:
        from core import scenarios

        name = self.scenario.name.strip()
        old = next((s for s in scenarios.list_scenarios(inv) if s.name == name), None)
        description = self.description or f"Save scenario '{name}'"
        scenarios.save_scenario(inv, self.scenario, description)
        self.description = description
        if old is None:
            return DeleteScenario(name, _inverse_text(description))
        return SaveScenario(old, _inverse_text(description))


@dataclass
class DeleteScenario(Command):
    """Delete the what-if scenario called ``name``; undone by saving it again."""

    name: str
    description: str = ""

    @property
    def tables(self) -> frozenset[str]:
        return frozenset({"scenarios"})

    def apply(self, inv: Inventory) -> Command:
        from core import scenarios

        old = scenarios.load_scenario(inv, self.name)
        description = self.description or f"Delete scenario '{self.name}'"
        scenarios.delete_scenario(inv, self.name, description)
        self.description = description
        return SaveScenario(old, _inverse_text(description))
