"""Package-level contracts: lazy re-exports, the console entry, help of every subcommand."""

import argparse
import importlib
import re
import subprocess
import sys

import pytest

import langevin_grok as lg
from langevin_grok.cli import SUBCOMMANDS, build_parser, main
from langevin_grok.cli._common import finite_float


def test_every_reexport_resolves_to_its_module_attribute():
    for name, module in lg._EXPORTS.items():
        mod = importlib.import_module(f"langevin_grok.{module}")
        assert getattr(lg, name) is getattr(mod, name), name


def test_submodule_landscape_is_not_shadowed():
    import langevin_grok.landscape.modes as ls

    assert ls.__name__ == "langevin_grok.landscape.modes"
    assert callable(ls.landscape)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        lg.no_such_name  # noqa: B018


def test_figures_cli_report_name_matches_runner():
    from langevin_grok.report import figures
    from langevin_grok.cli import figures as cli_figures

    assert cli_figures.REPORT_NAME == figures.REPORT_NAME


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help_with_units(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: langevin-grok " + name)
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    # every option is explained, and every numeric option states its unit or range
    unit = re.compile(r"unit|dimensionless|epoch|SDE time|seconds|samples|integer|steps|weights|paths|loss|"
                      r"replicas|in \(0, 1\)|>=|> 0", re.I)
    for action in sub._actions:
        assert action.help, (name, action.option_strings or action.dest)
        if action.type in (finite_float, float, int):
            assert unit.search(action.help), (name, action.option_strings, action.help)


def test_help_does_not_import_heavy_modules():
    # `langevin-grok --help` must stay fast: no matplotlib, dask or sympy at parser build time.
    code = ("import sys; from langevin_grok.cli import build_parser; build_parser(); "
            "print(','.join(m for m in ('matplotlib', 'distributed', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_missing_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
