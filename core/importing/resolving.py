"""Reference cells (hardware, site, model, deployment written as text) to record ids.

Each distinct text is matched once (:mod:`.matching`), unless the user chose a record
for it or asked to create one on commit (a negative placeholder id until then); what
nobody could match is reported as :class:`~core.importing.scanned.Unresolved`.

Texts are matched against the records of the inventory and, when several sheets are
imported together, against the records the earlier sheets will create
(:class:`Pending`): a usage sheet may name a deployment that the deployments sheet of
the same workbook adds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import schema
from core.importing import matching
from core.importing.scanned import Unresolved

if TYPE_CHECKING:
    from core.inventory import Inventory

#: the user's choices: ``(field, raw text)`` -> record id, or "create"
Resolutions = dict[tuple[str, str], "int | str"]

#: tables whose records an import can create for an unmatched reference (the user's
#: "create", or a mapping's ``create_missing``); the commit knows how to fill in a
#: record of these from a name alone (``core.importing.commit._create_template``).
#: Any other table (deployments) must already hold the record, or get it from an
#: earlier sheet of the same import.
CREATABLE: frozenset[str] = frozenset({"hardware", "sites", "models"})

#: tables other tables refer to (whose new records later sheets may name)
REFERENCED: frozenset[str] = frozenset(
    f.ref for spec in schema.TABLES.values() for f in spec.fields if f.kind == "ref" and f.ref
)

#: placeholder ids of records an earlier sheet will create count down from here (far
#: below the -1, -2 ... of the records created for unmatched references)
PENDING_FIRST = -1_000_000_000


def record_title(table: str, values: dict[str, Any]) -> str:
    """A record's title as :meth:`core.inventory.Inventory.title` gives it (``title_sql``):
    a model's name and version, the name of anything else."""
    name = str(values.get("name") or "")
    if table == "models":
        version = str(values.get("version") or "")
        return f"{name} {version}" if version else name
    return name


class Pending:
    """The records the earlier sheets of one import will create, by table.

    References in later sheets are matched against them as against the inventory's own
    records; they get placeholder ids (below :data:`PENDING_FIRST`) while planning. The
    commit writes the sheets in the same order, so by the time a later sheet is written
    the records are in the inventory and the same texts match them there.
    """

    def __init__(self) -> None:
        #: table -> ``(placeholder id, title, values)``, values as far as matching needs
        self.records: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self._next = PENDING_FIRST

    def wants(self, table: str) -> bool:
        """Whether new records of ``table`` are worth noting (another table refers to it)."""
        return table in REFERENCED

    def add(self, table: str, values: dict[str, Any]) -> int | None:
        """Note a new record of ``table`` (its converted values); its placeholder id, or
        None when no other table refers to ``table`` or the record has no title."""
        if table not in REFERENCED:
            return None
        title = record_title(table, values)
        if not title:
            return None
        rid = self._next
        self._next -= 1
        kept = {
            k: values.get(k) for k in ("name", "version", "region_code", "country", "grid_region")
        }
        self.records.setdefault(table, []).append((rid, title, kept))
        return rid

    def options(self, table: str) -> list[tuple[int, str]]:
        """``(placeholder id, title)`` of the pending records of ``table``."""
        return [(rid, title) for rid, title, _ in self.records.get(table, [])]

    def sites(self) -> list[matching.SiteRow]:
        return [
            matching.SiteRow(
                rid,
                title,
                str(v.get("region_code") or ""),
                str(v.get("country") or ""),
                str(v.get("grid_region") or ""),
            )
            for rid, title, v in self.records.get("sites", [])
        ]


_REF_LABEL = {
    "hardware": "hardware",
    "sites": "site",
    "models": "model",
    "deployments": "deployment",
}


class _Resolver:
    """Free text -> record id for one referenced table, cached per distinct text."""

    def __init__(
        self,
        inv: Inventory,
        table: str,
        fld: str,
        resolutions: Resolutions,
        create: bool,
        pending: Pending | None = None,
    ):
        self.inv, self.table, self.field = inv, table, fld
        self.create_missing = create
        self.resolutions = resolutions
        self.cache: dict[str, tuple[int | None, int, str | None]] = {}
        self.counts: dict[str, int] = {}
        self.suggestions: dict[str, list[tuple[int, str, float]]] = {}
        # raw text -> placeholder id (negative) for records created on commit
        self.created: dict[str, int] = {}
        # records earlier sheets of the same import will create (placeholder ids)
        extra = pending.options(table) if pending is not None else []
        if table == "hardware":
            self._hw = matching.hardware_candidates([*inv.ref_options("hardware"), *extra])
        elif table == "sites":
            rows = inv.conn.execute(
                "SELECT id, name, coalesce(region_code,''), coalesce(country,''), "
                "coalesce(grid_region,'') FROM sites"
            ).fetchall()
            self._sites = [matching.SiteRow(*r) for r in rows]
            if pending is not None:
                self._sites.extend(pending.sites())
        else:
            self._options = [*inv.ref_options(table), *extra]
            self._titles = matching.prepare_titles(self._options)

    def _matches(self, text: str) -> list[tuple[int, str, float]]:
        if self.table == "hardware":
            return matching.match_hardware(text, self._hw)
        if self.table == "sites":
            return matching.match_site(text, self._sites)
        return matching.match_title(text, self._options, self._titles)

    def resolve(self, raw: Any) -> tuple[int | None, int, str | None]:
        """``(id or None, device count written with it, problem)``; counts the use."""
        text, hit = self.lookup(raw)
        if text is not None:
            self.counts[text] = self.counts.get(text, 0) + 1
        return hit

    def count(self, text: str, n: int) -> None:
        """Count ``n`` uses of ``text`` (looked up before with :meth:`lookup`)."""
        self.counts[text] = self.counts.get(text, 0) + n

    def lookup(self, raw: Any) -> tuple[str | None, tuple[int | None, int, str | None]]:
        """``(normalised text or None for ids, resolve's answer)`` without counting."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return None, (raw, 1, None)  # already an id (defaults)
        text = " ".join(str(raw).split())
        hit = self.cache.get(text)
        if hit is not None:
            return text, hit
        count = 1
        name = text
        if self.table == "hardware":
            parts = matching.split_multi(text)
            distinct = {p.lower() for _, p in parts}
            if not parts:  # separators only: ",", "&", "and"...
                hit = (None, 1, "names no hardware type: give one, such as 'NVIDIA A100'")
                self.cache[text] = hit
                return text, hit
            if len(distinct) > 1:
                hit = (None, 1, "names several hardware types; a record has one: split the row")
                self.cache[text] = hit
                return text, hit
            count, name = sum(c for c, _ in parts), parts[0][1]
        chosen = self.resolutions.get((self.field, text))
        if isinstance(chosen, int) and not isinstance(chosen, bool):
            hit = (chosen, count, None)
        else:
            matches = self._matches(name)
            # what the user may pick: records with ids (not those of earlier sheets,
            # which get theirs on commit)
            self.suggestions[text] = [m for m in matches if m[0] > PENDING_FIRST]
            rid = matching.decide(matches)
            exact = matches[0][0] if matches and matches[0][2] >= 1.0 else None
            if chosen == "create" or (rid is None and self.create_missing):
                if exact is not None:  # created by an earlier import: use it
                    hit = (exact, count, None)
                elif self.table not in CREATABLE:
                    what = _REF_LABEL.get(self.table, self.table)
                    plural = schema.table(self.table).label
                    hit = (
                        None,
                        count,
                        f"{self._unknown(matches)}; an import cannot create a {what}: pick "
                        f"an existing one, or add a {plural} sheet to the import",
                    )
                else:
                    if text not in self.created:
                        self.created[text] = -(len(self.created) + 1)
                    hit = (self.created[text], count, None)
            elif rid is None:
                reason = self._unknown(matches)
                if self.table in CREATABLE:
                    reason += "; pick one or create it"
                hit = (None, count, reason)
            else:
                hit = (rid, count, None)
        self.cache[text] = hit
        return text, hit

    def _unknown(self, matches: list[tuple[int, str, float]]) -> str:
        """``"unknown hardware; closest: ..."`` (what :meth:`unresolved` looks for)."""
        closest = ", ".join(f"{n} ({c:.0%})" for _, n, c in matches[:3])
        what = _REF_LABEL.get(self.table, self.table)
        return f"unknown {what}" + (f"; closest: {closest}" if closest else "")

    def text_of(self, placeholder: int) -> str:
        """The raw text a placeholder id (negative) stands for."""
        return next(t for t, p in self.created.items() if p == placeholder)

    def unresolved(self) -> list[Unresolved]:
        out = []
        for text, (rid, _, reason) in self.cache.items():
            if not self.counts.get(text):
                continue  # looked up for rows that were then checked one by one elsewhere
            if rid is None and reason and reason.startswith("unknown"):
                out.append(
                    Unresolved(self.field, text, self.counts[text], self.suggestions.get(text, []))
                )
            elif rid is not None and rid < 0 and self.created.get(text) == rid:
                out.append(
                    Unresolved(
                        self.field,
                        text,
                        self.counts[text],
                        self.suggestions.get(text, []),
                        will_create=True,
                    )
                )
        return out
