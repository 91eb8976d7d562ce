"""The energy sections of an explanation: formulas with their numbers, then factors.

Per method tier: measured energy by its boundary, device-hours x power (TDP x
utilisation, or the average power given), or requests and tokens x the published
energy per unit (Power Hungry Processing, ML.ENERGY, EcoLogits); each followed by the
factor lines (``SUB`` in front) it rests on, and where the device-hours come from.

Units: energy kWh (Wh per token, J per request where the source states so), power W.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import engine as eng
from core.estimate import Engine
from core.explain_context import DEFAULT, SUB, USER, _cite, _Context, _is_override, _n


def _energy(x: _Context, kind: int, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Per method tier: the formula with its numbers, then its factors. ``w`` weighs
    each line's own figures (see :func:`_piece_share`)."""
    lines = x.e.lines
    sel = lines.kind[line] == kind
    ln, wt = line[sel], w[sel]
    out: list[str] = []
    for tier in sorted(set(lines.tier[ln].tolist())):
        t = lines.tier[ln] == tier
        lt, wtt = ln[t], wt[t]
        dev_h = float(np.nansum(lines.device_hours[lt] * wtt))
        device = float(np.nansum(lines.device_kwh[lt] * wtt))
        it = float((lines.it_kwh[lt] * wtt).sum())
        fac = float((lines.facility_kwh[lt] * wtt).sum())
        n = len(np.unique(lines.source_row[lt]))
        what = "record" if x.table == 0 else "usage record"
        what += "" if n == 1 else "s"
        head = f"{eng.TIERS[tier]} ({n} {what}):"
        if tier == eng.MEASURED:
            out += _measured(x, head, lt, wtt)
        elif device > 0 and dev_h > 0 and not _per_unit_lines(x.e, x.table, tier, lt):
            out += _activity(x, head, lt, wtt, dev_h, device, it, fac)
        elif x.table == 0 or (it == 0 and fac == 0):
            # nothing to estimate from (no hours, no power or TDP, 0 hours): say why
            why = [
                eng.SKIPPED[n][1]
                for n in x.e.entry_notes(eng.ENTRY_TABLES[x.table], x.rid)
                if n in eng.SKIPPED and eng.SKIPPED[n][0] != "embodied emissions"
            ]
            out.append(
                f"{head} no energy estimated"
                + (f" ({'; '.join(why)})" if why else "")
                + f": {_n(fac, 'kWh')}"
            )
        else:
            out += _per_unit(x, head, lt, wtt)
    return out


def _pue_lines(x: _Context, line: np.ndarray) -> list[str]:
    return [SUB + x.pue(int(s)) for s in np.unique(x.e.lines.site[line]).tolist()]


def _pue_text(it: float, fac: float) -> str:
    return _n(fac / it) if it else "—"


def _measured(x: _Context, head: str, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Measured energy by its boundary: devices x (1 + host overhead) x PUE; IT x PUE;
    facility as it is."""
    lines = x.e.lines
    rows = x.e.activity.training_runs if x.table == 0 else x.e.activity.usage
    pos = rows.index_of(lines.source_row[line])
    found = pos >= 0
    boundary = np.where(found, rows["energy_boundary"][np.where(found, pos, 0)], -1)
    measured = np.where(found, rows["energy_kwh"][np.where(found, pos, 0)], np.nan)
    where = "the training run" if x.table == 0 else "usage records"
    out = []
    for code, name in ((0, "devices"), (1, "IT"), (-1, "IT"), (2, "facility")):
        m = boundary == code
        if not m.any():
            continue
        kwh = float(np.nansum(measured[m] * w[m]))
        it = float((lines.it_kwh[line[m]] * w[m]).sum())
        fac = float((lines.facility_kwh[line[m]] * w[m]).sum())
        given = f"{_n(kwh, 'kWh')} measured at the {name} boundary ({USER}: {where})"
        if code == 0:
            out.append(
                f"{head} {given} x (1 + host overhead "
                f"{_n(x.a.param('host_overhead_ratio').value)}) = {_n(it, 'kWh')} IT; "
                f"x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}"
            )
            out.append(SUB + x.param("host_overhead_ratio"))
            out += _pue_lines(x, line[m])
        elif code == 2:
            out.append(f"{head} {given}: the facility's energy, PUE included = {_n(fac, 'kWh')}")
        else:
            unknown = " (no boundary given: taken as IT)" if code < 0 else ""
            out.append(f"{head} {given}{unknown} x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}")
            out += _pue_lines(x, line[m])
    return out


def _activity(
    x: _Context,
    head: str,
    line: np.ndarray,
    w: np.ndarray,
    dev_h: float,
    device: float,
    it: float,
    fac: float,
) -> list[str]:
    """Device-hours x power per device / 1000 x (1 + host overhead) x PUE."""
    lines, a = x.e.lines, x.a
    watts = device * 1000 / dev_h
    host = a.param("host_overhead_ratio").value
    out = [
        f"{head} {_n(dev_h, 'device-hours')} x {_n(watts, 'W')} / 1000 = "
        f"{_n(device, 'kWh')} on the accelerators; x (1 + host overhead "
        f"{_n(host)}) = {_n(it, 'kWh')} IT; x PUE {_pue_text(it, fac)} = {_n(fac, 'kWh')}"
    ]
    shared = int(np.bitwise_or.reduce(lines.shared[line]))
    out.append(SUB + _hours_origin(x, line))
    util = "utilisation_training" if shared & eng.U_TRAIN else "utilisation_inference"
    if shared & (eng.U_TRAIN | eng.U_INF):
        hw = [int(h) for h in np.unique(lines.hardware[line]).tolist()]
        for h in hw:
            tdp = x.e.hardware.tdp[h]
            name = x.e.hardware.names[h]
            out.append(
                f"{SUB}{_n(tdp * a.param(util).value, 'W')} per device = TDP {_n(tdp, 'W')} "
                f"of {name} x {util} {_n(a.param(util).value)}"
            )
            out.append(SUB + x.hardware_figure(h, "tdp_w", "TDP", f"TDP {_n(tdp, 'W')} of {name}"))
        out.append(SUB + x.param(util))
    else:
        out.append(f"{SUB}average power {_n(watts, 'W')} per device: {USER} (the training run)")
    out.append(SUB + x.param("host_overhead_ratio"))
    out += _pue_lines(x, line)
    return out


def _hours_origin(x: _Context, line: np.ndarray) -> str:
    """Where the device-hours come from."""
    if x.table == 1:
        if (x.e.lines.source_row[line] > 0).all():
            return f"device-hours: {USER} (usage records)"
        return (
            "device-hours = devices x 24 h a day between the deployment's dates: no usage "
            "records, so it is assumed to run all the time (a default)"
        )
    r = x.record
    if r.get("device_hours") is not None:
        return f"device-hours: {USER} (the training run)"
    if r.get("wall_hours") is not None and r.get("device_count") is not None:
        return (
            f"device-hours = {_n(float(r['device_count']), 'devices')} x "
            f"{_n(float(r['wall_hours']), 'wall-clock hours')} ({USER})"
        )
    return f"device-hours = devices x 24 h a day between the run's dates ({USER})"


def _embodied_hours(x: _Context, line: np.ndarray) -> str:
    """Where the device-hours that amortise the hardware come from."""
    if x.table == 0:
        return _hours_origin(x, line)
    rows = x.e.lines.source_row[line]
    if not (rows > 0).all():
        return _hours_origin(x, line)
    u = x.e.activity.usage
    pos = u.index_of(rows)
    given = (pos >= 0) & ~np.isnan(u["device_hours"][np.where(pos >= 0, pos, 0)])
    if given.all():
        return f"device-hours: {USER} (usage records)"
    devices = x.record.get("device_count")
    if devices is not None:
        how = (
            f"{_n(float(devices), 'devices')} x 24 h a day over the periods of the usage "
            f"records ({USER})"
        )
    else:
        how = (
            "the hours implied by the estimated accelerator energy at TDP x "
            "utilisation_inference (no device count given)"
        )
    if given.any():
        return f"device-hours: {USER} where usage records give them, else {how}"
    return f"device-hours = {how}"


def _per_unit_lines(e: Engine, table: int, tier: int, line: np.ndarray) -> bool:
    """Whether usage lines got their energy from requests or tokens: their device-hours
    (kept for embodied amortisation) are then not what the energy was computed from."""
    return (
        table == 1
        and tier in (eng.TOKEN, eng.DEFAULT)
        and bool((e.lines.source_row[line] > 0).all())
    )


def _inference_row(
    x: _Context, prefix: str, suffix: str, value: float, prefer: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The inference energy row (key, row) whose central value is ``value`` among the
    keys starting with ``prefix`` and ending with ``suffix`` (``prefer`` first)."""
    rows = x.a.inference
    if prefer in rows and _close(float(rows[prefer]["central"]), value):
        return prefer, rows[prefer]
    for key, row in rows.items():
        if key.startswith(prefix) and key.endswith(suffix) and _close(row["central"], value):
            return key, row
    return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-30)


def _inference_cite(x: _Context, key: str, row: dict[str, Any], what: str) -> str:
    low = row["low"] if row.get("low") is not None else row["central"]
    spread = f" (range {low:.4g}-{row['high']:.4g})" if low != row["high"] else ""
    cite = _cite(row["source"], row.get("year"), row.get("licence", ""), DEFAULT)
    text = f"{what} {row['central']:.4g} {row['unit']}{spread} ({key}): {cite}"
    if not _is_override(row["source"]):
        x.default(
            f"inference:{key}",
            f"{what} {row['central']:.4g} {row['unit']} ({key}; "
            f"{row['source']}, {row.get('year')}, {row.get('licence')})",
        )
    return text


def _model_size(x: _Context) -> tuple[float, float, str]:
    """(active and total parameters in billions as the engine takes them, the factor
    line): active falls back to total and total to active; unknown: the default size."""
    m = x.model()
    active, total = m.get("params_active_b"), m.get("params_total_b")
    if active is None and total is None:
        size = eng.UNKNOWN_PARAMS_B
        line = (
            f"model size {_n(size)} billion parameters: {DEFAULT} (the model's size is "
            "not given; the range runs from 8 to 405 billion)"
        )
        x.default("model-size", line)
        return size, size, line
    act = float(active if active is not None else total)
    tot = max(float(total if total is not None else active), act)
    given = (
        f"{_n(act)} billion active of {_n(tot)} billion"
        if active is not None and total is not None and act != tot
        else f"{_n(act)} billion"
    )
    what = "" if active is not None else " (no active count given: the total)"
    return act, tot, f"model size {given} parameters{what}: {USER} (model '{m.get('name')}')"


def _token_energy(x: _Context, active: float, total: float) -> tuple[float, float]:
    """(GPU Wh per output token of the whole model, GPUs holding it) as the engine
    computes them (one GPU where the engine counts none)."""
    per_model = getattr(eng, "token_energy_wh", None)
    if per_model is None:
        return float(eng.token_wh(active, x.a)), 1.0
    return float(per_model(active, total, x.a)), float(eng.token_gpus(total, x.a))


def _per_unit(x: _Context, head: str, line: np.ndarray, w: np.ndarray) -> list[str]:
    """Requests or tokens x energy per unit, with the numbers of these usage records and
    the published figure each used."""
    e, lines = x.e, x.e.lines
    u = e.activity.usage
    pos = u.index_of(lines.source_row[line])
    ok = pos >= 0
    line, w, pos = line[ok], w[ok], pos[ok]
    device = lines.device_kwh[line]
    it = lines.it_kwh[line]
    tokens = u["output_tokens"][pos]
    requests = u["requests"][pos]
    active, total, size_line = _model_size(x)
    per_token_wh, gpus = _token_energy(x, active, total)
    # which figure each record's energy came from (the engine's order: requests x the
    # Power Hungry Processing figure (IT energy, no accelerator figure); ML.ENERGY per
    # request or EcoLogits per token (accelerator energy))
    php = np.isnan(device) & (it > 0)
    by_tokens = ~php & (tokens > 0) & np.isclose(device, tokens * per_token_wh / 1000, rtol=1e-6)
    by_requests = ~php & ~by_tokens & (requests > 0) & (device > 0)
    out: list[str] = []

    def sums(m: np.ndarray) -> tuple[float, float, float, float, float]:
        return (
            float(np.nansum(requests[m] * w[m])),
            float(np.nansum(tokens[m] * w[m])),
            float(np.nansum(device[m] * w[m])),
            float((it[m] * w[m]).sum()),
            float((lines.facility_kwh[line[m]] * w[m]).sum()),
        )

    task = x.model().get("task")
    if php.any():
        reqs, _, _, it_kwh, fac = sums(php)
        per_1000 = it_kwh * 1000 / reqs if reqs else float("nan")
        out.append(
            f"{head} {_n(reqs, 'requests')} x {per_1000:.4g} kWh per 1,000 inferences / 1,000 "
            f"= {_n(it_kwh, 'kWh')} IT (Power Hungry Processing mean for the model's task"
            f"{f' {task!r}' if task else ''}); x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        found = _inference_row(x, "php:", "", per_1000, getattr(eng, "_PHP_TASK", {}).get(task))
        if found:
            out.append(SUB + _inference_cite(x, *found, "energy per 1,000 inferences"))
        out += _pue_lines(x, line[php])
    if by_requests.any():
        reqs, _, dev, it_kwh, fac = sums(by_requests)
        joules = dev * 3.6e6 / reqs if reqs else float("nan")
        out.append(
            f"{head} {_n(reqs, 'requests')} x {joules:.4g} J per request / 3,600,000 J per kWh "
            f"= {_n(dev, 'kWh')} on the accelerators (ML.ENERGY chat measurement for the "
            f"model's size); x (1 + host overhead {_n(x.a.param('host_overhead_ratio').value)})"
            f" = {_n(it_kwh, 'kWh')} IT; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        found = _inference_row(x, "mlenergy:chat:h100:", ":request", joules)
        if found:
            out.append(SUB + _inference_cite(x, *found, "GPU energy per request"))
        out.append(SUB + size_line)
        out.append(SUB + x.param("host_overhead_ratio"))
        out += _pue_lines(x, line[by_requests])
    if by_tokens.any():
        _, toks, dev, it_kwh, fac = sums(by_tokens)
        out.append(
            f"{head} {_n(toks, 'output tokens')} x {per_token_wh:.3g} Wh per token / 1000 = "
            f"{_n(dev, 'kWh')} on the accelerators (EcoLogits formula for the model's "
            f"parameters); x (1 + host overhead {_n(x.a.param('host_overhead_ratio').value)})"
            f" = {_n(it_kwh, 'kWh')} IT; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        out += [SUB + s for s in _ecologits(x, active, total, per_token_wh, gpus)]
        out.append(SUB + size_line)
        out.append(SUB + x.param("host_overhead_ratio"))
        out += _pue_lines(x, line[by_tokens])
    rest = ~php & ~by_tokens & ~by_requests
    if rest.any():
        _, _, _, it_kwh, fac = sums(rest)
        out.append(
            f"{head} IT {_n(it_kwh, 'kWh')}; x PUE {_pue_text(it_kwh, fac)} = {_n(fac, 'kWh')}"
        )
        out += _pue_lines(x, line[rest])
    return out


def _ecologits(x: _Context, active: float, total: float, wh: float, gpus: float) -> list[str]:
    """The EcoLogits per-token formula with its coefficients, the GPUs that hold the
    model (when the engine counts them), and their source."""
    rows = x.a.inference
    keys = [f"ecologits:{k}" for k in ("a", "b", "c", "batch")]
    if not all(k in rows for k in keys):
        return []
    a, b, c, batch = (float(rows[k]["central"]) for k in keys)
    one = a * np.exp(b * batch) * active + c
    row = rows["ecologits:a"]
    cite = _cite(row["source"], row.get("year"), row.get("licence", ""), DEFAULT)
    x.default(
        "ecologits",
        f"EcoLogits per-token energy: a = {a:.5g}, b = {b:.4g}, c = {c:.4g}, batch {batch:g} "
        f"({row['source']}, {row.get('year')}, {row.get('licence')})",
    )
    out = []
    memory = [f"ecologits:{k}" for k in ("memory_overhead", "quantization_bits", "gpu_memory_gb")]
    if hasattr(eng, "token_gpus"):
        out.append(f"{wh:.3g} Wh per token = {gpus:g} GPU{'s' if gpus != 1 else ''} x {one:.3g} Wh")
        if all(k in rows for k in memory):
            over, bits, gb = (float(rows[k]["central"]) for k in memory)
            need = over * total * bits / 8
            out.append(
                f"{gpus:g} GPU{'s' if gpus != 1 else ''} holding the model = ceil({over:g} x "
                f"{_n(total)} billion parameters x {bits:g} bits / 8 / {gb:g} GB per GPU) = "
                f"ceil({need:.3g} GB / {gb:g} GB)"
            )
            mrow = rows[memory[0]]
            out.append(
                "EcoLogits memory overhead, bits per parameter and GPU memory: "
                + _cite(mrow["source"], mrow.get("year"), mrow.get("licence", ""), DEFAULT)
            )
            x.default(
                "ecologits-gpus",
                f"EcoLogits GPU count: memory overhead {over:g}, {bits:g} bits per parameter, "
                f"{gb:g} GB per GPU ({mrow['source']}, {mrow.get('year')}, "
                f"{mrow.get('licence')})",
            )
    out.append(
        f"{one:.3g} Wh per GPU per output token = a x exp(b x batch) x P + c = {a:.5g} x "
        f"exp({b:.4g} x {batch:g}) x {_n(active)} + {c:.4g} (P: billions of active parameters)"
    )
    out.append(f"EcoLogits coefficients a, b, c and batch size: {cite}")
    return out
