"""``langevin-grok landscape``: the per-mode landscape table (or JSON)."""

from __future__ import annotations

from ..landscape.modes import landscape
from ._common import finite_float, format_table, print_json

_KEYS = (
    "sv", "phase", "global_phase", "beta_c", "beta_star", "lambda_c", "lambda_star",
    "lambda_saddle", "lambda_min", "barrier_forward", "barrier_reverse",
)


def _int_or_float(text: str):
    """argparse type: an int when the text is an integer literal (so errors echo '1', not '1.0'),
    else a finite float that check_depth rejects with a message naming the argument."""
    try:
        return int(text)
    except ValueError:
        return finite_float(text)


def register(sub) -> None:
    p = sub.add_parser(
        "landscape",
        help="stationary points, barriers and phases of each mode",
        description=(
            "Per-mode landscape of an L2-regularised deep linear network on the balanced, aligned "
            "subspace: spinodal beta_c and coexistence beta*, the saddle and learned end-to-end "
            "singular values lambda, forward (trivial->learned) and reverse barriers in loss units "
            "(per-sample MSE/2 + beta/2 |W|^2), and which phase is global."
        ),
    )
    p.add_argument("--depth", "-L", type=_int_or_float, required=True,
                   help="number of weight matrices L (integer >= 2; dimensionless)")
    p.add_argument("--sv", type=finite_float, nargs="+", required=True,
                   help="singular values eta of Sigma_yx, each in (0, 1) (dimensionless); one mode each")
    p.add_argument("--beta", type=finite_float, required=True,
                   help="L2 (weight-decay) strength beta >= 0 (loss units per squared weight)")
    p.add_argument("--json", action="store_true", help="print one JSON object with a list 'modes'")
    p.set_defaults(func=run)


def run(args) -> int:
    modes = landscape(args.depth, args.sv, args.beta)
    if args.json:
        print_json({"depth": modes[0].depth, "beta": modes[0].beta, "modes": [m.to_dict() for m in modes]})
        return 0
    print(f"depth L = {modes[0].depth}, beta = {modes[0].beta:g}")
    rows = [[getattr(m, k) for k in _KEYS] for m in modes]
    print(format_table(list(_KEYS), rows))
    return 0
