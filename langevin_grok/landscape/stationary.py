"""Stationary points of the deep linear network in weight space, their Hessian spectra and symmetry orbits.

Embedded stationary points (:func:`stationary_point`) place each mode at one of its per-mode stationary
amplitudes (trivial, saddle, learned; :mod:`langevin_grok.landscape.modes`) along the singular vectors of
``Sigma_yx``; the hidden-layer rotations O(w)^(L-1) make them orbits whose tangents (:func:`orbit_tangents`) span
the Hessian's zero modes. Conventions: ``docs/theory.md``, sections "Weight space, noise and time" and 1.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import InputError, check_beta, check_depth, check_int, check_rng
from .modes import stationary_amplitudes, u
from .network import (MODE_KINDS, RTOL, _STRUCT_RTOL, DeepLinearNetwork, _as_theta, _fmt, _haar_orthogonal,
                      _unpack, pack)

__all__ = ["MODE_KINDS", "HessianSpectrum", "StationaryPoint", "default_tolerance", "hessian_spectrum",
           "orbit_dimension", "orbit_tangents", "stationary_point", "stationary_points", "equivalent_saddles"]


def default_tolerance(eigenvalues: np.ndarray, rtol: float = RTOL) -> float:
    """Zero-mode threshold ``rtol * max|mu|`` (``rtol = 1e-8`` by default; 0 for an all-zero spectrum)."""
    ev = np.asarray(eigenvalues, dtype=float)
    return float(rtol * np.max(np.abs(ev))) if ev.size else 0.0

@dataclass(frozen=True, eq=False)
class HessianSpectrum:
    """Eigen-decomposition of the Hessian at one point.

    Attributes
    ----------
    eigenvalues : array (D,), ascending.
    eigenvectors : array (D, D), columns are unit eigenvectors (``eigenvectors[:, i]``).
    index : number of eigenvalues < -tol.
    n_zero : number of eigenvalues with ``|mu| <= tol``.
    tol : the threshold used (absolute, in loss units per squared weight).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    index: int
    n_zero: int
    tol: float

    def to_dict(self) -> dict:
        """JSON-ready dict (eigenvectors omitted: D x D)."""
        return {"eigenvalues": self.eigenvalues.tolist(), "index": self.index,
                "n_zero": self.n_zero, "tol": self.tol}

def hessian_spectrum(net: DeepLinearNetwork, theta, tol: float | None = None) -> HessianSpectrum:
    """Hessian eigenvalues (ascending), eigenvectors, index and number of zero modes at ``theta``.

    Parameters
    ----------
    net : DeepLinearNetwork
    theta : array (D,)
    tol : float, optional
        Absolute threshold: ``|mu| <= tol`` is a zero mode, ``mu < -tol`` counts towards the index.
        Default :func:`default_tolerance`: ``1e-8 * max|mu|``.
    """
    H = net.hessian(theta)
    ev, vec = np.linalg.eigh(H)
    if tol is None:
        tol = default_tolerance(ev)
    else:
        tol = check_beta(tol, name="tol")
    return HessianSpectrum(ev, vec, int(np.sum(ev < -tol)), int(np.sum(np.abs(ev) <= tol)), float(tol))

def orbit_dimension(depth: int, width: int, n_active: int) -> int:
    """Dimension of the hidden-layer rotation orbit through a point with ``n_active`` non-trivial modes.

    Each hidden layer ``l = 1..L-1`` carries an orthogonal symmetry ``W_l -> O_l W_l``,
    ``W_{l+1} -> W_{l+1} O_l^T`` (loss and L2 term unchanged). At an embedded point the k active modes
    occupy a k-dimensional subspace of every hidden layer with non-zero amplitudes. A generator
    ``Omega_l`` (antisymmetric w x w) leaves the point fixed iff it acts only inside the (w-k)-dimensional
    unused subspace: ``Omega_1 W_1 = 0`` forces ``Omega_1`` to vanish on the used columns (``W_1`` has
    full row rank k on them), hence by antisymmetry on the used rows, and then ``W_2 Omega_1 = 0`` so
    the same argument applies to ``Omega_2``, and so on. So the stabiliser is ``so(w-k)^(L-1)`` and::

        orbit dim = (L-1) [ w(w-1)/2 - (w-k)(w-k-1)/2 ] = (L-1) [ k (w-k) + k (k-1)/2 ]

    (``(L-1)(w-1)`` for one active mode). At a stationary point each orbit direction is a Hessian zero
    mode. For beta > 0 and distinct non-zero singular values these are all the zero modes (checked in
    the tests); beta = 0 adds the rescaling symmetries and degenerate singular values add input/output
    rotations.
    """
    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    k = check_int("n_active", n_active, minimum=0)
    if k > w:
        raise InputError(f"n_active must be <= width = {w}, got {k}")
    return (L - 1) * (k * (w - k) + k * (k - 1) // 2)

def orbit_tangents(net: DeepLinearNetwork, theta) -> np.ndarray:
    """Tangent vectors of the hidden-layer rotation orbit at ``theta``, one per generator.

    For hidden layer ``l = 1..L-1`` and unit pair ``i < j`` the generator ``Omega = E_ij - E_ji`` moves
    ``W_l -> Omega W_l`` and ``W_{l+1} -> -W_{l+1} Omega``. Columns are ordered by layer, then by
    ``(i, j)`` in ``numpy.triu_indices(w, 1)`` order.

    Returns
    -------
    array, shape (D, (L-1) w (w-1) / 2)
        Unnormalised tangents; their rank is :func:`orbit_dimension` at an embedded point, their Gram
        matrix is the metric the orbit inherits from weight space (for Eyring-Kramers with zero modes).
        At a stationary point ``H @ T = 0`` up to rounding.
    """
    Ws = net.unpack(theta)
    L, w = net.depth, net.width
    offs = np.concatenate([[0], np.cumsum([W.size for W in Ws])])
    iu, ju = np.triu_indices(w, 1)
    n_pair = iu.size
    T = np.zeros((net.n_params, (L - 1) * n_pair))
    for l in range(L - 1):  # hidden layer between Ws[l] (output side) and Ws[l + 1] (input side)
        W, Wn = Ws[l], Ws[l + 1]
        for c, (i, j) in enumerate(zip(iu, ju)):
            dW = np.zeros_like(W)
            dW[i], dW[j] = W[j], -W[i]  # Omega W
            dWn = np.zeros_like(Wn)
            dWn[:, j], dWn[:, i] = -Wn[:, i], Wn[:, j]  # -Wn Omega
            col = l * n_pair + c
            T[offs[l] : offs[l + 1], col] = dW.ravel()
            T[offs[l + 1] : offs[l + 2], col] = dWn.ravel()
    return T

@dataclass(frozen=True, eq=False)
class StationaryPoint:
    """A constructed stationary point and its Hessian spectrum.

    Attributes
    ----------
    theta : array (D,)
        The point (layout in the module docstring).
    modes : tuple of str
        ``"trivial" | "saddle" | "learned"`` per singular value of Sigma_yx (descending order).
    amplitudes : array (p,)
        Per-layer amplitude a_i of each mode (0 for trivial ones); end-to-end singular value a_i^L.
    loss : float
        ``Loss(theta)`` including the constant ``tr(Sigma_yy)/2``.
    energy : float
        ``loss - Loss(0)``: the sum of the per-mode ``u(a_i)`` (times ``v_i^T Sigma_xx v_i``).
    gradient_norm : float
        ``|grad Loss(theta)|``; ~1e-15 at a correctly built point.
    eigenvalues : array (D,), ascending; eigenvectors : array (D, D), columns.
    index : int
        Number of eigenvalues ``< -tol``.
    n_zero : int
        Number of eigenvalues with ``|mu| <= tol``.
    tol : float
        Zero-mode threshold used (default ``1e-8 * max|mu|``, see :func:`default_tolerance`).
    orbit_dimension : int
        Dimension of the hidden-layer rotation orbit (:func:`orbit_dimension`), the expected ``n_zero``.
    seed : int | None
        Seed of the random hidden frames, if an integer seed was given.
    """

    theta: np.ndarray = field(repr=False)  # (D,): a repr would print D numbers (140 on the paper network)
    modes: tuple[str, ...]
    amplitudes: np.ndarray
    loss: float
    energy: float
    gradient_norm: float
    eigenvalues: np.ndarray = field(repr=False)
    eigenvectors: np.ndarray = field(repr=False)  # (D, D)
    index: int
    n_zero: int
    tol: float
    orbit_dimension: int
    seed: int | None = None

    @property
    def kind(self) -> str:
        """The modes as one string, e.g. ``"learned,trivial"``."""
        return ",".join(self.modes)

    @property
    def is_isolated(self) -> bool:
        """True when the Hessian has no zero modes (the isolated Eyring-Kramers formula may apply)."""
        return self.n_zero == 0

    @property
    def unstable_direction(self) -> np.ndarray | None:
        """Unit eigenvector of the most negative Hessian eigenvalue (the escape direction), shape ``(D,)``.

        ``None`` when ``index == 0``. Sign: ``e . theta > 0`` (moving along +e grows the point away from
        theta = 0, towards the learned state of the saddle mode); if ``e . theta == 0``, the largest
        component is positive.
        """
        if self.index == 0:
            return None
        e = self.eigenvectors[:, 0].copy()
        s = float(np.dot(e, self.theta))
        if abs(s) <= 1e-12 * max(1.0, float(np.linalg.norm(self.theta))):
            s = e[np.argmax(np.abs(e))]
        return e if s > 0 else -e

    @property
    def nonzero_eigenvalues(self) -> np.ndarray:
        """Eigenvalues with ``|mu| > tol`` (ascending): the curvatures transverse to the zero modes."""
        return self.eigenvalues[np.abs(self.eigenvalues) > self.tol]

    @property
    def log_abs_det_nonzero(self) -> float:
        """``sum log|mu|`` over :attr:`nonzero_eigenvalues` (``log|det H|`` when ``n_zero == 0``)."""
        return float(np.sum(np.log(np.abs(self.nonzero_eigenvalues))))

    @property
    def unstable_eigenvalue(self) -> float | None:
        """The most negative eigenvalue ``mu_1 < 0`` (``None`` when ``index == 0``)."""
        return None if self.index == 0 else float(self.eigenvalues[0])

    def to_dict(self, n_eigenvalues: int | None = None) -> dict:
        """JSON-ready dict; eigenvectors omitted. ``n_eigenvalues`` keeps only the smallest ones."""
        ev = self.eigenvalues if n_eigenvalues is None else self.eigenvalues[:n_eigenvalues]
        return {
            "modes": list(self.modes), "amplitudes": self.amplitudes.tolist(), "loss": self.loss,
            "energy": self.energy, "gradient_norm": self.gradient_norm, "index": self.index,
            "n_zero": self.n_zero, "orbit_dimension": self.orbit_dimension, "tol": self.tol,
            "eigenvalues": ev.tolist(), "theta": self.theta.tolist(), "seed": self.seed,
        }

def _analyse(net: DeepLinearNetwork, theta: np.ndarray, modes, amplitudes, energy, k, seed, tol):
    spec = hessian_spectrum(net, theta, tol)
    theta = np.array(theta, dtype=float)
    theta.setflags(write=False)
    return StationaryPoint(
        theta=theta, modes=tuple(modes), amplitudes=np.asarray(amplitudes, dtype=float),
        loss=net.loss(theta), energy=float(energy), gradient_norm=float(np.linalg.norm(net.grad(theta))),
        eigenvalues=spec.eigenvalues, eigenvectors=spec.eigenvectors, index=spec.index,
        n_zero=spec.n_zero, tol=spec.tol, orbit_dimension=orbit_dimension(net.depth, net.width, k), seed=seed,
    )

def _check_modes(modes, p: int) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = [m.strip() for m in modes.split(",")]
    try:
        modes = tuple(modes)
    except TypeError:
        raise InputError(f"modes must be a sequence of {'|'.join(MODE_KINDS)}, got {_fmt(modes)}") from None
    if not 1 <= len(modes) <= p:
        raise InputError(f"modes must have 1..dim = {p} entries (one per singular value), got {len(modes)}: "
                         f"{_fmt(modes)}")
    for m in modes:
        if m not in MODE_KINDS:
            raise InputError(f"modes entries must be one of {', '.join(MODE_KINDS)}, got {_fmt(m)}")
    return modes + ("trivial",) * (p - len(modes))

def stationary_point(
    net: DeepLinearNetwork,
    modes,
    rng: np.random.Generator | int | None = None,
    tol: float | None = None,
) -> StationaryPoint:
    """Embed the balanced, aligned per-mode solution into weight space and analyse its Hessian.

    Parameters
    ----------
    net : DeepLinearNetwork
    modes : sequence of str (or one comma-separated string)
        ``"trivial" | "saddle" | "learned"`` per singular value of Sigma_yx in descending order
        (``U, eta, V^T = svd(Sigma_yx)``). Fewer than ``dim`` entries: the rest are trivial.
    rng : Generator | int | None
        ``None`` (default): the k non-trivial modes use hidden units ``0..k-1`` of every hidden layer.
        Otherwise each hidden layer gets a Haar-random orthonormal k-frame ``Q_l`` (w x k) from ``rng``.
    tol : float, optional
        Zero-mode threshold, see :func:`hessian_spectrum`.

    Returns
    -------
    StationaryPoint

    Examples
    --------
    The worked example of docs/theory.md (L = 3, eta = 0.8, beta = 0.32) as a scalar chain:

    >>> net = DeepLinearNetwork.from_singular_values(3, 1, 1, [0.8], 0.32)
    >>> sp = stationary_point(net, ["saddle"])
    >>> sp.index, sp.n_zero, round(sp.energy, 6)
    (1, 0, 0.028453)

    Notes
    -----
    With active modes ``S`` and amplitudes ``a = a_S``::

        W_1 = Q_1 diag(a) V_S^T,  W_l = Q_l diag(a) Q_{l-1}^T (1 < l < L),  W_L = U_S diag(a) Q_{L-1}^T

    so ``W_L..W_1 = U_S diag(a^L) V_S^T``. The amplitudes come from
    :func:`langevin_grok.landscape.modes.stationary_amplitudes` (index 0 saddle, 1 learned).

    Supported Sigma_xx: every active right singular vector ``v_i`` must be an eigenvector of Sigma_xx,
    ``Sigma_xx v_i = s_i v_i`` with ``s_i > 0`` (always true for Sigma_xx = I, the data model of
    docs/theory.md). The mode then solves the per-mode problem with ``eta_i / s_i`` and ``beta / s_i``, and
    its energy is ``s_i u(a_i; eta_i/s_i, beta/s_i)``. Anything else raises :class:`InputError`
    (the stationary points are then not aligned with the SVD of Sigma_yx).
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    L, w, p = net.depth, net.width, net.dim
    modes = _check_modes(modes, p)
    active = [i for i, m in enumerate(modes) if m != "trivial"]
    k = len(active)
    if k > w:
        raise InputError(f"width = {w} is smaller than the number of non-trivial modes {k} in {_fmt(list(modes))}")
    gen, seed = (None, None) if rng is None else check_rng(rng)
    U, eta, Vt = np.linalg.svd(net.sigma_yx)
    zero_sv = 1e-12 * max(1.0, float(eta[0]))
    sxx = net.sigma_xx
    sxx_scale = max(1.0, float(np.linalg.norm(sxx, 2)))
    amps = np.zeros(p)
    energy = 0.0
    for i in active:
        if eta[i] <= zero_sv:
            raise InputError(f"modes[{i}] = {modes[i]!r} needs a non-zero singular value, got sv = {eta[i]:.3g}")
        v = Vt[i]
        s = float(v @ sxx @ v)
        if np.linalg.norm(sxx @ v - s * v) > _STRUCT_RTOL * sxx_scale or s <= 0:
            raise InputError(
                f"sigma_xx is not supported for modes[{i}]: the right singular vector of sigma_yx must be an "
                f"eigenvector of sigma_xx with a positive eigenvalue (e.g. sigma_xx = I)")
        a_sad, a_min = stationary_amplitudes(L, float(eta[i]) / s, net.beta / s)
        a = a_sad if modes[i] == "saddle" else a_min
        if a is None:
            raise InputError(
                f"modes[{i}] = {modes[i]!r} does not exist at depth = {L}, sv = {eta[i]:.6g}, beta = {net.beta:.6g}"
                + (" (no saddle for depth 2)" if L == 2 else ""))
        amps[i] = a
        energy += s * float(u(a, L, float(eta[i]) / s, net.beta / s))
    if k == 0:
        theta = np.zeros(net.n_params)
    else:
        a = amps[active]
        if gen is None:
            frames = [np.eye(w)[:, :k] for _ in range(L - 1)]
        else:
            frames = [_haar_orthogonal(gen, w, k) for _ in range(L - 1)]
        Ws = [frames[0] @ (a[:, None] * Vt[active])]
        for l in range(1, L - 1):
            Ws.append((frames[l] * a) @ frames[l - 1].T)
        Ws.append((U[:, active] * a) @ frames[-1].T)
        theta = pack(Ws)
    return _analyse(net, theta, modes, amps, energy, k, seed, tol)

def stationary_points(
    net: DeepLinearNetwork, rng: np.random.Generator | int | None = None, tol: float | None = None
) -> tuple[StationaryPoint, ...]:
    """Every constructible mode combination (product over the p modes of the kinds that exist there,
    with at most ``width`` non-trivial modes), in lexicographic order of ``MODE_KINDS``."""
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    out = []
    for combo in itertools.product(MODE_KINDS, repeat=net.dim):
        if sum(m != "trivial" for m in combo) > net.width:
            continue
        try:
            out.append(stationary_point(net, combo, rng=rng, tol=tol))
        except InputError as exc:
            # Only "does not exist here" (or zero singular value) skips a combination; any other problem
            # with the network is reported.
            if "does not exist" in str(exc) or "non-zero singular value" in str(exc):
                continue
            raise
    return tuple(out)

def equivalent_saddles(net: DeepLinearNetwork, point: StationaryPoint) -> tuple[StationaryPoint, ...]:
    """The 2^(L-1) images of ``point`` under the hidden-unit sign flips of a width-1 network.

    For ``width == 1`` each hidden layer's O(1) = {+1, -1} symmetry flips ``W_l -> d_l W_l d_{l-1}`` with
    ``d_0 = d_L = 1`` and ``d_l = +-1`` for the L-1 hidden units. For the scalar chain (w = p = 1) these
    are exactly the sign patterns of the L weights whose product is positive. Each image is re-analysed
    (loss, gradient, Hessian), so callers can check that all are stationary with equal energy and index.
    The first entry is ``point`` itself (all ``d_l = +1``). The 2^(L-1) images are distinct when no
    layer is zero (e.g. the scalar-chain saddle, so ``n_sad = 2^(L-1)`` for the escape from 0); the
    trivial point is its own image, so count distinct thetas rather than entries in general.

    For ``width > 1`` the sign flips lie on a continuous rotation orbit (the saddle is not isolated),
    so there is no finite count and :class:`InputError` is raised.
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    if net.width != 1:
        raise InputError(
            f"width = {net.width}: equivalent saddles form a continuous O(width) orbit for width > 1, "
            "not a finite set; use StationaryPoint.n_zero / orbit_dimension")
    theta = _as_theta(point.theta, net.n_params, name="point.theta")
    L = net.depth
    k = int(np.sum(np.asarray(point.amplitudes) != 0))
    out = []
    for flips in itertools.product((1.0, -1.0), repeat=L - 1):
        d = (1.0,) + flips + (1.0,)
        Ws = [d[l + 1] * W * d[l] for l, W in enumerate(_unpack(theta, net.shapes))]
        out.append(_analyse(net, pack(Ws), point.modes, point.amplitudes, point.energy, k, point.seed, point.tol))
    return tuple(out)
