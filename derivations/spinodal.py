"""Spinodal (saddle-node) point from d beta / d lambda = 0."""

from __future__ import annotations

import sympy as sp
from _doc import Doc, tex

from langevin_grok.landscape.symbolic import derive

NAME = "02_spinodal.md"


def build() -> Doc:
    d = derive()
    doc = Doc("Spinodal: where the learned minimum disappears")
    doc.p(r"The learned minimum and the saddle merge where the stationary curve $\beta(\lambda)$ is maximal:")
    doc.eq(r"\frac{d\beta}{d\lambda}", d.dbeta_dlambda)
    doc.p(r"Multiplying by $\lambda^{2/L} > 0$ leaves an equation linear in $\lambda$, whose only root is")
    doc.verified(d.check("spinodal lambda_c"), r"\lambda_c", r"\lambda_c")
    doc.h("Critical L2 strength")
    doc.p(r"Evaluating $\beta(\lambda_c)$:")
    doc.verified(d.check("spinodal beta_c"), r"\beta(\lambda_c)", r"\beta_c")
    doc.p(r"This is the seed paper's Eq. (3) with $k = 2/L$:")
    doc.verified(d.check("seed paper Eq. (3)"), r"\frac{1}{1-k}\left(\frac{\eta(1-k)}{2-k}\right)^{2-k}", r"\beta_c")
    doc.h("It is a maximum, and a saddle-node in $a$")
    doc.verified(d.check("spinodal is a maximum of beta(lambda)"), r"\beta''(\lambda_c)", r"\beta''(\lambda_c)")
    doc.p(r"which is negative. In the per-layer variable, with $a_c = \lambda_c^{1/L}$, both $P$ and $dP/da$ vanish at "
          r"$\beta = \beta_c$ (a double root: the saddle-node bifurcation):")
    doc.eq("a_c", d.a_c)
    doc.checks([d.check("saddle-node: P(a_c; beta_c) = 0"), d.check("saddle-node: dP/da(a_c) = 0")])
    doc.p(r"""
For $\beta > \beta_c$ only $a = 0$ is stationary (trivial phase only); for $0 < \beta < \beta_c$ the saddle
lies below $\lambda_c$ and the learned minimum above it.""")
    doc.h("Values")
    rows = ["| L | lambda_c / eta | beta_c at eta = 1 |", "|---|---|---|"]
    for L in range(3, 9):
        lc = d.lambda_c.subs({d.L: L, d.eta: 1})
        bc = d.beta_c.subs({d.L: L, d.eta: 1})
        rows.append(f"| {L} | ${tex(lc)}$ | ${tex(sp.nsimplify(bc))} \\approx {sp.N(bc, 12)}$ |")
    doc.p("\n".join(rows))
    doc.p(r"($\beta_c \propto \eta^{2(L-1)/L}$, so other $\eta$ follow by scaling.)")
    return doc


if __name__ == "__main__":
    from run_all import main_one

    main_one(build, NAME)
