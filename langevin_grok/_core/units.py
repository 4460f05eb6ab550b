"""Temperature of the Langevin model from SGD hyperparameters, and unit conversions of time.

SGD with learning rate lr and batch size B, ``theta_{k+1} = theta_k - lr g_B`` with
``Cov(g_B) = C(theta) / B`` (times ``(N-B)/(N-1)`` for batches drawn without replacement from N
samples), is matched at time ``t = lr k`` by ``dtheta = -grad Loss dt + sqrt(lr C / B) dW``. Where
C is close to ``c I`` (or along a unit direction e with ``c = e^T C e``) this is overdamped
Langevin dynamics at temperature ``T = lr c / (2 B)``.

Units: SDE time t; SGD steps ``k = t / lr``; epochs ``= k B / N``.
"""

from __future__ import annotations

import numpy as np

from .checks import InputError, check_int, check_nonnegative, check_positive

__all__ = [
    "without_replacement_factor",
    "sgd_temperature",
    "sde_time_to_steps",
    "steps_to_sde_time",
    "steps_to_epochs",
    "epochs_to_steps",
    "sde_time_to_epochs",
    "epochs_to_sde_time",
]


def without_replacement_factor(batch: int, n_train: int) -> float:
    """``(N - B) / (N - 1)``: variance reduction of a batch drawn without replacement from N samples."""
    B = check_int("batch", batch, minimum=1)
    N = check_int("n_train", n_train, minimum=1)
    if B > N:
        raise InputError(f"batch must be <= n_train ({N}), got {B}")
    return 1.0 if N == 1 else (N - B) / (N - 1)


def sgd_temperature(lr: float, batch: int, noise: float, n_train: int | None = None,
                    replacement: bool = False) -> float:
    """Langevin temperature ``T = lr c / (2 B)`` of mini-batch SGD.

    Parameters
    ----------
    lr : float
        Learning rate (> 0).
    batch : int
        Batch size B (>= 1).
    noise : float
        Per-sample gradient variance c (>= 0): ``tr C / D`` for isotropic noise or ``e^T C e`` along
        a unit direction e.
    n_train : int, optional
        Training-set size N. With ``replacement=False`` (the default, shuffled epochs) the
        finite-population factor ``(N-B)/(N-1)`` multiplies T; omit N to ignore it.
    replacement : bool
        Batches drawn with replacement (no finite-population factor).
    """
    lr = check_positive("lr", lr)
    B = check_int("batch", batch, minimum=1)
    c = check_nonnegative("noise", noise)
    T = lr * c / (2.0 * B)
    if n_train is not None and not replacement:
        T *= without_replacement_factor(B, n_train)
    return T


def sde_time_to_steps(t, lr: float):
    """SGD steps ``k = t / lr`` for SDE time t (array-friendly)."""
    return np.asarray(t, dtype=float) / check_positive("lr", lr)


def steps_to_sde_time(k, lr: float):
    """SDE time ``t = lr k`` for k SGD steps."""
    return np.asarray(k, dtype=float) * check_positive("lr", lr)


def steps_to_epochs(k, batch: int, n_train: int):
    """Epochs ``= k B / N``."""
    B = check_int("batch", batch, minimum=1)
    N = check_int("n_train", n_train, minimum=1)
    return np.asarray(k, dtype=float) * B / N


def epochs_to_steps(epochs, batch: int, n_train: int):
    """SGD steps ``k = epochs N / B``."""
    B = check_int("batch", batch, minimum=1)
    N = check_int("n_train", n_train, minimum=1)
    return np.asarray(epochs, dtype=float) * N / B


def sde_time_to_epochs(t, lr: float, batch: int, n_train: int):
    """Epochs for SDE time t: ``t B / (lr N)``."""
    return steps_to_epochs(sde_time_to_steps(t, lr), batch, n_train)


def epochs_to_sde_time(epochs, lr: float, batch: int, n_train: int):
    """SDE time for a number of epochs: ``lr epochs N / B``."""
    return steps_to_sde_time(epochs_to_steps(epochs, batch, n_train), lr)
