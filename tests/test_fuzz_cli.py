"""Fuzz suite: every subcommand's options and key public functions, fed invalid and extreme values.

Each CLI input must end in exit status 2 with exactly one line on stderr, or exit 0 (or reach the work
stage, stubbed out for the long commands); never a traceback, never a hang. Each API call must raise
:class:`InputError` with a one-line message or return; accepting an always-invalid value (NaN, inf, a
string for a number, several singular values where one mode is meant) counts as *silent*.

The cases are enumerated deterministically (one option mutated at a time from a fast valid command);
the hypothesis part is derandomized with bounded ``max_examples``. ``python tests/test_fuzz_cli.py``
prints the counts (clean / traceback / silent / hang).
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langevin_grok import cli
from langevin_grok._core.checks import InputError

NUMERIC_BAD = ("nan", "inf", "-inf", "0", "-1", "1e308", "-1e308", "1e-320", "9" * 40, "", "abc", "2.5")
ALWAYS_BAD = {"nan", "inf", "-inf", "", "abc"}
TEXT_BAD = ("", "abc", "../../x", "/proc/x/y", "1,,2", "-1")

# fast valid commands (each finishes in well under a second once compiled, or reaches a stub)
BASE = {
    "landscape": ["--depth", "3", "--sv", "0.8", "--beta", "0.3"],
    "stationary": ["--depth", "3", "--width", "2", "--dim", "1", "--sv", "0.8", "--beta", "0.3"],
    "kramers": ["--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "0.01"],
    "simulate": ["--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "0.01", "--paths", "4",
                 "--max-steps", "50", "--seed", "0"],
    "sgd": ["--depth", "3", "--width", "2", "--sv", "0.8", "--beta", "0.1", "--lr", "0.05", "--batch", "4",
            "--epochs", "2", "--replicas", "2", "--n-train", "8", "--n-test", "8"],
    "validate": [],
    "sweep": ["{config}"],
    "figures": ["--only", "fig2a"],
    "temperature": ["--lr", "0.08", "--batch", "64", "--n-train", "512", "--noise", "0.6", "--curvature", "0.42"],
    "sweep-report": ["{config}.no-such-store.sqlite"],  # every mutation must still end in one clean line
}
SWEEP_TOML = """[sweep]
kind = "landscape"
name = "fuzz"
[grid]
beta = [0.29, 0.32]
[fixed]
depth = 3
sv = 0.8
"""


class _Hang(Exception):
    pass


class _Reached(Exception):
    """Raised by the stubbed long-running work: the input passed validation."""


def _alarm(signum, frame):
    raise _Hang()


def run_cli(argv: list[str], timeout: float = 10.0) -> tuple[str, int | None, str, str]:
    """``(outcome, status, stdout, stderr)``; outcome is 'exit', 'reached', 'traceback' or 'hang'."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return "exit", rc, out.getvalue(), err.getvalue()
    except _Reached:
        return "reached", None, out.getvalue(), err.getvalue()
    except _Hang:
        return "hang", None, out.getvalue(), err.getvalue()
    except BaseException as exc:  # noqa: BLE001 - this is what the suite looks for
        return "traceback", None, out.getvalue(), err.getvalue() + f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def classify(outcome, rc, stderr, value, numeric: bool = True) -> str:
    """clean | traceback | hang | silent | messy (status 2 but not one line)."""
    if outcome in ("traceback", "hang"):
        return outcome
    if outcome == "reached" or rc == 0:
        return "silent" if value in (ALWAYS_BAD if numeric else ("",)) else "clean"
    if rc == 2:
        return "clean" if len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr else "messy"
    return "messy"


def _options(name: str):
    """(flag, action) of every value-taking option of one subcommand."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[name]
    for action in sub._actions:
        if not action.option_strings or action.nargs == 0 or action.dest == "help":
            continue
        yield action.option_strings[0], action


def cli_cases(names=cli.SUBCOMMANDS):
    """Every (subcommand, argv, mutated value) of the enumerated suite."""
    for name in names:
        base = BASE[name]
        for flag, action in _options(name):
            numeric = action.type is not None and action.type is not str or action.choices is None and \
                flag not in ("--out", "--store", "--scheduler", "--rows", "--only", "--modes", "--model",
                             "--direction")
            values = NUMERIC_BAD if numeric else TEXT_BAD
            for v in values:
                argv = [a for a in base]
                if flag in argv:
                    i = argv.index(flag)
                    j = i + 1
                    while j < len(argv) and not argv[j].startswith("--"):
                        j += 1
                    argv[i:j] = [flag, v]
                else:
                    argv += [flag, v]
                yield name, argv, v, numeric


@contextlib.contextmanager
def stubs(tmp: Path):
    """Replace the long work of validate/figures/sweep by a stub that raises _Reached."""
    import langevin_grok.report.figures as rf
    import langevin_grok.sweep as sw
    import langevin_grok.validation as val
    import langevin_grok.cli.sweep as cs

    def reach(*a, **k):
        raise _Reached()

    saved = [(val, "run_validation", val.run_validation), (rf, "run_figures", rf.run_figures),
             (cs, "run_sweep", cs.run_sweep), (sw, "run_sweep", sw.run_sweep)]
    for mod, attr, _ in saved:
        setattr(mod, attr, reach)
    try:
        yield
    finally:
        for mod, attr, f in saved:
            setattr(mod, attr, f)


def run_cli_suite(names=cli.SUBCOMMANDS, timeout: float = 10.0) -> dict:
    counts, bad = {}, []
    with tempfile.TemporaryDirectory() as d, stubs(Path(d)):
        cfg = Path(d) / "fuzz.toml"
        cfg.write_text(SWEEP_TOML)
        import os

        cwd = os.getcwd()
        os.chdir(d)
        try:
            for name, argv, v, numeric in cli_cases(names):
                argv = [name] + [a.replace("{config}", str(cfg)) for a in argv]
                outcome, rc, _, err = run_cli(argv, timeout)
                c = classify(outcome, rc, err, v, numeric)
                counts[c] = counts.get(c, 0) + 1
                if c != "clean":
                    bad.append((c, argv, rc, err.strip().splitlines()[-1:] if err.strip() else ""))
        finally:
            os.chdir(cwd)
    return {"counts": counts, "bad": bad}


# ------------------------------------------------------------------------------------ public API
API_BAD = (float("nan"), float("inf"), -float("inf"), 0, -1, 1e308, -1e308, 1e-320, 10**400, "", "x", None,
           True, [0.5, 0.6], [])
API_ALWAYS_BAD = lambda v: (isinstance(v, float) and not math.isfinite(v)) or isinstance(v, str) or v is True  # noqa: E731


def _api_targets():
    from langevin_grok._core import checks
    from langevin_grok.landscape import modes
    from langevin_grok.sgd.protocol import protocol_settings
    from langevin_grok.sweep import load_config

    sgd_base = dict(depth=3, width=2, sv=[0.8], beta=0.1, lr=0.05, batch=4, epochs=2, replicas=2,
                    n_train=8, n_test=8)
    sweep_base = {"sweep": {"kind": "landscape", "name": "f", "seeds": 1}, "grid": {"beta": [0.3]},
                  "fixed": {"depth": 3, "sv": 0.8}}

    def sweep_call(key):
        def f(v):
            cfg = {k: dict(t) for k, t in sweep_base.items()}
            table, name = key
            cfg[table][name] = v
            return load_config(cfg)
        return f

    targets = []
    for fn in (modes.lambda_c, modes.beta_c, modes.lambda_star, modes.beta_star):
        targets += [(f"{fn.__name__}(depth)", lambda v, fn=fn: fn(v, 0.8)),
                    (f"{fn.__name__}(sv)", lambda v, fn=fn: fn(3, v))]
    for fn in (modes.stationary_amplitudes, modes.mode_landscape, modes.landscape):
        base = (3, 0.8, 0.3)
        for i, arg in enumerate(("depth", "sv", "beta")):
            def call(v, fn=fn, i=i):
                a = list(base)
                a[i] = v
                return fn(*a)
            # several singular values are legal for landscape(), not for the per-mode functions
            targets.append((f"{fn.__name__}({arg})", call))
    for k in ("depth", "width", "sv", "beta", "lr", "batch", "epochs", "replicas", "n_train", "sv_threshold",
              "converge_window", "init_beta", "noise_temperature"):
        targets.append((f"protocol_settings({k})", lambda v, k=k: protocol_settings(**dict(sgd_base, **{k: v}))))
    for key in (("sweep", "seeds"), ("sweep", "name"), ("sweep", "base_seed"), ("fixed", "depth"),
                ("fixed", "sv"), ("fixed", "beta")):
        targets.append((f"load_config({key[0]}.{key[1]})", sweep_call(key)))
    targets += [("check_depth", checks.check_depth), ("check_sv", checks.check_sv),
                ("check_positive", lambda v: checks.check_positive("x", v))]
    return targets


def _silent(label: str, v) -> bool:
    if API_ALWAYS_BAD(v):
        return not (label.endswith(".name)") and isinstance(v, str) and v)  # a name is a string
    per_mode = label.split("(")[0] in ("lambda_c", "beta_c", "lambda_star", "beta_star", "stationary_amplitudes",
                                       "mode_landscape")
    return per_mode and isinstance(v, list) and len(v) > 1


def api_call(f, v, timeout: float = 10.0) -> str:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        f(v)
        return "ok"
    except InputError as exc:
        return "clean" if len(str(exc).splitlines()) == 1 else "messy"
    except _Hang:
        return "hang"
    except BaseException:  # noqa: BLE001
        return "traceback"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_api_suite() -> dict:
    counts, bad = {}, []
    for label, f in _api_targets():
        for v in API_BAD:
            r = api_call(f, v)
            if r == "ok":
                r = "silent" if _silent(label, v) else "clean"
            counts[r] = counts.get(r, 0) + 1
            if r != "clean":
                bad.append((r, label, repr(v)[:30]))
    return {"counts": counts, "bad": bad}


# ------------------------------------------------------------------------------------ tests
FAST = ("landscape", "stationary", "validate", "sweep", "figures")
# kramers and simulate check their scales and sizes at the entry (beta and T in [1e-300, 1e300], counts capped,
# memory estimated) since the fuzz suite found tracebacks there (--beta 1e-320, --paths 1e308, --max-steps 1e308,
# --max-time 1e308, --confidence 1e-320, --width 1e308).


def _assert_clean(result):
    assert result["bad"] == [], "\n".join(map(str, result["bad"][:40]))


def test_every_subcommand_is_fuzzed():
    assert set(BASE) == set(cli.SUBCOMMANDS)


def test_fuzz_fast_subcommands():
    r = run_cli_suite(FAST)
    assert sum(r["counts"].values()) > 200  # the enumeration really ran
    _assert_clean(r)


_EXTREME = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**400, 10**400),
                     st.sampled_from([0.0, -0.0, 1e-320, 5e-324, 1e308, -1e308, 1e-300, 1e300]))


@settings(max_examples=80, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=_EXTREME, sv=_EXTREME, beta=_EXTREME)
def test_hypothesis_landscape_command(depth, sv, beta):
    argv = ["landscape", "--depth", repr(depth), "--beta", repr(beta), f"--sv={sv!r}"]
    outcome, rc, out, err = run_cli(argv, timeout=10.0)
    assert outcome == "exit" and rc in (0, 2), (argv, outcome, err)
    assert (rc == 0 and out.startswith("depth L =")) or len(err.strip().splitlines()) == 1, (argv, err)


@settings(max_examples=80, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=_EXTREME, sv=_EXTREME, beta=_EXTREME)
def test_hypothesis_mode_landscape(depth, sv, beta):
    from langevin_grok.landscape.modes import mode_landscape

    try:
        m = mode_landscape(depth, sv, beta)
    except InputError as exc:
        assert len(str(exc).splitlines()) == 1
        return
    assert m.phase in ("bistable", "trivial_only", "learned_only") and math.isfinite(m.beta_c)


@pytest.mark.slow
def test_fuzz_sgd():
    _assert_clean(run_cli_suite(("sgd",)))


def test_fuzz_kramers():
    _assert_clean(run_cli_suite(("kramers",)))


@pytest.mark.slow
def test_fuzz_simulate():
    _assert_clean(run_cli_suite(("simulate",)))


def test_fuzz_public_api():
    _assert_clean(run_api_suite())


if __name__ == "__main__":  # pragma: no cover - counts for the report
    which = sys.argv[1:] or list(cli.SUBCOMMANDS)
    r = run_cli_suite(which)
    print("CLI", sum(r["counts"].values()), r["counts"])
    for b in r["bad"]:
        print("  ", b)
    a = run_api_suite()
    print("API", sum(a["counts"].values()), a["counts"])
    for b in a["bad"]:
        print("  ", b)
