"""The integrators of the Langevin layer declare their convergence orders; the tests read them.

After diffrax's ``order()`` / ``strong_order()``: ``tests/test_engine.py`` refines dt on nested grids driven by
the same Brownian path, fits the slope and compares it with :attr:`Integrator.strong_order`. The SDE here,
``dX = -grad U dt + sqrt(2T) dW``, has additive noise, for which Euler-Maruyama's strong order rises from 1/2
to 1 (Kloeden & Platen 1992, section 10.2); the weak order is 1 either way.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Integrator", "EULER_MARUYAMA", "SDEINT_ITO_EULER", "SDEINT_SRI2", "INTEGRATORS"]


@dataclass(frozen=True)
class Integrator:
    """Name, strong and weak order (for the additive noise of this package's SDE) and where it runs."""

    name: str
    strong_order: float
    weak_order: float
    where: str

    def order(self, kind: str = "strong") -> float:
        """The strong or weak order (``kind`` "strong" or "weak")."""
        return self.strong_order if kind == "strong" else self.weak_order


EULER_MARUYAMA = Integrator("euler_maruyama", strong_order=1.0, weak_order=1.0,
                            where="langevin_grok.langevin.engine (compiled ensemble kernel)")
SDEINT_ITO_EULER = Integrator("itoEuler", strong_order=1.0, weak_order=1.0,
                              where="sdeint reference (simulate_reference)")
SDEINT_SRI2 = Integrator("itoSRI2", strong_order=1.0, weak_order=2.0,
                         where="sdeint reference (simulate_reference; Roessler SRI2, strong 1.0)")
INTEGRATORS = {i.name: i for i in (EULER_MARUYAMA, SDEINT_ITO_EULER, SDEINT_SRI2)}
