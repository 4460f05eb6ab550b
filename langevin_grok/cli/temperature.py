"""``langevin-grok temperature``: the temperature of mini-batch SGD and the stationary variance of a
quadratic well under each batch protocol (docs/theory.md, section "2. Gradient noise of real SGD")."""

from __future__ import annotations

from ..sgd.noise_models import shuffled_epoch_model, with_replacement_model
from ._common import finite_float, format_table, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "temperature",
        help="SGD temperature per batch protocol (with replacement, shuffled epochs)",
        description=(
            "Langevin temperature T = lr C / (2B) of mini-batch SGD (loss units), and with a curvature H the "
            "stationary variance of a coordinate in a quadratic well of curvature H under each batch "
            "protocol, divided by the Langevin value T/H: with replacement (independent batches, discrete-time "
            "factor 2/(2 - lr H)) and shuffled epochs (random reshuffling, exact linear result at epoch "
            "boundaries and averaged over the steps of an epoch). Each number names the noise model that "
            "produced it."
        ),
    )
    p.add_argument("--lr", type=finite_float, required=True, help="learning rate lr > 0 (SDE time per SGD step)")
    p.add_argument("--batch", "-B", type=finite_float, required=True,
                   help="batch size B (integer >= 1, <= n-train; samples)")
    p.add_argument("--n-train", "-N", type=finite_float, required=True,
                   help="training-set size N (integer >= 2; samples); an epoch is ceil(N/B) steps")
    p.add_argument("--noise", "-C", type=finite_float, required=True,
                   help="per-sample gradient variance C >= 0 along the coordinate (e^T C e, squared loss units "
                        "per squared weight)")
    p.add_argument("--curvature", "-H", type=finite_float, default=None,
                   help="curvature H of the quadratic well (loss units per squared weight); optional")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def compute(lr, batch, n_train, noise, curvature=None) -> dict:
    """All numbers of the command as one dict (the JSON contract)."""
    from .._core.checks import check_count, check_magnitude

    lr = check_magnitude("lr", lr)
    noise = check_magnitude("noise", noise, allow_zero=True)
    curvature = None if curvature is None else check_magnitude("curvature", curvature)
    n_train = check_count("n_train", n_train, maximum=10**7)  # the exact epoch model is O(N) per epoch step
    wr = with_replacement_model(lr, batch, noise, curvature)
    out = {"lr": wr.lr, "batch": wr.batch, "noise": wr.noise, "curvature": curvature, "t_sde": wr.temperature,
           "t_with_replacement": wr.temperature if curvature is None else wr.effective_temperature,
           "discrete_factor": wr.discrete_factor, "status_with_replacement": wr.status.value,
           "reason_with_replacement": wr.reason}
    rr = shuffled_epoch_model(lr, batch, n_train, noise, curvature if curvature is not None else 1.0)
    out["n_train"], out["n_batches"] = rr.n_train, rr.n_batches
    models = {"t_sde": "langevin_sde", "t_with_replacement": wr.noise_model.value}
    if curvature is not None:
        out.update(ratio_with_replacement=wr.ratio, ratio_shuffled_boundary=rr.ratio_boundary,
                   ratio_shuffled_epoch_mean=rr.ratio_epoch_mean, t_shuffled_boundary=rr.temperature_boundary,
                   t_shuffled_epoch_mean=rr.temperature_epoch_mean, t_shuffled_leading=rr.temperature_leading,
                   leading_rel_error=rr.leading_rel_error, status_shuffled=rr.status.value,
                   reason_shuffled=rr.reason, status_shuffled_leading=rr.leading_status.value,
                   reason_shuffled_leading=rr.leading_reason)
        exact, lead = rr.noise_model.value, rr.leading_noise_model.value
        models.update(ratio_with_replacement=wr.noise_model.value, ratio_shuffled_boundary=exact,
                      ratio_shuffled_epoch_mean=exact, t_shuffled_boundary=exact, t_shuffled_epoch_mean=exact,
                      t_shuffled_leading=lead)
    out["noise_model"] = models
    return out


def run(args) -> int:
    out = compute(args.lr, args.batch, args.n_train, args.noise, args.curvature)
    if args.json:
        print_json(out)
        return 0
    print(f"lr = {out['lr']:g}, B = {out['batch']}, N = {out['n_train']} ({out['n_batches']} steps per epoch), "
          f"C = {out['noise']:g}" + ("" if out["curvature"] is None else f", H = {out['curvature']:g}"))
    rows = [["t_sde", out["t_sde"], out["noise_model"]["t_sde"]],
            ["t_with_replacement", out["t_with_replacement"], out["noise_model"]["t_with_replacement"]]]
    for k in ("ratio_with_replacement", "ratio_shuffled_boundary", "ratio_shuffled_epoch_mean",
              "t_shuffled_boundary", "t_shuffled_epoch_mean", "t_shuffled_leading"):
        if k in out:
            rows.append([k, out[k], out["noise_model"][k]])
    print(format_table(["quantity", "value", "noise model"], rows))
    if out["curvature"] is not None and "valid" not in (out["status_with_replacement"], out["status_shuffled"]):
        print(f"no stationary variance: {out['reason_with_replacement']}")
    return 0
