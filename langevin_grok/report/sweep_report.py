"""The sweep report: tables, report.md, summary.json and the Arrhenius figure of a
:class:`~langevin_grok.sweep.analysis.SweepAnalysis` (computed by
:func:`langevin_grok.sweep.analysis.summarise_sweep`). Presentation only: it computes no estimate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .._core.errors import message
from .._core.jsonable import jsonable
from .text import fmt, format_table, md_cell

__all__ = ["ABSCISSA_LABELS", "TIME_UNITS", "table", "fit_lines", "render_text", "render_markdown",
           "report_json", "make_figure", "write_report"]

ABSCISSA_LABELS = {
    "inverse_temperature": r"$1/T$  [1 / loss units]",
    "batch_over_lr": r"$B/\mathrm{lr}$  [samples per unit SDE time]",
}
_ABSCISSA_SHORT = {"inverse_temperature": "1/T", "batch_over_lr": "B/lr"}
_SLOPE_NAMES = {"inverse_temperature": r"$\Delta E_{eff}$", "batch_over_lr": r"$2\Delta E_{eff}/c$"}
_SLOPE_TEXT = {"inverse_temperature": "dE_eff (loss units)", "batch_over_lr": "2 dE_eff / c (SDE time per sample)"}
TIME_UNITS = {"sde_time": "SDE time t (t = lr x SGD steps)"}
_KIND_NOTES = {
    "sgd": "Escape epochs converted to SDE time t = lr x epochs x N / B; diverged replicas are left out (column "
           "excluded).",
}
_REASONS = {"shuffled_epochs": "shuffled epochs: the epoch-level temperature scales like lr^3, so ln tau need not "
                               "be linear in B/lr (docs/theory.md, section \"Shuffled epochs\")"}


def _pct(c: float) -> str:
    return f"{100 * c:g} %"


def _pred_names(a) -> list[str]:
    names = []
    for g in a.groups:
        for p in g.predictions:
            if p.name not in names:
                names.append(p.name)
    return names


def table(a) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (strings) of the per-group table: varying parameters, x, counts, estimate, predictions."""
    names = _pred_names(a)
    pct = _pct(a.confidence)
    heads = [*a.varying]
    if a.abscissa:
        heads.append(_ABSCISSA_SHORT[a.abscissa])
    heads += ["tasks", "paths", "escapes", "censored"]
    if any(g.n_excluded for g in a.groups):
        heads.append("excluded")
    heads += [f"tau [{pct} CI]", "status"]
    for n in names:
        heads += [n, "ratio", "verdict"]
    rows = []
    for g in a.groups:
        r = [str(g.params[k]) for k in a.varying]
        if a.abscissa:
            r.append(fmt(g.x))
        r += [str(g.n_tasks), str(g.n_paths), str(g.n_events), str(g.n_censored)]
        if "excluded" in heads:
            r.append(str(g.n_excluded))
        e = g.estimate
        if e is None:
            r.append("-")
        elif e.n_events == 0:
            r.append(f"> {fmt(e.ci_low)}")
        else:
            r.append(f"{fmt(e.mean)} [{fmt(e.ci_low)}, {fmt(e.ci_high)}]")
        r.append(g.status.value)
        by = {p.name: p for p in g.predictions}
        for n in names:
            p = by.get(n)
            r += ["-", "-", "-"] if p is None else [fmt(p.tau), fmt(p.ratio, 3), p.verdict.value]
        rows.append(r)
    return heads, rows


def _series_title(s) -> str:
    return ", ".join(f"{k}={v}" for k, v in s.fixed.items()) or "all grid points"


def fit_lines(a) -> list[str]:
    """One line per Arrhenius series (plain text)."""
    out = []
    for s in a.series:
        head = f"Arrhenius fit ({_series_title(s)}), ln tau vs {_ABSCISSA_SHORT[s.abscissa]}: "
        if s.fit is None:
            out.append(head + f"no fit ({s.status.value}: escapes at {s.n_used} of {len(s.group_indices)} "
                              "points, 3 needed)")
            continue
        f = s.fit
        line = (head + f"slope {_SLOPE_TEXT[s.abscissa]} = {fmt(f.slope)} +- {fmt(f.slope_se, 2)} "
                f"[{_pct(f.confidence)} CI {fmt(f.slope_ci[0])}, {fmt(f.slope_ci[1])}], tau0 = {fmt(f.tau0)}, "
                f"R^2 = {f.r_squared:.4f}, chi2 = {fmt(f.chi2, 3)} / {f.dof} dof, {s.n_used} points"
                + (f" ({s.n_dropped} without escapes left out)" if s.n_dropped else ""))
        for n, pf in s.predicted_fits.items():
            line += f"; {n} over the same grid: slope {fmt(pf.slope)}"
        if s.barrier is not None:
            line += f"; barrier dE = {fmt(s.barrier)}"
        if s.reason:
            line += f"; {s.validity.value}: {_REASONS.get(s.reason, s.reason)}"
        out.append(line)
    return out


def _header_lines(a) -> list[str]:
    unit = TIME_UNITS.get(a.time_unit, "no escape times in this kind")
    return [f"sweep {', '.join(a.sweeps)!s} (kind {a.kind}, task version {a.kind_version}) from {a.store}: "
            f"{a.n_done} done tasks, "
            f"{a.n_failed} failed (not analysed), {len(a.groups)} grid points; langevin-grok "
            f"{', '.join(a.package_versions)}",
            f"times: {unit}; intervals: {_pct(a.confidence)} {'likelihood-ratio' if a.method == 'lr' else 'chi-square'}"
            " intervals of the censored exponential MLE, replicas pooled",
            "fixed: " + (", ".join(f"{k}={v}" for k, v in a.fixed.items()) or "-")]


def render_text(a) -> str:
    """Plain-text report for the terminal: header, table, fit lines."""
    heads, rows = table(a)
    return "\n".join([*_header_lines(a), "", format_table(heads, rows), "", *fit_lines(a)]).rstrip() + "\n"


def render_markdown(a, provenance: dict | None = None, figures: tuple = ()) -> str:
    """report.md of a sweep analysis (``provenance``: :func:`langevin_grok._core.provenance.environment`)."""
    heads, rows = table(a)
    pct = _pct(a.confidence)
    lines = [f"# Sweep report: {', '.join(a.sweeps)} (`{a.kind}`, task version {a.kind_version})", "",
             f"Store `{a.store}`: {a.n_done} done tasks in {len(a.groups)} grid points, {a.n_failed} failed tasks "
             f"(not analysed). Tasks computed by langevin-grok {', '.join(a.package_versions)}."]
    if a.theory_store:
        lines.append(f"Predictions joined from the theory store `{a.theory_store}`.")
    if provenance:
        lines.append(f"Analysed with langevin-grok {provenance.get('langevin_grok')} (commit {provenance.get('git')}), "
                     f"Python {provenance.get('python')}, numpy {provenance.get('numpy')}, scipy {provenance.get('scipy')}"
                     + (f"; command `{' '.join(provenance['argv'])}`" if provenance.get("argv") else "") + ".")
    if a.kind in _KIND_NOTES:
        lines += ["", _KIND_NOTES[a.kind]]
    if a.kind == "simulate" and any(g.params.get("bridge") is False for g in a.groups):
        lines += ["", "Some grid points ran without the Brownian-bridge crossing correction (bridge=False): their "
                      "escape times are biased up by O(sqrt(dt))."]
    lines += ["", "Fixed parameters: " + (", ".join(f"`{k}={v}`" for k, v in a.fixed.items()) or "none") + ".", "",
              "## Escape-time estimates", "",
              f"Times in {TIME_UNITS.get(a.time_unit, 'no escape times (this kind stores none)')}. Each grid point pools "
              "the escape and censoring times of all its replicas (seeds) into one censored exponential MLE, "
              f"tau = (total time at risk) / (escapes), with its {pct} "
              f"{'likelihood-ratio' if a.method == 'lr' else 'chi-square'} interval; `> x` is the lower {pct} bound "
              "where no path escaped. Ratio = measured / predicted; verdict `agrees` when the prediction lies in "
              f"the {pct} interval (statistical only: a time-step bias of a simulation also shows as `disagrees`).",
              "", "| " + " | ".join(md_cell(h) for h in heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    statuses = sorted({g.status.value for g in a.groups})
    lines += ["", "Status codes: " + "; ".join(f"`{s}`: {message(s)}" for s in statuses), ""]
    if a.series:
        lines += ["## Arrhenius fits", "",
                  "Weighted least squares of ln tau against x, weights 1/sigma^2 with sigma the delta-method "
                  "standard error of ln tau from the interval; covariance scaled by chi2/dof, Student-t intervals. "
                  "Predicted slopes are fits of the predictions over the same grid points (the effective slope "
                  "the theory gives there, which differs from the bare barrier at finite dE/T).", ""]
        lines += [f"- {md_cell(t)}" for t in fit_lines(a)]
        lines.append("")
    for f in figures:
        lines += [f"![Arrhenius plot]({f})", "",
                  f"Error bars: {pct} intervals of the pooled MLE; open triangles: {pct} lower bounds "
                  "(no escape); dotted: predictions.", ""]
    return "\n".join(lines)


def report_json(a, provenance: dict | None = None, figures: tuple = ()) -> dict:
    """The JSON object of ``sweep-report --json`` and of summary.json."""
    return jsonable({"analysis": a.to_dict(), "provenance": provenance, "figures": list(figures)})


def _panel(ax, a, s, plotting) -> None:
    gs = [a.groups[i] for i in s.group_indices]
    x = np.array([g.x for g in gs], dtype=float)
    has = np.array([g.estimate is not None and g.n_events > 0 for g in gs])
    ln = np.array([math.log(g.estimate.mean) if h else np.nan for g, h in zip(gs, has)])
    lo = np.array([math.log(g.estimate.ci_low) if h else np.nan for g, h in zip(gs, has)])
    hi = np.array([math.log(g.estimate.ci_high) if h else np.nan for g, h in zip(gs, has)])
    lb = np.array([math.log(g.estimate.ci_low) if g.estimate is not None and not h and g.estimate.ci_low > 0
                   else np.nan for g, h in zip(gs, has)])
    curves = {}
    for n in _pred_names(a):
        pts = [(g.x, p.tau) for g in gs for p in g.predictions if p.name == n]
        if len(pts) >= 2:
            curves[n] = (np.array([p[0] for p in pts]), np.log([p[1] for p in pts]))
    f = s.fit
    plotting.plot_arrhenius(
        x, ln, np.vstack([ln - lo, hi - ln]), err_label="95 % LR interval",
        fit=None if f is None else (f.slope, f.intercept),
        r2=None if f is None else f.r_squared, slope_ci=None if f is None else tuple(f.slope_ci),
        theory_curves=curves, lower_bounds=lb if np.isfinite(lb).any() else None,
        slope_name=_SLOPE_NAMES[s.abscissa], xlabel=ABSCISSA_LABELS[s.abscissa],
        ylabel=r"$\ln \tau$  ($\tau$ in SDE time)", title=_series_title(s),
        note=None if f is not None else f"escapes at {s.n_used} of {len(gs)} points: no fit", ax=ax)
    handles, labels = ax.get_legend_handles_labels()
    labels = [f"pooled MLE, {_pct(a.confidence)} interval" if lab == "measured" else
              (f"{_pct(a.confidence)} lower bound (no escape)" if lab.startswith("lower bound") else lab)
              for lab in labels]
    ax.legend(handles, labels, fontsize=8, frameon=False)


def make_figure(a, out, stem: str = "arrhenius") -> tuple[str, ...]:
    """Arrhenius plot (one panel per series) as ``out/stem.png``; returns the file names written (none without series)."""
    if not a.series:
        return ()
    from . import plotting

    n = len(a.series)
    ncols = min(2, n)
    fig, axes = plotting.new_figure(-(-n // ncols), ncols)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax, s in zip(axes, a.series):
        _panel(ax, a, s, plotting)
    paths = plotting.save_figure(fig, out, stem, formats=("png",))
    return tuple(p.name for p in paths)


def write_report(a, out, provenance: dict | None = None, figures: bool = True) -> tuple[Path, ...]:
    """Write report.md, summary.json and (optionally) arrhenius.png into the folder ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = make_figure(a, out) if figures else ()
    (out / "summary.json").write_text(json.dumps(report_json(a, provenance, figs), indent=2, allow_nan=False) + "\n")
    (out / "report.md").write_text(render_markdown(a, provenance, figs))
    return (out / "report.md", out / "summary.json", *(out / f for f in figs))
