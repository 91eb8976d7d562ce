"""Embodied emission lines (kgCO2e): amortised by device-hours over the hardware's
lifetime, or (capital goods) the whole hardware of self-hosted deployments when bought."""

from __future__ import annotations

import numpy as np

from core.activity import Activity
from core.assumptions import Assumptions, HardwareTable, SiteTable
from core.engine_lines import (
    ACTIVITY,
    API,
    EMBODIED,
    LIFETIME,
    MEASURED,
    SERVER,
    Lines,
    _Builder,
    _index,
    _nan_to,
)
from core.engine_notes import E_NO_HARDWARE, E_NO_HOURS, Notes, _note

HOURS_PER_YEAR = 8760.0


def _embodied_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    ops: Lines,
    b: _Builder,
    notes: Notes,
    convention: str,
) -> None:
    """Embodied emissions: amortised by device-hours, or (capital goods) the whole hardware
    of self-hosted deployments in the quarter they started; under capital goods, own
    hardware with no purchase record (training runs, deployments without a start date or
    device count) stays amortised (:data:`CAPITAL_AMORTISED`)."""
    server = a.param("embodied_server_per_accelerator_kgco2e").value
    lifetime = a.param("embodied_lifetime_years").value
    per_device = _nan_to(hw.embodied, 0.0) + np.where(hw.accelerator, server, 0.0)
    life_h = _nan_to(hw.lifetime, lifetime) * HOURS_PER_YEAR
    shared_life = np.where(np.isnan(hw.lifetime), LIFETIME, 0)
    capital = convention == "capital-goods"
    # Amortised lines: everything with device-hours, except, under the capital-goods
    # convention, the lines of the deployments whose hardware is counted at purchase. Own
    # hardware with no purchase record (training clusters; deployments without a start
    # date or device count) stays amortised, so it is not left out.
    amortise = ~np.isnan(ops.device_hours) & (ops.hardware < len(hw.names) - 1)
    bought = np.zeros(len(ops), dtype=bool)
    if capital:
        purchase, _, _ = _purchases(activity, sites, hw)
        dep_lines = np.flatnonzero(ops.entry_table == 1)
        pos = activity.deployments.index_of(ops.entry_id[dep_lines])
        if len(purchase):
            bought[dep_lines] = (pos >= 0) & purchase[np.maximum(pos, 0)]
        amortise &= ~bought
    kg = _nan_to(ops.device_hours, 0.0) * per_device[ops.hardware] / life_h[ops.hardware]
    counted = amortise & (kg > 0)
    sel = np.flatnonzero(counted)
    missing = counted & np.isnan(hw.embodied[ops.hardware])
    # lines that could carry embodied emissions but do not: no hardware, or (amortised)
    # no hours; API usage runs on the provider's hardware (noted with the usage lines)
    could = ops.kind != API
    no_hardware = could & (ops.hardware == len(hw.names) - 1)
    no_hours = could & ~no_hardware & np.isnan(ops.device_hours) & ~bought
    # own hardware amortised although the convention is capital goods: say why
    kept = counted & sites.scope2[ops.site] if capital else np.zeros(len(ops), dtype=bool)
    for t in (0, 1):
        m = ops.entry_table == t
        _note(
            notes,
            t,
            ops.entry_id,
            missing & m,
            "no embodied figure for this hardware: only the server share is counted",
        )
        _note(notes, t, ops.entry_id, no_hardware & m, E_NO_HARDWARE)
        _note(notes, t, ops.entry_id, no_hours & m, E_NO_HOURS)
        _note(notes, t, ops.entry_id, kept & m, CAPITAL_AMORTISED)
    b.add(
        entry_table=ops.entry_table[sel],
        entry_id=ops.entry_id[sel],
        kind=EMBODIED,
        # derived from device-hours, never measured: a measured line's embodied part is
        # activity-based
        tier=np.where(ops.tier[sel] == MEASURED, ACTIVITY, ops.tier[sel]),
        site=ops.site[sel],
        hardware=ops.hardware[sel],
        start=ops.start[sel],
        end=ops.end[sel],
        device_hours=ops.device_hours[sel],
        device_kwh=0.0,
        it_kwh=0.0,
        facility_kwh=0.0,
        embodied_kg=kg[sel],
        rel_low=0.7,
        rel_high=1.3,  # embodied figures: +-30 % (judgement; LCA spreads)
        shared=(SERVER | shared_life[ops.hardware])[sel],
        source_row=ops.source_row[sel],
    )
    if capital:
        _capital_goods(activity, sites, hw, per_device, b, notes)


#: own hardware amortised under the capital-goods convention, and why
CAPITAL_AMORTISED = (
    "capital goods: no purchase record for this hardware (purchases are read from "
    "self-hosted deployments at own or colocation sites with a start date, a device count "
    "and hardware), so its embodied emissions stay amortised by device-hours"
)


def _purchases(
    activity: Activity, sites: SiteTable, hw: HardwareTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per deployment: whether it is a purchase of hardware under the capital-goods
    convention (self-hosted, at an own or colocation site, with a start date, a device
    count and hardware), and its site and hardware indices."""
    d = activity.deployments
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)
    own = (
        sites.scope2[site]
        & (d["kind"] == 0)
        & ~np.isnat(d["start_date"])
        & ~np.isnan(d["device_count"])
        & (h < len(hw.names) - 1)
    )
    return own, site, h


def _capital_goods(
    activity: Activity,
    sites: SiteTable,
    hw: HardwareTable,
    per_device: np.ndarray,
    b: _Builder,
    notes: Notes,
) -> None:
    d = activity.deployments
    if not len(d):
        return
    own, site, h = _purchases(activity, sites, hw)
    sel = np.flatnonzero(own)
    kg = d["device_count"] * per_device[h]
    _note(
        notes,
        1,
        d.ids,
        own,
        "capital goods: the hardware's embodied emissions are "
        "counted in full when the deployment started",
    )
    b.add(
        entry_table=1,
        entry_id=d.ids[sel],
        kind=EMBODIED,
        tier=ACTIVITY,
        site=site[sel],
        hardware=h[sel],
        start=d["start_date"][sel],
        end=d["start_date"][sel],
        device_hours=np.nan,
        device_kwh=0.0,
        it_kwh=0.0,
        facility_kwh=0.0,
        embodied_kg=kg[sel],
        rel_low=0.7,
        rel_high=1.3,
        shared=SERVER,
        source_row=0,
    )
