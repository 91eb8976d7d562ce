"""Energy and embodied emissions of every activity record, vectorised with numpy.

An *activity line* is one training run, one usage record, an always-on deployment with
no usage records, or a purchase of hardware (capital-goods convention). For each line the
engine computes, in kWh: the accelerators' energy, the IT energy (accelerators plus host)
and the facility energy (IT x PUE); in kgCO2e the embodied emissions of the hardware; the
method tier; and which shared assumptions it used (for the uncertainty analysis and the
explanation). Grid factors come later, per month (``core.emissions``).

Formulas (methodology notes, ``resources/reference/SOURCES.md``):

* training, activity based: kWh_IT = device-hours x W / 1000 x (1 + host overhead); W is
  the measured average power, else TDP x training utilisation (Patterson et al. 2021);
* measured energy: device boundary x (1 + host) x PUE; IT boundary x PUE; facility as is.
  CodeCarbon energy is IT energy and already includes its own PUE setting only when the
  user says so (boundary "facility");
* usage: measured kWh; else device-hours x TDP x inference utilisation; else requests x
  energy per request (Power Hungry Processing per task, or ML.ENERGY per request for chat
  and code); else output tokens x energy per token (EcoLogits: the GPUs holding the model,
  ceil(1.2 x P_total x 16 bits / 8 / 80 GB), x one GPU's Wh = a e^(b B) P + c, P in
  billions of active parameters, batch B = 64; input tokens are not counted: the
  methodology notes give no term for them);
* embodied, amortised: device-hours x (accelerator + server share kgCO2e) / lifetime hours,
  whatever method gave the energy: a usage row's device-hours, else the deployment's
  devices x the hours of the row's period (else, with no device count, the hours implied
  by its estimated accelerator energy); capital goods: the whole hardware in the quarter
  it was bought (self-hosted deployments), own hardware with no such purchase record
  (training runs) still amortised;
* uncertainty: each line's own range; the grid factor's range (exact zone and year, year
  fallback, country or world fallback: ``core.factors.grid_range``) is drawn by the Monte
  Carlo once per grid factor and sample, shared by every line that uses it
  (``core.engine_grid.grid_errors``).

What cannot be estimated is said in a note per entry (:data:`SKIPPED` lists them) and
counted per reason by :func:`not_estimated` for an estimate's notes.
"""

from __future__ import annotations

from core.activity import Activity
from core.assumptions import (
    Assumptions,
    HardwareTable,
    SiteTable,
    hardware_table,
    load_assumptions,
    site_grid_lookup,  # noqa: F401  (re-exported: importers use core.engine)
    site_table,
)

# The line builders live in modules by domain; every name stays importable from here.
from core.engine_embodied import (  # noqa: F401
    CAPITAL_AMORTISED,
    HOURS_PER_YEAR,
    _capital_goods,
    _embodied_lines,
    _purchases,
)
from core.engine_inference import (  # noqa: F401
    _CHAT_TASKS,
    _GPU_COUNT_DEFAULTS,
    _MLE_BUCKETS,
    _PHP_TASK,
    INPUT_TOKENS_NOTE,
    UNKNOWN_PARAMS_B,
    _bucket,
    mle_range,
    model_memory_gb,
    token_energy_wh,
    token_gpus,
    token_range,
    token_wh,
)
from core.engine_lines import (  # noqa: F401
    _DAY_COLUMNS,
    _INT_COLUMNS,
    _LINE_FIELDS,
    ACTIVITY,
    API,
    DEFAULT,
    EMBODIED,
    ENTRY_TABLES,
    HOST,
    INFERENCE,
    KINDS,
    LIFETIME,
    MEASURED,
    PUE_DEF,
    SERVER,
    SHARED,
    TIERS,
    TOKEN,
    TRAINING,
    U_INF,
    U_TRAIN,
    Lines,
    _boundary_energy,
    _Builder,
    _index,
    _nan_to,
    _stated_pue,
    entry_key,
)
from core.engine_notes import (  # noqa: F401
    D_API,
    D_NO_DEVICES,
    D_NO_TDP,
    D_ONGOING,
    D_UNDATED,
    E_NO_HARDWARE,
    E_NO_HOURS,
    SKIPPED,
    T_NO_HARDWARE,
    T_NO_HOURS,
    T_NO_TDP,
    T_ZERO_HOURS,
    U_NO_TDP,
    U_NOTHING,
    Notes,
    _distinct,
    _note,
    _reaching,
    not_estimated,
)
from core.engine_training import _training_lines
from core.engine_usage import _always_on_lines, _model_columns, _usage_lines  # noqa: F401

__all__ = [
    "Assumptions",
    "HardwareTable",
    "Lines",
    "SiteTable",
    "build_lines",
    "hardware_table",
    "load_assumptions",
    "site_table",
]


def build_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    convention: str = "amortised",
) -> tuple[Lines, Notes]:
    """Every activity line of the inventory, and plain-English notes per entry."""
    notes: Notes = {}
    b = _Builder()
    _training_lines(activity, a, sites, hw, b, notes)
    _usage_lines(activity, a, sites, hw, b, notes)
    _always_on_lines(activity, a, sites, hw, b, notes)
    # room behind the operational lines for the embodied ones (at most one per
    # operational line, plus one per deployment under the capital-goods convention)
    operational = b.build(reserve=sum(n for n, _ in b.parts) + len(activity.deployments))
    e = _Builder()
    _embodied_lines(activity, a, sites, hw, operational, e, notes, convention)
    return operational.appended(e.build()), notes
