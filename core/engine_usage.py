"""Deployment lines: one per usage record (measured, device-hours, requests or output
tokens), and always-on lines for own deployments with dates and devices but no usage
records (energies in kWh)."""

from __future__ import annotations

import numpy as np

from core import schema
from core.activity import Activity
from core.assumptions import Assumptions, HardwareTable, SiteTable
from core.engine_inference import (
    _CHAT_TASKS,
    _PHP_TASK,
    INPUT_TOKENS_NOTE,
    UNKNOWN_PARAMS_B,
    mle_range,
    token_range,
    token_wh,
)
from core.engine_lines import (
    ACTIVITY,
    API,
    DEFAULT,
    HOST,
    INFERENCE,
    MEASURED,
    PUE_DEF,
    TOKEN,
    U_INF,
    _boundary_energy,
    _Builder,
    _index,
    _nan_to,
    _stated_pue,
)
from core.engine_notes import (
    D_API,
    D_NO_DEVICES,
    D_NO_TDP,
    D_ONGOING,
    D_UNDATED,
    U_NO_TDP,
    U_NOTHING,
    Notes,
    _note,
)


def _model_columns(
    activity: Activity, model_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active parameters, total parameters, both in billions or NaN, and task code or -1)
    per model id. Active falls back to total and total to active (a dense model)."""
    m = activity.models
    idx = m.index_of(model_ids)
    ok = idx >= 0
    active = np.full(len(model_ids), np.nan)
    total = np.full(len(model_ids), np.nan)
    task = np.full(len(model_ids), -1)
    if len(m):
        given_active, given_total = m["params_active_b"], m["params_total_b"]
        act = np.where(np.isnan(given_active), given_total, given_active)
        tot = np.where(np.isnan(given_total), given_active, given_total)
        active[ok] = act[idx[ok]]
        total[ok] = np.maximum(tot, act)[idx[ok]]  # never fewer than the active ones
        task[ok] = m["task"][idx[ok]]
    return active, total, task


def _usage_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    u, d = activity.usage, activity.deployments
    if not len(u):
        return
    di = d.index_of(u["deployment_id"])
    dep_ids = u["deployment_id"]
    # what depends only on the deployment is worked out per deployment, then spread
    # over its usage rows (50,000 lookups instead of a million)
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)[di]
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)[di]
    dep_kind = d["kind"][di]  # 0 self-hosted, 1 cloud, 2 api
    dep_params, dep_total, dep_task = _model_columns(activity, d["model_id"])
    params_b, task = dep_params[di], dep_task[di]
    pue = sites.pue[site]
    host = a.param("host_overhead_ratio").value
    util = a.param("utilisation_inference").value
    api = dep_kind == 2
    tasks = [v for v, _ in schema.MODELS.field("task").choices]

    measured = ~np.isnan(u["energy_kwh"])
    m_it, m_fac = _boundary_energy(_nan_to(u["energy_kwh"], 0.0), u["energy_boundary"], pue, host)
    dev = ~measured & ~api & ~np.isnan(u["device_hours"]) & ~np.isnan(hw.tdp[h])
    dev_kwh = u["device_hours"] * hw.tdp[h] * util / 1000.0

    # requests x energy per request: Power Hungry Processing by task (IT energy of a node),
    # or ML.ENERGY chat per request (GPU only) for chat and code models
    by_task = np.full((3, len(tasks) + 1), np.nan)  # last column: no task
    by_task[1:] = 1.0
    for code, name in enumerate(tasks):
        key = _PHP_TASK.get(name)
        if key and key in a.inference:
            row = a.inference[key]
            c = float(row["central"])
            by_task[:, code] = (c / 1000.0, float(row["low"] or c) / c, float(row["high"] or c) / c)
    php, php_lo, php_hi = by_task[:, np.where(task < 0, len(tasks), task)]  # kWh/inference
    chat = np.isin(task, [tasks.index(t) for t in _CHAT_TASKS])
    known = ~np.isnan(params_b)
    dep_known = ~np.isnan(dep_params)
    dep_size = np.where(dep_known, dep_params, UNKNOWN_PARAMS_B)
    dep_total_size = np.where(dep_known, dep_total, UNKNOWN_PARAMS_B)
    req_j, req_lo, req_hi = (x[di] for x in mle_range(dep_size, "request", a))
    has_req = ~np.isnan(u["requests"])
    has_tok = ~np.isnan(u["output_tokens"])
    # API usage prefers tokens; own deployments follow measured > hours > requests > tokens
    by_tokens = ~measured & ~dev & has_tok & (api | ~has_req | (np.isnan(php) & ~chat))
    by_req = ~measured & ~dev & ~by_tokens & has_req & (~np.isnan(php) | chat)
    req_kwh = np.where(
        ~np.isnan(php), u["requests"] * php, u["requests"] * req_j / 3.6e6
    )  # J -> kWh
    # output tokens x the GPUs holding the model x one GPU's energy per token (EcoLogits),
    # worked out per deployment
    dep_tok_wh, dep_tok_lo, dep_tok_hi = token_range(dep_size, dep_total_size, dep_known, a)
    tok_kwh = u["output_tokens"] * dep_tok_wh[di] / 1000.0
    tok_lo, tok_hi = dep_tok_lo[di], dep_tok_hi[di]
    if not known.all():  # unknown size, per request: from the 8B to the 405B bucket
        lo_r = token_wh(8.0, a) / token_wh(UNKNOWN_PARAMS_B, a)
        hi_r = token_wh(405.0, a) / token_wh(UNKNOWN_PARAMS_B, a)
        req_lo = np.where(known, req_lo, req_lo * lo_r)
        req_hi = np.where(known, req_hi, req_hi * hi_r)

    device = np.select(
        [dev, by_req & np.isnan(php), by_tokens], [dev_kwh, req_kwh, tok_kwh], default=np.nan
    )
    it_est = np.select(
        [dev, by_req & ~np.isnan(php)],
        [dev_kwh * (1 + host), req_kwh],
        default=_nan_to(device, 0.0) * (1 + host),
    )
    it = np.where(measured, m_it, it_est)
    facility = np.where(measured, m_fac, it * pue)
    estimated = measured | dev | by_req | by_tokens
    it = np.where(estimated, it, 0.0)
    facility = np.where(estimated, facility, 0.0)
    needs_size = by_tokens | (by_req & np.isnan(php))  # per-request PHP needs no size
    tier = np.select(
        [measured, dev, ~known & needs_size], [MEASURED, ACTIVITY, DEFAULT], default=TOKEN
    )
    rel_low = np.select(
        [measured, dev, by_req & ~np.isnan(php), by_req, by_tokens],
        [0.95, 0.9, php_lo, req_lo, tok_lo],
        default=1.0,
    )
    rel_high = np.select(
        [measured, dev, by_req & ~np.isnan(php), by_req, by_tokens],
        [1.05, 1.1, php_hi, req_hi, tok_hi],
        default=1.0,
    )
    uses_host = (measured & (u["energy_boundary"] == 0)) | dev | by_tokens | (by_req & chat)
    shared = (
        np.where(uses_host, HOST, 0)
        | np.where(dev, U_INF, 0)
        | np.where(~_stated_pue(sites)[site] & estimated, PUE_DEF, 0)
    )
    # device-hours of the hardware, for embodied amortisation, whatever gave the energy:
    # the row's own device-hours; else the deployment's devices x the hours of the row's
    # period; else (no device count) the hours implied by an estimated accelerator energy
    # at the inference utilisation. API usage: none (the provider's hardware).
    given_hours = ~np.isnan(u["device_hours"])
    period_days = (u["period_end"] - u["period_start"]).astype(np.int64) + 1
    dated = ~np.isnat(u["period_start"]) & ~np.isnat(u["period_end"])
    period_hours = d["device_count"][di] * np.where(dated, period_days, np.nan) * 24.0
    implied = device * 1000.0 / (hw.tdp[h] * util)  # NaN without device energy or TDP
    dev_hours = np.select(
        [api, given_hours, ~np.isnan(period_hours)],
        [np.nan, u["device_hours"], period_hours],
        default=implied,
    )

    no_tdp = ~estimated & ~api & given_hours & np.isnan(hw.tdp[h])
    _note(notes, 1, dep_ids, ~estimated & ~no_tdp, U_NOTHING)
    _note(notes, 1, dep_ids, no_tdp, U_NO_TDP)
    _note(
        notes,
        1,
        dep_ids,
        ~known & needs_size,
        f"model size unknown: assumed {UNKNOWN_PARAMS_B:g} billion active parameters, "
        "range from 8 to 405 billion",
    )
    _note(notes, 1, dep_ids, by_tokens, INPUT_TOKENS_NOTE)
    _note(
        notes,
        1,
        dep_ids,
        by_req & ~np.isnan(php),
        "energy per request: Power Hungry Processing mean for the model's task",
    )
    _note(
        notes,
        1,
        dep_ids,
        by_req & np.isnan(php) & chat,
        "energy per request: ML.ENERGY chat measurement for the model's size",
    )
    _note(
        notes,
        1,
        dep_ids,
        api,
        "API usage: the provider's hardware embodied emissions are not included (not published)",
    )
    b.add(
        entry_table=1,
        entry_id=dep_ids,
        kind=np.where(api, API, INFERENCE),
        tier=tier,
        site=site,
        hardware=h,
        start=u["period_start"],
        end=u["period_end"],
        device_hours=dev_hours,
        device_kwh=np.where(measured, np.nan, device),
        it_kwh=it,
        facility_kwh=facility,
        embodied_kg=0.0,
        rel_low=rel_low,
        rel_high=rel_high,
        shared=shared,
        source_row=u.ids,
    )


def _always_on_lines(
    activity: Activity,
    a: Assumptions,
    sites: SiteTable,
    hw: HardwareTable,
    b: _Builder,
    notes: Notes,
) -> None:
    """Self-hosted and cloud deployments with devices and dates but no usage records run
    all the time at the default inference utilisation (tier "default")."""
    d = activity.deployments
    if not len(d):
        return
    has_usage = (
        np.isin(d.ids, activity.usage["deployment_id"])
        if len(activity.usage)
        else (np.zeros(len(d), dtype=bool))
    )
    h = _index(activity.hardware, d["hardware_id"], len(hw.names) - 1)
    start, end = d["start_date"], d["end_date"]
    own = ~has_usage & (d["kind"] != 2)
    ok = (
        own
        & ~np.isnat(start)
        & ~np.isnat(end)
        & ~np.isnan(d["device_count"])
        & ~np.isnan(hw.tdp[h])
    )
    # the rest have no activity to estimate from: say so, one reason each
    _note(notes, 1, d.ids, ~has_usage & (d["kind"] == 2), D_API)
    _note(notes, 1, d.ids, own & np.isnat(start), D_UNDATED)
    dated = own & ~np.isnat(start)
    _note(notes, 1, d.ids, dated & np.isnat(end), D_ONGOING)
    _note(notes, 1, d.ids, dated & ~np.isnat(end) & np.isnan(d["device_count"]), D_NO_DEVICES)
    sized = dated & ~np.isnat(end) & ~np.isnan(d["device_count"])
    _note(notes, 1, d.ids, sized & np.isnan(hw.tdp[h]), D_NO_TDP)
    if not ok.any():
        return
    site = _index(activity.sites, d["site_id"], len(sites.names) - 1)
    days = (end - start).astype(np.int64) + 1
    dev_hours = d["device_count"] * days * 24.0
    util = a.param("utilisation_inference").value
    host = a.param("host_overhead_ratio").value
    device = dev_hours * hw.tdp[h] * util / 1000.0
    it = device * (1 + host)
    _note(
        notes,
        1,
        d.ids,
        ok,
        "no usage records: assumed running all the time between its "
        "dates at the average inference utilisation",
    )
    sel = np.flatnonzero(ok)
    b.add(
        entry_table=1,
        entry_id=d.ids[sel],
        kind=INFERENCE,
        tier=DEFAULT,
        site=site[sel],
        hardware=h[sel],
        start=start[sel],
        end=end[sel],
        device_hours=dev_hours[sel],
        device_kwh=device[sel],
        it_kwh=it[sel],
        facility_kwh=(it * sites.pue[site])[sel],
        embodied_kg=0.0,
        rel_low=0.9,
        rel_high=1.1,
        shared=(U_INF | HOST | np.where(~_stated_pue(sites)[site], PUE_DEF, 0))[sel],
        source_row=0,
    )
