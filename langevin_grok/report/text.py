"""Number formatting and plain-text tables: the report layer's one place for turning numbers into text."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fmt", "format_table", "md_cell"]


def fmt(x, digits: int = 4) -> str:
    """A number in at most ``digits`` significant digits (scientific outside [1e-3, 1e5)); ``None`` as ``-``."""
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def format_table(headers: list[str], rows: list[list], floatfmt: str = ".6g") -> str:
    """A plain aligned text table; ``None`` prints as ``-``."""

    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, (float, np.floating)):
            return format(float(v), floatfmt)
        return str(v)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(out)


def md_cell(text: str) -> str:
    """Escape table-breaking characters in a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")
