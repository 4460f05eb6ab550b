"""Parameter schemas of sweep task kinds: one :class:`Param` per parameter name.

A schema maps each parameter name to a :class:`Param` (type, bounds, choices, default). Every
value of a sweep configuration goes through :meth:`Param.coerce` before any work starts, so a
bad value is rejected with a message that names the configuration key (``grid.beta[2]``,
``fixed.depth``) and the value received.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._core.checks import InputError, check_finite, check_int

__all__ = ["REQUIRED", "Param", "as_schema"]


class _Required:
    """Sentinel: the parameter has no default and must be set in [fixed] or [grid]."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()

_TYPES = ("int", "float", "str", "bool", "floats")


@dataclass(frozen=True)
class Param:
    """One parameter of a task kind.

    Attributes
    ----------
    type : {"int", "float", "str", "bool", "floats"}
        ``"int"`` accepts integers and integral floats (3.0 -> 3, 2.5 is rejected); ``"float"``
        accepts finite reals; ``"floats"`` is a non-empty list of finite reals (a scalar becomes a
        one-element list), each checked against the bounds.
    default : object
        Value used when the configuration does not set the parameter; :data:`REQUIRED` (the
        default) makes it mandatory; ``None`` means optional and passed to the task as ``None``.
    min, max : float or None
        Bounds; inclusive unless ``min_exclusive`` / ``max_exclusive``.
    choices : tuple of str or None
        Allowed values of a ``"str"`` parameter.
    help : str
        One line for ``--list-kinds``; states the units.
    """

    type: str
    default: object = REQUIRED
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple | None = None
    help: str = ""

    def __post_init__(self):
        if self.type not in _TYPES:
            raise ValueError(f"Param.type must be one of {', '.join(_TYPES)}, got {self.type!r}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def _bounds(self, where: str, x: float, raw) -> None:
        if self.min is not None and (x <= self.min if self.min_exclusive else x < self.min):
            op = ">" if self.min_exclusive else ">="
            raise InputError(f"{where} must be {op} {self.min:g}, got {raw!r}")
        if self.max is not None and (x >= self.max if self.max_exclusive else x > self.max):
            op = "<" if self.max_exclusive else "<="
            raise InputError(f"{where} must be {op} {self.max:g}, got {raw!r}")

    def coerce(self, where: str, value):
        """Return ``value`` in canonical form (int, float, str, bool or list of float).

        Raises
        ------
        InputError
            Naming ``where`` (the configuration key) and the value received.
        """
        if value is None:
            if self.default is None:
                return None
            raise InputError(f"{where} must be set, got None")
        if self.type == "int":
            n = check_int(where, value)
            self._bounds(where, n, value)
            return n
        if self.type == "float":
            x = check_finite(where, value)
            self._bounds(where, x, value)
            return x
        if self.type == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(f"{where} must be true or false, got {value!r}")
            return bool(value)
        if self.type == "str":
            if not isinstance(value, str):
                raise InputError(f"{where} must be a string, got {value!r}")
            if self.choices is not None and value not in self.choices:
                raise InputError(f"{where} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
            return value
        # "floats"
        if isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, bool):
            values = [value]
        elif isinstance(value, (list, tuple, np.ndarray)):
            values = list(value)
        else:
            raise InputError(f"{where} must be a number or a list of numbers, got {value!r}")
        if not values:
            raise InputError(f"{where} must hold at least one number, got {value!r}")
        out = []
        for v in values:
            x = check_finite(where, v)
            self._bounds(where, x, v)
            out.append(x)
        return out

    def describe(self) -> str:
        """Short text: type, bounds, default."""
        parts = [self.type]
        if self.min is not None:
            parts.append(f"{'>' if self.min_exclusive else '>='} {self.min:g}")
        if self.max is not None:
            parts.append(f"{'<' if self.max_exclusive else '<='} {self.max:g}")
        if self.choices is not None:
            parts.append("one of " + "|".join(map(str, self.choices)))
        parts.append("required" if self.required else f"default {self.default!r}")
        return ", ".join(parts)


_SPEC_KEYS = {"type", "default", "min", "max", "min_exclusive", "max_exclusive", "choices", "help", "required"}


def as_schema(schema: Mapping) -> dict[str, Param]:
    """Normalise a schema: values may be :class:`Param` or plain dicts with the same field names.

    Plain dicts let a module declare ``SWEEP_SCHEMA`` without importing this package, e.g.
    ``{"beta": {"type": "float", "min": 0.0}, "paths": {"type": "int", "min": 1, "default": 100}}``;
    ``"required": True`` is accepted as an alternative to omitting ``"default"``.
    """
    if not isinstance(schema, Mapping) or not schema:
        raise ValueError(f"schema must be a non-empty mapping of name -> Param, got {schema!r}")
    out = {}
    for name, spec in schema.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"schema parameter names must be identifiers, got {name!r}")
        if isinstance(spec, Param):
            out[name] = spec
            continue
        if not isinstance(spec, Mapping):
            raise ValueError(f"schema[{name!r}] must be a Param or a dict, got {spec!r}")
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ValueError(f"schema[{name!r}] has unknown fields {sorted(unknown)}")
        fields = {k: v for k, v in spec.items() if k != "required"}
        if spec.get("required", False):
            fields.pop("default", None)
        out[name] = Param(**fields)
    for name, p in out.items():
        if not p.required and p.default is not None:
            p.coerce(f"default of {name}", p.default)  # a bad default is a programming error
    return out
