"""The report as plain data: sections of paragraphs, key figures, tables and charts.

Nothing here knows about pages or fonts. ``ui.report_render`` lays it out for print and
PDF, ``core.report_xlsx`` writes its tables to a workbook, and a closed quarter keeps it
as JSON (:meth:`Report.to_json` / :meth:`Report.from_json`) so that reprinting shows
exactly what was reported.

Table cells hold raw values (``float`` numbers in the column's unit, ``str`` text,
``None`` blank); :func:`format_number` is the one way they are written for people, so
a test can format the engine's figure the same way and find it in the printed text.
Every string may come from the user (model names...) and is plain text, never markup:
renderers draw it literally.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

#: colour keys a chart series may use; ``ui.palette`` maps them to colours
COLOR_KEYS = ("training", "inference", "api", "embodied", "location", "market", "savings")


def format_number(value: float | None, decimals: int | None = None) -> str:
    """A figure as printed: grouped digits; whole numbers from 100 up, else 2 decimals.

    ``decimals`` fixes the number of decimals instead. ``None`` and NaN print as a dash.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if decimals is None:
        decimals = 0 if abs(value) >= 100 else 2
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # no "-0.00"
        text = text.lstrip("-")
    return text.replace("-", "−")  # a true minus sign


def format_signed(value: float | None, decimals: int | None = None) -> str:
    """A difference as printed: like :func:`format_number`, with ``+`` before a
    positive value (zero has no sign)."""
    text = format_number(value, decimals)
    if value is None or text.startswith("−") or text.strip("0.,") == "" or text == "–":
        return text
    return "+" + text


def format_percent(value: float | None, signed: bool = False) -> str:
    """A share or change in per cent (``value`` is a fraction: 0.25 -> ``25.0 %``)."""
    if value is None or math.isnan(value) or math.isinf(value):
        return "–"
    text = f"{value * 100:+,.1f} %" if signed else f"{value * 100:,.1f} %"
    return text.replace("-", "−")


@dataclass
class Column:
    """A table column. ``unit`` is shown in the header; numbers are right-aligned.

    ``kind``: ``text``, ``number`` (in ``unit``), ``delta`` (a signed number in
    ``unit``), ``percent`` (a fraction printed in %), ``change`` (a signed fraction) or
    ``int``. ``width`` is relative to the others.
    """

    header: str
    unit: str = ""
    kind: str = "text"
    width: float = 1.0
    decimals: int | None = None

    @property
    def numeric(self) -> bool:
        return self.kind != "text"

    @property
    def title(self) -> str:
        return f"{self.header} ({self.unit})" if self.unit else self.header

    def format(self, value: Any) -> str:
        """The cell as printed."""
        if value is None or value == "":
            return ""
        if self.kind == "text":
            return str(value)
        if self.kind == "percent":
            return format_percent(float(value))
        if self.kind == "change":
            return format_percent(float(value), signed=True)
        if self.kind == "int":
            return f"{int(value):,}"
        if self.kind == "delta":
            return format_signed(float(value), self.decimals)
        return format_number(float(value), self.decimals)


@dataclass
class Table:
    """Rows of raw values under ``columns``; ``total`` is an optional last row."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    note: str = ""

    def formatted(self, row: list[Any]) -> list[str]:
        return [c.format(v) for c, v in zip(self.columns, row, strict=True)]


@dataclass
class Series:
    name: str
    color: str  # one of COLOR_KEYS
    values: list[float]


@dataclass
class Chart:
    """``kind``: ``stacked`` (columns stacked by series), ``grouped`` (side by side) or
    ``bars`` (horizontal bars, one per category, coloured per category by
    ``category_colors``). Values are in ``unit``."""

    key: str
    title: str
    kind: str
    unit: str
    categories: list[str]
    series: list[Series]
    category_colors: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class KeyFigure:
    """A headline number with its unit and a line of context (change, share...)."""

    label: str
    value: float | None
    unit: str
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{format_number(self.value)} {self.unit}".strip()


@dataclass
class Paragraph:
    """Plain text. ``style``: ``body``, ``note`` (smaller), ``formula`` (indented),
    ``bullet`` or ``heading`` (a sub-heading)."""

    text: str
    style: str = "body"


@dataclass
class SignOff:
    """Signature lines: one per role, with the name when known."""

    roles: list[tuple[str, str]]


Block = Paragraph | KeyFigure | Table | Chart | SignOff
_BLOCK_TYPES: dict[str, type] = {
    "paragraph": Paragraph,
    "key_figure": KeyFigure,
    "table": Table,
    "chart": Chart,
    "sign_off": SignOff,
}


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Any] = field(default_factory=list)


#: the sections a report can have, in order: (key, title)
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Executive summary"),
    ("charts", "Charts"),
    ("breakdown", "Emissions by phase, scope, model, deployment and site"),
    ("top", "Top emitters"),
    ("quality", "Data quality"),
    ("methodology", "Methodology and emission factors"),
    ("changes", "Changes since the last report and assumptions"),
    ("signoff", "Sign-off"),
)


@dataclass
class Report:
    """A whole report. ``meta`` holds the cover's lines (organisation, period,
    inventory, app version, generated at, status...); ``totals`` the period's totals as
    the engine gave them (kWh, kgCO2e, L). ``entry_figures`` (only in a closing's
    snapshot) keeps each entry's figures by entry id (``"deployments:12"``), never
    printed: a filtered report of the closed period is reconciled with them."""

    meta: dict[str, str]
    totals: dict[str, float]
    sections: list[Section]
    entry_figures: dict[str, dict[str, float]] = field(default_factory=dict)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def only(self, keys: set[str] | list[str] | tuple[str, ...]) -> Report:
        """A copy with only the sections in ``keys`` (the cover is always there)."""
        wanted = set(keys)
        return Report(
            dict(self.meta), dict(self.totals), [s for s in self.sections if s.key in wanted]
        )

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "meta": self.meta,
            "totals": self.totals,
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "blocks": [{"type": _type_name(b), **asdict(b)} for b in s.blocks],
                }
                for s in self.sections
            ],
        }
        if self.entry_figures:
            data["entry_figures"] = self.entry_figures
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        sections = []
        for s in data["sections"]:
            blocks = [_block_from_json(b) for b in s["blocks"]]
            sections.append(Section(s["key"], s["title"], blocks))
        return cls(
            dict(data["meta"]),
            dict(data["totals"]),
            sections,
            dict(data.get("entry_figures") or {}),
        )


def _type_name(block: Any) -> str:
    return next(name for name, t in _BLOCK_TYPES.items() if isinstance(block, t))


def _block_from_json(data: dict[str, Any]) -> Any:
    data = dict(data)
    kind = data.pop("type")
    if kind == "table":
        data["columns"] = [Column(**c) for c in data["columns"]]
    elif kind == "chart":
        data["series"] = [Series(**s) for s in data["series"]]
    elif kind == "sign_off":
        data["roles"] = [tuple(r) for r in data["roles"]]
    return _BLOCK_TYPES[kind](**data)
