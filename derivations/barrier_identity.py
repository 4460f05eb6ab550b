"""Barrier identity and curvature along the balanced arc length."""

from __future__ import annotations

from _doc import Doc

from langevin_grok.landscape.symbolic import derive

NAME = "04_barrier_identity_and_curvature.md"


def build() -> Doc:
    d = derive()
    doc = Doc("Barrier identity and curvature along the arc length")
    doc.h("Barrier identity")
    doc.p(r"Eliminating $\beta$ with the stationary curve $\beta(\lambda)$ in $\ell(\lambda) - \ell(0)$:")
    doc.verified(d.check("barrier identity"), r"\ell(\lambda_s) - \ell(0)", r"\ell(\lambda_s) - \ell(0)")
    doc.p(r"""
Forward barrier (trivial $\to$ learned): $\Delta E_\to = \ell(\lambda_\text{sad}) - \ell(0)$.
Reverse barrier (learned $\to$ trivial): $\Delta E_\leftarrow = \ell(\lambda_\text{sad}) - \ell(\lambda_\text{min})$.
Both follow from the identity once the two stationary $\lambda$ are known.""")
    doc.h("Arc length")
    doc.p(r"""
The balanced path moves all $L$ layers together, so its Euclidean length in weight space is $r = \sqrt{L}\,a$
and the reduced potential is $U(r) = u(r/\sqrt{L})$:""")
    doc.eq("U(r)", d.arc_potential)
    doc.verified(d.check("-dU/dr = -u'(a)/sqrt(L)"), r"-\frac{dU}{dr}", r"-\frac{u'(a)}{\sqrt{L}}")
    doc.verified(d.check("d2U/dr2 = u''(a)/L"), r"\frac{d^2U}{dr^2}", r"\frac{u''(a)}{L}")
    doc.p(r"At $r = 0$ this is $\beta$ for $L \ge 3$: the trivial point is a local minimum whenever $\beta > 0$.")
    doc.h("Curvature at the stationary points")
    doc.p(r"Eliminating $\beta$ again, the curvature at a stationary $\lambda_s$ is")
    doc.verified(d.check("curvature at stationary points"), r"U''(r_s)", r"U''(r_s)")
    doc.p(r"""
It is negative below $\lambda_c$ (the saddle) and positive above it (the learned minimum), which is why the
saddle and the learned minimum lie on opposite sides of the spinodal value $\lambda_c$ and merge there.""")
    return doc


if __name__ == "__main__":
    from run_all import main_one

    main_one(build, NAME)
