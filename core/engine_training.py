"""Training run lines: measured energy by boundary, else device-hours x average power
(or TDP x training utilisation) x (1 + host overhead); facility energy x PUE (kWh)."""

from __future__ import annotations

import numpy as np

from core.activity import Activity
from core.assumptions import Assumptions, HardwareTable, SiteTable
from core.engine_lines import (
    ACTIVITY,
    HOST,
    MEASURED,
    PUE_DEF,
    TRAINING,
    U_TRAIN,
    _boundary_energy,
    _Builder,
    _index,
    _nan_to,
    _stated_pue,
)
from core.engine_notes import T_NO_HARDWARE, T_NO_HOURS, T_NO_TDP, T_ZERO_HOURS, Notes, _note


def _training_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    r = activity.training_runs
    if not len(r):
        return
    ids = r.ids
    site = _index(activity.sites, r["site_id"], len(sites.names) - 1)
    h = _index(activity.hardware, r["hardware_id"], len(hw.names) - 1)
    pue = sites.pue[site]
    host = a.param("host_overhead_ratio").value
    util = a.param("utilisation_training").value
    start, end = r["start_date"], r["end_date"]
    dated = ~np.isnat(start) & ~np.isnat(end)
    days = np.where(dated, (end - start).astype(np.int64) + 1, 0)
    devices = r["device_count"]
    dev_hours = r["device_hours"].copy()
    from_wall = np.isnan(dev_hours) & ~np.isnan(r["wall_hours"]) & ~np.isnan(devices)
    dev_hours[from_wall] = (devices * r["wall_hours"])[from_wall]
    from_dates = np.isnan(dev_hours) & dated & ~np.isnan(devices)
    dev_hours[from_dates] = (devices * days * 24.0)[from_dates]
    power_given = ~np.isnan(r["avg_power_w"])
    power = np.where(power_given, r["avg_power_w"], hw.tdp[h] * util)
    measured = ~np.isnan(r["energy_kwh"])
    boundary = r["energy_boundary"]
    m_it, m_fac = _boundary_energy(_nan_to(r["energy_kwh"], 0.0), boundary, pue, host)
    device = dev_hours * power / 1000.0
    act_ok = ~measured & ~np.isnan(device)
    it = np.where(measured, m_it, np.where(act_ok, _nan_to(device, 0.0) * (1 + host), 0.0))
    shared = (
        np.where((measured & (boundary == 0)) | act_ok, HOST, 0)
        | np.where(act_ok & ~power_given, U_TRAIN, 0)
        | np.where(~_stated_pue(sites)[site] & (~measured | (boundary != 2)), PUE_DEF, 0)
    )
    # why a run without measured energy got none: each reason its own note
    no_hours = ~measured & np.isnan(dev_hours)
    no_power = ~measured & np.isnan(power)
    _note(notes, 0, ids, no_hours, T_NO_HOURS)
    _note(notes, 0, ids, ~measured & (dev_hours == 0), T_ZERO_HOURS)
    _note(notes, 0, ids, no_power & (h == len(hw.names) - 1), T_NO_HARDWARE)
    _note(notes, 0, ids, no_power & (h < len(hw.names) - 1), T_NO_TDP)
    _note(notes, 0, ids, ~dated, "no start and end dates: counted only in all-time totals")
    _note(
        notes,
        0,
        ids,
        measured & (boundary < 0),
        "measured energy without a boundary: taken as IT energy",
    )
    _note(
        notes,
        0,
        ids,
        act_ok & ~power_given,
        "power per device: hardware TDP x average training utilisation (default)",
    )
    _note(
        notes,
        0,
        ids,
        site == len(sites.names) - 1,
        "no site: world-average grid factor and industry-average PUE",
    )
    b.add(
        entry_table=0,
        entry_id=ids,
        kind=TRAINING,
        tier=np.where(measured, MEASURED, ACTIVITY),
        site=site,
        hardware=h,
        start=start,
        end=end,
        device_hours=dev_hours,
        device_kwh=np.where(measured, np.where(boundary == 0, r["energy_kwh"], np.nan), device),
        it_kwh=it,
        facility_kwh=np.where(measured, m_fac, it * pue),
        embodied_kg=0.0,
        rel_low=np.where(measured, 0.95, 0.9),
        rel_high=np.where(measured, 1.05, 1.1),
        shared=shared,
        source_row=ids,
    )
