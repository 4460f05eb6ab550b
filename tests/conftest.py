"""Test-suite configuration.

The suite runs with ``pytest -n 2`` on 2-core machines: one BLAS thread per worker avoids
oversubscription (measured: the network tests took 3x longer in wall time with threaded BLAS).
This must run before numpy is imported by any test module.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _compiled_kernels():
    """Pay numba's compilation (or cache load) once per test session, so test durations show real cost.

    One tiny ensemble per kernel path: the 1-D loop (arc), the general loop (chain, network, quadratic).
    """
    import numpy as np

    from langevin_grok.langevin.engine import simulate_ensemble
    from langevin_grok.langevin.models import arc_model, chain_model, quadratic_model

    simulate_ensemble(arc_model(3, 0.8, 0.32), 0.02, 2, 0.01, max_time=0.05, seed=0)
    simulate_ensemble(chain_model(3, 0.8, 0.32), 0.02, 2, 0.01, max_time=0.05, seed=0)
    simulate_ensemble(quadratic_model(1.0, 2), 0.5, 2, 0.01, np.zeros(2), (), max_time=0.05, seed=0)


@pytest.fixture(scope="session")
def rank2_segment():
    """Learned rank-2 minimum and the mode-2 saddle of a small whitened training set (L = 3, w = 4, beta = 0.30,
    N = 256, data seed 3): the problem of the line and plane tests. Returns ``(data, net, start, saddle)``."""
    from langevin_grok.landscape.network import DeepLinearNetwork
    from langevin_grok.landscape.stationary import stationary_point
    from langevin_grok.sgd.data import make_dataset

    data = make_dataset([0.9, 0.8], 256, 64, seed=3, whiten_train=True)
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, 3, 4, 0.30)
    return data, net, stationary_point(net, ("learned", "learned")), stationary_point(net, ("learned", "saddle"))
