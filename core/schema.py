"""The inventory's tables and fields, described once.

Every user-facing table is a :class:`TableSpec` made of :class:`FieldSpec` entries. The
same description drives the SQL schema's checks (``core.migrations``), validation
(``core.validation``), the table views and the edit forms in ``ui``, and the CLI's
``list`` output. Units are part of the field: a number is never shown without one.

Stored units: power in W, energy in kWh, durations in hours, grid factors in gCO2e/kWh,
embodied emissions in kgCO2e, water usage effectiveness in L/kWh, parameters in
billions, shares in percent (0-100). Dates are ISO ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["text", "longtext", "int", "real", "date", "choice", "ref"]


@dataclass(frozen=True)
class FieldSpec:
    """One column of an inventory table as users see it.

    ``minimum``/``maximum`` bound numbers (inclusive unless ``min_exclusive``);
    ``choices`` are ``(stored value, label)`` pairs; ``ref`` names the table a
    foreign key points to.
    """

    name: str
    label: str
    kind: FieldKind = "text"
    unit: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    ref: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    help: str = ""
    in_table: bool = True
    #: what a blank input is stored as (``""`` for columns that are NOT NULL, e.g. version)
    blank: str | None = None

    @property
    def is_number(self) -> bool:
        return self.kind in ("int", "real")

    @property
    def header(self) -> str:
        """Column header with its unit, e.g. ``"TDP (W)"``; counts say it in the label."""
        words = {w.rstrip("s") for w in re.split(r"[^a-z]+", self.label.lower()) if w}
        if not self.unit or self.unit.lower().rstrip("s") in words:
            return self.label
        return f"{self.label} ({self.unit})"

    def choice_label(self, value: str | None) -> str:
        for stored, label in self.choices:
            if stored == value:
                return label
        return value or ""


@dataclass(frozen=True)
class TableSpec:
    """A user-facing inventory table.

    ``title_sql`` is an SQL expression over the table's alias ``{t}`` naming one row
    for people (used for references, messages and undo texts). ``date_order`` lists
    (start, end) field pairs where end must not be before start.
    """

    name: str
    label: str
    singular: str
    fields: tuple[FieldSpec, ...]
    title_sql: str = "{t}.name"
    unique: tuple[str, ...] = ()
    date_order: tuple[tuple[str, str], ...] = ()
    copy_suffix_field: str | None = "name"
    default_sort: str = "name"
    #: how several rows are called in running text ("usage records"); default: label
    plural: str = ""

    @property
    def plural_noun(self) -> str:
        return self.plural or self.label.lower()

    def count_text(self, n: int) -> str:
        """``"1 model"``, ``"1,234 usage records"``."""
        return f"{n:,} {self.singular if n == 1 else self.plural_noun}"

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _choices(*pairs: str) -> tuple[tuple[str, str], ...]:
    """``_choices("a", "A", "b", "B")`` -> ``(("a", "A"), ("b", "B"))``."""
    return tuple(zip(pairs[::2], pairs[1::2], strict=True))


SITE_KINDS = _choices(
    "own",
    "Own data centre",
    "colocation",
    "Colocation",
    "cloud",
    "Cloud region",
    "api",
    "API provider",
)
HARDWARE_KINDS = _choices("accelerator", "Accelerator", "server", "Server", "cpu", "CPU")
TASKS = _choices(
    "text-generation",
    "Text generation",
    "chat",
    "Chat assistant",
    "embedding",
    "Embeddings",
    "classification",
    "Classification",
    "token-classification",
    "Token classification",
    "summarisation",
    "Summarisation",
    "question-answering",
    "Question answering",
    "image-generation",
    "Image generation",
    "image-classification",
    "Image classification",
    "image-captioning",
    "Image captioning",
    "object-detection",
    "Object detection",
    "speech",
    "Speech",
    "code",
    "Code",
    "other",
    "Other",
)
RUN_KINDS = _choices(
    "pre-training",
    "Pre-training",
    "fine-tuning",
    "Fine-tuning",
    "experiments",
    "Experiments",
)
ENERGY_BOUNDARIES = _choices(
    "device",
    "Devices only",
    "it",
    "IT equipment",
    "facility",
    "Whole facility (incl. PUE)",
)
DEPLOYMENT_KINDS = _choices(
    "self-hosted",
    "Self-hosted",
    "cloud",
    "Cloud instances",
    "api",
    "Third-party API",
)
SOURCING_KINDS = _choices(
    "ppa",
    "Power purchase agreement",
    "onsite",
    "On-site generation",
    "green-tariff",
    "Green tariff",
    "eac",
    "Certificates (EAC/REC/GO)",
    "supplier-factor",
    "Supplier-specific factor",
)

MODELS = TableSpec(
    name="models",
    label="Models",
    singular="model",
    title_sql="{t}.name || CASE WHEN {t}.version <> '' THEN ' ' || {t}.version ELSE '' END",
    unique=("name", "version"),
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("version", "Version", blank="", help="Leave empty if the model has no version"),
        FieldSpec("owner", "Owner / team"),
        FieldSpec("task", "Task", "choice", choices=TASKS),
        FieldSpec(
            "params_total_b", "Total parameters", "real", "billion", minimum=0, maximum=100_000
        ),
        FieldSpec(
            "params_active_b",
            "Active parameters",
            "real",
            "billion",
            minimum=0,
            maximum=100_000,
            help="Parameters used per token (mixture-of-experts)",
        ),
        FieldSpec("provider", "Provider", help="Who built the model, e.g. in-house, Meta"),
        FieldSpec("tags", "Tags", help="Comma-separated"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

SITES = TableSpec(
    name="sites",
    label="Sites",
    singular="site",
    unique=("name",),
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("kind", "Kind", "choice", required=True, choices=SITE_KINDS),
        FieldSpec("provider", "Provider / operator"),
        FieldSpec("region_code", "Region code", help="Cloud region, e.g. europe-west1"),
        FieldSpec("country", "Country", help="ISO 3166 code, e.g. FR, US"),
        FieldSpec("grid_region", "Grid region", help="Sub-national grid, e.g. US-CA or SE3"),
        FieldSpec(
            "pue",
            "PUE",
            "real",
            "ratio",
            minimum=1,
            maximum=5,
            help="Power usage effectiveness: facility energy / IT energy",
        ),
        FieldSpec(
            "wue",
            "WUE",
            "real",
            "L/kWh",
            minimum=0,
            maximum=20,
            help="On-site water per kWh of IT energy",
        ),
        FieldSpec(
            "grid_factor_g_per_kwh",
            "Own grid factor",
            "real",
            "gCO2e/kWh",
            minimum=0,
            maximum=2000,
            help="Only if the operator publishes its own; wins over the region default",
        ),
        FieldSpec("grid_factor_source", "Grid factor source"),
        FieldSpec("source", "Source", help="Where the site's figures come from"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

HARDWARE = TableSpec(
    name="hardware",
    label="Hardware",
    singular="hardware type",
    unique=("name",),
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("kind", "Kind", "choice", required=True, choices=HARDWARE_KINDS),
        FieldSpec("vendor", "Vendor"),
        FieldSpec(
            "tdp_w",
            "TDP",
            "real",
            "W",
            minimum=0,
            min_exclusive=True,
            maximum=20_000,
            help="Thermal design power (maximum rated draw)",
        ),
        FieldSpec(
            "embodied_kgco2e",
            "Embodied",
            "real",
            "kgCO2e",
            minimum=0,
            maximum=100_000,
            help="Manufacturing emissions of one unit",
        ),
        FieldSpec(
            "lifetime_years", "Lifetime", "real", "years", minimum=0, min_exclusive=True, maximum=20
        ),
        FieldSpec("source", "Source"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

TRAINING_RUNS = TableSpec(
    name="training_runs",
    label="Training runs",
    singular="training run",
    date_order=(("start_date", "end_date"),),
    default_sort="start_date",
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("model_id", "Model", "ref", required=True, ref="models"),
        FieldSpec("kind", "Kind", "choice", required=True, choices=RUN_KINDS),
        FieldSpec("site_id", "Site", "ref", ref="sites"),
        FieldSpec("hardware_id", "Hardware", "ref", ref="hardware"),
        FieldSpec("device_count", "Devices", "int", "devices", minimum=1, maximum=1_000_000),
        FieldSpec("start_date", "Start", "date"),
        FieldSpec("end_date", "End", "date"),
        FieldSpec("device_hours", "Device-hours", "real", "h", minimum=0, maximum=1e10),
        FieldSpec("wall_hours", "Wall-clock hours", "real", "h", minimum=0, maximum=1e6),
        FieldSpec(
            "avg_power_w", "Average power per device", "real", "W", minimum=0, maximum=20_000
        ),
        FieldSpec("energy_kwh", "Measured energy", "real", "kWh", minimum=0, maximum=1e10),
        FieldSpec(
            "energy_boundary",
            "Energy boundary",
            "choice",
            choices=ENERGY_BOUNDARIES,
            help="What the measured energy covers",
        ),
        FieldSpec("data_source", "Data source", help="e.g. CodeCarbon, cloud bill, estimate"),
        FieldSpec("external_id", "External run id", help="e.g. CodeCarbon run_id"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

DEPLOYMENTS = TableSpec(
    name="deployments",
    label="Deployments",
    singular="deployment",
    date_order=(("start_date", "end_date"),),
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("model_id", "Model", "ref", required=True, ref="models"),
        FieldSpec("kind", "Kind", "choice", required=True, choices=DEPLOYMENT_KINDS),
        FieldSpec("site_id", "Site", "ref", ref="sites"),
        FieldSpec("hardware_id", "Hardware", "ref", ref="hardware"),
        FieldSpec("device_count", "Devices", "int", "devices", minimum=0, maximum=1_000_000),
        FieldSpec("start_date", "Start", "date"),
        FieldSpec("end_date", "End", "date"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

USAGE = TableSpec(
    name="usage",
    label="Usage",
    singular="usage record",
    plural="usage records",
    title_sql="'usage ' || {t}.period_start || '..' || {t}.period_end",
    date_order=(("period_start", "period_end"),),
    copy_suffix_field=None,
    default_sort="period_start",
    fields=(
        FieldSpec("deployment_id", "Deployment", "ref", required=True, ref="deployments"),
        FieldSpec("period_start", "Period start", "date", required=True),
        FieldSpec("period_end", "Period end", "date", required=True),
        FieldSpec("requests", "Requests", "int", "requests", minimum=0, maximum=1e15),
        FieldSpec("input_tokens", "Input tokens", "int", "tokens", minimum=0, maximum=1e18),
        FieldSpec("output_tokens", "Output tokens", "int", "tokens", minimum=0, maximum=1e18),
        FieldSpec("device_hours", "Device-hours", "real", "h", minimum=0, maximum=1e10),
        FieldSpec("energy_kwh", "Measured energy", "real", "kWh", minimum=0, maximum=1e10),
        FieldSpec(
            "energy_boundary",
            "Energy boundary",
            "choice",
            choices=ENERGY_BOUNDARIES,
            help="What the measured energy covers",
        ),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

SOURCING = TableSpec(
    name="sourcing",
    label="Renewable sourcing",
    singular="sourcing instrument",
    plural="sourcing instruments",
    date_order=(("period_start", "period_end"),),
    fields=(
        FieldSpec("name", "Name", required=True),
        FieldSpec("kind", "Instrument", "choice", required=True, choices=SOURCING_KINDS),
        FieldSpec(
            "site_id",
            "Site",
            "ref",
            ref="sites",
            help="The site it covers, or leave empty and give a grid region",
        ),
        FieldSpec("grid_region", "Grid region", help="Country or grid code, e.g. SE3, US-CA"),
        FieldSpec("period_start", "Period start", "date", required=True),
        FieldSpec("period_end", "Period end", "date", required=True),
        FieldSpec("mwh", "Volume", "real", "MWh", minimum=0, maximum=1e9),
        FieldSpec("share_pct", "Share of consumption", "real", "%", minimum=0, maximum=100),
        FieldSpec(
            "factor_g_per_kwh",
            "Emission factor",
            "real",
            "gCO2e/kWh",
            minimum=0,
            maximum=2000,
            help="0 for renewable; the supplier's factor otherwise",
        ),
        FieldSpec("supplier", "Supplier / project"),
        FieldSpec("notes", "Notes", "longtext", in_table=False),
    ),
)

FACTOR_OVERRIDES = TableSpec(
    name="factor_overrides",
    label="Factor overrides",
    singular="factor override",
    title_sql="{t}.key",
    unique=("key",),
    copy_suffix_field=None,
    default_sort="key",
    fields=(
        FieldSpec(
            "key",
            "Factor",
            required=True,
            help="A parameter name (e.g. pue_industry_average) or grid:ZONE:YEAR "
            "(e.g. grid:FR:2026) for a grid factor in gCO2e/kWh",
        ),
        FieldSpec(
            "value",
            "Value",
            "real",
            required=True,
            minimum=0,
            maximum=1e7,
            help="In the factor's own unit (see the Reference data page)",
        ),
        FieldSpec(
            "low",
            "Low",
            "real",
            minimum=0,
            maximum=1e7,
            help="Lower end of the plausible range (default: the value)",
        ),
        FieldSpec(
            "high",
            "High",
            "real",
            minimum=0,
            maximum=1e7,
            help="Upper end of the plausible range (default: the value)",
        ),
        FieldSpec(
            "reason",
            "Reason",
            required=True,
            help="Why this value replaces the shipped one (shown in reports)",
        ),
        FieldSpec("source", "Source", help="Publication or document the value comes from"),
    ),
)

#: Every user-facing table, in navigation order.
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        MODELS,
        TRAINING_RUNS,
        DEPLOYMENTS,
        USAGE,
        SITES,
        HARDWARE,
        SOURCING,
        FACTOR_OVERRIDES,
    )
}
#: Tables with a page of their own in the navigation (overrides live on Reference data).
NAVIGATION_TABLES = tuple(t for t in TABLES if t != "factor_overrides")


def table(name: str) -> TableSpec:
    """The spec of table ``name``; raises ``KeyError`` naming the known tables."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise KeyError(f"unknown table {name!r} (known: {known})") from None


@dataclass(frozen=True)
class Dependent:
    """A table whose rows point at another table's rows through ``column``.

    ``on_delete`` is ``"cascade"`` (they go with the parent) or ``"restrict"`` (the
    parent cannot go while they point at it).
    """

    table: str
    column: str
    on_delete: Literal["cascade", "restrict"]


#: Who points at whom, mirroring the FOREIGN KEY clauses in the schema.
DEPENDENTS: dict[str, tuple[Dependent, ...]] = {
    "models": (
        Dependent("training_runs", "model_id", "cascade"),
        Dependent("deployments", "model_id", "cascade"),
    ),
    "deployments": (Dependent("usage", "deployment_id", "cascade"),),
    "sites": (
        Dependent("training_runs", "site_id", "restrict"),
        Dependent("deployments", "site_id", "restrict"),
        Dependent("sourcing", "site_id", "cascade"),
    ),
    "hardware": (
        Dependent("training_runs", "hardware_id", "restrict"),
        Dependent("deployments", "hardware_id", "restrict"),
    ),
}
