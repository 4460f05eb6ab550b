"""``langevin-grok stationary``: embedded stationary points of a real network and their Hessian spectra."""

from __future__ import annotations

import itertools

from tqdm import tqdm

from .._core.checks import InputError, check_depth, check_int, check_memory, check_nonnegative
from ..landscape.network import DeepLinearNetwork
from ..landscape.stationary import MODE_KINDS, stationary_point
from ._common import finite_float, format_table, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "stationary",
        help="weight-space stationary points (trivial/saddle/learned per mode) and their Hessian spectra",
        description=(
            "Build the stationary points of a depth-L, width-w network with Sigma_xx = I and "
            "Sigma_yx = diag(sv) (padded with zeros to dim) by embedding the balanced, aligned per-mode "
            "solution, and report for each mode combination the loss (per-sample MSE/2 + beta/2 |W|^2, "
            "including the constant p/2 of unit output variance), the energy relative to theta = 0, the "
            "gradient norm, the Hessian index (number of negative eigenvalues), the number of zero modes, "
            "the dimension of the hidden-layer rotation orbit (the expected number of zero modes) and the "
            "smallest Hessian eigenvalues (loss units per squared weight)."
        ),
    )
    p.add_argument("--depth", "-L", type=finite_float, required=True,
                   help="number of weight matrices L (integer >= 2; dimensionless)")
    p.add_argument("--width", "-w", type=finite_float, required=True,
                   help="hidden width w (integer >= 1; units per hidden layer)")
    p.add_argument("--dim", "-p", type=finite_float, required=True,
                   help="input and output dimension p (integer >= 1); must be >= the number of --sv values")
    p.add_argument("--sv", type=finite_float, nargs="+", required=True,
                   help=("singular values eta of Sigma_yx, each in (0, 1) (dimensionless); padded with zeros to dim and "
                         "sorted in descending order, the order --modes refers to"))
    p.add_argument("--beta", type=finite_float, required=True,
                   help="L2 (weight-decay) strength beta >= 0 (loss units per squared weight)")
    p.add_argument("--modes", action="append", metavar="KIND[,KIND...]",
                   help=("one mode combination: comma-separated trivial|saddle|learned per singular value "
                         "(descending; missing ones are trivial). Repeat for several. Default: every combination "
                         "that exists at this beta and fits in the width"))
    p.add_argument("--seed", type=finite_float, default=None,
                   help="integer seed for Haar-random hidden frames (default: the first k hidden units)")
    p.add_argument("--n-eig", type=finite_float, default=4,
                   help="number of smallest Hessian eigenvalues to print (integer >= 1; default 4)")
    p.add_argument("--tol", type=finite_float, default=None,
                   help=("absolute zero-mode threshold on Hessian eigenvalues (loss units per squared weight); "
                         "default 1e-8 x the largest |eigenvalue|"))
    p.add_argument("--theta", action="store_true", help="with --json, include each point's parameter vector")
    p.add_argument("--json", action="store_true", help="print one JSON object with a list 'points'")
    p.set_defaults(func=run)


def _combinations(args, dim: int, width: int):
    if args.modes:
        return [tuple(m.strip() for m in spec.split(",")) for spec in args.modes], True
    # Padded zero singular values can only be trivial.
    n_sv = len(args.sv)
    combos = [c + ("trivial",) * (dim - n_sv) for c in itertools.product(MODE_KINDS, repeat=n_sv)
              if sum(m != "trivial" for m in c) <= width]
    return combos, False


def run(args) -> int:
    # stationary_point labels modes in the descending order of the SVD of Sigma_yx
    args.sv = sorted(args.sv, reverse=True)
    # sizes first: the Hessian is D x D (eigh needs a few copies), so a huge width must fail here, not in numpy
    L = check_depth(args.depth)
    w = check_int("width", args.width, minimum=1)
    p = check_int("dim", args.dim, minimum=1)
    D = float(w) * p * 2 + (L - 2) * float(w) * w
    check_memory("width, dim, depth", 8.0 * 4 * D * D, f"the Hessian of D = {D:.3g} parameters")
    if not args.modes and 3 ** min(len(args.sv), 64) > 100_000:
        raise InputError(f"sv: {len(args.sv)} values give 3**{len(args.sv)} mode combinations; choose them with --modes")
    net = DeepLinearNetwork.from_singular_values(
        args.depth, args.width, args.dim, args.sv, args.beta)
    n_eig = check_int("n-eig", args.n_eig, minimum=1, maximum=net.n_params)
    seed = None if args.seed is None else check_int("seed", args.seed, minimum=0)
    tol = None if args.tol is None else check_nonnegative("tol", args.tol)
    combos, explicit = _combinations(args, net.dim, net.width)
    points, skipped = [], []
    for combo in tqdm(combos, desc="stationary points", unit="point", disable=None, leave=False):
        try:
            points.append(stationary_point(net, combo, rng=seed, tol=tol))
        except InputError as exc:
            msg = str(exc)
            # In the default sweep, combinations that do not exist at this beta are listed, not errors.
            if not explicit and ("does not exist" in msg or "non-zero singular value" in msg):
                skipped.append({"modes": list(combo), "reason": msg})
                continue
            raise
    head = {"depth": net.depth, "width": net.width, "dim": net.dim, "sv": list(args.sv), "beta": net.beta,
            "n_params": net.n_params, "seed": seed}
    if args.json:
        out = []
        for sp in points:
            d = sp.to_dict(n_eigenvalues=n_eig)
            if not args.theta:
                d.pop("theta")
            out.append(d)
        print_json({**head, "points": out, "skipped": skipped})
        return 0
    print(f"depth L = {net.depth}, width w = {net.width}, dim p = {net.dim}, sv = {list(args.sv)}, "
          f"beta = {net.beta:g}, D = {net.n_params} parameters")
    headers = ["modes", "loss", "energy", "grad_norm", "index", "n_zero", "orbit_dim", "tol"] + [
        f"mu_{i + 1}" for i in range(n_eig)]
    rows = []
    for sp in points:
        ev = list(sp.eigenvalues[:n_eig]) + [None] * max(0, n_eig - sp.eigenvalues.size)
        rows.append([sp.kind, sp.loss, sp.energy, sp.gradient_norm, sp.index, sp.n_zero, sp.orbit_dimension,
                     sp.tol] + ev)
    print(format_table(headers, rows))
    for s in skipped:
        print(f"skipped {','.join(s['modes'])}: {s['reason']}")
    return 0
