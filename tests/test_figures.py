"""Figure registry, runner, theory figures and the reproduction report."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from langevin_grok.report import figures as F
from langevin_grok.report import figures_theory as FT
from langevin_grok.report import registry as Reg
from langevin_grok.report import reproduction as R
from langevin_grok._core.checks import InputError
from langevin_grok.cli import main
from langevin_grok.landscape.modes import beta_c, beta_star, mode_landscape

THEORY_FIGURES = ("fig2a", "fig4", "depth")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run of the theory figures (shared: saving PDFs is the slow part). The simulation
    figures' quick mode takes minutes; tests/test_figures_sim.py runs them in tiny configurations."""
    out = tmp_path_factory.mktemp("figs")
    summary = F.run_figures(list(THEORY_FIGURES), out_dir=out, quick=True, seed=7)
    return out, summary


@pytest.fixture
def tiny(monkeypatch):
    """A private registry copy with a cheap extra figure "tiny" (runner mechanics without slow drawing)."""
    from langevin_grok.report import plotting

    monkeypatch.setattr(Reg, "_REGISTRY", dict(Reg._REGISTRY))

    @F.register_figure("tiny", title="a cheap test figure", kind="simulation", order=98.0)
    def tiny_fig(*, preset, out_dir, seed, progress=False):
        rng = np.random.default_rng(seed)
        fig, ax = plotting.new_figure(figsize=(2, 2))
        ax.plot(rng.random(5))
        claim = R.Claim(key="tiny_claim", claim="tiny claim", paper="1", toolkit="1.0 +- 0.1", status=R.REPRODUCED,
                        why="test", seeds=str(seed), value=float(rng.random()))
        return F.finish("tiny", fig, out_dir, params={"preset": preset}, numbers={"x": 1.5}, claims=(claim,))

    return "tiny"


# --------------------------------------------------------------------------- registry
def test_registry_lists_only_real_figures_in_order():
    names = [s.name for s in F.registered_figures()]
    for n in THEORY_FIGURES:
        assert n in names
    assert names.index("fig2a") < names.index("fig4") < names.index("depth")
    for spec in F.registered_figures():
        assert spec.title and callable(spec.func) and spec.kind in ("theory", "simulation")
    with pytest.raises(InputError, match="fig2a"):
        F.get_figure("nope")


def test_register_figure_rejects_duplicates_and_bad_names(monkeypatch):
    monkeypatch.setattr(Reg, "_REGISTRY", dict(Reg._REGISTRY))
    with pytest.raises(InputError, match="already registered"):
        F.register_figure("fig2a", title="x")(lambda **kw: None)
    with pytest.raises(InputError, match="name"):
        F.register_figure("bad name", title="x")
    with pytest.raises(InputError, match="kind"):
        F.register_figure("ok", title="x", kind="other")


def test_figure_seed_is_keyed_by_name_and_root():
    a = F.figure_seed(0, "fig1a")
    assert a == F.figure_seed(0, "fig1a")
    assert a != F.figure_seed(0, "fig1b") and a != F.figure_seed(1, "fig1a")
    assert 0 <= a < 2**63
    with pytest.raises(InputError, match="seed"):
        F.figure_seed(-1, "fig1a")


# --------------------------------------------------------------------------- runner
def test_quick_run_writes_files_records_and_report(quick_run):
    out, summary = quick_run
    assert summary.ok, summary.failures
    ran = [r.name for r in summary.results]
    assert ran == list(THEORY_FIGURES)
    for name in ran:
        for ext in ("png", "pdf", "json"):
            f = out / f"{name}.{ext}"
            assert f.exists() and f.stat().st_size > 0, f
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        rec = json.loads((out / f"{name}.json").read_text())
        assert rec["name"] == name and rec["seed"] == F.figure_seed(7, name) and rec["quick"] is True
        assert rec["run"]["root_seed"] == 7 and "numpy" in rec["run"]["env"]
    report = (out / F.REPORT_NAME).read_text()
    assert summary.report_paths == (str(out / F.REPORT_NAME),)
    assert "langevin-grok figures --quick --seed 7" in report
    assert "numpy" in report and "matplotlib" in report
    for name in ran:
        assert f"### `{name}`" in report


def test_report_theory_rows(quick_run):
    out, summary = quick_run
    claims = {c.key: c for r in summary.results for c in r.claims}
    assert claims["beta_c_0.8"].value == pytest.approx(0.350882128585544, rel=1e-12)
    assert claims["beta_c_0.9"].value == pytest.approx(0.41054863470120456, rel=1e-12)
    assert claims["beta_c_0.8"].status == R.REPRODUCED and claims["beta_c_0.9"].status == R.REPRODUCED
    assert "0.36" in claims["beta_c_0.8"].toolkit and "0.42" in claims["beta_c_0.9"].toolkit
    assert claims["fig2a_lambda_sad"].value == pytest.approx(0.092545, abs=1e-6)
    assert claims["fig2a_lambda_sad"].status == R.CONTRADICTED
    assert claims["fig2a_dE"].value == pytest.approx(0.028453, abs=1e-6)
    assert "0.008829" in claims["fig2a_dE"].toolkit
    assert claims["fig2a_dE"].status == R.CONTRADICTED
    assert claims["global_phase_0.8"].status == R.CONTRADICTED and "trivial" in claims["global_phase_0.8"].toolkit
    assert claims["global_phase_0.9"].status == R.REPRODUCED and "learned" in claims["global_phase_0.9"].toolkit
    assert all(c.figure in ("fig2a", "fig4") for c in claims.values())
    report = (out / F.REPORT_NAME).read_text()
    row = next(line for line in report.splitlines() if line.startswith("|") and "eta = 0.8 mode (Eq. (3)" in line)
    assert "0.350882" in row and "**reproduced**" in row
    # simulation claims that no figure evaluated are listed, not dropped
    assert "## Claims of the paper not evaluated" in report
    assert "~5500 epochs" in report


def test_report_is_rebuilt_from_all_records(quick_run, tmp_path, tiny):
    out, _ = quick_run
    # a run of one figure into a directory that already holds the others keeps their rows
    for name in THEORY_FIGURES:
        (tmp_path / f"{name}.json").write_text((out / f"{name}.json").read_text())
    s = F.run_figures([tiny], out_dir=tmp_path, seed=3, command="cmd-tiny-only")
    text = (tmp_path / F.REPORT_NAME).read_text()
    assert "cmd-tiny-only" in text
    assert "Fig. 2(a): saddle" in text  # from fig2a's earlier record
    assert "From an earlier run" in text  # fig2a, fig4 and depth are marked as such
    assert "| tiny claim | 1 | 1.0 +- 0.1 | " + str(F.figure_seed(3, tiny)) in text
    assert [r.name for r in s.results] == [tiny]
    # records of unregistered figures are ignored
    (tmp_path / "gone.json").write_text(json.dumps({"name": "gone", "claims": [], "paths": []}))
    F.run_figures([tiny], out_dir=tmp_path)
    assert "`gone`" not in (tmp_path / F.REPORT_NAME).read_text()


def test_failing_figure_is_reported_and_others_run(tmp_path, tiny):
    @F.register_figure("boom", title="always fails", order=99.0)
    def boom(*, preset, out_dir, seed, progress=False):
        raise RuntimeError("deliberate failure")

    @F.register_figure("badnum", title="returns an object that is not JSON-able", order=99.5)
    def badnum(*, preset, out_dir, seed, progress=False):
        from langevin_grok.report import plotting

        fig, _ = plotting.new_figure(figsize=(1, 1))
        return F.finish("badnum", fig, out_dir, numbers={"x": object()})

    (tmp_path / "boom.json").write_text('{"name": "boom"}')  # a stale record must not survive the failure
    (tmp_path / "boom.png").write_bytes(b"old")
    s = F.run_figures([tiny, "boom", "badnum"], out_dir=tmp_path)
    assert not s.ok and "deliberate failure" in s.failures["boom"]
    assert "not JSON-able" in s.failures["badnum"] and not (tmp_path / "badnum.png").exists()
    assert not (tmp_path / "boom.json").exists() and not (tmp_path / "boom.png").exists()
    assert "RuntimeError" in (tmp_path / "boom.error.txt").read_text()
    assert (tmp_path / "tiny.png").exists()
    assert "deliberate failure" in (tmp_path / F.REPORT_NAME).read_text()


def test_failing_figure_keeps_files_that_are_not_its_record(tmp_path, tiny):
    @F.register_figure("boom2", title="always fails", order=99.7)
    def boom2(*, preset, out_dir, seed, progress=False):
        raise RuntimeError("deliberate failure")

    (tmp_path / "boom2.json").write_text("{}")  # not a record of this package: a user's file
    (tmp_path / "boom2.png").write_bytes(b"user's image")
    s = F.run_figures(["boom2"], out_dir=tmp_path)
    assert not s.ok and (tmp_path / "boom2.json").read_text() == "{}"
    assert (tmp_path / "boom2.png").read_bytes() == b"user's image"


def test_extra_report_dir(tmp_path, tiny):
    s = F.run_figures([tiny], out_dir=tmp_path / "a", extra_report_dirs=[tmp_path / "b"])
    assert (tmp_path / "b" / F.REPORT_NAME).read_text() == (tmp_path / "a" / F.REPORT_NAME).read_text()
    assert len(s.report_paths) == 2


# --------------------------------------------------------------------------- theory data
def test_minimal_path_curves_match_landscape():
    for coord in ("lambda", "r"):
        curves = FT.minimal_path_curves(3, 0.8, (0.29, 0.32, 0.35), coordinate=coord, n=4001)
        for c in curves:
            m = mode_landscape(3, 0.8, c.beta)
            assert c.barrier_forward == pytest.approx(m.barrier_forward)
            assert c.barrier_reverse == pytest.approx(m.barrier_reverse)
            assert c.energy[0] == 0.0
            # the curve's maximum between the two minima is the saddle (grid resolution)
            inside = (c.x > 0) & (c.x < c.x_min)
            i = np.argmax(np.where(inside, c.energy, -np.inf))
            assert c.energy[i] == pytest.approx(c.e_saddle, abs=1e-6)
            assert abs(c.x[i] - c.x_saddle) <= 2 * (c.x[1] - c.x[0])
            j = np.argmin(np.where(c.x > c.x_saddle, c.energy, np.inf))
            assert c.energy[j] == pytest.approx(c.e_min, abs=1e-6)
    with pytest.raises(InputError, match="coordinate"):
        FT.minimal_path_curves(3, 0.8, (0.32,), coordinate="a")


def test_bifurcation_branches_end_at_fold_and_axes():
    for b in FT.bifurcation_branches(3, (0.9, 0.8), n=200):
        eta = 0.9 if "0.9" in b.label else 0.8
        assert b.beta_c == pytest.approx(beta_c(3, eta)) and b.beta_star == pytest.approx(beta_star(3, eta))
        # the fold is the largest beta on both branches, and they meet there
        assert b.beta_stable.max() == pytest.approx(b.beta_c, rel=1e-12)
        assert b.beta_unstable.max() == pytest.approx(b.beta_c, rel=1e-12)
        assert b.lam_stable[-1] == pytest.approx(eta) and b.beta_stable[-1] == pytest.approx(0.0, abs=1e-15)
        assert b.lam_unstable[0] == 0.0
        # stable branch points are learned minima of the landscape at their beta
        k = len(b.lam_stable) // 3
        m = mode_landscape(3, eta, float(b.beta_stable[k]))
        assert m.lambda_min == pytest.approx(b.lam_stable[k], rel=1e-9)


def test_depth_table_barriers_equal_at_coexistence():
    tab = FT.depth_table([3, 4, 5, 6], [0.8, 0.9], fraction=0.9)
    assert tab["depths"] == [3, 4, 5, 6]
    for eta in ("0.8", "0.9"):
        row = tab[eta]
        # at beta* both minima are equally deep, so the forward and reverse barriers coincide
        for L, fwd in zip(tab["depths"], row["barrier_at_beta_star"]):
            m = mode_landscape(L, float(eta), beta_star(L, float(eta)))
            assert fwd == pytest.approx(m.barrier_reverse, rel=1e-9)
        assert row["beta_c"][0] == pytest.approx(beta_c(3, float(eta)))
        assert all(np.diff(row["beta_c"]) < 0)  # beta_c falls with depth
    assert tab["0.8"]["beta_c"][0] == pytest.approx(0.350882128585544)
    with pytest.raises(InputError, match="fraction"):
        FT.depth_table([3], [0.8], fraction=1.5)


def test_minimal_path_check_scalar_chain_and_paper_network():
    chain = FT.minimal_path_check(3, [0.8], 0.32, width=1)
    assert chain["index"] == 1 and chain["n_zero"] == 0
    assert chain["unstable_eigenvalue"] == pytest.approx(chain["d2U_dr2_at_saddle_1d"], rel=1e-10)
    assert chain["cos_unstable_direction_vs_path"] == pytest.approx(1.0, abs=1e-12)
    assert chain["smallest_positive_eigenvalue"] == pytest.approx(2 * 0.32, rel=1e-10)
    net = FT.minimal_path_check(3, [0.9, 0.8], 0.32, width=10)
    assert net["index"] == 1 and net["n_zero"] == net["orbit_dimension"] > 0
    assert net["cos_unstable_direction_vs_path"] == pytest.approx(1.0, abs=1e-10)
    assert net["barrier_weight_space"] == pytest.approx(0.028453461730578, rel=1e-10)


def test_minimal_path_by_finite_differences_of_the_chain():
    """Independent of network.py: Hessian of the scalar chain loss at the balanced saddle."""
    L, eta, beta = 3, 0.8, 0.32
    a = mode_landscape(L, eta, beta).a_saddle

    def loss(w):
        return 0.5 * (np.prod(w) - eta) ** 2 + 0.5 * beta * np.sum(w**2)

    w0, h = np.full(L, a), 1e-4
    H = np.empty((L, L))
    for i in range(L):
        for j in range(L):
            ei, ej = np.eye(L)[i] * h, np.eye(L)[j] * h
            H[i, j] = (loss(w0 + ei + ej) - loss(w0 + ei - ej) - loss(w0 - ei + ej) + loss(w0 - ei - ej)) / (4 * h * h)
    mu, vec = np.linalg.eigh(H)
    assert mu[0] < 0 < mu[1]
    assert abs(vec[:, 0] @ np.ones(L)) / math.sqrt(L) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(mu[1:], 2 * beta, rtol=1e-5)
    assert mu[0] == pytest.approx(mode_landscape(L, eta, beta).curvature_saddle, rel=1e-5)


# --------------------------------------------------------------------------- reproduction pieces
def test_beta_c_rows_follow_the_grid_rule():
    rows = R.theory_claims_beta_c(3, (0.8,), sweep_step=0.01)
    assert rows[0].status == R.REPRODUCED
    # on a coarser grid the first point above beta_c is 0.4, not the paper's 0.36
    rows = R.theory_claims_beta_c(3, (0.8,), sweep_step=0.1)
    assert rows[0].status == R.CONTRADICTED and "0.4" in rows[0].toolkit
    assert R._first_grid_point_above(0.35, 0.01) == 0.36  # a value on the grid is not "above" itself


def test_claim_validates_status_and_round_trips():
    c = R.Claim(key="k", claim="c", paper="p", toolkit="t", status=R.NOT_REPRODUCED, why="w", value=1.0)
    assert R.Claim.from_dict(c.to_dict()) == c
    with pytest.raises(InputError, match="status"):
        R.Claim(key="k", claim="c", paper="p", toolkit="t", status="maybe", why="w")


def test_paper_number_candidates():
    cands = R.paper_number_candidates()
    assert cands["lambda_sad[eta=0.8,beta=0.32]"] == pytest.approx(0.092545, abs=1e-6)
    assert cands["lambda_c[eta=0.8] (upper bound of lambda_sad)"] == pytest.approx(0.2)
    b = cands["beta where dE_reverse(eta=0.8) = 0.003"]
    assert mode_landscape(3, 0.8, b).barrier_reverse == pytest.approx(0.003, rel=1e-8)


# --------------------------------------------------------------------------- command line
def test_cli_figures(tmp_path, capsys, tiny):
    assert main(["figures", "--only", tiny, "--out", str(tmp_path), "--no-progress", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "REPRODUCTION.md" in out
    text = (tmp_path / "REPRODUCTION.md").read_text()
    assert f"langevin-grok figures --quick --seed 5 --out {tmp_path} --only tiny" in text
    assert json.loads((tmp_path / "tiny.json").read_text())["params"] == {"preset": "quick"}
    assert main(["figures", "--full", "--only", tiny, "--out", str(tmp_path), "--no-progress"]) == 0
    assert json.loads((tmp_path / "tiny.json").read_text())["params"] == {"preset": "full"}
    assert main(["figures", "--list"]) == 0
    assert "fig2a" in capsys.readouterr().out
    assert main(["figures", "--only", "nope", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["figures", "--seed", "-1", "--out", str(tmp_path)]) == 2


def test_finite_sample_spread_and_its_rows():
    sp = R.finite_sample_spread(n_sets=40, seed=11)
    again = R.finite_sample_spread(n_sets=40, seed=11)
    np.testing.assert_array_equal(sp.sv, again.sv)  # reproducible from the seed
    assert sp.sv.shape == (40, 2) and np.all(sp.sv[:, 0] > sp.sv[:, 1])
    # per-set beta_c / beta* are the closed forms at the per-set singular values
    assert sp.beta_c[3, 1] == pytest.approx(beta_c(3, sp.sv[3, 1]))
    assert sp.beta_star[5, 0] == pytest.approx(beta_star(3, sp.sv[5, 0]))
    # N = 512 singular values scatter by a few percent around the population ones
    assert abs(sp.sv[:, 1].mean() - 0.8) < 0.03 and 0.01 < sp.sv[:, 1].std() < 0.08
    summ = sp.summary()
    assert summ["n_sets"] == 40 and len(summ["beta_c_std"]) == 2
    rows = {c.key: c for c in R.theory_claims_fig2a(spread=sp)}
    assert "training sets" in rows["global_phase_0.8"].toolkit and rows["global_phase_0.8"].uncertainty > 0
    assert rows["global_phase_0.8"].seeds.startswith("11")
    # if the learned minimum were global in half the training sets the row could not be "contradicted"
    fake = R.SampleSpread(3, 512, 4, 0, sp.sv[:4], sp.beta_c[:4], np.array([[0.35, 0.33], [0.35, 0.31]] * 2))
    rows = {c.key: c for c in R.theory_claims_fig2a(spread=fake)}
    assert rows["global_phase_0.8"].status == R.NOT_REPRODUCED
    assert rows["global_phase_0.9"].status == R.REPRODUCED


def test_lambda_c_bound_behind_the_lambda_sad_row():
    # the row's argument: lambda_c < eta/2 at every depth, and every saddle lies below lambda_c
    from langevin_grok.landscape.modes import lambda_c

    for L in range(3, 40):
        assert lambda_c(L, 0.8) < 0.4
    for b in np.linspace(0.01, beta_c(3, 0.8) * (1 - 1e-9), 25):
        assert mode_landscape(3, 0.8, float(b)).lambda_saddle < lambda_c(3, 0.8)


def test_cli_paper_figs_flag(tmp_path, monkeypatch, tiny):
    from langevin_grok.cli import figures as cli_figures

    target = tmp_path / "paper_figs"
    target.mkdir()
    monkeypatch.setattr(cli_figures, "_paper_figs_dir", lambda: target)
    assert main(["figures", "--only", tiny, "--out", str(tmp_path / "o"), "--paper-figs", "--no-progress"]) == 0
    text = (target / "REPRODUCTION.md").read_text()
    assert text == (tmp_path / "o" / "REPRODUCTION.md").read_text() and "--paper-figs" in text


def test_judge():
    assert R.judge(4000, 7000, 6500, 8000) == R.REPRODUCED
    assert R.judge(7000, math.inf, 2000, 3000) == R.CONTRADICTED
    assert R.judge(7000, math.inf, 9000, math.inf) == R.REPRODUCED
    assert R.judge(0, 1, 0, 0, measured=False) == R.NOT_REPRODUCED
    with pytest.raises(InputError):
        R.judge(2, 1, 0, 1)
