"""Sweep machinery: config validation, seeds, the SQLite store, executors, kill -9 and dask."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.landscape.modes import mode_landscape
from langevin_grok.sweep import (
    SweepStore,
    get_task,
    load_config,
    load_results,
    plan,
    register_task,
    results_array,
    run_sweep,
    task_seed,
)
from langevin_grok.sweep.kinds import simulate_task

ARC_FIXED = {"depth": 3, "sv": 0.8, "beta": 0.32, "paths": 16}


def arc_config(temps=(0.02, 0.03), seeds=2, t_max=1.0, **sweep):
    """A cheap seeded task of the engine's ``simulate`` kind (arc model; the sweep tests use the engine)."""
    return {"sweep": {"kind": "simulate", "seeds": seeds, "base_seed": 11, **sweep},
            "grid": {"temperature": list(temps)}, "fixed": dict(ARC_FIXED, max_time=t_max)}


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ------------------------------------------------------------------ validation
BAD = [
    # (config dict, the key the message must name)
    ({"sweep": {"kind": "landscape", "bogus": 1}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3}}, "sweep.bogus"),
    ({"sweep": {"kind": "landscape"}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3, "width": 4}}, "fixed.width"),
    ({"sweep": {"kind": "landscape"}, "grid": {"lr": [0.1]}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3}}, "grid.lr"),
    ({"sweep": {"kind": "landscape"}, "fixed": {"depth": 2.5, "sv": 0.8, "beta": 0.3}}, "fixed.depth"),
    ({"sweep": {"kind": "landscape"}, "fixed": {"depth": 3, "sv": "0.8", "beta": 0.3}}, "fixed.sv"),
    ({"sweep": {"kind": "landscape"}, "grid": {"beta": [0.1, -0.2]}, "fixed": {"depth": 3, "sv": 0.8}}, "grid.beta[1]"),
    ({"sweep": {"kind": "landscape"}, "fixed": {"depth": 3, "sv": 1.2, "beta": 0.3}}, "fixed.sv"),
    ({"sweep": {"kind": "landscape"}, "fixed": {"depth": 3, "sv": 0.8}}, "beta"),
    ({"sweep": {"kind": "landscape"}, "grid": {"beta": 0.3}, "fixed": {"depth": 3, "sv": 0.8}}, "grid.beta"),
    ({"sweep": {"kind": "landscape"}, "grid": {"beta": [0.3, 0.3]}, "fixed": {"depth": 3, "sv": 0.8}}, "grid.beta"),
    ({"sweep": {"kind": "landscape"}, "grid": {"beta": [0.3]}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3}}, "beta"),
    ({"sweep": {"kind": "landscape", "seeds": 4}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3}}, "sweep.seeds"),
    ({"sweep": {"kind": "nope"}}, "sweep.kind"),
    ({"sweep": {}}, "sweep.kind"),
    ({"sweep": {"kind": "landscape"}, "fixd": {}}, "[fixd]"),
    (arc_config(seeds=0), "sweep.seeds"),
    (arc_config(seeds=[1, 1]), "sweep.seeds"),
    (arc_config(base_seed=-1), "sweep.base_seed"),
    (arc_config(temps=(0.02, 0.0)), "grid.temperature[1]"),
    (arc_config(temps=(0.02, True)), "grid.temperature[1]"),
    ({**arc_config(), "fixed": dict(ARC_FIXED, max_time=1.0, direction="sideways")}, "fixed.direction"),
    ({**arc_config(), "fixed": dict(ARC_FIXED, max_time=1.0, paths=0)}, "fixed.paths"),
    # combination check of the kind: no barrier above beta_c = 0.3509
    ({**arc_config(), "fixed": dict(ARC_FIXED, max_time=1.0, beta=0.4)}, "beta"),
]


@pytest.mark.parametrize("cfg, key", BAD)
def test_bad_config_names_key_and_writes_nothing(cfg, key, tmp_path):
    store = tmp_path / "s.sqlite"
    with pytest.raises(InputError) as info:
        run_sweep(cfg, store=store, workers=1, progress=False)
    assert key in str(info.value)
    assert not store.exists()


def test_bad_toml_file(tmp_path):
    p = write_toml(tmp_path / "c.toml", '[sweep]\nkind = "landscape"\n[fixed]\ndepth = [3\n')
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(InputError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_bad_workers_and_scheduler(tmp_path):
    cfg = {"sweep": {"kind": "landscape"}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.3}}
    with pytest.raises(InputError, match="workers"):
        run_sweep(cfg, store=tmp_path / "s.sqlite", workers=0)
    with pytest.raises(InputError, match="scheduler"):
        run_sweep(cfg, store=tmp_path / "s.sqlite", scheduler=3.5)
    assert not (tmp_path / "s.sqlite").exists()


def test_not_a_store(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InputError, match="store"):
        SweepStore(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE x (a)")
    with pytest.raises(InputError, match="not a langevin-grok sweep database"):
        SweepStore(other)


# ------------------------------------------------------------------ config expansion and seeds
def test_expansion_order_defaults_and_types(tmp_path):
    p = write_toml(tmp_path / "scan.toml", """
[sweep]
kind = "simulate"
seeds = 2
[grid]
depth = [3, 4.0]
temperature = [0.02, 0.03, 0.05]
[fixed]
sv = 0.8
beta = 0.2
max_time = 1
""")
    cfg = load_config(p)
    assert cfg.name == "scan" and cfg.base_seed == 0
    assert len(cfg.tasks) == 2 * 3 * 2
    t = cfg.tasks[0].params
    # defaults filled in, integral floats -> int, ints -> float where the schema says float
    assert t == {"model": "arc", "depth": 3, "sv": 0.8, "beta": 0.2, "temperature": 0.02, "dt": 1e-3,
                 "paths": 100, "max_time": 1.0, "direction": "forward", "bridge": True, "threads": 1}
    assert type(cfg.tasks[-1].params["depth"]) is int and type(t["max_time"]) is float
    # last grid key varies fastest, replicas innermost
    assert [(x.params["depth"], x.params["temperature"], x.replica) for x in cfg.tasks[:5]] == [
        (3, 0.02, 0), (3, 0.02, 1), (3, 0.03, 0), (3, 0.03, 1), (3, 0.05, 0)]
    assert len({x.key for x in cfg.tasks}) == len(cfg.tasks)
    assert len({x.seed for x in cfg.tasks}) == len(cfg.tasks)


def test_seeds_depend_only_on_base_seed_params_replica():
    small = load_config(arc_config(temps=(0.03,), seeds=3))
    big = load_config(arc_config(temps=(0.02, 0.03, 0.04), seeds=3))
    # extending the grid keeps the seeds (and keys) of the tasks already there
    assert {t.key: t.seed for t in small.tasks}.items() <= {t.key: t.seed for t in big.tasks}.items()
    t = small.tasks[1]
    assert t.seed == task_seed(11, t.params, 1)
    assert task_seed(12, t.params, 1) != t.seed and 0 <= t.seed < 2**63
    explicit = load_config(arc_config(temps=(0.03,), seeds=[5, 2**62]))
    assert [t.seed for t in explicit.tasks] == [5, 2**62]


# ------------------------------------------------------------------ running, store, rerun
def test_landscape_kind_matches_mode_landscape(tmp_path):
    cfg = {"sweep": {"kind": "landscape"}, "grid": {"beta": [0.29, 0.32, 0.4]}, "fixed": {"depth": 3, "sv": 0.8}}
    s = run_sweep(cfg, store=tmp_path / "l.sqlite", workers=1, progress=False)
    assert (s.n_run, s.n_done, s.n_failed, s.complete) == (3, 3, 0, True)
    rows = load_results(tmp_path / "l.sqlite", config=cfg)
    assert [r["params"]["beta"] for r in rows] == [0.29, 0.32, 0.4]
    for r in rows:
        assert r["result"] == mode_landscape(3, 0.8, r["params"]["beta"]).to_dict()
    arr = load_results(tmp_path / "l.sqlite", config=cfg, as_array=True)
    assert arr["lambda_saddle"][1] == pytest.approx(0.092545, abs=1e-6)  # docs/theory.md worked example
    assert np.isnan(arr["lambda_saddle"][2]) and list(arr["phase"]) == ["bistable", "bistable", "trivial_only"]


def test_rerun_skips_finished_and_extension_runs_only_new(tmp_path):
    store = tmp_path / "a.sqlite"
    s1 = run_sweep(arc_config(temps=(0.03,)), store=store, workers=2, progress=False)
    assert (s1.n_run, s1.n_skipped) == (2, 0)
    s2 = run_sweep(arc_config(temps=(0.03,)), store=store, workers=1, progress=False)
    assert (s2.n_run, s2.n_skipped, s2.run_id) == (0, 2, None)
    s3 = run_sweep(arc_config(temps=(0.03, 0.05)), store=store, workers=1, progress=False)
    assert (s3.n_run, s3.n_skipped, s3.n_done_total) == (2, 2, 4)
    with SweepStore(store) as st:
        assert st.count() == 4
        runs = st.runs()
    assert [r["n_done"] for r in runs] == [2, 2] and all(r["status"] == "finished" for r in runs)
    rows = load_results(store)
    assert len({r["key"] for r in rows}) == 4
    for r in rows:  # each stored result is the task function at the stored seed
        assert r["result"] == simulate_task(r["params"], r["seed"])
        assert r["status"] == "done" and r["wall_time"] > 0 and r["package_version"]


def test_record_never_duplicates_or_overwrites_done(tmp_path):
    cfg = load_config(arc_config(temps=(0.03,), seeds=1))
    task = cfg.tasks[0]
    with SweepStore(tmp_path / "s.sqlite") as st:
        assert st.record(task, "x", "1", {"ok": False, "error": "boom"}, None) == "failed"
        assert st.record(task, "x", "1", {"ok": True, "result": {"v": np.float64(1.5)}}, None) == "done"
        st.record(task, "x", "1", {"ok": True, "result": {"v": 2.0}}, None)
        rows = st.rows(status=None)
    assert len(rows) == 1 and rows[0]["result"] == {"v": 1.5} and rows[0]["status"] == "done"


def _flaky(params, seed):
    if params["x"] == 2 and not os.environ.get("LG_TEST_FIXED"):
        raise RuntimeError("x = 2 fails")
    return {"x2": params["x"] ** 2, "seed": seed, "inf": float("inf")}


def test_failed_task_is_stored_and_retried(tmp_path, monkeypatch):
    register_task("test_flaky", _flaky, {"x": {"type": "int", "min": 0}}, replace=True)
    cfg = {"sweep": {"kind": "test_flaky"}, "grid": {"x": [1, 2, 3]}}
    store = tmp_path / "f.sqlite"
    s = run_sweep(cfg, store=store, workers=1, progress=False)
    assert (s.n_done, s.n_failed, s.complete) == (2, 1, False)
    failed = load_results(store, status="failed")
    assert len(failed) == 1 and "x = 2 fails" in failed[0]["error"]
    monkeypatch.setenv("LG_TEST_FIXED", "1")
    s = run_sweep(cfg, store=store, workers=1, progress=False)
    assert (s.n_run, s.n_done, s.complete) == (1, 1, True)
    rows = load_results(store, config=cfg)
    assert [r["result"]["x2"] for r in rows] == [1, 4, 9]
    assert rows[0]["result"]["inf"] == float("inf")  # non-finite floats survive the store
    assert len(load_results(store, status=None)) == 3


def test_plan_does_not_create_store(tmp_path):
    cfg = arc_config(temps=(0.03,))
    assert [d for _, d in plan(cfg, tmp_path / "p.sqlite")] == [False, False]
    assert not (tmp_path / "p.sqlite").exists()
    run_sweep(cfg, store=tmp_path / "p.sqlite", workers=1, progress=False)
    assert [d for _, d in plan(cfg, tmp_path / "p.sqlite")] == [True, True]


def test_registered_kind_schema_and_unknown_kind(monkeypatch):
    from langevin_grok.sweep import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    tk = register_task("fake", _flaky, {"x": {"type": "int", "required": True},
                                         "mode": {"type": "str", "default": "a", "choices": ["a", "b"]}}, version="7")
    assert get_task("fake") is tk
    assert tk.version == "7" and tk.schema["x"].required and tk.schema["mode"].default == "a"
    with pytest.raises(InputError, match="fixed.mode"):
        load_config({"sweep": {"kind": "fake"}, "fixed": {"x": 1, "mode": "c"}})
    with pytest.raises(InputError, match="sweep.kind"):
        get_task("missing")
    # the built-in kinds, one per experiment of the package; the sgd schema is the protocol's own table
    from langevin_grok.sgd import protocol

    assert {"landscape", "kramers", "simulate", "sgd"} <= set(registry.list_kinds())
    assert set(get_task("sgd").schema) == set(protocol.PROTOCOL_PARAMS) - {"seed"}


def test_results_array_fields():
    rows = [{"seed": 1, "replica": 0, "wall_time": 0.1, "params": {"a": 1, "b": "u"},
             "result": {"v": 1.0, "w": None, "list": [1, 2], "a": 3}},
            {"seed": 2, "replica": 1, "wall_time": 0.2, "params": {"a": 2, "b": "vv"},
             "result": {"v": 2, "w": 4.0, "list": [], "a": 5}}]
    arr = results_array(rows)
    assert arr.dtype["a"] == np.int64 and arr.dtype["b"].kind == "U" and arr.dtype["v"] == np.float64
    assert list(arr["result_a"]) == [3, 5] and np.isnan(arr["w"][0]) and "list" not in arr.dtype.names


# ------------------------------------------------------------------ kill -9 mid-run
def _session_pids(sid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: session id
                pids.append(int(d.name))
    return pids


def _count_done(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=10) as c:
            return c.execute("SELECT COUNT(*) FROM tasks WHERE status='done'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill9_midrun_then_rerun_completes_exactly_the_missing_tasks(tmp_path):
    # 12 engine tasks (arc model, 2000 paths x up to 8000 steps each, long enough that the kill lands while
    # tasks remain: with 16 paths a warm worker finished all 12 within the poll interval) on 2 workers.
    cfg_text = """
[sweep]
kind = "simulate"
name = "killme"
seeds = 6
base_seed = 3
[grid]
temperature = [0.02, 0.03]
[fixed]
depth = 3
sv = 0.8
beta = 0.32
paths = 2000
max_time = 8.0
"""
    cfg = write_toml(tmp_path / "killme.toml", cfg_text)
    db = tmp_path / "killed.sqlite"
    n = 12
    with open(tmp_path / "out.txt", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "langevin_grok", "sweep", str(cfg), "--store", str(db), "--workers", "2",
             "--no-progress"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while _count_done(db) < 3:
            assert proc.poll() is None, (tmp_path / "out.txt").read_text()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # the parent only: its workers become orphans
        proc.wait()
        # orphaned workers notice the dead parent and exit; they never write to the store
        deadline = time.monotonic() + 20
        while _session_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _session_pids(proc.pid) == []
    finally:
        for pid in _session_pids(proc.pid):  # only processes this test started
            os.kill(pid, signal.SIGKILL)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        done_before = {r[0] for r in c.execute("SELECT key FROM tasks WHERE status='done'")}
        assert c.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == len(done_before)
        assert c.execute("SELECT status FROM runs").fetchall() == [("running",)]  # never finished
    assert 3 <= len(done_before) < n, "the kill did not land mid-run"

    s = run_sweep(cfg, store=db, workers=2, progress=False)
    all_keys = {t.key for t in load_config(cfg).tasks}
    assert s.n_skipped == len(done_before) and s.n_run == n - len(done_before) and s.n_failed == 0
    assert set(s.ran_keys) == all_keys - done_before and len(s.ran_keys) == len(set(s.ran_keys))
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM tasks").fetchone() == (n, n)
        assert c.execute("SELECT COUNT(*) FROM tasks WHERE run_id=2").fetchone()[0] == n - len(done_before)

    clean = tmp_path / "clean.sqlite"
    run_sweep(cfg, store=clean, workers=1, progress=False)  # uninterrupted, in-process
    got = {r["key"]: (r["seed"], r["result"]) for r in load_results(db)}
    want = {r["key"]: (r["seed"], r["result"]) for r in load_results(clean)}
    assert got == want and len(got) == n
    assert sum(r[1]["n_escaped"] for r in got.values()) > 0  # the tasks did random work


# ------------------------------------------------------------------ dask
def test_dask_local_cluster_matches_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = arc_config(temps=(0.02, 0.04), seeds=3, t_max=2.0)
    local = run_sweep(cfg, store=tmp_path / "local.sqlite", workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_sweep(cfg, store=tmp_path / "dask.sqlite", scheduler=cluster.scheduler_address,
                           progress=False)
        with distributed.Client(cluster) as client:  # an existing Client works too
            again = run_sweep(cfg, store=tmp_path / "dask.sqlite", scheduler=client, progress=False)
            assert client.status == "running"  # and is left open for its owner
    assert remote.executor.startswith("dask(") and remote.n_done == 6 and again.n_run == 0
    a = [(r["key"], r["seed"], json.dumps(r["result"])) for r in load_results(tmp_path / "local.sqlite", config=cfg)]
    b = [(r["key"], r["seed"], json.dumps(r["result"])) for r in load_results(tmp_path / "dask.sqlite", config=cfg)]
    assert a == b and len(a) == 6
    assert local.n_done == 6
    pids = {r["pid"] for r in load_results(tmp_path / "dask.sqlite")}
    assert os.getpid() not in pids  # really ran on the cluster's worker processes


# ------------------------------------------------------------------ adapters of the other layers
def test_kramers_kind_matches_direct_calls(tmp_path):
    kramers = pytest.importorskip("langevin_grok.theory.kramers")
    cfg = {"sweep": {"kind": "kramers"}, "grid": {"temperature": [0.01, 0.02]},
           "fixed": {"depth": 3, "sv": 0.8, "beta": 0.32}}
    run_sweep(cfg, store=tmp_path / "k.sqlite", workers=1, progress=False)
    rows = load_results(tmp_path / "k.sqlite", config=cfg)
    for r in rows:
        T = r["params"]["temperature"]
        assert r["result"]["kramers_1d"]["tau"] == kramers.kramers_1d(3, 0.8, 0.32, T).tau
        assert r["result"]["exact_mfpt_1d"]["tau"] == kramers.exact_mfpt_1d(3, 0.8, 0.32, T).tau
        assert r["result"]["eyring_kramers_chain"]["n_saddles"] == 4  # 2^(L-1), docs/theory.md
    with pytest.raises(InputError, match="beta"):  # no barrier above beta_c
        load_config({"sweep": {"kind": "kramers"}, "fixed": {"depth": 3, "sv": 0.8, "beta": 0.4, "temperature": 0.01}})


def test_simulate_kind_is_the_seeded_engine(tmp_path):
    engine = pytest.importorskip("langevin_grok.langevin.engine")
    models = pytest.importorskip("langevin_grok.langevin.models")
    cfg = {"sweep": {"kind": "simulate", "seeds": 2, "base_seed": 5}, "grid": {"model": ["arc", "chain"]},
           "fixed": {"depth": 3, "sv": 0.8, "beta": 0.32, "temperature": 0.02, "paths": 20, "max_time": 20.0,
                     "dt": 0.01}}
    run_sweep(cfg, store=tmp_path / "serial.sqlite", workers=1, progress=False)
    a = load_results(tmp_path / "serial.sqlite", config=cfg)
    assert len(a) == 4 and "wall_seconds" not in a[0]["result"]  # results depend on params and seed only
    for r, make in ((a[0], models.arc_model), (a[3], models.chain_model)):
        direct = engine.simulate_ensemble(make(3, 0.8, 0.32), 0.02, 20, 0.01, max_time=20.0, seed=r["seed"],
                                          n_threads=1)
        assert r["result"]["times"] == direct.times.tolist() and r["result"]["seed"] == r["seed"]
    assert a[0]["result"]["times"] != a[1]["result"]["times"]  # replicas get different streams


def test_example_configs_are_valid():
    folder = Path(__file__).resolve().parents[1] / "validation" / "sweeps"
    configs = sorted(folder.glob("*.toml"))
    assert configs
    for p in configs:
        try:
            cfg = load_config(p)
        except InputError as exc:
            if "not available" in str(exc):  # a layer that has not landed
                continue
            raise
        assert cfg.tasks and cfg.store is None


def _echo(params, seed):
    return {"n_sv": len(params["sv"]), "flag": params["flag"]}


def test_list_and_bool_parameters():
    register_task("test_echo", _echo, {
        "sv": {"type": "floats", "min": 0.0, "max": 1.0, "max_exclusive": True},
        "flag": {"type": "bool", "default": False},
    }, stochastic=False, replace=True)
    cfg = load_config({"sweep": {"kind": "test_echo"}, "grid": {"sv": [[0.9, 0.8], [0.9], 0.7]},
                       "fixed": {"flag": True}})
    assert [t.params["sv"] for t in cfg.tasks] == [[0.9, 0.8], [0.9], [0.7]]
    assert all(t.params["flag"] is True for t in cfg.tasks)
    with pytest.raises(InputError, match=r"grid\.sv\[1\]"):
        load_config({"sweep": {"kind": "test_echo"}, "grid": {"sv": [[0.9], [0.9, 1.0]]}})
    with pytest.raises(InputError, match="fixed.flag"):
        load_config({"sweep": {"kind": "test_echo"}, "fixed": {"sv": [0.5], "flag": 1}})
    with pytest.raises(InputError, match="fixed.sv"):
        load_config({"sweep": {"kind": "test_echo"}, "fixed": {"sv": []}})
    assert "required" in get_task("test_echo").schema["sv"].describe()
