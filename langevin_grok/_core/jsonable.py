"""One conversion of results to JSON-ready Python objects, used by every writer in the package."""

from __future__ import annotations

import math
from pathlib import PurePath

import numpy as np

__all__ = ["jsonable"]


def jsonable(obj):
    """``obj`` with numpy types as Python types, tuples as lists, paths as text and NaN/inf as ``None``.

    Objects with a ``to_dict()`` (the package's result dataclasses) are converted through it; anything
    else that JSON cannot hold raises ``TypeError``.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, PurePath):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"not JSON-able: {type(obj).__name__}")
