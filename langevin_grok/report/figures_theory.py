"""Theory figures (no simulation): loss along the minimal path (Fig. 2(a)), the bifurcation diagram
(Fig. 4) and the depth table (beta_c, beta* and barriers for L = 3..6), from :mod:`langevin_grok.landscape`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._core.checks import InputError, check_depth, check_one_sv, check_sv
from ..landscape.modes import beta_c, beta_of_lambda, beta_star, ell, lambda_c, lambda_star, mode_landscape, u
from . import plotting
from .registry import FigureResult, finish, register_figure
from .reproduction import finite_sample_spread, theory_claims_beta_c, theory_claims_fig2a

__all__ = ["minimal_path_curves", "bifurcation_branches", "depth_table", "minimal_path_check"]


def minimal_path_curves(depth: int, eta: float, betas: Sequence[float], *, coordinate: str = "lambda",
                        n: int = 1201, x_max: float | None = None) -> tuple[plotting.PathCurve, ...]:
    """Loss ``ell - ell(0)`` along the balanced path of one mode, one :class:`~plotting.PathCurve` per beta.

    Parameters
    ----------
    coordinate : ``"lambda"`` (end-to-end singular value, the paper's axis) or ``"r"`` (arc length
        r = sqrt(L) a of the balanced path in weight space, where the trivial minimum is smooth).
    n : grid points; x_max : right end (default 1.2 x the largest learned minimum, or lambda_c).
    """
    L = check_depth(depth)
    eta = check_one_sv(eta)
    if coordinate not in ("lambda", "r"):
        raise InputError(f"coordinate must be 'lambda' or 'r', got {coordinate!r}")
    modes = [mode_landscape(L, eta, b) for b in betas]
    sq = math.sqrt(L)

    def to_x(lam):
        return lam if coordinate == "lambda" else sq * lam ** (1.0 / L)

    if x_max is None:
        lam_top = max([m.lambda_min for m in modes if m.lambda_min is not None] + [lambda_c(L, eta)])
        x_max = 1.2 * to_x(lam_top)
    x = np.linspace(0.0, x_max, n)
    curves = []
    for m in modes:
        if coordinate == "lambda":
            e = ell(x, L, eta, m.beta) - ell(0.0, L, eta, m.beta)
        else:
            e = u(x / sq, L, eta, m.beta)  # u(a) = ell(a^L) - ell(0)
        pick = (lambda v: math.nan if v is None else float(v))
        xs = m.lambda_saddle if coordinate == "lambda" else m.r_saddle
        xm = m.lambda_min if coordinate == "lambda" else m.r_min
        curves.append(plotting.PathCurve(
            beta=m.beta, x=x, energy=np.asarray(e, dtype=float), x_saddle=pick(xs), e_saddle=pick(m.energy_saddle),
            x_min=pick(xm), e_min=pick(m.energy_min), barrier_forward=pick(m.barrier_forward),
            barrier_reverse=pick(m.barrier_reverse)))
    return tuple(curves)


def bifurcation_branches(depth: int, etas: Sequence[float], n: int = 400) -> tuple[plotting.BifurcationBranch, ...]:
    """Stable (lambda_c < lambda < eta) and unstable (0 < lambda < lambda_c) branches per mode.

    Each branch is parametrised by lambda, with ``beta = lambda^(1-2/L) (eta - lambda)``
    (:func:`~langevin_grok.landscape.modes.beta_of_lambda`), so the fold is resolved exactly.
    """
    L = check_depth(depth, minimum=3)
    out = []
    for eta in check_sv(etas):
        eta = float(eta)
        lc = lambda_c(L, eta)
        # cosine spacing crowds points at both ends (the fold and the axes)
        s = 0.5 * (1 - np.cos(np.linspace(0.0, math.pi, n)))
        lam_st = lc + (eta - lc) * s
        lam_un = lc * s
        out.append(plotting.BifurcationBranch(
            label=rf"$\eta={eta:g}$", beta_stable=beta_of_lambda(lam_st, L, eta), lam_stable=lam_st,
            beta_unstable=beta_of_lambda(lam_un, L, eta), lam_unstable=lam_un, beta_c=beta_c(L, eta), lambda_c=lc,
            beta_star=beta_star(L, eta), lambda_star=lambda_star(L, eta)))
    return tuple(out)


def depth_table(depths: Sequence[int], etas: Sequence[float], fraction: float = 0.9) -> dict:
    """beta_c, beta*, lambda_c, the barrier at beta* and both barriers at ``fraction * beta_c`` per (L, eta).

    Returns a dict ``{"depths": [...], "fraction": f, "<eta>": {"beta_c": [...], "beta_star": [...],
    "barrier_at_beta_star": [...], "forward_at_fraction": [...], "reverse_at_fraction": [...],
    "beta_star_over_beta_c": [...]}}`` with one entry per depth (lists of floats).
    At beta* both minima are equally deep, so the forward and reverse barriers coincide there.
    """
    Ls = [check_depth(d, minimum=3) for d in depths]
    if not 0.0 < fraction < 1.0:
        raise InputError(f"fraction must be in (0, 1), got {fraction!r}")
    table: dict = {"depths": Ls, "fraction": fraction}
    for eta in check_sv(etas):
        eta = float(eta)
        row = {k: [] for k in ("beta_c", "beta_star", "beta_star_over_beta_c", "lambda_c", "barrier_at_beta_star",
                               "forward_at_fraction", "reverse_at_fraction")}
        for L in Ls:
            bc, bs = beta_c(L, eta), beta_star(L, eta)
            ms = mode_landscape(L, eta, bs)
            mf = mode_landscape(L, eta, fraction * bc)
            row["beta_c"].append(bc)
            row["beta_star"].append(bs)
            row["beta_star_over_beta_c"].append(bs / bc)
            row["lambda_c"].append(lambda_c(L, eta))
            row["barrier_at_beta_star"].append(ms.barrier_forward)
            row["forward_at_fraction"].append(mf.barrier_forward)
            row["reverse_at_fraction"].append(mf.barrier_reverse)
        table[f"{eta:g}"] = row
    return table


def minimal_path_check(depth: int, sv, beta: float, width: int, mode: int = -1) -> dict:
    """Check in weight space that the balanced path of mode ``mode`` is the minimum-energy path.

    Builds (with :mod:`langevin_grok.landscape.network`) the network ``(depth, width, dim = len(sv))`` at the
    saddle where mode ``mode`` sits at its saddle and the modes before it are learned, and the point
    where that mode is trivial instead. The balanced, aligned path of the mode joins them along the
    straight line between the two (the mode's layers scale together). The path is invariant under
    gradient flow (layer-permutation symmetry of the per-mode chain and the alignment), so it is the
    minimum-energy path if the saddle's only unstable direction is tangent to it. Returns the
    saddle's index and zero modes, its unstable eigenvalue beside ``d2U/dr2`` of the 1-D reduction,
    ``|cos|`` of the angle between unstable direction and path, and the barrier in weight space
    beside the 1-D one.
    """
    # imported here: network is a heavier module that only this check needs
    from ..landscape.network import DeepLinearNetwork
    from ..landscape.stationary import stationary_point

    etas = check_sv(sv)
    k = len(etas) + mode if mode < 0 else mode
    if not 0 <= k < len(etas):
        raise InputError(f"mode must index sv (length {len(etas)}), got {mode!r}")
    net = DeepLinearNetwork.from_singular_values(depth, width, len(etas), etas, beta)
    before = ["learned"] * k
    sad = stationary_point(net, before + ["saddle"])
    low = stationary_point(net, before + ["trivial"])
    tangent = sad.theta - low.theta
    tangent = tangent / np.linalg.norm(tangent)
    m = mode_landscape(depth, float(etas[k]), beta)
    pos = sad.eigenvalues[sad.eigenvalues > sad.tol]
    return {
        "depth": int(depth), "width": int(width), "dim": len(etas), "sv": [float(e) for e in etas], "beta": beta,
        "modes_at_saddle": list(sad.modes), "index": sad.index, "n_zero": sad.n_zero,
        "orbit_dimension": sad.orbit_dimension, "unstable_eigenvalue": sad.unstable_eigenvalue,
        "d2U_dr2_at_saddle_1d": m.curvature_saddle,
        "cos_unstable_direction_vs_path": float(abs(tangent @ sad.unstable_direction)),
        "smallest_positive_eigenvalue": float(pos.min()) if pos.size else None,
        "barrier_weight_space": sad.energy - low.energy, "barrier_1d": m.barrier_forward,
    }


@register_figure("fig2a", title="Loss along the minimal path at beta = 0.29, 0.32, 0.35 (Fig. 2(a))", order=2.1)
def fig2a(*, preset: str, out_dir: Path, seed: int, progress: bool = False) -> FigureResult:
    """Fig. 2(a): ell(lambda) - ell(0) of the eta = 0.8 mode (L = 3), against lambda and against r."""
    L, eta, betas = 3, 0.8, (0.29, 0.32, 0.35)
    quick = preset != "full"
    n = 601 if quick else 2001
    fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11.0, 4.3))
    plotting.plot_minimal_path(minimal_path_curves(L, eta, betas, coordinate="lambda", n=n), ax=ax1,
                               references={r"paper: $\lambda_{sad}\approx 0.41$ ($\beta=0.32$)": 0.41},
                               title=rf"(a) against $\lambda$ ($L={L}$, $\eta={eta}$)")
    plotting.plot_minimal_path(minimal_path_curves(L, eta, betas, coordinate="r", n=n), ax=ax2, annotate=False,
                               xlabel=r"arc length $r=\sqrt{L}\,a$ of the balanced path (weight units)",
                               ylabel=r"$U(r)-U(0)$  (loss units)",
                               title=r"(b) against weight-space arc length $r$")
    numbers = {f"beta={b:g}": {k: v for k, v in mode_landscape(L, eta, b).to_dict().items()
                               if k not in ("depth", "sv", "beta", "beta_c", "beta_star", "lambda_c", "lambda_star")}
               for b in betas}
    numbers["beta_c"] = beta_c(L, eta)
    numbers["beta_star"] = beta_star(L, eta)
    numbers["mode_eta_0.9_at_0.32"] = mode_landscape(L, 0.9, 0.32).to_dict()
    chain = minimal_path_check(L, [eta], 0.32, width=1)
    paper_net = minimal_path_check(L, [0.9, eta], 0.32, width=10)
    numbers["minimal_path_check_scalar_chain"] = chain
    numbers["minimal_path_check_paper_network"] = paper_net
    mep = (
        "The balanced path is the minimum-energy path in weight space, checked at beta = 0.32 with the full Hessian: "
        f"for the scalar chain (w = p = 1) the saddle has index {chain['index']}, its unstable eigenvalue "
        f"{chain['unstable_eigenvalue']:.6f} equals d2U/dr2 = {chain['d2U_dr2_at_saddle_1d']:.6f} of the 1-D "
        f"reduction with its eigenvector along the path (|cos| = {chain['cos_unstable_direction_vs_path']:.12f}), "
        f"and the transverse eigenvalues are 2 beta = {chain['smallest_positive_eigenvalue']:.4f}; for the paper's "
        f"network (w = 10, p = 2, eta = (0.9, 0.8), eta = 0.9 mode learned) the saddle has index {paper_net['index']} "
        f"and {paper_net['n_zero']} zero modes (the hidden-layer rotation orbit, dimension "
        f"{paper_net['orbit_dimension']}), unstable eigenvalue {paper_net['unstable_eigenvalue']:.6f}, |cos| = "
        f"{paper_net['cos_unstable_direction_vs_path']:.12f} with the eta = 0.8 mode's balanced path, and barrier "
        f"{paper_net['barrier_weight_space']:.6f} (1-D: {paper_net['barrier_1d']:.6f}). The path is invariant under "
        "gradient flow by symmetry, so the steepest descents from the saddle run along it."
    )
    caption = (
        f"Loss relative to the trivial state along the balanced path of the eta = {eta} mode (L = {L}) at "
        f"beta = {', '.join(f'{b:g}' for b in betas)} (exact theory, no simulation). Open circles: trivial minimum; "
        "crosses: saddle; filled circles: learned minimum; arrows: forward barrier dE_f (trivial -> learned) and "
        "reverse barrier dE_r (learned -> trivial), their values in the legend (no reverse arrow where dE_r is "
        "below 2 % of the plotted range); grey dashed line: the saddle position the paper states for "
        "beta = 0.32 (lambda_sad ~ 0.41, with dE ~ 0.003). " + mep
    )
    fig.get_layout_engine().set(w_pad=0.1)
    spread = finite_sample_spread((0.9, eta), n_train=512, n_sets=500 if quick else 4000, seed=seed, depth=L)
    numbers["finite_training_sets"] = spread.summary()
    return finish("fig2a", fig, out_dir,
                  params={"depth": L, "eta": eta, "betas": list(betas), "grid_points": n, "n_train": 512,
                          "n_training_sets": spread.n_sets},
                  numbers=numbers, claims=theory_claims_fig2a(L, 0.32, spread=spread), caption=caption)


@register_figure("fig4", title="Bifurcation diagram for eta = 0.9 and 0.8 (Fig. 4)", order=4.0)
def fig4(*, preset: str, out_dir: Path, seed: int, progress: bool = False) -> FigureResult:
    """Fig. 4: stable and unstable lambda against beta for eta = 0.9, 0.8 (L = 3), with beta* and beta_c."""
    L, etas = 3, (0.9, 0.8)
    quick = preset != "full"
    n = 300 if quick else 1000
    fig, ax = plotting.new_figure(figsize=(6.4, 4.6))
    plotting.plot_bifurcation(bifurcation_branches(L, etas, n=n), ax=ax,
                              title=rf"Stationary $\lambda$ of each mode, $L={L}$ (exact theory)")
    numbers = {f"eta={e:g}": {"beta_c": beta_c(L, e), "lambda_c": lambda_c(L, e), "beta_star": beta_star(L, e),
                              "lambda_star": lambda_star(L, e)} for e in etas}
    spread = finite_sample_spread(etas, n_train=512, n_sets=500 if quick else 4000, seed=seed, depth=L)
    numbers["finite_training_sets"] = spread.summary()
    caption = (
        "Non-trivial stationary end-to-end singular values lambda against the L2 strength beta for each mode (L = 3): "
        "learned minima (solid), saddles (dashed), and the trivial minimum lambda = 0 (solid black; a minimum for "
        "every beta when L >= 3). Diamonds: folds (beta_c, lambda_c), where the learned minimum disappears "
        "(Eq. (3)); stars: coexistence (beta*, lambda*), where both minima are equally deep. Between beta* and "
        "beta_c the learned state is metastable; below beta* the trivial state is."
    )
    return finish("fig4", fig, out_dir,
                  params={"depth": L, "etas": list(etas), "points_per_branch": n, "n_train": 512,
                          "n_training_sets": spread.n_sets},
                  numbers=numbers, claims=theory_claims_beta_c(L, etas, spread=spread), caption=caption)


@register_figure("depth", title="Depth dependence of beta_c, beta* and the barriers, L = 3..6 (beyond the paper)",
                 order=20.0)
def depth_figure(*, preset: str, out_dir: Path, seed: int, progress: bool = False) -> FigureResult:
    """Beyond the paper: beta_c, beta* and barriers (at beta* and at 0.9 beta_c) for L = 3..6."""
    depths, etas, frac = (3, 4, 5, 6), (0.9, 0.8), 0.9
    tab = depth_table(depths, etas, fraction=frac)
    fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10.5, 5.0))
    series, styles = {}, {}
    for i, e in enumerate(etas):
        col = plotting.COLORS[i]
        row = tab[f"{e:g}"]
        series[rf"$\beta_c$, $\eta={e:g}$"] = np.array(row["beta_c"])
        styles[rf"$\beta_c$, $\eta={e:g}$"] = {"color": col, "ls": "-", "marker": "D"}
        series[rf"$\beta^*$, $\eta={e:g}$"] = np.array(row["beta_star"])
        styles[rf"$\beta^*$, $\eta={e:g}$"] = {"color": col, "ls": "--", "marker": "*", "ms": 9}
    plotting.plot_depth_dependence(depths, series, styles=styles, ax=ax1, ylabel=r"L2 strength $\beta$",
                                   legend_below=True,
                                   title=r"(a) spinodal $\beta_c$ and coexistence $\beta^*$")
    series, styles = {}, {}
    for i, e in enumerate(etas):
        col = plotting.COLORS[i]
        row = tab[f"{e:g}"]
        for key, lab, ls, mk in (("barrier_at_beta_star", r"at $\beta^*$ (fwd = rev)", "-", "o"),
                                 ("forward_at_fraction", rf"forward at {frac:g}$\beta_c$", "--", "^"),
                                 ("reverse_at_fraction", rf"reverse at {frac:g}$\beta_c$", ":", "v")):
            name = rf"$\eta={e:g}$: {lab}"
            series[name] = np.array(row[key])
            styles[name] = {"color": col, "ls": ls, "marker": mk}
    plotting.plot_depth_dependence(depths, series, styles=styles, ax=ax2, logy=True, legend_below=True,
                                   ylabel=r"barrier $\Delta E$  (loss units)",
                                   title=r"(b) barriers of the balanced path")
    caption = (
        "Beyond the paper (exact theory): (a) the spinodal beta_c (Eq. (3)) and the coexistence point beta* of each "
        f"mode for depth L = {depths[0]}..{depths[-1]}; (b) the barrier at beta* (where forward and reverse "
        f"barriers coincide) and the forward (trivial -> learned) and reverse (learned -> trivial) barriers at "
        f"beta = {frac:g} beta_c. Deeper networks have a wider metastable window (beta*/beta_c falls) and a much "
        "higher forward barrier, while the reverse barrier near the spinodal stays of the same size."
    )
    return finish("depth", fig, out_dir, params={"depths": list(depths), "etas": list(etas), "fraction": frac},
                  numbers=tab, caption=caption)
