"""``langevin-grok sweep`` on the command line: dry run, JSON summary, rerun, exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from langevin_grok.cli import main
from langevin_grok.sweep import load_results

CONFIG = """
[sweep]
kind = "landscape"
name = "betas"
store = "out/betas.sqlite"

[grid]
beta = [0.29, 0.32, 0.35, 0.4]
depth = [3, 4]

[fixed]
sv = 0.8
"""


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "betas.toml"
    p.write_text(CONFIG)
    return p


def test_dry_run_lists_tasks_and_writes_nothing(cfg, tmp_path, capsys):
    assert main(["sweep", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "8 tasks, 0 done" in out and "fixed: sv=0.8" in out
    assert len([line for line in out.splitlines() if line.rstrip().endswith(" no")]) == 8
    assert not (tmp_path / "out").exists()  # store folder relative to the config, not created


def test_run_json_then_rerun_skips(cfg, tmp_path, capsys):
    assert main(["sweep", str(cfg), "--json", "--no-progress", "--workers", "1"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["n_tasks"], s["n_run"], s["n_done"], s["n_failed"], s["complete"]) == (8, 8, 8, 0, True)
    assert s["store"] == str(tmp_path / "out" / "betas.sqlite")
    rows = load_results(s["store"], config=cfg)
    assert [(r["params"]["beta"], r["params"]["depth"]) for r in rows[:3]] == [(0.29, 3), (0.29, 4), (0.32, 3)]
    assert main(["sweep", str(cfg), "--no-progress"]) == 0
    assert "8 already done, 0 run now" in capsys.readouterr().out
    assert main(["sweep", str(cfg), "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["n_done"] == 8 and all(t["done"] for t in plan["tasks"])


def test_store_option_overrides_config(cfg, tmp_path, capsys):
    other = tmp_path / "elsewhere.sqlite"
    assert main(["sweep", str(cfg), "--store", str(other), "--no-progress", "--workers", "2"]) == 0
    assert other.exists() and not (tmp_path / "out").exists()
    assert len(load_results(other)) == 8


@pytest.mark.parametrize(
    "text, key",
    [
        ('[sweep]\nkind = "landscape"\n[fixed]\ndepth = 3\nsv = 0.8\nbeta = -0.1\n', "fixed.beta"),
        ('[sweep]\nkind = "landscape"\n[fixed]\ndepth = 2.5\nsv = 0.8\nbeta = 0.1\n', "fixed.depth"),
        ('[sweep]\nkind = "landscape"\n[grid]\nlr = [0.1]\n[fixed]\ndepth = 3\nsv = 0.8\nbeta = 0.1\n', "grid.lr"),
        ('[sweep]\nkind = "landscape"\nworkers = 2\n', "sweep.workers"),
    ],
)
def test_bad_config_exit_2_names_key(tmp_path, capsys, text, key):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    assert main(["sweep", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and key in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [p]  # no store written


def test_usage_errors(cfg, capsys):
    assert main(["sweep"]) == 2
    assert "CONFIG.toml is required" in capsys.readouterr().err
    assert main(["sweep", str(cfg), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(cfg), "--workers", "0"])
    assert info.value.code == 2


def test_list_kinds(capsys):
    assert main(["sweep", "--list-kinds"]) == 0
    out = capsys.readouterr().out
    assert "landscape:" in out and "simulate:" in out and "temperature" in out
    assert main(["sweep", "--list-kinds", "--json"]) == 0
    kinds = json.loads(capsys.readouterr().out)
    assert kinds["landscape"]["stochastic"] is False


def test_console_entry_point(cfg, tmp_path):
    r = subprocess.run([sys.executable, "-m", "langevin_grok", "sweep", str(cfg), "--dry-run"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "8 tasks" in r.stdout
