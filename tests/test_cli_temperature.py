"""``langevin-grok temperature``: JSON contract against hand-derived values and the notes' closed form,
noise-model labels, one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from langevin_grok.cli import SUBCOMMANDS, main
from langevin_grok.sgd.noise_models import shuffled_closed_form

ARGS = ["--lr", "0.08", "--batch", "64", "--n-train", "512", "--noise", "0.6"]


def run_json(capsys, *argv):
    rc = main(["temperature", *argv, "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    return json.loads(out)


def test_without_curvature_is_lr_c_over_2b(capsys):
    obj = run_json(capsys, *ARGS)
    assert "temperature" in SUBCOMMANDS
    assert obj["t_with_replacement"] == pytest.approx(0.08 * 0.6 / 128, rel=1e-15)
    assert obj["noise_model"]["t_with_replacement"] == "with_replacement"
    assert "ratio_shuffled_boundary" not in obj and obj["n_batches"] == 8


def test_with_curvature_matches_hand_derivation_and_closed_form(capsys):
    lr, B, N, C, H = 0.08, 64, 512, 0.6, 0.42
    obj = run_json(capsys, *ARGS, "--curvature", str(H))
    T = lr * C / (2 * B)
    # x' = (1 - lr H) x - lr eps, Var eps = C/B: V = lr^2 (C/B) / (1 - (1 - lr H)^2)
    V_wr = lr * lr * (C / B) / (1 - (1 - lr * H) ** 2)
    assert obj["t_with_replacement"] == pytest.approx(H * V_wr, rel=1e-13)
    assert obj["ratio_with_replacement"] == pytest.approx(2 / (2 - lr * H), rel=1e-13)
    Vb, Vk = shuffled_closed_form(lr, H, B, N, C)
    assert obj["ratio_shuffled_boundary"] == pytest.approx(Vb / (T / H), rel=1e-11)
    assert obj["ratio_shuffled_epoch_mean"] == pytest.approx(np.mean(Vk[:-1]) / (T / H), rel=1e-11)
    m = 8
    assert obj["t_shuffled_leading"] == pytest.approx(T * (lr * H) ** 2 * m * (m + 1) / 12 * (N - B) / (N - 1),
                                                      rel=1e-13)
    nm = obj["noise_model"]
    assert nm["ratio_with_replacement"] == "with_replacement"
    assert nm["ratio_shuffled_boundary"] == nm["ratio_shuffled_epoch_mean"] == "shuffled_epochs_exact_linear"
    assert nm["t_shuffled_leading"] == "shuffled_epochs_leading_order"
    assert obj["status_shuffled"] == "valid" and obj["status_with_replacement"] == "valid"


def test_unstable_step_is_a_status_not_an_error(capsys):
    obj = run_json(capsys, "--lr", "1", "--batch", "64", "--n-train", "512", "--noise", "0.6", "--curvature", "3")
    assert obj["status_with_replacement"] == "not_applicable" and obj["reason_with_replacement"] == "unstable_step"
    assert obj["ratio_with_replacement"] is None and obj["ratio_shuffled_boundary"] is None


def test_text_output_names_the_models(capsys):
    assert main(["temperature", *ARGS, "--curvature", "0.42"]) == 0
    out = capsys.readouterr().out
    assert "shuffled_epochs_exact_linear" in out and "with_replacement" in out


@pytest.mark.parametrize("bad, word", [
    (["--lr", "0"], "lr"), (["--lr", "nan"], "finite"), (["--batch", "64.5"], "batch"),
    (["--batch", "1000"], "batch"), (["--noise", "-1"], "noise"), (["--n-train", "1"], "n_train"),
])
def test_bad_input_is_one_line_exit_2(capsys, bad, word):
    argv = list(ARGS)
    i = argv.index(bad[0])
    argv[i + 1] = bad[1]
    try:
        rc = main(["temperature", *argv])
    except SystemExit as exc:  # argparse rejects a non-finite number itself
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and word in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_console_entry_point_runs():
    out = subprocess.run([sys.executable, "-m", "langevin_grok", "temperature", *ARGS, "-H", "0.42", "--json"],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["n_batches"] == 8
