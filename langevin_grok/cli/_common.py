"""Helpers shared by the subcommand modules: argument types and output formatting."""

from __future__ import annotations

import argparse
import json
import math
import sys


from .._core.jsonable import jsonable
from ..report.text import format_table  # noqa: F401  (re-exported for the subcommands)


def finite_float(text: str) -> float:
    """argparse type: a finite float (NaN and inf are rejected with a one-line message)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return x


def print_json(obj, stream=None) -> None:
    """Print one JSON object (non-finite floats become ``null``, numpy types become Python types)."""
    json.dump(jsonable(obj), stream or sys.stdout, indent=2, allow_nan=False)
    (stream or sys.stdout).write("\n")


def add_escape_mode_arguments(p, several_sv: bool = False) -> None:
    """``--depth``, ``--sv`` and ``--beta`` of one mode with a barrier (shared by kramers and simulate);
    ``several_sv``: ``--sv`` takes one value per mode (the network of ``--width``)."""
    p.add_argument("--depth", "-L", type=finite_float, required=True,
                   help="number of weight matrices L (integer >= 3; dimensionless)")
    if several_sv:
        p.add_argument("--sv", type=finite_float, nargs="+", required=True,
                       help="singular value(s) eta of Sigma_yx, each in (0, 1) (dimensionless); several only with "
                            "--width (one per mode)")
    else:
        p.add_argument("--sv", type=finite_float, required=True,
                       help="singular value eta of Sigma_yx in (0, 1) (dimensionless)")
    p.add_argument("--beta", type=finite_float, required=True,
                   help="L2 strength beta in (0, beta_c) (loss units per squared weight)")
