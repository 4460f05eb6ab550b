"""Command line: ``langevin-grok SUBCOMMAND ...`` (also ``python -m langevin_grok``).

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``func(args) -> int``. Bad input anywhere
(an :class:`~langevin_grok._core.checks.InputError` or any ``ValueError`` raised by validation) becomes
a one-line message on stderr and exit status 2, never a traceback. Ctrl-C (SIGINT) and SIGTERM (schedulers,
``timeout``) end with one line and exit status 130 / 143 (SIGTERM is turned into :class:`Terminated`, a
``KeyboardInterrupt``, so every cleanup path of an interrupt runs). A closed output pipe (``... | head``) ends
quietly with status 0.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from .. import __version__
from .._core.checks import InputError
from .._core.errors import Terminated

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


def _on_sigterm(signum, frame):
    raise Terminated()


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced by an object without a descriptor
        pass


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    old = None
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that went away (| head) is a quiet end, not a traceback
        return rc
    except InputError as exc:
        print(f"langevin-grok {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # Terminated is SIGTERM; interrupts that carry partial results keep the original in .cause
        term = isinstance(exc, Terminated) or isinstance(getattr(exc, "cause", None), Terminated)
        kept = getattr(exc, "kept", None)  # what a command saved of the interrupted work (one phrase)
        word = "terminated (SIGTERM)" if term else "interrupted"
        print(f"langevin-grok {args.command}: {word}" + (f"; {kept}" if kept else ""), file=sys.stderr)
        return 143 if term else 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
