"""The L = 2 special case: continuous transition, no barrier."""

from __future__ import annotations

from _doc import Doc

from langevin_grok.landscape.symbolic import derive_l2

NAME = "05_depth_two.md"


def build() -> Doc:
    e = derive_l2()
    doc = Doc("Depth L = 2: a continuous transition")
    doc.eq("u(a)", e.u)
    doc.p(r"Stationarity ($u'(a)/(2a) = 0$) is linear in $a^2$:")
    doc.verified(e.checks[0], "P(a)", "P(a)")
    doc.verified(e.checks[1], r"a_\text{min}^2", r"a_\text{min}^2")
    doc.p(r"The learned minimum exists for $\beta < \eta$ only and reaches $a = 0$ continuously at $\beta = \eta$ "
          r"(second-order transition). Its depth:")
    doc.verified(e.checks[2], r"u(a_\text{min}) - u(0)", r"u(a_\text{min}) - u(0)")
    doc.p(r"which is the general barrier identity at $L = 2$, $\lambda_s = \eta - \beta$ (verified: "
          f"{e.checks[3].method}). Curvatures along $r = \\sqrt{{2}}\\,a$:")
    doc.verified(e.checks[4], r"U''(0)", r"U''(0)")
    doc.verified(e.checks[5], r"U''(r_\text{min})", r"U''(r_\text{min})")
    doc.p(r"""
For $\beta < \eta$ the trivial point is a maximum along the path, so there is no saddle and no barrier:
the $L \ge 3$ formulas' limits $\lambda_c \to 0$, $\beta_c \to \eta$, $\beta^* \to \eta$ describe this case.""")
    doc.h("Verification summary")
    doc.checks(e.checks)
    return doc


if __name__ == "__main__":
    from run_all import main_one

    main_one(build, NAME)
