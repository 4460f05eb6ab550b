"""``langevin-grok stationary`` in-process through langevin_grok.cli.main."""

from __future__ import annotations

import json

import pytest

from langevin_grok.cli import main
from langevin_grok.landscape.modes import beta_c, mode_landscape


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_seed_setup_json_lists_all_combinations(capsys):
    out = _json(capsys, ["stationary", "--depth", "3", "--width", "10", "--dim", "2", "--sv", "0.9", "0.8",
                         "--beta", "0.32", "--json"])
    assert out["n_params"] == 140
    pts = {",".join(p["modes"]): p for p in out["points"]}
    assert len(pts) == 9 and out["skipped"] == []
    assert pts["trivial,trivial"]["index"] == 0 and pts["trivial,trivial"]["n_zero"] == 0
    assert pts["learned,trivial"]["index"] == 0 and pts["learned,trivial"]["n_zero"] == 18
    assert pts["trivial,saddle"]["energy"] == pytest.approx(mode_landscape(3, 0.8, 0.32).barrier_forward, rel=1e-12)
    for p in pts.values():
        assert p["gradient_norm"] < 1e-12
        assert p["n_zero"] == p["orbit_dimension"]
        assert len(p["eigenvalues"]) == 4 and "theta" not in p


def test_explicit_modes_seed_and_theta(capsys):
    out = _json(capsys, ["stationary", "-L", "4", "-w", "1", "-p", "1", "--sv", "0.8", "--beta", "0.02",
                         "--modes", "saddle", "--modes", "learned", "--seed", "3", "--theta", "--n-eig", "2",
                         "--json"])
    assert [p["modes"] for p in out["points"]] == [["saddle"], ["learned"]]
    assert [p["index"] for p in out["points"]] == [1, 0]
    assert len(out["points"][0]["theta"]) == 4 and out["seed"] == 3


def test_skips_combinations_that_do_not_exist(capsys):
    # beta between beta_c(0.8) and beta_c(0.9) at L = 3: only mode 0 has saddle and learned points.
    beta = 0.5 * (beta_c(3, 0.8) + beta_c(3, 0.9))
    out = _json(capsys, ["stationary", "-L", "3", "-w", "2", "-p", "3", "--sv", "0.9", "0.8",
                         "--beta", repr(beta), "--json"])
    kinds = {",".join(p["modes"]) for p in out["points"]}
    assert kinds == {"trivial,trivial,trivial", "saddle,trivial,trivial", "learned,trivial,trivial"}
    assert len(out["skipped"]) == 6


def test_modes_follow_descending_sv_order(capsys):
    argv = ["stationary", "-L", "3", "-w", "1", "-p", "2", "--beta", "0.32", "--modes", "saddle", "--json", "--sv"]
    a = _json(capsys, argv + ["0.8", "0.9"])
    b = _json(capsys, argv + ["0.9", "0.8"])
    assert a["sv"] == [0.9, 0.8]
    assert a["points"][0]["energy"] == b["points"][0]["energy"]
    assert a["points"][0]["energy"] == pytest.approx(mode_landscape(3, 0.9, 0.32).barrier_forward, rel=1e-12)


def test_table_output(capsys):
    assert main(["stationary", "-L", "3", "-w", "2", "-p", "2", "--sv", "0.9", "0.8", "--beta", "0.32"]) == 0
    text = capsys.readouterr().out
    assert "learned,learned" in text and "n_zero" in text and "mu_1" in text


@pytest.mark.parametrize("argv,needle", [
    (["-L", "3", "-w", "1", "-p", "2", "--sv", "0.9", "0.8", "--beta", "0.3", "--modes", "learned,learned"],
     "width"),
    (["-L", "1", "-w", "2", "-p", "2", "--sv", "0.9", "--beta", "0.3"], "depth"),
    (["-L", "3", "-w", "2.5", "-p", "2", "--sv", "0.9", "--beta", "0.3"], "width"),
    (["-L", "3", "-w", "2", "-p", "1", "--sv", "0.9", "0.8", "--beta", "0.3"], "sv"),
    (["-L", "3", "-w", "2", "-p", "2", "--sv", "0.9", "--beta", "-0.3"], "beta"),
    (["-L", "3", "-w", "2", "-p", "2", "--sv", "1.2", "--beta", "0.3"], "sv"),
    (["-L", "3", "-w", "2", "-p", "2", "--sv", "0.9", "--beta", "0.3", "--modes", "learnt"], "modes"),
    (["-L", "3", "-w", "2", "-p", "2", "--sv", "0.9", "--beta", "0.5", "--modes", "saddle"], "does not exist"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    assert main(["stationary", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_nan_rejected_by_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["stationary", "-L", "3", "-w", "2", "-p", "2", "--sv", "nan", "--beta", "0.3"])
    assert exc.value.code == 2


def test_help_states_units(capsys):
    with pytest.raises(SystemExit):
        main(["stationary", "--help"])
    text = capsys.readouterr().out
    for opt in ("--depth", "--width", "--dim", "--sv", "--beta", "--modes", "--seed", "--n-eig", "--tol"):
        assert opt in text
    assert "loss units per squared weight" in text
