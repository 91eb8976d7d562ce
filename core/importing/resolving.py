"""Reference cells (hardware, site, model, deployment written as text) to record ids.

Each distinct text is matched once (:mod:`.matching`), unless the user chose a record
for it or asked to create one on commit (a negative placeholder id until then); what
nobody could match is reported as :class:`~core.importing.scanned.Unresolved`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.importing import matching
from core.importing.scanned import Unresolved

if TYPE_CHECKING:
    from core.inventory import Inventory

#: the user's choices: ``(field, raw text)`` -> record id, or "create"
Resolutions = dict[tuple[str, str], "int | str"]


_REF_LABEL = {
    "hardware": "hardware",
    "sites": "site",
    "models": "model",
    "deployments": "deployment",
}


class _Resolver:
    """Free text -> record id for one referenced table, cached per distinct text."""

    def __init__(
        self, inv: Inventory, table: str, fld: str, resolutions: Resolutions, create: bool
    ):
        self.inv, self.table, self.field = inv, table, fld
        self.create_missing = create
        self.resolutions = resolutions
        self.cache: dict[str, tuple[int | None, int, str | None]] = {}
        self.counts: dict[str, int] = {}
        self.suggestions: dict[str, list[tuple[int, str, float]]] = {}
        # raw text -> placeholder id (negative) for records created on commit
        self.created: dict[str, int] = {}
        if table == "hardware":
            self._hw = matching.hardware_candidates(inv.ref_options("hardware"))
        elif table == "sites":
            rows = inv.conn.execute(
                "SELECT id, name, coalesce(region_code,''), coalesce(country,''), "
                "coalesce(grid_region,'') FROM sites"
            ).fetchall()
            self._sites = [matching.SiteRow(*r) for r in rows]
        else:
            self._options = inv.ref_options(table)
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
            self.suggestions[text] = matches
            rid = matching.decide(matches)
            exact = matches[0][0] if matches and matches[0][2] >= 1.0 else None
            if chosen == "create" or (rid is None and self.create_missing):
                if exact is not None:  # created by an earlier import: use it
                    hit = (exact, count, None)
                else:
                    if text not in self.created:
                        self.created[text] = -(len(self.created) + 1)
                    hit = (self.created[text], count, None)
            elif rid is None:
                closest = ", ".join(f"{n} ({c:.0%})" for _, n, c in matches[:3])
                what = _REF_LABEL.get(self.table, self.table)
                reason = f"unknown {what}" + (f"; closest: {closest}" if closest else "")
                if self.table in ("hardware", "sites", "models"):
                    reason += "; pick one or create it"
                hit = (None, count, reason)
            else:
                hit = (rid, count, None)
        self.cache[text] = hit
        return text, hit

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
            elif rid is not None and rid < 0:
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
