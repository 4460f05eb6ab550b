"""Reliability of the command line (project issue 13, items 3-6): output paths checked before work, signals
and pipes end in one line (never a traceback), extreme but legal values are refused before numpy/numba, and
inputs that used to be accepted silently are errors."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from langevin_grok import cli
from langevin_grok._core.checks import InputError, check_magnitude, check_memory, check_one_sv
from langevin_grok.cli._common import check_output_dir, check_output_file

ROOT = Path(__file__).resolve().parents[1]
SGD = ["sgd", "--depth", "3", "--width", "2", "--sv", "0.8", "--beta", "0.1", "--lr", "0.05", "--batch", "4",
       "--epochs", "2", "--replicas", "2", "--n-train", "8", "--n-test", "8", "--no-progress"]


def main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue(), err.getvalue()


def assert_one_line_error(argv, *words):
    rc, _, err = main(argv)
    assert rc == 2, (argv, rc, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")


# ------------------------------------------------------------------------------ output paths
def test_check_output_dir(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    for bad in ("", "  ", str(f), str(f / "sub")):
        with pytest.raises(InputError, match="--out"):
            check_output_dir("--out", bad)
    assert check_output_dir("--out", tmp_path / "a" / "b") == tmp_path / "a" / "b"  # created later
    assert not (tmp_path / "a").exists()  # checking creates nothing
    with pytest.raises(InputError, match="--store"):
        check_output_file("--store", tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_check_output_dir_unwritable_parent(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_output_dir("--out", ro / "x")
    finally:
        ro.chmod(0o700)


def test_sgd_out_checked_before_training(tmp_path, monkeypatch):
    import langevin_grok.sgd.protocol as proto

    def boom(**kw):
        raise AssertionError("training started before --out was checked")

    monkeypatch.setattr(proto, "run_protocol", boom)
    f = tmp_path / "file"
    f.write_text("x")
    assert_one_line_error(SGD + ["--out", str(f / "x")], "--out", "not a directory")
    assert_one_line_error(SGD + ["--out", ""], "--out")


def test_out_and_store_options_refuse_empty_and_files(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert_one_line_error(["validate", "--out", ""], "--out")
    assert_one_line_error(["validate", "--out", str(f)], "--out", "existing file")
    assert_one_line_error(["figures", "--only", "fig2a", "--out", ""], "--out")
    assert_one_line_error(["figures", "--only", "fig2a", "--out", str(f / "x")], "--out")
    cfg = tmp_path / "s.toml"
    cfg.write_text('[sweep]\nkind = "landscape"\n[fixed]\ndepth = 3\nsv = 0.8\nbeta = 0.3\n')
    assert_one_line_error(["sweep", str(cfg), "--store", ""], "--store")
    assert_one_line_error(["sweep", str(cfg), "--store", str(f / "x.sqlite")], "--store")
    assert_one_line_error(["sweep", str(cfg), "--scheduler", ""], "--scheduler")


def test_failed_figure_keeps_users_files(tmp_path):
    from langevin_grok.report.figures import _remove_own_files, _snapshot

    out = tmp_path
    (out / "fx.png").write_bytes(b"user image")
    (out / "fx.json").write_text(json.dumps({"name": "something else"}))
    before = _snapshot(out, "fx")
    (out / "fx.pdf").write_bytes(b"written by the failing run")
    _remove_own_files(out, "fx", before)
    assert (out / "fx.png").read_bytes() == b"user image"
    assert json.loads((out / "fx.json").read_text()) == {"name": "something else"}
    assert not (out / "fx.pdf").exists()
    # the package's own record (and the images beside it) are stale after a failure: removed
    (out / "fy.json").write_text(json.dumps({"name": "fy", "claims": []}))
    (out / "fy.png").write_bytes(b"old image of that record")
    before = _snapshot(out, "fy")
    _remove_own_files(out, "fy", before)
    assert not (out / "fy.json").exists() and not (out / "fy.png").exists()


def test_sweep_name_must_be_a_slug(tmp_path):
    from langevin_grok.sweep import load_config

    base = {"grid": {"beta": [0.3]}, "fixed": {"depth": 3, "sv": 0.8}}
    for bad in ("../../x", "a/b", "..", ".hidden", "x" * 200, "a b"):
        with pytest.raises(InputError, match="sweep.name"):
            load_config(dict(base, sweep={"kind": "landscape", "name": bad}))
    assert load_config(dict(base, sweep={"kind": "landscape", "name": "T-scan_1.v2"})).name == "T-scan_1.v2"
    cfg = tmp_path / "my sweep (v2).toml"  # the default name, from the file's stem, is made safe
    cfg.write_text('[sweep]\nkind = "landscape"\n[fixed]\ndepth = 3\nsv = 0.8\nbeta = 0.3\n')
    assert load_config(cfg).name == "my-sweep-v2"


def test_foreign_sqlite_store_is_refused_read_only(tmp_path):
    from langevin_grok.sweep import SweepStore

    db = tmp_path / "other.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE foo (x INTEGER)")
    con.execute("INSERT INTO foo VALUES (1)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(InputError, match="not a langevin-grok sweep database"):
        SweepStore(db)
    assert db.read_bytes() == before  # not switched to WAL, not written
    assert not Path(str(db) + "-wal").exists()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="junk.sqlite"):
        SweepStore(junk)


# ------------------------------------------------------------------------------ extreme values
def test_sweep_task_count_is_capped_before_expansion():
    from langevin_grok.sweep import load_config

    t0 = time.perf_counter()
    with pytest.raises(InputError, match="sweep.seeds"):
        load_config({"sweep": {"kind": "simulate", "seeds": 1e308}, "fixed": {"depth": 3}})
    grid = {"beta": [0.2 + 1e-4 * i for i in range(1000)], "temperature": [0.01 + 1e-5 * i for i in range(1000)]}
    with pytest.raises(InputError, match="1000000 tasks"):
        load_config({"sweep": {"kind": "simulate"}, "grid": grid, "fixed": {"depth": 3, "sv": 0.8}})
    assert time.perf_counter() - t0 < 5.0


def test_extreme_values_are_refused_with_the_argument_named():
    assert_one_line_error(["landscape", "--depth", "1e308", "--sv", "0.8", "--beta", "0.3"], "depth")
    assert_one_line_error(["stationary", "--depth", "3", "--width", "1e5", "--dim", "2", "--sv", "0.8",
                           "--beta", "0.3"], "width", "GiB")
    assert_one_line_error(SGD[:4] + ["100000"] + SGD[5:], "width", "GiB")
    assert_one_line_error(SGD[:14] + ["1" + "0" * 40] + SGD[15:], "epochs")
    for bad in (1e-320, 1e-301, 1e301):
        with pytest.raises(InputError, match="temperature"):
            check_magnitude("temperature", bad)
    assert check_magnitude("dt", 1e-300) == 1e-300
    with pytest.raises(InputError, match="paths"):
        check_memory("paths", 8.0 * 1e308)


def test_per_mode_functions_refuse_several_singular_values():
    from langevin_grok.landscape import modes
    from langevin_grok.landscape.escape import escape_target

    assert check_one_sv([0.8]) == 0.8
    for f in (lambda s: modes.mode_landscape(3, s, 0.3), lambda s: modes.beta_c(3, s),
              lambda s: modes.lambda_c(3, s), lambda s: modes.beta_star(3, s), lambda s: modes.lambda_star(3, s),
              lambda s: modes.stationary_amplitudes(3, s, 0.3), lambda s: escape_target(3, s, 0.3, "forward")):
        with pytest.raises(InputError, match="one singular value"):
            f([0.5, 0.6])
    m = modes.mode_landscape(3, [0.8], 0.32)  # a one-element list is the same mode
    assert m.lambda_saddle == modes.mode_landscape(3, 0.8, 0.32).lambda_saddle


# ------------------------------------------------------------------------------ silently accepted before
@pytest.mark.parametrize("extra, words", [
    (["--sv-threshold", "0"], ("sv_threshold",)),
    (["--sv-threshold=-1e-3"], ("sv_threshold",)),
    (["--init-beta", "0.1"], ("init_beta", "checkpoint")),
    (["--converge-window=-5"], ("converge_window",)),
])
def test_sgd_inputs_that_were_silently_accepted(extra, words):
    assert_one_line_error(SGD + extra, *words)


def test_validate_rows_strict():
    for bad in ("1,,2", "1,", ",1", "1,x", "0", "8", "1,1", "-1"):
        assert_one_line_error(["validate", "--rows", bad], "--rows")


# ------------------------------------------------------------------------------ pipes and signals
def test_broken_pipe_is_quiet():
    """``langevin-grok landscape ... | head -1``: the reader leaves after one line; no traceback, status 0."""
    sv = [f"{0.05 + 0.9 * i / 3000:.6f}" for i in range(3000)]  # ~0.5 MB of table, far beyond a pipe buffer
    p = subprocess.Popen([sys.executable, "-m", "langevin_grok", "landscape", "--depth", "3", "--beta", "0.3",
                          "--sv", *sv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    first = p.stdout.readline()
    p.stdout.close()  # what head does after its line
    err = p.stderr.read().decode()
    rc = p.wait(timeout=60)
    assert first.startswith(b"depth L = 3")
    assert rc == 0 and err == "", (rc, err)


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sgd_interrupt_keeps_partial_results(tmp_path, sig, status):
    out = tmp_path / "run"
    marker = tmp_path / "started"
    # a long run: the progress bar's file is the sign that training started (tqdm is off: --no-progress)
    # test_mse criterion: no early stop, so the run is still going when the signal comes
    argv = SGD[:14] + ["100000000"] + SGD[15:] + ["--record-every", "100", "--out", str(out), "--no-measure-noise",
                                                  "--criterion", "test_mse"]
    # SIGINT's default handler restored: a shell without job control starts background jobs (and so this
    # suite, when run with '&') with SIGINT ignored, and Python keeps an inherited SIG_IGN
    script = textwrap.dedent(f"""
        import sys, pathlib, signal
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import langevin_grok.sgd.trainer as tr
        orig = tr._Recorder.record
        def record(self, *a, **k):
            pathlib.Path({str(marker)!r}).touch()
            return orig(self, *a, **k)
        tr._Recorder.record = record
        from langevin_grok.cli import main
        sys.exit(main({argv!r}))
    """)
    log = tmp_path / "err.txt"
    with open(log, "w") as fh:
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=fh, env=_env())
    t0 = time.time()
    while not marker.exists() and time.time() - t0 < 60:
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(sig)
    try:
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:  # never leave a 1e8-epoch run behind
            p.kill()
    err = log.read_text()
    assert rc == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "kept in" in lines[0], err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and 0 < summary["epochs_run"] < 100000000
    curves = np.load(out / "curves.npz")
    assert curves["epochs"].size >= 1


def test_sweep_sigterm_marks_run_interrupted(tmp_path):
    """SIGTERM during a process-pool sweep: exit 143 with one line, run 'interrupted', no leaked semaphore."""
    script = tmp_path / "slow_sweep.py"
    store = tmp_path / "s.sqlite"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        from langevin_grok.sweep import register_task, run_sweep

        def slow(params, seed):
            time.sleep(params["t"])
            return {{"t": params["t"]}}

        if __name__ == "__main__":
            register_task("slow_test", slow, {{"t": {{"type": "float", "min": 0.0}}}}, replace=True)
            cfg = {{"sweep": {{"kind": "slow_test", "name": "slow", "seeds": 4}}, "fixed": {{"t": 60.0}}}}
            try:
                run_sweep(cfg, store={str(store)!r}, workers=2, progress=False)
            except KeyboardInterrupt as exc:
                print("interrupted", type(exc).__name__, file=sys.stderr)
                sys.exit(143)
    """))
    log = tmp_path / "err.txt"
    with open(log, "w") as fh:
        p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=fh, env=_env())
    t0 = time.time()
    while time.time() - t0 < 60:
        if store.exists():
            with contextlib.closing(sqlite3.connect(store)) as con:
                with contextlib.suppress(sqlite3.Error):
                    if con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]:
                        break
        time.sleep(0.1)
    time.sleep(2.0)  # workers started
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    err = log.read_text()
    assert rc == 143, err
    assert "Terminated" in err and "leaked semaphore" not in err and "Traceback" not in err, err
    with contextlib.closing(sqlite3.connect(store)) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
