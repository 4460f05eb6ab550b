"""Compiled kernels of the end-to-end SDE (:mod:`langevin_grok.sgd.end_to_end`): fields at one W and an ensemble
of Euler-Maruyama paths run in parallel, one counter-based random stream per path
(:mod:`langevin_grok.langevin.streams`, so path i draws the same numbers whatever the thread count).

The fields are those of :func:`langevin_grok.sgd.end_to_end.end_to_end_fields` (the numpy reference, which the
tests compare them with at random W): the drift -K[G] - L beta W + ito and a square root of D,

    sqrt(D) = sqrt(lr / 2B) R diag(k) R^T chol(C),    R[(a, b), (i, j)] = U_ai V_bj,

C = Cov_n(r_n x_n^T) in W's row-major entries, k_ij = sum_l s_i^(2(L-l)/L) s_j^(2(l-1)/L) (K is diagonal in the
singular frame), so that sqrt(D) sqrt(D)^T = lr/(2B) K C K^T (docs/theory.md, "The end-to-end diffusion").
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..langevin.streams import _normal

__all__ = []


@numba.njit(cache=True)
def _powr(s, e):
    # s^e for s >= 0 with 0^0 = 1
    if e == 0.0:
        return 1.0
    if s <= 0.0:
        return 0.0
    return s ** e


@numba.njit(cache=True)
def _svd_into(W, U, s, Vt):
    """W = U diag(s) Vt with s >= 0 descending: closed form for p = 2 (Blinn's rotations), LAPACK otherwise."""
    p = W.shape[0]
    if p == 2:
        e = 0.5 * (W[0, 0] + W[1, 1])
        f = 0.5 * (W[0, 0] - W[1, 1])
        g = 0.5 * (W[1, 0] + W[0, 1])
        h = 0.5 * (W[1, 0] - W[0, 1])
        qq = math.sqrt(e * e + h * h)
        rr = math.sqrt(f * f + g * g)
        a1 = math.atan2(g, f)
        a2 = math.atan2(h, e)
        th = 0.5 * (a2 - a1)
        ph = 0.5 * (a2 + a1)
        cp, sp = math.cos(ph), math.sin(ph)
        ct, st = math.cos(th), math.sin(th)
        sy = qq - rr
        sgn = 1.0 if sy >= 0.0 else -1.0
        s[0] = qq + rr
        s[1] = abs(sy)
        U[0, 0] = cp
        U[1, 0] = sp
        U[0, 1] = -sp * sgn
        U[1, 1] = cp * sgn
        Vt[0, 0] = ct
        Vt[0, 1] = -st
        Vt[1, 0] = st
        Vt[1, 1] = ct
        return
    u, sv, vt = np.linalg.svd(W)
    U[:, :] = u
    s[:] = sv
    Vt[:, :] = vt


@numba.njit(cache=True)
def _matmul_into(a, b, out, transpose_a):
    """out = a @ b, or a^T @ b (square matrices; no allocation in the step)."""
    n = out.shape[0]
    for r in range(n):
        for c in range(n):
            acc = 0.0
            for m in range(n):
                acc += (a[m, r] if transpose_a else a[r, m]) * b[m, c]
            out[r, c] = acc


@numba.njit(cache=True)
def fields_one(W, sxx, syx, m4, m3, m2, L, beta, lr_b, drift, root, cov, cf, rmat, chol):
    """Drift (p, p) and sqrt(D) (p^2, p^2) at one W (module docstring); returns False where C is not positive
    definite (its Cholesky factor is then taken with the non-positive pivots set to zero)."""
    p = W.shape[0]
    q = p * p
    G = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            acc = -syx[i, j]
            for a in range(p):
                acc += W[i, a] * sxx[a, j]
            G[i, j] = acc
    # C[(i, j), (k, l)] = E[r_i x_j r_k x_l] - G_ij G_kl, r x^T linear in W
    for i in range(p):
        for j in range(p):
            for k in range(p):
                for m in range(p):
                    e = m2[i, j, k, m]
                    for a in range(p):
                        e -= W[i, a] * m3[a, j, k, m] + W[k, a] * m3[a, m, i, j]
                        for b in range(p):
                            e += W[i, a] * W[k, b] * m4[a, j, b, m]
                    cov[i * p + j, k * p + m] = e - G[i, j] * G[k, m]
    U = np.empty((p, p))
    s = np.empty(p)
    Vt = np.empty((p, p))
    _svd_into(W, U, s, Vt)
    for a in range(p):
        for b in range(p):
            for i in range(p):
                for j in range(p):
                    rmat[a * p + b, i * p + j] = U[a, i] * Vt[j, b]
    _matmul_into(cov, rmat, chol, False)  # cf = R^T cov R (chol as scratch)
    _matmul_into(rmat, chol, cf, True)
    pw = np.empty((p, 3 * L + 1))  # pw[i, n] = s_i^(n / L), 0^0 = 1 (exponents up to 3L - 4)
    for i in range(p):
        r1 = _powr(s[i], 1.0 / L)
        pw[i, 0] = 1.0
        for n in range(1, 3 * L + 1):
            pw[i, n] = pw[i, n - 1] * r1
    kk = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            acc = 0.0
            for layer in range(1, L + 1):
                acc += pw[i, 2 * (L - layer)] * pw[j, 2 * (layer - 1)]
            kk[i, j] = acc
    A = np.empty((p, p))
    for i in range(p):
        for kx in range(p):
            gf = 0.0  # (U^T G V)_{i kx}
            for a in range(p):
                for b in range(p):
                    gf += U[a, i] * G[a, b] * Vt[kx, b]
            ito = 0.0
            for lo in range(1, L + 1):
                for hi in range(lo + 1, L + 1):
                    for j in range(p):
                        ito += (pw[i, 2 * (L - hi)] * pw[j, 2 * hi - 2 * lo + L - 2] * pw[kx, 2 * (lo - 1)]
                                * cf[i * p + j, j * p + kx])
            A[i, kx] = -kk[i, kx] * gf + 2.0 * lr_b * ito  # lr_b = lr / (2B), the Ito term carries lr / B
    for a in range(p):
        for b in range(p):
            acc = -L * beta * W[a, b]
            for i in range(p):
                for kx in range(p):
                    acc += U[a, i] * A[i, kx] * Vt[kx, b]
            drift[a, b] = acc
    # Cholesky of C (lower), non-positive pivots zeroed
    ok = True
    for c in range(q):
        for r in range(q):
            chol[r, c] = 0.0
    for c in range(q):
        d = cov[c, c]
        for m in range(c):
            d -= chol[c, m] * chol[c, m]
        if d <= 0.0:
            ok = False
            continue
        d = math.sqrt(d)
        chol[c, c] = d
        for r in range(c + 1, q):
            v = cov[r, c]
            for m in range(c):
                v -= chol[r, m] * chol[c, m]
            chol[r, c] = v / d
    # root = sqrt(lr/2B) R diag(k) R^T chol (cf as scratch)
    _matmul_into(rmat, chol, cf, True)
    sc = math.sqrt(lr_b)
    for r in range(q):
        f = sc * kk[r // p, r % p]
        for c in range(q):
            cf[r, c] *= f
    _matmul_into(rmat, cf, root, False)
    return ok


@numba.njit(cache=True)
def fields_many(Ws, sxx, syx, m4, m3, m2, L, beta, lr_b):
    """Drift (M, p, p), D = root root^T (M, p^2, p^2) and the positive-definiteness flags at M states."""
    M, p = Ws.shape[0], Ws.shape[1]
    q = p * p
    drift = np.empty((M, p, p))
    D = np.empty((M, q, q))
    ok = np.empty(M, dtype=np.bool_)
    root = np.empty((q, q))
    cov = np.empty((q, q))
    cf = np.empty((q, q))
    rmat = np.empty((q, q))
    chol = np.empty((q, q))
    for m in range(M):
        ok[m] = fields_one(Ws[m], sxx, syx, m4, m3, m2, L, beta, lr_b, drift[m], root, cov, cf, rmat, chol)
        D[m] = root @ root.T
    return drift, D, ok


@numba.njit(cache=True, parallel=True)
def run_paths(W0, sxx, syx, m4, m3, m2, L, beta, lr_b, dt, n_max, u, v, thr, keys, times, flags, lost):
    """Euler-Maruyama paths from W0 until u^T W v <= thr or n_max steps. ``times[i]``: escape time (step count
    times dt) or n_max dt; ``flags[i]``: 1 escaped, 0 censored, 2 non-finite; ``lost[i]``: steps at which C was
    not positive definite (the noise then loses those directions)."""
    p = W0.shape[0]
    q = p * p
    n_paths = keys.shape[0]
    sig = math.sqrt(2.0 * dt)
    for n in numba.prange(n_paths):
        W = W0.copy()
        drift = np.empty((p, p))
        root = np.empty((q, q))
        cov = np.empty((q, q))
        cf = np.empty((q, q))
        rmat = np.empty((q, q))
        chol = np.empty((q, q))
        xi = np.empty(q)
        st = keys[n, 0]
        flag = 0
        nlost = 0
        t = n_max * dt
        for k in range(n_max):
            ok = fields_one(W, sxx, syx, m4, m3, m2, L, beta, lr_b, drift, root, cov, cf, rmat, chol)
            if not ok:
                nlost += 1
            for c in range(q):
                z, st = _normal(st)
                xi[c] = z
            finite = True
            for i in range(p):
                for j in range(p):
                    acc = 0.0
                    for c in range(q):
                        acc += root[i * p + j, c] * xi[c]
                    W[i, j] += drift[i, j] * dt + sig * acc
                    if not math.isfinite(W[i, j]):
                        finite = False
            if not finite:
                flag = 2
                t = (k + 1) * dt
                break
            amp = 0.0
            for i in range(p):
                for j in range(p):
                    amp += u[i] * W[i, j] * v[j]
            if amp <= thr:  # the EscapeRule convention (below: <=)
                flag = 1
                t = (k + 1) * dt
                break
        times[n] = t
        flags[n] = flag
        lost[n] = nlost
