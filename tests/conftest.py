"""Test-suite configuration.

The suite runs with ``pytest -n 2`` on 2-core machines: one BLAS thread per worker avoids
oversubscription (measured: the network tests took 3x longer in wall time with threaded BLAS).
This must run before numpy is imported by any test module.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
