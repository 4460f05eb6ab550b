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

from ..langevin.streams import _GAMMA, _mix64, _normal, _uniform

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


@numba.njit(cache=True, inline="always")
def _index(st, n):
    """A uniform index in range(n) from the counter stream at ``st``; returns ``(index, new_state)``."""
    st += _GAMMA
    k = int(_uniform(_mix64(st)) * n)
    return (k if k < n else n - 1), st


@numba.njit(cache=True)
def batch_indices(key, n_train, B, n_steps):
    """The (n_steps, B) sample indices that :func:`balanced_sgd_steps` draws from the stream ``key`` (tests)."""
    out = np.empty((n_steps, B), dtype=np.int64)
    st = key
    for i in range(n_steps):
        for j in range(B):
            k, st = _index(st, n_train)
            out[i, j] = k
    return out


@numba.njit(cache=True)
def _balanced_sgd_step(W, X, Y, L, beta, lr, B, st, sxx, syx, layers, left, U, s, Vt, tmp, G, right, g, mu, root,
                       xi, perm, lo):
    """One SGD step of a balanced network from its end-to-end map W (in place): the balanced factors
    ``W_1 = S^(1/L) V^T, W_l = S^(1/L), W_L = U S^(1/L)`` (W = U S V^T; any balanced factorisation gives the same
    product after the step), B training samples drawn uniformly with replacement from the stream at ``st``, the
    layers' batch gradients ``(W_L..W_(l+1))^T (W S_xx - S_yx) (W_(l-1)..W_1)^T + beta W_l`` (S the batch's
    second moments), every layer moved by ``-lr`` times its gradient, and W replaced by the new product.
    With a non-empty ``root`` (2p^2 x 2p^2) the batch moments are Gaussian instead, ``(S_xx, S_yx) = mu +
    root xi / sqrt(B)`` (the per-sample moments' mean and a square root of their covariance: the same mean and
    covariance of the batch gradient at every W). With a non-empty ``perm`` (shuffled epochs) the batch is
    ``perm[lo:lo + B]`` (shorter at the epoch's end). Returns the stream's new state."""
    p = W.shape[0]
    n_train = X.shape[0]
    if root.shape[0] > 0 and perm.shape[0] == 0:
        q2 = root.shape[0]
        for c in range(q2):
            z, st = _normal(st)
            xi[c] = z
        f = 1.0 / math.sqrt(B)
        for r in range(q2):
            acc = 0.0
            for c in range(q2):
                acc += root[r, c] * xi[c]
            v = mu[r] + f * acc
            if r < p * p:
                sxx[r // p, r % p] = v
            else:
                syx[(r - p * p) // p, (r - p * p) % p] = v
    else:  # the data's batch: a slice of the epoch's permutation, or B draws with replacement
        for a in range(p):
            for b in range(p):
                sxx[a, b] = 0.0
                syx[a, b] = 0.0
        count = min(lo + B, n_train) - lo if perm.shape[0] > 0 else B
        for i in range(count):
            if perm.shape[0] > 0:
                k = perm[lo + i]
            else:
                k, st = _index(st, n_train)
            for a in range(p):
                xa, ya = X[k, a], Y[k, a]
                for b in range(p):
                    xb = X[k, b]
                    sxx[a, b] += xa * xb
                    syx[a, b] += ya * xb
        for a in range(p):
            for b in range(p):
                sxx[a, b] /= count
                syx[a, b] /= count
    _svd_into(W, U, s, Vt)
    for a in range(p):
        s[a] = _powr(s[a], 1.0 / L)  # the layers' common singular values
    for layer in range(L):
        for a in range(p):
            for b in range(p):
                if L == 1:
                    layers[layer, a, b] = W[a, b]
                elif layer == 0:  # S^(1/L) V^T
                    layers[layer, a, b] = s[a] * Vt[a, b]
                elif layer == L - 1:  # U S^(1/L)
                    layers[layer, a, b] = U[a, b] * s[b]
                else:
                    layers[layer, a, b] = s[a] if a == b else 0.0
    # left[l] = W_(l-1) ... W_1 (identity for l = 0)
    for a in range(p):
        for b in range(p):
            left[0, a, b] = 1.0 if a == b else 0.0
    for layer in range(1, L):
        _matmul_into(layers[layer - 1], left[layer - 1], left[layer], False)
    # G = W S_xx - S_yx, W the product before the step
    _matmul_into(W, sxx, G, False)
    for a in range(p):
        for b in range(p):
            G[a, b] -= syx[a, b]
            right[a, b] = G[a, b]
    for layer in range(L - 1, -1, -1):
        # g = right @ left[layer]^T + beta W_layer
        for a in range(p):
            for b in range(p):
                acc = beta * layers[layer, a, b]
                for m in range(p):
                    acc += right[a, m] * left[layer, b, m]
                g[layer, a, b] = acc
        _matmul_into(layers[layer], right, tmp, True)
        right[:, :] = tmp
    # W <- product of the moved layers
    for a in range(p):
        for b in range(p):
            W[a, b] = 1.0 if a == b else 0.0
    for layer in range(L):
        for a in range(p):
            for b in range(p):
                layers[layer, a, b] -= lr * g[layer, a, b]
        _matmul_into(layers[layer], W, tmp, False)
        W[:, :] = tmp
    return st


@numba.njit(cache=True, inline="always")
def _permute(perm, st):
    """Fisher-Yates shuffle of ``perm`` in place from the stream at ``st``; returns the new state."""
    for i in range(perm.shape[0] - 1, 0, -1):
        j, st = _index(st, i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return st


@numba.njit(cache=True)
def _balanced_path(W, X, Y, L, beta, lr, B, st, n_steps, j0, m, shuffled, perm, mu, root, bufs, out):
    """``n_steps`` steps from W in place, the global step count starting at ``j0`` (a new permutation at every
    multiple of the epoch's ``m`` steps when ``shuffled``); ``out`` (n_steps, p, p) receives W after each step
    when it is not empty. Returns the stream's state."""
    sxx, syx, U, Vt, tmp, G, right, s, layers, left, g, xi = bufs
    for k in range(n_steps):
        j = j0 + k
        lo = 0
        if shuffled:
            if j % m == 0:
                st = _permute(perm, st)
            lo = (j % m) * B
        st = _balanced_sgd_step(W, X, Y, L, beta, lr, B, st, sxx, syx, layers, left, U, s, Vt, tmp, G, right, g,
                                mu, root, xi, perm if shuffled else perm[:0], lo)
        if out.shape[0] > 0:
            out[k] = W
    return st


@numba.njit(cache=True)
def _buffers(p, L, q2):
    return (np.empty((p, p)), np.empty((p, p)), np.empty((p, p)), np.empty((p, p)), np.empty((p, p)),
            np.empty((p, p)), np.empty((p, p)), np.empty(p), np.empty((L, p, p)), np.empty((L, p, p)),
            np.empty((L, p, p)), np.empty(q2))


@numba.njit(cache=True)
def balanced_sgd_steps(W, X, Y, L, beta, lr, B, key, n_steps, mu, root, shuffled=False):
    """The trajectory (n_steps, p, p) of W after each step of :func:`_balanced_sgd_step` from W with the stream
    ``key`` (``mu``, ``root``: Gaussian batch moments, or empty arrays for the data's batches; ``shuffled``:
    epochs of ``ceil(N / B)`` steps over a fresh permutation each): the kernel's steps exposed for the tests
    (against the network's own SGD update)."""
    p = W.shape[0]
    n = X.shape[0]
    W = W.copy()
    perm = np.arange(n)
    out = np.empty((n_steps, p, p))
    _balanced_path(W, X, Y, L, beta, lr, B, key, n_steps, 0, -(-n // B), shuffled, perm, mu, root,
                   _buffers(p, L, root.shape[0]), out)
    return out


@numba.njit(cache=True)
def epoch_permutations(key, n_train, n_epochs):
    """The (n_epochs, N) permutations that shuffled paths draw from the stream ``key`` (tests)."""
    perm = np.arange(n_train)
    out = np.empty((n_epochs, n_train), dtype=np.int64)
    st = key
    for e in range(n_epochs):
        st = _permute(perm, st)
        out[e] = perm
    return out


@numba.njit(cache=True, parallel=True)
def run_balanced_sgd(W0, X, Y, L, beta, lr, B, m, shuffled, read_every, max_reads, u, v, thr, keys, reads, flags,
                     mu, root):
    """Balanced-network SGD paths from W0 (:func:`_balanced_sgd_step`; ``m`` steps per epoch, a fresh
    permutation per epoch when ``shuffled``), the event ``u^T W v <= thr`` read every ``read_every`` steps (an
    epoch, as the network ensemble reads its rule, or every step). ``reads[i]``: the read (1-based) at which
    path i escaped, or ``max_reads``; ``flags[i]``: 1 escaped, 0 censored, 2 non-finite (``reads[i]`` then the
    read at which it was found)."""
    p = W0.shape[0]
    n_paths = keys.shape[0]
    none = np.empty((0, p, p))
    for n in numba.prange(n_paths):
        W = W0.copy()
        bufs = _buffers(p, L, root.shape[0])
        perm = np.arange(X.shape[0])
        st = keys[n, 0]
        flag = 0
        ep = max_reads
        for e in range(max_reads):
            st = _balanced_path(W, X, Y, L, beta, lr, B, st, read_every, e * read_every, m, shuffled, perm, mu,
                                root, bufs, none)
            finite = True
            amp = 0.0
            for i in range(p):
                for j in range(p):
                    if not math.isfinite(W[i, j]):
                        finite = False
                    amp += u[i] * W[i, j] * v[j]
            if not finite:
                flag = 2
                ep = e + 1
                break
            if amp <= thr:
                flag = 1
                ep = e + 1
                break
        reads[n] = ep
        flags[n] = flag
