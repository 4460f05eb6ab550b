"""The ``sgd`` subcommand: JSON keys, --out files, one-line errors with exit status 2."""

import json

import numpy as np
import pytest

from langevin_grok.cli import main

BASE = ["sgd", "--depth", "3", "--width", "4", "--sv", "0.9", "0.8", "--n-train", "64", "--n-test", "32",
        "--batch", "16", "--lr", "0.05", "--seeds", "3", "--no-progress"]


def test_json_keys_and_out(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(BASE + ["--beta", "0.05", "--epochs", "40", "--json", "--out", str(out), "--criterion", "test_mse"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("escape_epochs", "n_escaped", "n_seeds", "final_rank", "train_mse", "test_mse", "noise_trace",
                "noise_escape_direction", "temperature_eff"):
        assert key in d
    assert d["n_seeds"] == 3 and len(d["escape_epochs"]) == 3 and len(d["final_rank"]) == 3
    assert all(e is None or 0 <= e <= 40 for e in d["escape_epochs"])
    assert d["n_escaped"] == sum(e is not None for e in d["escape_epochs"])
    assert d["dynamics"] == "plain SGD"
    curves = np.load(out / "curves.npz")
    assert curves["test_mse"].shape == (41, 3) and curves["mode_sv"].shape == (41, 3, 2)
    assert json.loads((out / "summary.json").read_text())["n_seeds"] == 3


def test_checkpoint_rank2_state_has_noise_on_reverse_direction(capsys):
    rc = main(BASE + ["--beta", "0.32", "--epochs", "5", "--json", "--init", "checkpoint", "--init-beta", "0.05",
                      "--init-max-epochs", "200", "--converge-window", "20", "--seed", "1"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    # from the rank-2 state at beta = 0.32 the relevant saddle is the reverse escape of mode 2, with noise
    assert d["noise_state"] == ["learned", "learned"]
    assert d["saddle"] == ["learned", "saddle"] and d["escape_direction_kind"] == "reverse"
    assert d["noise_escape_direction"] > 0 and d["temperature_eff"] > 0 and d["escape_noise_zero"] is False


def test_checkpoint_rank1_trap_reports_zero_noise(capsys):
    # sv (0.9, 0.3): a checkpoint at beta = 0.2 (> beta_c = 0.094 of the 0.3 mode) is rank 1; at beta = 0.05
    # the 0.3 mode is bistable with learned global, so the trap escapes forward through (learned, saddle),
    # along which plain SGD has exactly no noise.
    args = ["sgd", "--depth", "3", "--width", "4", "--sv", "0.9", "0.3", "--n-train", "64", "--n-test", "32",
            "--batch", "16", "--lr", "0.05", "--seeds", "3", "--no-progress", "--beta", "0.05", "--epochs", "5",
            "--json", "--init", "checkpoint", "--init-beta", "0.2", "--init-max-epochs", "400",
            "--converge-window", "20", "--seed", "2"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["noise_state"] == ["learned", "trivial"]
    assert d["saddle"] == ["learned", "saddle"] and d["escape_direction_kind"] == "forward"
    # exactly dead at the ideal trap; at the trained checkpoint weights only the undecayed remnant of the
    # trap's dead directions is left (measured ~1e-8 of tr C after ~150 epochs at beta = 0.2)
    assert d["escape_noise_zero_ideal"] is True
    assert d["noise_escape_direction_ideal"] <= 1e-12 * d["noise_trace_ideal"]
    assert 0 <= d["noise_escape_direction"] <= 1e-6 * d["noise_trace"]
    assert all(0 <= c <= 1e-6 * d["noise_trace"] for c in d["noise_escape_direction_replicas"])
    assert len(d["alignment_residual"]) == 3 and all(r < 0.2 for r in d["alignment_relative_residual"])
    assert "absorbing" in d["noise_note"]


def test_table_output(capsys):
    assert main(BASE + ["--beta", "0.45", "--epochs", "3", "--criterion", "singular_value"]) == 0
    out = capsys.readouterr().out
    assert "escaped (singular_value)" in out and "T_eff" in out


@pytest.mark.parametrize("bad", [
    ["--lr", "0"], ["--lr", "-0.1"], ["--batch", "0"], ["--batch", "65"], ["--seeds", "0"], ["--beta", "-1"],
    ["--init", "checkpoint"], ["--noise-temperature", "-1"], ["--escape-mode", "2"], ["--epochs", "-3"],
    ["--n-pool", "32"], ["--n-pool", "0"], ["--data-seed", "-1"], ["--seed", "-2"],
])
def test_bad_input_exit_2(bad, capsys):
    args = BASE + ["--beta", "0.1", "--epochs", "2"]
    # later options override earlier ones in argparse
    rc = main(args + bad)
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("langevin-grok sgd: error:") and "\n" not in err


def _json(args, capsys):
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_sparse_pool_and_data_seed(capsys):
    base = BASE + ["--beta", "0.05", "--epochs", "2", "--json"]
    d = _json(base + ["--n-pool", "500", "--seed", "4", "--data-seed", "7"], capsys)
    assert d["settings"]["n_pool"] == 500 and d["settings"]["n_train"] == 64 and d["settings"]["data_seed"] == 7
    assert d["settings"]["data_seed_sequence"]["entropy"] == 7 and d["settings"]["train_seed_sequence"]["entropy"] == 4
    # same data seed, other SGD seed: the same training set, so the same noise at the ideal point
    e = _json(base + ["--n-pool", "500", "--seed", "5", "--data-seed", "7"], capsys)
    assert e["noise_trace_ideal"] == d["noise_trace_ideal"] and e["train_mse"] != d["train_mse"]
    # without --data-seed the data follow --seed
    f = _json(base + ["--n-pool", "500", "--seed", "5"], capsys)
    assert f["noise_trace_ideal"] != e["noise_trace_ideal"]


def test_help_states_units(capsys):
    with pytest.raises(SystemExit):
        main(["sgd", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for opt in ("--n-pool", "--n-train", "--n-test", "--data-seed", "--no-early-stop"):
        assert opt in out
    assert "(samples, >= n_train" in out and "(default: the seed)" in out
    # every protocol parameter is an option, built from the protocol's one table
    from langevin_grok.sgd.protocol import PROTOCOL_PARAMS

    for name, spec in PROTOCOL_PARAMS.items():
        flag = ("--no-" if spec["type"] == "bool" and spec.get("default") else "--") + name.replace("_", "-")
        assert flag in out, flag


def test_readme_example_says_what_the_checkpoint_really_is(capsys):
    """The README's checkpoint example on the default data seed: the training set's singular values move
    beta_c of mode 2 above init_beta = 0.361, so the checkpoint keeps mode 2 (rank 2, not the rank-1 trap);
    the command says so (warning codes) and the default escape criterion (the mode amplitude in the empirical
    basis) cannot fire on the relaxation after beta drops (no 'escape at epoch 2')."""
    rc = main(["sgd", "--depth", "3", "--width", "10", "--sv", "0.9", "0.8", "--beta", "0.32", "--lr", "0.08",
               "--batch", "64", "--epochs", "30", "--seeds", "4", "--init", "checkpoint", "--init-beta", "0.361",
               "--init-max-epochs", "3000", "--json", "--no-progress"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["criterion"] == "mode_amplitude"
    assert d["empirical_beta_c"][1] > 0.361 > 0.3509  # empirical vs population beta_c of mode 2
    assert d["checkpoint_state_population"] == ["learned", "trivial"]
    assert d["checkpoint_state_empirical"] == ["learned", "learned"] == d["start_state"]
    assert d["start_is_trap"] is False and "checkpoint_differs_from_population" in d["start_warnings"]
    assert d["n_escaped"] == 0 and len(d["escape_times_sde"]) == 4
    assert d["tau_sde_ci"][0] > 0 and d["tau_sde"] is None  # censored: a lower bound only


def test_rank1_trap_reports_the_lyapunov_exponent(capsys):
    """A rank-deficient checkpoint (sv 0.9, 0.3 at init_beta 0.2 > beta_c of the 0.3 mode): the normal-space
    Lyapunov exponent per unit SDE time is negative (attractive) and near ln(1 - lr beta)/lr (docs/theory.md,
    'Invariant sets'), within 10 % (the trap of the population network in its canonical frame, SGD on the
    training set, seed 0)."""
    import math

    rc = main(["sgd", "--depth", "3", "--width", "4", "--sv", "0.9", "0.3", "--n-train", "256", "--n-test", "32",
               "--batch", "32", "--lr", "0.05", "--seeds", "3", "--no-progress", "--beta", "0.05", "--epochs", "5",
               "--json", "--init", "checkpoint", "--init-beta", "0.2", "--init-max-epochs", "400",
               "--converge-window", "20", "--seed", "2"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["start_state"] == ["learned", "trivial"]
    assert d["attractive"] is True and d["lyapunov_status"] == "valid"
    assert d["lyapunov_exponent"] == pytest.approx(math.log(1 - 0.05 * 0.05) / 0.05, rel=0.1)
