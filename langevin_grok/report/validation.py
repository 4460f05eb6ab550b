"""The validation report: the table, report.md, results.json's figure list and the figures of one run.

Renders a :class:`~langevin_grok.validation.results.ValidationReport` computed by
:func:`langevin_grok.validation.run_validation`; it computes nothing but presentation.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..validation.cache import atomic_write
from ..validation.results import ROW_ALPHA
from .text import fmt as _fmt
from .text import format_table as _format_table
from .validation_text import METHODS, ROW_TITLES, SHORT_DYNAMICS, paragraph, point_verdict, verdict_text

__all__ = ["TABLE_HEADERS", "table_rows", "format_table", "render_report", "write_outputs", "make_figures"]

TABLE_HEADERS = ["row", "dynamics", "setting", "prediction", "measured [95% CI]", "ratio", "seeds", "steps",
                 "verdict"]


def _ci(p: dict) -> str:
    if not p.get("n_escaped", 1):
        return f"> {_fmt(p['ci_low'])} (no escape)"
    return f"{_fmt(p['mean'])} [{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}]"


def _rows_small(r) -> list[list]:
    short = SHORT_DYNAMICS[r.dynamics]
    out = [[f"{r.row}", short, f"dE/T={p['barrier_over_t']:g}",
            f"{_fmt(p['prediction'])} ({'exact' if r.row == 1 else 'EK'})", _ci(p), _fmt(p["ratio"], 3),
            str(p["n_paths"]), str(p["path_steps"]), point_verdict(p)] for p in r.points]
    c = r.measurement["combined"]
    out.append([f"{r.row}", short, "all T", "combined", f"chi2={_fmt(c['chi2'], 3)}/{c['dof']}",
                f"p={_fmt(c['pvalue'], 3)}", str(r.n_seeds), str(r.steps), r.verdict.value.upper()])
    return out


def _rows_network(r) -> list[list]:
    def pred(p):
        e = p["predictions"]["entropic_mfpt"]
        return f"{_fmt(e['value'])} (entropic, {e['status']})" if e["value"] is not None else "n/a"

    out = [[f"{r.row}", SHORT_DYNAMICS[r.dynamics], f"dE1D/T={p['barrier_over_t']:g}", pred(p), _ci(p),
            _fmt(p["ratio"], 3), str(p["n_paths"]), str(p["path_steps"]), point_verdict(p)] for p in r.points]
    c = r.measurement["combined"]
    out.append([f"{r.row}", SHORT_DYNAMICS[r.dynamics], "all T", "combined", f"chi2={_fmt(c['chi2'], 3)}/{c['dof']}",
                f"p={_fmt(c['pvalue'], 3)}", str(r.n_seeds), str(r.steps), r.verdict.value.upper()])
    return out


def _rows_sgd_reverse(r) -> list[list]:
    out = []
    for p in r.points:
        proto = "with repl." if p["replacement"] else "shuffled"
        out.append([f"{r.row}", f"plain SGD {proto}", f"b={p['beta']:.4g} B={p['batch']} dE/T={p['dE_over_T']:.3g}",
                    f"{_fmt(p['prediction'])} ({'balanced chain' if p['replacement'] else 'T_RR'})", _ci(p),
                    _fmt(p["ratio"], 3), str(p["n_replicas"]), str(p["sgd_steps"]), point_verdict(p)])
    v = r.measurement["verdicts"]
    for proto, key in (("with repl.", "with_replacement"), ("shuffled", "shuffled_epochs")):
        out.append([f"{r.row}", f"plain SGD {proto}", "all B", "combined", "-", "-", "-", "-", v[key].upper()])
    return out


def _rows_sgd_trap(r) -> list[list]:
    p = r.points[0]
    return [[f"{r.row}", SHORT_DYNAMICS[r.dynamics], f"c_e={_fmt(p['c_e'])}", "0 escapes (absorbing)",
             f"{p['n_escaped']}/{p['n_replicas']} escaped", "-", str(r.n_seeds), str(r.steps),
             r.verdict.value.upper()]]


def _rows_ams(r) -> list[list]:
    out = []
    for p in r.points:
        ams = p.get("method") == "ams"
        out.append([f"{r.row}", "AMS 1-D" if ams else "brute vs AMS", f"dE/T={p['dE_over_T']:g}",
                    f"{_fmt(p['prediction'])} ({'exact' if ams else 'AMS'})", _ci(p), _fmt(p["ratio"], 3),
                    str(p.get("n_replicas", p.get("n_paths", "-"))), str(p["path_steps"]), point_verdict(p)])
    c = r.measurement["combined"]
    out.append([f"{r.row}", "AMS 1-D", "all T", "combined", f"chi2={_fmt(c['chi2'], 3)}/{c['dof']}",
                f"p={_fmt(c['pvalue'], 3)}", str(r.n_seeds), str(r.steps), r.verdict.value.upper()])
    return out


def _rows_sgld(r) -> list[list]:
    out = [[f"{r.row}", "SGLD net", f"dE1D/T={p['dE_over_T']:g}",
            f"{_fmt(p['prediction'])} (entropic, {p['prediction_status']})", _ci(p), _fmt(p["ratio"], 3),
            str(p["n_replicas"]), str(p["sgd_steps"]), point_verdict(p)] for p in r.points]
    c = r.measurement["combined"]
    out.append([f"{r.row}", "SGLD net", "all T", "combined", f"chi2={_fmt(c['chi2'], 3)}/{c['dof']}",
                f"p={_fmt(c['pvalue'], 3)}", str(r.n_seeds), str(r.steps), r.verdict.value.upper()])
    return out


_TABLE = {"arc_1d": _rows_small, "chain": _rows_small, "network_injected": _rows_network,
          "sgd_reverse": _rows_sgd_reverse, "sgd_trap": _rows_sgd_trap, "ams_rare": _rows_ams,
          "sgld_forward": _rows_sgld}


def table_rows(report) -> list[list]:
    """One list of cells per table line (rows 1-3: one line per temperature; row 4: fitted barrier)."""
    return [line for r in report.rows for line in _TABLE[r.id](r)]


def format_table(report) -> str:
    """The plain-text table printed by the command."""
    return _format_table(TABLE_HEADERS, table_rows(report))


def render_report(report) -> str:
    """report.md: the table, then a paragraph per row."""
    c = report.config
    lines = [f"# langevin-grok validate ({c.mode})", "",
             f"Command: `{report.command}`  ", f"Started {report.started}, wall time {report.wall_seconds:.1f} s, "
             f"root seed {c.seed}, langevin_grok {report.environment.get('langevin_grok')} "
             f"(commit {report.environment.get('git')})."
             + (f" Rows reused from an earlier run in this folder: {list(report.reused_rows)}."
                if report.reused_rows else ""), "",
             "Times are SDE time t = lr x (SGD steps); intervals are 95 % likelihood-ratio intervals of the "
             "censored exponential MLE. Rows with several temperatures are judged by a combined chi-square "
             f"(agree when p >= {ROW_ALPHA}). Nothing was tuned to make a row agree.", ""]
    lines += ["| " + " | ".join(TABLE_HEADERS) + " |", "|" + "---|" * len(TABLE_HEADERS)]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in table_rows(report)]
    lines.append("")
    for r in report.rows:
        from .validation_text import DYNAMICS

        lines += [f"## Row {r.row} (`{r.id}`): {ROW_TITLES[r.id]}", "",
                  f"**Dynamics:** {DYNAMICS.get(r.dynamics, r.dynamics)}.  ",
                  f"**Prediction:** {METHODS.get(r.prediction.get('method'), r.prediction.get('method'))}.  ",
                  f"**Verdict:** {r.verdict.value} — {verdict_text(r)}.  ",
                  f"Seeds: {r.n_seeds} paths/replicas, {r.steps} steps, {r.wall_seconds:.1f} s.", "", paragraph(r),
                  ""]
    if report.figures:
        lines += ["## Figures", ""] + [f"- [{f}]({f})" for f in report.figures] + [""]
    return "\n".join(lines)


def write_outputs(report, out, figures: bool = True):
    """Write the figures (optional), ``results.json`` (with the figure list) and ``report.md`` into ``out``.

    Returns the report with its ``figures`` field filled in.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figures:
        report = replace(report, figures=tuple(make_figures(report, out)))
    atomic_write(out / "results.json", json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    atomic_write(out / "report.md", render_report(report))
    return report


def _log_err(pts) -> np.ndarray:
    """Asymmetric error bars of ln tau from the 95 % intervals (0 where an end is missing)."""
    def up(p):
        return math.log(p["ci_high"] / p["mean"]) if p["ci_high"] and math.isfinite(p["ci_high"]) else 0.0

    return np.array([[math.log(p["mean"] / p["ci_low"]) for p in pts], [up(p) for p in pts]])


_BARS = "95 % LR interval"
_YLABEL = r"$\ln\tau$  ($\tau$ in SDE time $t$ = lr$\cdot$steps)"


def _npaths(pts) -> str:
    n = sorted({p["n_paths"] for p in pts})
    return f"{n[0]} paths/T" if len(n) == 1 else f"{n[0]}..{n[-1]} paths/T"


def _panel_small(ax, r, plotting) -> None:
    pts = [p for p in r.points if p["n_escaped"] > 0]
    x = np.array([1.0 / p["temperature"] for p in pts])
    y = np.log([p["mean"] for p in pts])
    bar = r.parameters["barrier"]
    if r.row == 1:
        pref = math.log(pts[0]["kramers"]) - bar * x[0]
        plotting.plot_arrhenius(x, y, _log_err(pts), err_label=_BARS, predicted=(bar, pref),
                                predicted_label="1-D Kramers",
                                theory_curves={"exact MFPT": (x, np.log([p["prediction"] for p in pts]))},
                                slope_name=r"$\Delta E$", xlabel=r"$1/T$ (1/loss units)", ylabel=_YLABEL,
                                title=f"row 1: 1-D arc, Langevin\n$\\Delta E$ = {_fmt(bar)}, {_npaths(pts)}",
                                ax=ax)
        return
    pref = math.log(pts[0]["prediction"]) - bar * x[0] if pts else 0.0
    plotting.plot_arrhenius(x, y, _log_err(pts), err_label=_BARS, predicted=(bar, pref),
                            predicted_label="Eyring-Kramers",
                            theory_curves={"1-D exact MFPT": (x, np.log([p["exact_1d"] for p in pts]))},
                            xlabel=r"$1/T$ (1/loss units)", ylabel=_YLABEL,
                            title=f"row 2: scalar chain, Langevin\n$\\Delta E$ = {_fmt(bar)}, {_npaths(pts)}",
                            ax=ax)


def _panel_network(ax, r, plotting) -> None:
    pts = [p for p in r.points if p["n_escaped"] > 0]
    x = np.array([1.0 / p["temperature"] for p in pts])
    y = np.log([p["mean"] for p in pts])
    app = r.measurement.get("apparent_barrier")
    curves = {"1-D exact MFPT (reference only)": (x, np.log([p["reference_exact_1d"] for p in pts]))}
    for m, label in (("entropic_mfpt", "entropic MFPT"), ("eyring_kramers", "orbit Eyring-Kramers")):
        vals = [p["predictions"][m]["value"] for p in pts]
        if pts and all(v is not None and v > 0 for v in vals):
            curves[label] = (x, np.log(vals))
    plotting.plot_arrhenius(x, y, _log_err(pts), err_label=_BARS,
                            fit=None if app is None else (app["slope"], app["intercept"]),
                            slope_ci=None if app is None else (app["ci_low"], app["ci_high"]),
                            r2=None if app is None else app["r_squared"], slope_name="apparent slope",
                            theory_curves=curves, xlabel=r"$1/T$ (1/loss units)",
                            ylabel=_YLABEL, title=f"row 3: network + injected T, {_npaths(pts)}", ax=ax)
    ax.legend(fontsize=7, loc="upper left", frameon=False)  # five entries: keep them inside the axes


def _panel_sgd_reverse(ax, r, plotting) -> None:
    """ln tau against dE/T of every point with escapes: with replacement one colour per beta (the measured times;
    the predictions as lines, one style each: the recommended solid), shuffled epochs in grey at the dE/T of
    their epoch-boundary temperature (filled square: its prediction). The legend names styles and colours once."""
    from matplotlib.lines import Line2D

    fracs = sorted({p["fraction"] for p in r.points if p["replacement"]}, reverse=True)
    styles = (("balanced_chain", "-", "balanced chain (recommended)"),
              ("e2e_batch_chain", (0, (5, 1, 1, 1)), "batch chain x end-to-end SDE"),
              ("plane_batch_chain", "-.", "batch chain x plane"),
              ("discrete_chain", ":", "Gaussian chain, T(r)"), ("constant_t", "--", "T at start"))
    handles = []
    drawn = False
    for i, f in enumerate(fracs):
        q = sorted([p for p in r.points if p["replacement"] and p["fraction"] == f], key=lambda p: p["dE_over_T"])
        col = plotting.COLORS[i % len(plotting.COLORS)]
        x = np.array([p["dE_over_T"] for p in q])
        for m, ls, _ in styles:
            ys = [p["predictions"].get(m, {}).get("log_tau") for p in q]
            if all(v is not None and math.isfinite(v) for v in ys):
                ax.plot(x, ys, linestyle=ls, color=col, lw=1.2)
        esc = [p for p in q if p["n_escaped"]]
        if esc:
            drawn = True
            ax.errorbar([p["dE_over_T"] for p in esc], np.log([p["mean"] for p in esc]), yerr=_log_err(esc),
                        fmt="o", color=col, capsize=2)
        handles.append(Line2D([], [], color=col, marker="o", lw=0, label=f"measured, beta = {q[0]['beta']:.4g}"))
    handles += [Line2D([], [], color="0.2", ls=ls, lw=1.2, label=label) for _, ls, label in styles]
    sh = [p for p in r.points if not p["replacement"] and p["n_escaped"]]
    if sh:
        drawn = True
        xs = [p["dE_over_T"] for p in sh]
        ax.errorbar(xs, np.log([p["mean"] for p in sh]), yerr=_log_err(sh), fmt="s", color="0.4", mfc="none",
                    capsize=2)
        ax.plot(xs, [p["predictions"]["shuffled_boundary"]["log_tau"] for p in sh], "s", color="0.4", ms=4)
        handles += [Line2D([], [], color="0.4", marker="s", mfc="none", lw=0, label="shuffled epochs, measured"),
                    Line2D([], [], color="0.4", marker="s", ms=4, lw=0, label="shuffled, T at epoch boundaries")]
    if not drawn:
        ax.text(0.5, 0.5, "no escapes", transform=ax.transAxes, ha="center")
    plotting._label_axes(ax, r"$\Delta E / T$ of the point's noise model at the start", _YLABEL,
                         f"row 4: plain SGD, reverse, lr = {r.parameters['lr']:g}\n"
                         f"bars: {_BARS}; {r.points[0]['n_replicas']} replicas per point")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.45 * (hi - lo))  # room above the data for the legend
    ax.legend(handles=handles, fontsize=6, loc="upper right", ncol=2, frameon=False)


_PANELS = {"arc_1d": _panel_small, "chain": _panel_small, "network_injected": _panel_network,
           "sgd_reverse": _panel_sgd_reverse}


def _arrhenius_figure(by: dict, out: Path, plotting) -> list[str]:
    panels = [k for k in ("arc_1d", "chain", "network_injected", "sgd_reverse") if k in by]
    if not panels:
        return []
    ncols = min(2, len(panels))
    fig, axes = plotting.new_figure(-(-len(panels) // ncols), ncols)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax, k in zip(axes, panels):
        _PANELS[k](ax, by[k], plotting)
    plotting.save_figure(fig, out, "arrhenius", formats=("png",))
    return ["arrhenius.png"]


def _series(by: dict) -> list[tuple]:
    """(row, times, escaped, tau, label, point, tau_is_measured) of the coldest point of rows 1-3 and of row 5."""
    from ..theory.stats import exponential_mle

    series = []
    for k in ("arc_1d", "chain", "network_injected"):
        if k in by:
            r = by[k]
            t, e = np.array(r.data["times"][-1]), np.array(r.data["escaped"][-1], dtype=bool)
            p = r.points[-1]
            if k == "network_injected" and p["prediction"] is None:
                tau, lab, measured = (exponential_mle(t, e).mean if e.any() else None), "measured MLE", True
            else:
                tau, lab, measured = p["prediction"], METHODS[p.get("prediction_method", r.prediction["method"])], False
            series.append((r.row, t, e, tau, lab, p, measured))
    if "sgd_trap" in by:
        r = by["sgd_trap"]
        series.append((r.row, np.array(r.data["times"][0]), np.array(r.data["escaped"][0], dtype=bool),
                       r.points[0].get("reference_iso_exact_1d"), "isotropic-T 1-D reference", None, False))
    return [s for s in series if s[3] is not None and math.isfinite(s[3]) and s[3] > 0]


def _series_title(k: int, lab: str, p: dict | None) -> str:
    """Panel title: the row, where tau comes from, and the point's parameters and measured tau (95 % CI)."""
    head = f"row {k}: law with tau from {lab}"
    if p is None:
        return head
    name = "dE1D/T" if k == 3 else "dE/T"
    ci = f"{_fmt(p['ci_low'])}..{_fmt(p['ci_high'])}" if p.get("mean") is not None else "-"
    return (head + f"\ncoldest point: T = {_fmt(p['temperature'], 3)} loss units, {name} = {p['dE_over_T']:g}"
            f"\nmeasured tau = {_fmt(p.get('mean'))} (95 % CI {ci})")


def make_figures(report, out) -> list[str]:
    """Arrhenius plot, escape-time distributions and survival curves (PNG) into ``out``."""
    from ..theory.stats import ks_exponential
    from . import plotting

    out = Path(out)
    by = {r.id: r for r in report.rows}
    names = _arrhenius_figure(by, out, plotting)
    usable = _series(by)
    if not usable:
        return names

    dist = [s for s in usable if s[2].any()]
    if dist:
        fig, axes = plotting.new_figure(1, len(dist), figsize=(5.6 * len(dist), 3.9))
        for ax, (k, t, e, tau, lab, p, measured) in zip(np.atleast_1d(axes), dist):
            ks = ks_exponential(t, e, tau=tau)
            plotting.plot_escape_distribution(
                np.where(e, t, np.nan), tau=tau, ks_pvalue=ks.pvalue,
                tau_ci=(p["ci_low"], p["ci_high"]) if measured else None,
                xlabel="escape time t (SDE time lr$\\cdot$steps)", title=_series_title(k, lab, p), ax=ax)
        plotting.save_figure(fig, out, "escape_distribution", formats=("png",))
        names.append("escape_distribution.png")
    fig, axes = plotting.new_figure(1, len(usable), figsize=(5.6 * len(usable), 3.9))
    for ax, (k, t, e, tau, lab, p, measured) in zip(np.atleast_1d(axes), usable):
        plotting.plot_survival(t, e, tau=tau, tau_ci=(p["ci_low"], p["ci_high"]) if measured else None,
                               xlabel="time t (SDE time lr$\\cdot$steps)", title=_series_title(k, lab, p), ax=ax)
    plotting.save_figure(fig, out, "survival", formats=("png",))
    names.append("survival.png")
    return names
