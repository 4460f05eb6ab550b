"""Helpers shared by the subcommand modules: argument types and output formatting."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path


from .._core.checks import InputError
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


def check_output_dir(name: str, path, create: bool = False) -> Path:
    """An output directory that can be written, checked before any work starts.

    ``path`` may exist (a directory we can write into) or not (then its nearest existing ancestor must be a
    writable directory, so it can be created). Refuses ``''``, an existing file, and unwritable or
    missing-as-file parents with a one-line InputError naming the option ``name`` (e.g. ``"--out"``).
    ``create=True`` also makes the directory now (the only sure test where permissions do not tell, e.g. as
    root on /proc).
    """
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if text is None:
        raise InputError(f"{name} must be a directory path, got {path!r}")
    if not text.strip() or "\0" in text:
        raise InputError(f"{name} must be a directory path, got {text!r}")
    p = Path(text)
    if p.exists():
        if not p.is_dir():
            raise InputError(f"{name} must be a directory (or a new path), got an existing file: {text!r}")
        if not os.access(p, os.W_OK | os.X_OK):
            raise InputError(f"{name}: cannot write into the directory {text!r} (permission denied)")
        return p
    parent = p.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{name}: cannot create {text!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{name}: cannot create {text!r}: {str(parent)!r} is not writable")
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{name}: cannot create {text!r} ({exc.strerror or exc})") from None
    return p


def check_output_file(name: str, path, create_parent: bool = False) -> Path:
    """An output file path (e.g. a sweep store): not ``''``, not a folder, in a directory that can be written."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if text is None or not text.strip() or "\0" in text:
        raise InputError(f"{name} must be a file path, got {path!r}")
    p = Path(text)
    if p.is_dir():
        raise InputError(f"{name} must be a file path, got the folder {text!r}")
    if p.exists():
        if not os.access(p, os.R_OK | os.W_OK):
            raise InputError(f"{name}: cannot write {text!r} (permission denied)")
        return p
    check_output_dir(name, p.absolute().parent, create=create_parent)
    return p


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
