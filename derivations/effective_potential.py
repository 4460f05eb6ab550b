"""Effective per-mode potential and the stationarity polynomial (general integer L)."""

from __future__ import annotations

from _doc import Doc

from langevin_grok.landscape.symbolic import derive

NAME = "01_effective_potential.md"


def build() -> Doc:
    d = derive()
    doc = Doc("Effective potential of one mode and its stationary points")
    doc.p(r"""
On the balanced, aligned subspace every layer carries a mode with the same singular value $a$ and the
end-to-end singular value is $\lambda = a^L$. The per-mode loss (constants dropped) is""")
    doc.eq(r"\ell(\lambda)", d.ell)
    doc.h("Per-layer form")
    doc.p(r"Substituting $\lambda = a^L$ (with $a > 0$, so $(a^L)^{2/L} = a^2$) and dropping $\eta^2/2$:")
    doc.verified(d.check("u(a) = ell(a^L) - eta^2/2"), r"u(a) = \ell(a^L) - \tfrac{\eta^2}{2}", "u(a)")
    doc.h("Stationarity polynomial")
    doc.p("Differentiating gives")
    doc.eq(r"\frac{du}{da}", d.u_prime)
    doc.p(r"and dividing by $L a$ (the root $a = 0$ is always stationary) leaves the stationarity polynomial $P(a)$:")
    doc.verified(d.check("stationarity polynomial"), r"P(a) = \frac{u'(a)}{L a}", "P(a)")
    doc.p(r"so that $u'(a) = L\,a\,P(a)$ (verified: "
          f"{d.check('du/da = L a P(a)').method}). The second derivative, used for curvatures:")
    doc.verified(d.check("d2u/da2"), r"\frac{d^2u}{da^2}", "u''(a)")
    doc.h("Stationary curve")
    doc.p(r"Solving $P = 0$ for $\beta$ and writing $a = \lambda^{1/L}$ gives the L2 strength at which $\lambda$ "
          r"is stationary:")
    doc.verified(d.check("beta(lambda) on the stationary curve"), r"\beta(\lambda)", r"\beta(\lambda)")
    doc.p(r"""
For $L \ge 3$, $\beta(\lambda)$ rises from $0$ at $\lambda = 0$ to a maximum and falls back to $0$ at
$\lambda = \eta$; each $\beta$ below the maximum therefore has two stationary $\lambda$: the saddle (rising
branch) and the learned minimum (falling branch). The maximum is the spinodal (next document).""")
    doc.h("Verification summary")
    doc.checks([d.check(n) for n in ("u(a) = ell(a^L) - eta^2/2", "stationarity polynomial", "du/da = L a P(a)",
                                     "d2u/da2", "beta(lambda) on the stationary curve")])
    return doc


if __name__ == "__main__":
    from run_all import main_one

    main_one(build, NAME)
