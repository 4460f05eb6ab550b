"""Gaussian teacher data for deep linear networks, and reference fits.

Samples are zero-mean Gaussian pairs (x, y) in R^p x R^p with covariances Sigma_xx (default I),
Sigma_yy (default I) and cross-covariance ``Sigma_yx = U diag(eta) V^T``. As in the seed paper each
sample is drawn as ``z = C eps`` with ``eps ~ N(0, I_2p)`` and ``C C^T`` the joint covariance
``[[Sigma_xx, Sigma_yx^T], [Sigma_yx, Sigma_yy]]`` (Cholesky factor), so ``z = (x, y)``.

Arrays hold one sample per row: ``X`` has shape ``(N, p)``. A network's end-to-end map ``M``
(shape ``(p, p)``) predicts ``X @ M.T``.

Units of error: ``mse`` is the mean over samples *and outputs* of the squared residual,
``1/(N p) sum_n |M x_n - y_n|^2`` (torch's ``MSELoss()`` with its default ``reduction="mean"``).
The training loss of docs/theory.md is ``1/(2N) sum_n |M x_n - y_n|^2 + beta/2 |W|^2``; its data part
equals ``mse`` only for p = 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.seeds import as_seed_sequence
from .._core.checks import InputError, check_int, check_sv

__all__ = [
    "Dataset",
    "joint_covariance",
    "make_dataset",
    "make_sparse_dataset",
    "second_moments",
    "mse_from_moments",
    "population_optimum",
    "best_rank_k",
    "bayes_mse",
    "population_mse",
    "empirical_cross_svd",
]


# --------------------------------------------------------------------------- seeds
# --------------------------------------------------------------------------- covariances
def _orthogonal(name: str, q, p: int) -> np.ndarray:
    if q is None:
        return np.eye(p)
    q = np.asarray(q, dtype=float)
    if q.shape != (p, p) or not np.all(np.isfinite(q)):
        raise InputError(f"{name} must be a finite ({p}, {p}) array, got shape {q.shape}")
    if not np.allclose(q.T @ q, np.eye(p), atol=1e-10):
        raise InputError(f"{name} must be orthogonal (Q^T Q = I)")
    return q


def _spd(name: str, s, p: int) -> np.ndarray:
    if s is None:
        return np.eye(p)
    s = np.asarray(s, dtype=float)
    if s.shape != (p, p) or not np.all(np.isfinite(s)) or not np.allclose(s, s.T, atol=1e-12):
        raise InputError(f"{name} must be a finite symmetric ({p}, {p}) array")
    if np.linalg.eigvalsh(s)[0] <= 0:
        raise InputError(f"{name} must be positive definite")
    return s


def joint_covariance(sv, dim: int | None = None, sigma_xx=None, sigma_yy=None, u=None, v=None):
    """Joint covariance of (x, y) and its parts.

    Parameters
    ----------
    sv : sequence of float
        Singular values eta of Sigma_yx (> 0). Fewer than ``dim`` values are padded with zeros.
    dim : int, optional
        p, the input and output dimension (default ``len(sv)``).
    sigma_xx, sigma_yy : (p, p) arrays, optional
        Input and output covariances (default identity).
    u, v : (p, p) orthogonal arrays, optional
        Singular vectors: ``Sigma_yx = u diag(eta) v^T`` (default identity: mode i lives on axis i).

    Returns
    -------
    dict with ``joint`` (2p, 2p), ``sigma_xx``, ``sigma_yx``, ``sigma_yy`` (p, p), ``sv`` (p,),
    ``u``, ``v`` (p, p). Raises InputError if the joint covariance is not positive definite
    (with identity Sigma_xx and Sigma_yy this means every eta < 1).
    """
    eta = check_sv(sv, upper=None)
    p = len(eta) if dim is None else check_int("dim", dim, minimum=1)
    if p < len(eta):
        raise InputError(f"dim must be >= the number of singular values ({len(eta)}), got {p}")
    eta_full = np.zeros(p)
    eta_full[: len(eta)] = eta
    sxx = _spd("sigma_xx", sigma_xx, p)
    syy = _spd("sigma_yy", sigma_yy, p)
    U = _orthogonal("u", u, p)
    V = _orthogonal("v", v, p)
    syx = U @ np.diag(eta_full) @ V.T
    joint = np.block([[sxx, syx.T], [syx, syy]])
    if np.linalg.eigvalsh(joint)[0] <= 0:
        raise InputError(
            f"joint covariance of (x, y) is not positive definite for sv={eta.tolist()} "
            "(with identity Sigma_xx and Sigma_yy every sv must be < 1)"
        )
    return {"joint": joint, "sigma_xx": sxx, "sigma_yx": syx, "sigma_yy": syy, "sv": eta_full, "u": U, "v": V}


def _draw(chol: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    p = chol.shape[0] // 2
    z = rng.standard_normal((n, 2 * p)) @ chol.T  # z = C eps, one sample per row
    return np.ascontiguousarray(z[:, :p]), np.ascontiguousarray(z[:, p:])


# --------------------------------------------------------------------------- datasets
@dataclass(frozen=True)
class Dataset:
    """A fixed training set and an independent test set drawn from one Gaussian model.

    Attributes
    ----------
    x_train, y_train : (N, p) arrays
    x_test, y_test : (N_test, p) arrays
    sigma_xx, sigma_yx, sigma_yy : (p, p) population covariances.
    sv : (p,) population singular values of Sigma_yx (zero-padded).
    u, v : (p, p) population singular vectors (``sigma_yx = u diag(sv) v^T``).
    seed : int entropy of the SeedSequence that drew the samples; with ``spawn_key`` it reproduces them
        (``seed=numpy.random.SeedSequence(seed, spawn_key=spawn_key)``).
    n_pool : size of the pool the training set was sub-sampled from (``None`` if not sub-sampled).
    whitened : True if the training inputs were transformed so that ``X^T X / N = I`` exactly.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    sigma_xx: np.ndarray
    sigma_yx: np.ndarray
    sigma_yy: np.ndarray
    sv: np.ndarray
    u: np.ndarray
    v: np.ndarray
    seed: int
    n_pool: int | None = None
    whitened: bool = False
    spawn_key: tuple = ()

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.x_test.shape[0]

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]

    def moments(self, split: str = "train") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Empirical ``(Sigma_xx, Sigma_yx, Sigma_yy)`` of ``split`` ("train" or "test"), 1/N normalised."""
        if split == "train":
            return second_moments(self.x_train, self.y_train)
        if split == "test":
            return second_moments(self.x_test, self.y_test)
        raise InputError(f"split must be 'train' or 'test', got {split!r}")

    def to_dict(self) -> dict:
        """Small JSON-ready summary (no sample arrays)."""
        return {
            "n_train": self.n_train, "n_test": self.n_test, "dim": self.dim, "sv": self.sv.tolist(),
            "seed": self.seed, "spawn_key": list(self.spawn_key), "n_pool": self.n_pool, "whitened": self.whitened,
        }


def _whiten(x: np.ndarray) -> np.ndarray:
    # X <- X S^{-1/2} with S = X^T X / N, so the empirical input covariance is exactly I.
    s = x.T @ x / x.shape[0]
    w, q = np.linalg.eigh(s)
    return x @ (q @ np.diag(w**-0.5) @ q.T)


def make_dataset(sv, n_train: int = 512, n_test: int = 512, dim: int | None = None, *, sigma_xx=None,
                 sigma_yy=None, u=None, v=None, seed=None, whiten_train: bool = False) -> Dataset:
    """Draw a training set and an independent test set (the seed paper's protocol: 512 + 512).

    Parameters
    ----------
    sv : sequence of float
        Singular values of Sigma_yx.
    n_train, n_test : int
        Sample counts N and N_test (>= 1).
    dim : int, optional
        p (default ``len(sv)``).
    sigma_xx, sigma_yy, u, v : optional
        See :func:`joint_covariance`.
    seed : Generator | int | None
        Source of randomness; the SeedSequence entropy is stored in the result.
    whiten_train : bool
        Transform the training inputs so that ``X^T X / N = I`` exactly. Then the training loss is
        exactly the decoupled per-mode loss of docs/theory.md with eta = the singular values of the
        empirical ``Y^T X / N`` (used by tests that compare with the landscape). Off by default.

    Notes
    -----
    Train and test samples come from two child streams of one SeedSequence, so the test set does
    not change when ``n_train`` changes.
    """
    cov = joint_covariance(sv, dim, sigma_xx, sigma_yy, u, v)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    ss = as_seed_sequence(seed)
    g_train, g_test = (np.random.default_rng(s) for s in ss.spawn(2))
    chol = np.linalg.cholesky(cov["joint"])
    xtr, ytr = _draw(chol, n_train, g_train)
    xte, yte = _draw(chol, n_test, g_test)
    if whiten_train:
        if n_train < cov["sv"].size:
            raise InputError(f"whiten_train needs n_train >= dim, got n_train={n_train}")
        xtr = _whiten(xtr)
    return Dataset(xtr, ytr, xte, yte, cov["sigma_xx"], cov["sigma_yx"], cov["sigma_yy"], cov["sv"], cov["u"],
                   cov["v"], int(ss.entropy), None, bool(whiten_train),
                   tuple(int(k) for k in ss.spawn_key))


def make_sparse_dataset(sv, n_train: int = 25, n_pool: int = 5000, n_test: int = 10000, dim: int | None = None,
                        *, sigma_xx=None, sigma_yy=None, u=None, v=None, seed=None) -> Dataset:
    """Sparse sub-sampling (seed paper Fig. 1(b)): ``n_train`` samples chosen at random from a pool of
    ``n_pool`` draws, and a separate test set of ``n_test`` fresh draws."""
    cov = joint_covariance(sv, dim, sigma_xx, sigma_yy, u, v)
    n_pool = check_int("n_pool", n_pool, minimum=1)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    if n_train > n_pool:
        raise InputError(f"n_train must be <= n_pool ({n_pool}), got {n_train}")
    ss = as_seed_sequence(seed)
    g_pool, g_pick, g_test = (np.random.default_rng(s) for s in ss.spawn(3))
    chol = np.linalg.cholesky(cov["joint"])
    xp, yp = _draw(chol, n_pool, g_pool)
    idx = np.sort(g_pick.choice(n_pool, size=n_train, replace=False))
    xte, yte = _draw(chol, n_test, g_test)
    return Dataset(np.ascontiguousarray(xp[idx]), np.ascontiguousarray(yp[idx]), xte, yte, cov["sigma_xx"],
                   cov["sigma_yx"], cov["sigma_yy"], cov["sv"], cov["u"], cov["v"], int(ss.entropy), n_pool, False,
                   tuple(int(k) for k in ss.spawn_key))


# --------------------------------------------------------------------------- errors and fits
def second_moments(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical (uncentred, the model is zero-mean) ``X^T X/N, Y^T X/N, Y^T Y/N``."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.shape[0]
    return x.T @ x / n, y.T @ x / n, y.T @ y / n


def mse_from_moments(m: np.ndarray, sxx: np.ndarray, syx: np.ndarray, syy: np.ndarray) -> np.ndarray:
    """``E|M x - y|^2 / p`` from second moments; ``m`` may carry leading batch axes ``(..., p, p)``.

    ``E|Mx - y|^2 = tr(M Sxx M^T) - 2 tr(M Sxy) + tr(Syy)`` with ``Sxy = Syx^T``.
    """
    m = np.asarray(m, dtype=float)
    p = syy.shape[0]
    quad = np.einsum("...ij,jk,...ik->...", m, sxx, m)
    cross = np.einsum("...ij,ij->...", m, syx)
    return (quad - 2.0 * cross + np.trace(syy)) / p


def population_optimum(sigma_xx: np.ndarray, sigma_yx: np.ndarray) -> np.ndarray:
    """Least-squares map ``M* = Sigma_yx Sigma_xx^{-1}`` (the beta = 0, full-rank optimum)."""
    return np.linalg.solve(np.asarray(sigma_xx, float).T, np.asarray(sigma_yx, float).T).T


def best_rank_k(sigma_xx: np.ndarray, sigma_yx: np.ndarray, k: int) -> np.ndarray:
    """Best rank-k map (reduced-rank regression) minimising ``E|M x - y|^2``.

    ``M_k = P_k Sigma_yx Sigma_xx^{-1}``, ``P_k`` the projector on the top-k eigenvectors of
    ``Sigma_yx Sigma_xx^{-1} Sigma_xy``. For ``Sigma_xx = I`` this is the truncated SVD of Sigma_yx.
    Pass empirical moments for the best fit on a finite sample.
    """
    sxx = np.asarray(sigma_xx, float)
    syx = np.asarray(sigma_yx, float)
    p = syx.shape[0]
    k = check_int("k", k, minimum=0)
    if k > p:
        raise InputError(f"k must be <= dim ({p}), got {k}")
    m_star = population_optimum(sxx, syx)
    w, q = np.linalg.eigh(m_star @ syx.T)  # Syx Sxx^-1 Sxy, symmetric PSD
    top = q[:, np.argsort(w)[::-1][:k]]
    return top @ top.T @ m_star


def population_mse(m: np.ndarray, data: Dataset) -> np.ndarray:
    """Population (infinite test set) ``mse`` of end-to-end map(s) ``m`` under the data model."""
    return mse_from_moments(m, data.sigma_xx, data.sigma_yx, data.sigma_yy)


def bayes_mse(data: Dataset) -> float:
    """Irreducible error ``tr(Syy - Syx Sxx^{-1} Sxy) / p`` (``mse`` units)."""
    return float(population_mse(population_optimum(data.sigma_xx, data.sigma_yx), data))


def empirical_cross_svd(data: Dataset, split: str = "train") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD ``(U, s, Vt)`` of the empirical ``Y^T X / N``, with signs fixed so that the singular
    vectors point along the population ones (``diag(U^T u) >= 0``)."""
    _, syx, _ = data.moments(split)
    U, s, Vt = np.linalg.svd(syx)
    sign = np.sign(np.einsum("ij,ij->j", U, data.u))
    sign[sign == 0] = 1.0
    return U * sign, s, Vt * sign[:, None]
