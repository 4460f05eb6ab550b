"""Coexistence (first-order) point: stationary and as deep as the trivial minimum."""

from __future__ import annotations

import sympy as sp
from _doc import Doc

from langevin_grok.landscape.symbolic import derive

NAME = "03_coexistence.md"


def build() -> Doc:
    d = derive()
    doc = Doc("Coexistence: both minima equally deep")
    doc.p(r"""
At a stationary $\lambda$ the depth relative to the trivial point is given by the barrier identity (document 04):
$\ell(\lambda) - \ell(0) = $ """ + f"${sp.latex(d.stationary_value)}$" + r""". Setting it to zero with
$\lambda \neq 0$:""")
    doc.verified(d.check("coexistence lambda*"), r"\lambda^*", r"\lambda^*")
    doc.p(r"and the L2 strength at which this $\lambda^*$ is stationary:")
    doc.verified(d.check("coexistence beta*"), r"\beta(\lambda^*)", r"\beta^*")
    doc.p(r"For $L = 3$:")
    doc.verified(d.check("coexistence beta* at L = 3"), r"\beta^*\big|_{L=3}", r"\beta^*\big|_{L=3}")
    doc.h("Relation to the spinodal")
    doc.verified(d.check("lambda* = 2 lambda_c"), r"\lambda^*", r"2\lambda_c")
    doc.p(r"The ratio of the two L2 strengths does not depend on $\eta$:")
    doc.verified(d.check("beta*/beta_c = 2^(2(L-1)/L)/L"), r"\beta^*/\beta_c", r"\beta^*/\beta_c")
    rows = ["| L | beta*/beta_c |", "|---|---|"]
    for L in range(3, 9):
        rows.append(f"| {L} | {sp.N(d.beta_ratio.subs(d.L, L), 12)} |")
    doc.p("\n".join(rows))
    doc.p(r"""
$2^{2(L-1)/L} < 4 \le L$ for $L \ge 4$ and $2^{4/3} \approx 2.52 < 3$ for $L = 3$, so $\beta^* < \beta_c$ for
every $L \ge 3$ (equality only in the $L = 2$ limit). Phases in $\beta$: below $\beta^*$ the learned minimum is
global and the trivial one metastable (the grokking trap); between $\beta^*$ and $\beta_c$ the trivial minimum is
global and the learned one metastable; above $\beta_c$ only the trivial minimum exists.""")
    return doc


if __name__ == "__main__":
    from run_all import main_one

    main_one(build, NAME)
