"""Command line: ``langevin-grok SUBCOMMAND ...`` (also ``python -m langevin_grok``).

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``func(args) -> int``. Bad input anywhere
(an :class:`~langevin_grok._core.checks.InputError` or any ``ValueError`` raised by validation) becomes
a one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from .._core.checks import InputError

# One entry per subcommand module, in the order --help lists them.
SUBCOMMANDS = ("landscape", "stationary", "kramers", "simulate", "sgd", "temperature", "validate", "sweep",
               "sweep-report",
               "figures")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2 (argparse's own convention)."""

    def error(self, message: str):  # pragma: no cover - exercised through the CLI tests
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="langevin-grok",
        description=(
            "Stochastic dynamics of learning in L2-regularised deep linear networks: loss landscapes, "
            "Langevin escape, Kramers theory and mini-batch SGD. Units: losses are the per-sample MSE/2 "
            "plus beta/2 |W|^2; times are SDE time t = lr x (SGD steps) unless an option says otherwise."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"langevin-grok {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"langevin-grok {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
