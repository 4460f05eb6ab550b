"""All matplotlib code of the package (the numerics never import this module).

Every function takes plain arrays (or the small data containers defined here), draws on the
``ax`` it is given or on a new figure, and returns ``(fig, ax)``. Figures are built with
:class:`matplotlib.figure.Figure` directly, never through ``pyplot``, so no global figure state
is created or leaked and no interactive backend is needed; :func:`save_figure` writes PNG (Agg)
and PDF files.

Axis labels use the notation of ``docs/theory.md``: lambda the end-to-end singular value,
r = sqrt(L) a the arc length of the balanced path in weight space, beta the L2 strength,
``ell(lambda) - ell(0)`` the loss (per-sample MSE/2 + beta/2 |W|^2) relative to the trivial
state, tau an escape time, T the temperature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._core.checks import InputError

__all__ = [
    "PathCurve",
    "BifurcationBranch",
    "new_figure",
    "save_figure",
    "plot_minimal_path",
    "plot_bifurcation",
    "plot_depth_dependence",
    "plot_mse_curves",
    "plot_grokking_curve",
    "plot_arrhenius",
    "plot_escape_distribution",
    "plot_survival",
    "plot_hysteresis",
]

# One colour per curve, colour-blind safe (Okabe-Ito), used in a fixed order by every function.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_FONT = 9


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


# --------------------------------------------------------------------------- figure handling
def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
               sharex: bool = False, sharey: bool = False):
    """A new :class:`~matplotlib.figure.Figure` (no pyplot) with a grid of axes.

    Returns
    -------
    fig : Figure
    axes : Axes if ``nrows == ncols == 1`` else ndarray of Axes, shape ``(nrows, ncols)`` squeezed.
    """
    if figsize is None:
        figsize = (4.6 * ncols, 3.5 * nrows)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=True)
    for a in np.atleast_1d(axes).ravel():
        a.tick_params(labelsize=_FONT)
    return fig, axes


def _fig_ax(ax: Axes | None, figsize: tuple[float, float] = (5.2, 3.8)):
    if ax is None:
        return new_figure(figsize=figsize)
    return ax.figure, ax


def save_figure(fig: Figure, out_dir, stem: str, formats: Sequence[str] = ("png", "pdf"),
                dpi: int = 150) -> tuple[Path, ...]:
    """Write ``fig`` as ``out_dir/stem.<fmt>`` for each format; returns the paths written.

    PNG goes through the Agg renderer, PDF through matplotlib's PDF backend (no pyplot). PDF
    metadata carry no creation date so repeated runs give byte-comparable files where possible.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        kwargs = {"dpi": dpi}
        if fmt == "pdf":
            kwargs["metadata"] = {"CreationDate": None}
        fig.savefig(path, format=fmt, **kwargs)
        paths.append(path)
    return tuple(paths)


def _label_axes(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> None:
    ax.set_xlabel(xlabel, fontsize=_FONT + 1)
    ax.set_ylabel(ylabel, fontsize=_FONT + 1)
    if title:
        ax.set_title(title, fontsize=_FONT + 1)


def _as_1d(name: str, x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise InputError(f"{name} must be a 1-D array, got shape {a.shape}")
    return a


def _fmt_num(x: float, digits: int = 3) -> str:
    """Short human number: 3 significant digits, scientific only when very small or large."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) < 1e-3 or abs(x) >= 1e6:
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 10 ** digits:  # 4980.4 -> "4980", not "4.98e+03"
        return f"{float(f'{x:.{digits}g}'):.0f}"
    return f"{x:.{digits}g}"


# --------------------------------------------------------------------------- theory figures
@dataclass(frozen=True)
class PathCurve:
    """The loss along the balanced (minimal) path of one mode at one beta, ready to draw.

    Attributes
    ----------
    beta : L2 strength of this curve.
    x : shape (n,), path coordinate (lambda or r).
    energy : shape (n,), ``ell - ell(0)`` along ``x``.
    x_saddle, e_saddle, x_min, e_min : saddle and learned minimum (NaN where absent).
    barrier_forward, barrier_reverse : trivial -> learned and learned -> trivial barriers (NaN where absent).
    """

    beta: float
    x: np.ndarray
    energy: np.ndarray
    x_saddle: float = math.nan
    e_saddle: float = math.nan
    x_min: float = math.nan
    e_min: float = math.nan
    barrier_forward: float = math.nan
    barrier_reverse: float = math.nan


def plot_minimal_path(curves: Sequence[PathCurve], *,
                      xlabel: str = r"end-to-end singular value $\lambda$ (dimensionless)",
                      ylabel: str = r"$\ell(\lambda)-\ell(0)$  (loss units)", annotate: bool = True,
                      references: Mapping[str, float] | None = None, title: str | None = None,
                      ax: Axes | None = None):
    """Loss along the minimal path for several beta, with saddle, minima and barrier arrows.

    One line per curve (label ``beta = ...``); the trivial minimum (x = 0), the saddle (x marker)
    and the learned minimum (filled circle) are marked. With ``annotate``, a vertical arrow at the
    saddle spans the forward barrier ``dE_f`` (from the trivial level 0) and one at the learned
    minimum spans the reverse barrier ``dE_r``; their values go into the curve's legend entry (text
    beside the arrows would cross the curves). The legend sits under the axes. ``references`` maps
    a legend label to an x position drawn as a grey dashed vertical line (e.g. a value the paper
    states).

    Returns
    -------
    fig, ax
    """
    if not curves:
        raise InputError("curves must hold at least one PathCurve, got an empty sequence")
    fig, ax = _fig_ax(ax)
    ymin, ymax = np.inf, -np.inf
    for i, c in enumerate(curves):
        col = _color(i)
        x = _as_1d("x", c.x)
        e = _as_1d("energy", c.energy)
        label = rf"$\beta = {c.beta:g}$"
        if annotate and math.isfinite(c.barrier_forward):
            label += rf": $\Delta E_f$ = {_fmt_num(c.barrier_forward)}"
            if math.isfinite(c.barrier_reverse):
                label += rf", $\Delta E_r$ = {_fmt_num(c.barrier_reverse)} (loss units)"
        ax.plot(x, e, color=col, lw=1.8, label=label)
        ymin, ymax = min(ymin, np.nanmin(e)), max(ymax, np.nanmax(e))
        ax.plot([0.0], [0.0], "o", color=col, ms=5, mfc="white", zorder=4)
        if math.isfinite(c.x_saddle):
            ax.plot([c.x_saddle], [c.e_saddle], "X", color=col, ms=8, mec="k", mew=0.5, zorder=5)
        if math.isfinite(c.x_min):
            ax.plot([c.x_min], [c.e_min], "o", color=col, ms=6, mec="k", mew=0.5, zorder=5)
    span = ymax - ymin if ymax > ymin else 1.0
    if annotate:
        for i, c in enumerate(curves):
            col = _color(i)
            if math.isfinite(c.barrier_forward):
                ax.annotate("", xy=(c.x_saddle, c.e_saddle), xytext=(c.x_saddle, 0.0),
                            arrowprops=dict(arrowstyle="->", color=col, lw=1.2, shrinkA=0, shrinkB=3))
            if math.isfinite(c.barrier_reverse):
                # dotted level of the saddle carried over to the learned minimum
                ax.plot([c.x_saddle, c.x_min], [c.e_saddle, c.e_saddle], ":", color=col, lw=0.9)
                if c.barrier_reverse > 0.02 * span:
                    ax.annotate("", xy=(c.x_min, c.e_saddle), xytext=(c.x_min, c.e_min),
                                arrowprops=dict(arrowstyle="->", color=col, lw=1.2, shrinkA=3, shrinkB=0))
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=0)
    for label, xr in (references or {}).items():
        ax.axvline(float(xr), color="0.45", ls="--", lw=1.0, zorder=0, label=label)
    ax.set_ylim(ymin - 0.08 * span, ymax + 0.08 * span)
    # proxy entries explaining the markers
    ax.plot([], [], "o", color="0.3", mfc="white", ms=5, label="trivial minimum")
    ax.plot([], [], "X", color="0.3", mec="k", mew=0.5, ms=7, label="saddle")
    ax.plot([], [], "o", color="0.3", mec="k", mew=0.5, ms=6, label="learned minimum")
    # under the axes: inside, the entries would cover the curves of one beta or another
    ax.legend(fontsize=_FONT - 1, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False, ncol=2)
    _label_axes(ax, xlabel, ylabel, title)
    return fig, ax


@dataclass(frozen=True)
class BifurcationBranch:
    """The non-trivial stationary branches of one mode in the (beta, lambda) plane.

    Attributes
    ----------
    label : legend text (e.g. ``eta = 0.9``).
    beta_stable, lam_stable : shape (n,), learned minima (lambda > lambda_c).
    beta_unstable, lam_unstable : shape (m,), saddles (0 < lambda < lambda_c).
    beta_c, lambda_c : the spinodal (fold) point.
    beta_star, lambda_star : the coexistence point on the stable branch.
    """

    label: str
    beta_stable: np.ndarray
    lam_stable: np.ndarray
    beta_unstable: np.ndarray
    lam_unstable: np.ndarray
    beta_c: float
    lambda_c: float
    beta_star: float
    lambda_star: float


def plot_bifurcation(branches: Sequence[BifurcationBranch], *, beta_max: float | None = None,
                     trivial_stable: bool = True, title: str | None = None, ax: Axes | None = None):
    """Bifurcation diagram: stable (solid) and unstable (dashed) lambda against beta per mode.

    Also draws the trivial branch lambda = 0 (solid when it is a minimum, as for L >= 3), marks
    each fold (beta_c, lambda_c) with a diamond and a dotted vertical line, and each coexistence
    point (beta*, lambda*) with a star and a dash-dotted vertical line.

    Returns
    -------
    fig, ax
    """
    if not branches:
        raise InputError("branches must hold at least one BifurcationBranch, got an empty sequence")
    fig, ax = _fig_ax(ax)
    if beta_max is None:
        beta_max = 1.12 * max(b.beta_c for b in branches)
    ax.plot([0.0, beta_max], [0.0, 0.0], "-" if trivial_stable else "--", color="k", lw=1.8,
            label=r"trivial $\lambda=0$ (stable)" if trivial_stable else r"trivial $\lambda=0$")
    for i, b in enumerate(branches):
        col = _color(i)
        ax.plot(b.beta_stable, b.lam_stable, "-", color=col, lw=1.8, label=f"{b.label}: learned (stable)")
        ax.plot(b.beta_unstable, b.lam_unstable, "--", color=col, lw=1.4, label=f"{b.label}: saddle (unstable)")
        ax.axvline(b.beta_c, color=col, ls=":", lw=1.0)
        ax.axvline(b.beta_star, color=col, ls="-.", lw=0.8)
        ax.plot([b.beta_c], [b.lambda_c], "D", color=col, ms=5, mec="k", mew=0.5, zorder=5)
        ax.plot([b.beta_star], [b.lambda_star], "*", color=col, ms=10, mec="k", mew=0.5, zorder=5)
        # text labels just above the top of the axes region used by the curves
        # beta_c labels right of their line, beta* labels left of theirs: a beta* of one mode and
        # the beta_c of another can be close (0.345 and 0.351 in the paper's setting)
        ax.text(b.beta_c, 0.99, rf"$\beta_c={b.beta_c:.4f}$", transform=ax.get_xaxis_transform(),
                color=col, fontsize=_FONT - 1, rotation=90, va="top", ha="left")
        ax.text(b.beta_star, 0.99, rf"$\beta^*={b.beta_star:.4f}$", transform=ax.get_xaxis_transform(),
                color=col, fontsize=_FONT - 1, rotation=90, va="top", ha="right")
    ax.plot([], [], "D", color="0.3", mec="k", mew=0.5, ms=5, label=r"fold $(\beta_c,\lambda_c)$")
    ax.plot([], [], "*", color="0.3", mec="k", mew=0.5, ms=9, label=r"coexistence $(\beta^*,\lambda^*)$")
    ax.set_xlim(0.0, beta_max)
    top = max(float(np.nanmax(b.lam_stable)) for b in branches)
    ax.set_ylim(-0.04 * top, 1.08 * top)
    ax.legend(fontsize=_FONT - 1, loc="lower left", frameon=True, framealpha=0.9)
    _label_axes(ax, r"L2 strength $\beta$", r"end-to-end singular value $\lambda$ (dimensionless)", title)
    return fig, ax


def plot_depth_dependence(depths, series: Mapping[str, np.ndarray], *, ylabel: str,
                          styles: Mapping[str, dict] | None = None, logy: bool = False,
                          legend_below: bool = False, title: str | None = None, ax: Axes | None = None):
    """Quantities against network depth L: one marked line per entry of ``series``.

    Parameters
    ----------
    depths : shape (n,), integer depths.
    series : label -> shape (n,) values (NaN points are skipped).
    styles : optional label -> keyword arguments for ``ax.plot`` (colour, linestyle, marker).
    legend_below : put the legend under the axes (in two columns) instead of inside them.

    Returns
    -------
    fig, ax
    """
    d = _as_1d("depths", depths)
    fig, ax = _fig_ax(ax)
    for i, (label, y) in enumerate(series.items()):
        y = _as_1d(label, y)
        if y.shape != d.shape:
            raise InputError(f"series[{label!r}] must have shape {d.shape}, got {y.shape}")
        kw = {"color": _color(i), "marker": "o", "lw": 1.5, "ms": 5}
        if styles and label in styles:
            kw.update(styles[label])
        ax.plot(d, y, label=label, **kw)
    ax.set_xticks(d)
    if logy:
        ax.set_yscale("log")
    if legend_below:
        ax.legend(fontsize=_FONT - 1, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    else:
        ax.legend(fontsize=_FONT - 1, frameon=False)
    _label_axes(ax, "depth $L$ (number of weight matrices)", ylabel, title)
    return fig, ax


# --------------------------------------------------------------------------- simulation figures
def _median_band(values, lo_q: float, hi_q: float):
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        return v, None, None
    if v.ndim != 2:
        raise InputError(f"curves must be 1-D or (n_seeds, n_points), got shape {v.shape}")
    return (np.nanmedian(v, axis=0), np.nanquantile(v, lo_q, axis=0), np.nanquantile(v, hi_q, axis=0))


def plot_mse_curves(epochs, curves: Mapping[str, np.ndarray], *,
                    escape_times: Mapping[str, float] | None = None, escape_labels: Mapping[str, str] | None = None,
                    quantiles: tuple[float, float] = (0.1, 0.9),
                    ylabel: str = "test MSE", logx: bool = True, logy: bool = True,
                    title: str | None = None, ax: Axes | None = None):
    """Median and quantile band over seeds of a loss against epochs, one entry per protocol.

    Parameters
    ----------
    epochs : shape (n,), epochs (x-axis).
    curves : label -> shape (n_seeds, n) (or (n,) for one run) values.
    escape_times : label -> escape time in epochs (e.g. the median or the MLE tau); a dotted
        vertical line in the curve's colour, labelled in the legend. NaN or inf (censored) is
        written in the legend as "no escape" and not drawn.
    escape_labels : label -> legend text of that curve's escape line (say which statistic it is
        and its interval, as the report quotes it); default ``tau = ... epochs``.
    quantiles : lower and upper quantile of the band (default 10 % and 90 %).

    Returns
    -------
    fig, ax : one median line per curve plus one line per finite escape time.
    """
    t = _as_1d("epochs", epochs)
    lo_q, hi_q = quantiles
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise InputError(f"quantiles must satisfy 0 <= lo < hi <= 1, got {quantiles!r}")
    fig, ax = _fig_ax(ax, figsize=(7.6, 3.9))
    for i, (label, v) in enumerate(curves.items()):
        col = _color(i)
        med, lo, hi = _median_band(v, lo_q, hi_q)
        if med.shape != t.shape:
            raise InputError(f"curves[{label!r}] must have {t.size} points per seed, got shape {np.shape(v)}")
        n_seeds = 1 if np.ndim(v) == 1 else np.shape(v)[0]
        ax.plot(t, med, color=col, lw=1.6, label=f"{label} (median of {n_seeds})" if n_seeds > 1 else label)
        if lo is not None:
            ax.fill_between(t, lo, hi, color=col, alpha=0.2, lw=0)
        if escape_times and label in escape_times:
            tau = float(escape_times[label])
            text = (escape_labels or {}).get(label)
            if math.isfinite(tau):
                ax.axvline(tau, color=col, ls=":", lw=1.3, label=text or rf"$\tau$ = {_fmt_num(tau)} epochs")
            else:
                ax.plot([], [], ls="none", label=text or f"{label}: no escape in run")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if lo_q > 0 or hi_q < 1:
        ax.fill_between([], [], [], color="0.5", alpha=0.2, label=f"{100 * lo_q:.0f}-{100 * hi_q:.0f} % over seeds")
    # outside the axes: the bands can fill any region of the plot
    ax.legend(fontsize=_FONT - 1, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _label_axes(ax, "epochs", ylabel, title)
    return fig, ax


def plot_grokking_curve(epochs, train_mse, test_mse, *, references: Mapping[str, float] | None = None,
                        escape_epoch: float | None = None, logx: bool = True, logy: bool = True,
                        ylabel: str = "MSE (loss units)", title: str | None = None, ax: Axes | None = None):
    """Train and test MSE against epochs with horizontal reference levels (a grokking curve).

    Parameters
    ----------
    epochs : shape (n,).
    train_mse, test_mse : shape (n,) (one run) or (n_seeds, n) (median and 10-90 % band drawn).
    references : label -> MSE level drawn as a horizontal dashed line (e.g. best rank-1 fit,
        best rank-2 fit, Bayes error).
    escape_epoch : optional epoch of the escape, drawn as a dotted vertical line.

    Returns
    -------
    fig, ax : 2 data lines + one per reference (+ 1 escape line).
    """
    t = _as_1d("epochs", epochs)
    fig, ax = _fig_ax(ax)
    for i, (label, v) in enumerate((("train MSE", train_mse), ("test MSE", test_mse))):
        med, lo, hi = _median_band(v, 0.1, 0.9)
        if med.shape != t.shape:
            raise InputError(f"{label} must have {t.size} points, got shape {np.shape(v)}")
        ax.plot(t, med, color=_color(i), lw=1.6, label=label)
        if lo is not None:
            ax.fill_between(t, lo, hi, color=_color(i), alpha=0.2, lw=0)
    greys = ("0.25", "0.45", "0.65", "0.8")
    styles = ("--", "-.", ":", (0, (5, 1, 1, 1)))
    for j, (label, level) in enumerate((references or {}).items()):
        ax.axhline(float(level), color=greys[j % 4], ls=styles[j % 4], lw=1.1,
                   label=f"{label} = {_fmt_num(float(level))}")
    if escape_epoch is not None and math.isfinite(escape_epoch):
        ax.axvline(escape_epoch, color="k", ls=":", lw=1.0, label=f"escape at {_fmt_num(escape_epoch)} epochs")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=_FONT - 1, frameon=False)
    _label_axes(ax, "epochs", ylabel, title)
    return fig, ax


def plot_arrhenius(x, ln_tau, ln_tau_err=None, *, err_label: str | None = None,
                   fit: tuple[float, float] | None = None, r2: float | None = None,
                   slope_ci: tuple[float, float] | None = None, slope_se: float | None = None,
                   predicted: tuple[float, float] | None = None, predicted_label: str = "theory",
                   theory_curves: Mapping[str, tuple] | None = None, lower_bounds=None,
                   lower_bound_label: str = r"lower bound of $\tau$ (no escape in run)", slope_name: str = "slope",
                   xlabel: str = r"$1/T$", ylabel: str = r"$\ln \tau$", note: str | None = None,
                   title: str | None = None, ax: Axes | None = None):
    r"""Arrhenius plot: ln tau against x (1/T or B/lr) with error bars, fitted and predicted lines.

    Parameters
    ----------
    x, ln_tau : shape (n,); NaN entries of ``ln_tau`` (no escape observed) are not drawn.
    ln_tau_err : shape (n,) symmetric error bars, or shape (2, n) lower/upper, or None.
    err_label : what the error bars are, with their coverage (e.g. ``"95 % LR interval"``); required
        with ``ln_tau_err``, so that no bar is drawn without saying what it covers.
    fit : (slope, intercept) of the fitted line ``ln tau = intercept + slope x``; its legend
        entry carries the slope, its ``slope_ci`` (labelled "95 % CI") and/or its standard error
        ``slope_se`` (labelled "s.e."), and ``R^2``.
    slope_ci : (low, high) 95 % confidence interval of the fitted slope.
    slope_se : standard error of the fitted slope.
    predicted : (slope, intercept) of the theory line (dashed).
    theory_curves : label -> ``(x_grid, ln_tau_grid)`` arrays of further predictions that need not
        be straight lines (e.g. the exact 1-D mean first-passage time, Eyring-Kramers), dotted.
    lower_bounds : shape (n,), optional lower bounds of ln tau where no escape was seen (e.g. ln of
        the run length, or of the censored MLE's lower confidence limit); drawn as open upward
        triangles where finite, labelled ``lower_bound_label`` (say which bound, e.g. its coverage).
    slope_name : how the legend names the fitted slope (e.g. ``r"$\Delta E_{eff}$"`` when x = 1/T).
    note : text drawn in the axes, e.g. "no escapes within 2e4 epochs: no fit" (used instead of
        drawing an empty fit).

    Returns
    -------
    fig, ax
    """
    xs = _as_1d("x", x)
    y = _as_1d("ln_tau", ln_tau)
    if xs.shape != y.shape:
        raise InputError(f"x and ln_tau must have the same shape, got {xs.shape} and {y.shape}")
    if ln_tau_err is not None and not err_label:
        raise InputError("err_label must say what the error bars cover (e.g. '95 % LR interval'), got none")
    fig, ax = _fig_ax(ax)
    ok = np.isfinite(y)
    if ok.any():
        err = None
        if ln_tau_err is not None:
            err = np.asarray(ln_tau_err, dtype=float)
            err = err[..., ok]
        ax.errorbar(xs[ok], y[ok], yerr=err, fmt="o", color=_color(0), ms=5, capsize=3,
                    label="measured" if err is None else f"measured (bars: {err_label})")
    if lower_bounds is not None:
        lb = _as_1d("lower_bounds", lower_bounds)
        if lb.shape != xs.shape:
            raise InputError(f"lower_bounds must have shape {xs.shape}, got {lb.shape}")
        has = np.isfinite(lb)
        if has.any():
            ax.plot(xs[has], lb[has], "^", color=_color(0), mfc="white", ms=7, ls="none",
                    label=lower_bound_label)
    xx = np.linspace(xs.min(), xs.max(), 100) if xs.size else np.array([])
    if xs.size and xs.max() > xs.min():
        pad = 0.05 * (xs.max() - xs.min())
        ax.set_xlim(xs.min() - pad, xs.max() + pad)  # keep the protocol's x range visible even without data
    if fit is not None:
        slope, icpt = fit
        lab = f"fit: {slope_name} = {_fmt_num(slope)}"
        if slope_ci is not None:
            lab += f" (95 % CI {_fmt_num(slope_ci[0])}..{_fmt_num(slope_ci[1])})"
        if slope_se is not None:
            lab += f" (s.e. {_fmt_num(slope_se, 2)})"
        if r2 is not None:
            lab += rf", $R^2$ = {r2:.3f}"
        ax.plot(xx, icpt + slope * xx, "-", color=_color(1), lw=1.5, label=lab)
    if predicted is not None:
        ps, pi = predicted
        ax.plot(xx, pi + ps * xx, "--", color=_color(2), lw=1.5,
                label=rf"{predicted_label}: slope {_fmt_num(ps)}")
    for i, (label, (cx, cy)) in enumerate((theory_curves or {}).items()):
        cx, cy = _as_1d(f"theory_curves[{label!r}] x", cx), _as_1d(f"theory_curves[{label!r}] ln tau", cy)
        if cx.shape != cy.shape:
            raise InputError(f"theory_curves[{label!r}] needs x and ln tau of one shape, got {cx.shape}, {cy.shape}")
        ax.plot(cx, cy, ":", color=_color(3 + i), lw=1.6, label=label)
    if note:
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=_FONT,
                wrap=True, bbox=dict(fc="lightyellow", ec="0.5"))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=_FONT - 1, frameon=False)
    _label_axes(ax, xlabel, ylabel, title)
    return fig, ax


def plot_escape_distribution(times, *, tau: float, kind: str = "ecdf", censor_time: float | None = None,
                             ks_pvalue: float | None = None, tau_ci: tuple | None = None, bins="auto",
                             xlabel: str = "escape time",
                             title: str | None = None, ax: Axes | None = None):
    """Escape times against the exponential law with mean ``tau``.

    ``kind="ecdf"``: the empirical CDF of the observed times (a step line) against
    ``1 - exp(-t/tau)``; ``kind="hist"``: a density histogram against ``exp(-t/tau)/tau``.
    Censored runs (NaN or inf in ``times``, or times >= ``censor_time``) count in the ECDF's
    denominator but never reach it; the histogram shows observed times only. ``tau_ci``: the 95 %
    interval of ``tau`` (low, high; high may be None or inf), written in the law's legend entry.

    Returns
    -------
    fig, ax : ECDF: 2 lines (data, law); hist: 1 line (law) plus the bar patches.
    """
    t = _as_1d("times", times)
    if not (math.isfinite(tau) and tau > 0):
        raise InputError(f"tau must be finite and > 0, got {tau!r}")
    if kind not in ("ecdf", "hist"):
        raise InputError(f"kind must be 'ecdf' or 'hist', got {kind!r}")
    observed = np.isfinite(t)
    if censor_time is not None:
        observed &= t < censor_time
    obs = np.sort(t[observed])
    fig, ax = _fig_ax(ax)
    t_max = float(obs.max()) if obs.size else float(tau)
    if censor_time is not None:
        t_max = max(t_max, float(censor_time))
    grid = np.linspace(0.0, 1.05 * t_max, 300)
    law = f"exponential, $\\tau$ = {_fmt_num(tau)}" + _ci_text(tau_ci)
    if ks_pvalue is not None:
        law += f" (KS p = {ks_pvalue:.2g})"
    if kind == "ecdf":
        n = t.size
        steps = np.concatenate([[0.0], obs])
        frac = np.arange(obs.size + 1) / n
        ax.step(steps, frac, where="post", color=_color(0), lw=1.6,
                label=f"empirical CDF ({obs.size} of {n} escaped)")
        ax.plot(grid, -np.expm1(-grid / tau), "--", color=_color(1), lw=1.5, label=law)
        ax.set_ylim(0, 1.02)
        ylabel = "fraction escaped by time t"
    else:
        if obs.size:
            ax.hist(obs, bins=bins, density=True, color=_color(0), alpha=0.6,
                    label=f"{obs.size} escapes")
        ax.plot(grid, np.exp(-grid / tau) / tau, "--", color=_color(1), lw=1.5, label=law)
        ylabel = "probability density"
    if censor_time is not None:
        ax.axvline(censor_time, color="0.5", ls=":", lw=1.0, label="end of run (censoring)")
    ax.legend(fontsize=_FONT - 1, frameon=False)
    _label_axes(ax, xlabel, ylabel, title)
    return fig, ax


def _ci_text(ci) -> str:
    """`` (95 % CI lo..hi)`` for a legend, or "" without an interval (an open upper end prints as inf)."""
    if ci is None:
        return ""
    lo, hi = ci
    hi = math.inf if hi is None else float(hi)
    return f" (95 % CI {_fmt_num(float(lo))}..{_fmt_num(hi)})"


def _kaplan_meier(times: np.ndarray, observed: np.ndarray):
    """Product-limit survival estimate: step times (k,) and S just after each, starting at (0, 1)."""
    order = np.argsort(times, kind="stable")
    t, d = times[order], observed[order]
    at_risk = t.size - np.arange(t.size)
    factors = np.where(d, 1.0 - 1.0 / at_risk, 1.0)
    surv = np.cumprod(factors)
    keep = d  # the curve only steps at observed events
    return np.concatenate([[0.0], t[keep]]), np.concatenate([[1.0], surv[keep]])


def plot_survival(times, observed=None, *, tau: float, tau_ci: tuple | None = None, logy: bool = True,
                  xlabel: str = "time t",
                  title: str | None = None, ax: Axes | None = None):
    """Kaplan-Meier survival curve of escape times against ``exp(-t/tau)``.

    Parameters
    ----------
    times : shape (n,), escape time of each run, or its censoring time if it did not escape.
    observed : shape (n,) bool, True where the escape was seen; default: all finite times.
        Non-finite times are always treated as censored (at the largest finite time).
    tau : mean escape time of the exponential law drawn for comparison.
    tau_ci : optional 95 % interval of ``tau`` (low, high), written in the law's legend entry.

    Returns
    -------
    fig, ax : 2 lines (Kaplan-Meier step curve, exponential law).
    """
    t = _as_1d("times", times)
    if not (math.isfinite(tau) and tau > 0):
        raise InputError(f"tau must be finite and > 0, got {tau!r}")
    obs = np.isfinite(t) if observed is None else np.asarray(observed, dtype=bool)
    if obs.shape != t.shape:
        raise InputError(f"observed must have shape {t.shape}, got {obs.shape}")
    obs = obs & np.isfinite(t)
    finite_max = float(np.nanmax(np.where(np.isfinite(t), t, np.nan))) if np.isfinite(t).any() else tau
    t_eff = np.where(np.isfinite(t), t, finite_max)
    st, sv = _kaplan_meier(t_eff, obs)
    fig, ax = _fig_ax(ax)
    ax.step(np.append(st, t_eff.max()), np.append(sv, sv[-1]), where="post", color=_color(0), lw=1.6,
            label=f"Kaplan-Meier ({int(obs.sum())} escapes, {int((~obs).sum())} censored)")
    grid = np.linspace(0.0, float(t_eff.max()) * 1.05 if t_eff.size else tau, 300)
    ax.plot(grid, np.exp(-grid / tau), "--", color=_color(1), lw=1.5,
            label=rf"$\exp(-t/\tau)$, $\tau$ = {_fmt_num(tau)}" + _ci_text(tau_ci))
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=_FONT - 1, frameon=False)
    _label_axes(ax, xlabel, "survival probability S(t)", title)
    return fig, ax


def plot_hysteresis(beta_up, mse_up, beta_down, mse_down, *, beta_c: Mapping[str, float] | None = None,
                    beta_star: Mapping[str, float] | None = None, ylabel: str = "test MSE",
                    logy: bool = False, title: str | None = None, ax: Axes | None = None):
    """Quasi-static sweeps of the L2 strength: MSE against beta, up and down, with beta_c and beta*.

    Parameters
    ----------
    beta_up, beta_down : shape (n,), (m,) beta values in the order they were visited.
    mse_up, mse_down : shape (n,), (m,) or (n_seeds, n), (n_seeds, m): median and 10-90 % band drawn.
    beta_c, beta_star : label (e.g. ``eta = 0.8``) -> value, drawn as dotted / dash-dotted
        vertical lines in the colour of the mode.

    Returns
    -------
    fig, ax : 2 sweep lines + one line per beta_c and beta_star entry.
    """
    fig, ax = _fig_ax(ax)
    for (lab, b, m, col, mk) in (("sweep up (increasing beta)", beta_up, mse_up, "k", ">"),
                                 ("sweep down (decreasing beta)", beta_down, mse_down, "0.55", "<")):
        bb = _as_1d("beta", b)
        med, lo, hi = _median_band(m, 0.1, 0.9)
        if med.shape != bb.shape:
            raise InputError(f"MSE of the {lab} must have {bb.size} points, got shape {np.shape(m)}")
        ax.plot(bb, med, "-", marker=mk, color=col, ms=3.5, lw=1.3, label=lab)
        if lo is not None:
            ax.fill_between(bb, lo, hi, color=col, alpha=0.2, lw=0)
    for i, (label, v) in enumerate((beta_c or {}).items()):
        ax.axvline(v, color=_color(i), ls=":", lw=1.3, label=rf"$\beta_c$ ({label}) = {v:.4f}")
    for i, (label, v) in enumerate((beta_star or {}).items()):
        ax.axvline(v, color=_color(i), ls="-.", lw=1.0, label=rf"$\beta^*$ ({label}) = {v:.4f}")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=_FONT - 1, frameon=True, framealpha=0.9, loc="best")
    _label_axes(ax, r"L2 strength $\beta$", ylabel, title)
    return fig, ax
