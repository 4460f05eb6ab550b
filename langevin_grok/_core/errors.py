"""Errors and status codes: the two ways a computation can end other than with a plain number.

- :class:`InputError` (a ``ValueError``): the caller passed something invalid. Its one-line message names
  the argument and the value; the command line prints it and exits with status 2.
- :class:`Status` (a ``str`` enum): an expected physical or numerical outcome that is not a plain number
  ("not applicable", "no saddle", "censored", ...). It is a field of a result, never an exception, and its
  English text lives in one table, :data:`MESSAGES` (scipy's ``OdeResult.status`` / diffrax's ``RESULTS``).
  Tests assert the status, never the wording.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["InputError", "Terminated", "Status", "Validity", "Verdict", "MESSAGES", "message"]


class InputError(ValueError):
    """Bad input to the public API: the message names the argument and the value."""


class Terminated(KeyboardInterrupt):
    """SIGTERM received (a scheduler or ``timeout`` ending the process), raised from the signal handler.

    A ``KeyboardInterrupt``, so every path that cleans up after Ctrl-C also runs for SIGTERM; the
    command line exits with status 143 (128 + 15) instead of 130.
    """


class Status(str, Enum):
    """Outcome of a computation that is not an error (stored in results, compared by value)."""

    OK = "ok"
    ESCAPED = "escaped"
    CENSORED = "censored"
    NOT_APPLICABLE = "not_applicable"
    NOT_PRESENT = "not_present"
    ZERO_MODES = "zero_modes"
    NOT_ADJACENT = "not_adjacent"
    NOT_CONVERGED = "not_converged"
    ABSORBING = "absorbing"
    NO_DATA = "no_data"

    def __str__(self) -> str:  # JSON and tables show the code
        return self.value


class Validity(str, Enum):
    """Whether a prediction's assumptions hold where it is used (with the diagnostics that decided it)."""

    VALID = "valid"
    MARGINAL = "marginal"
    NOT_APPLICABLE = "not_applicable"

    def __str__(self) -> str:
        return self.value


class Verdict(str, Enum):
    """A comparison of a prediction with a measurement."""

    AGREES = "agrees"
    DISAGREES = "disagrees"
    INCONCLUSIVE = "inconclusive"
    NO_PREDICTION = "no_prediction"
    NO_DATA = "no_data"

    def __str__(self) -> str:
        return self.value


MESSAGES: dict[Enum, str] = {
    Status.OK: "Finished normally.",
    Status.ESCAPED: "The path reached the escape event.",
    Status.CENSORED: "The path reached its time cap before the escape event (a censored, not a failed, outcome).",
    Status.NOT_APPLICABLE: "The formula's assumptions do not hold here; no number is given.",
    Status.NOT_PRESENT: "The requested stationary point does not exist at these parameters.",
    Status.ZERO_MODES: "A Hessian has zero modes (a symmetry orbit): the isolated-point formula does not apply.",
    Status.NOT_ADJACENT: "Gradient flow from the saddle does not reach the start minimum.",
    Status.NOT_CONVERGED: "The numerical method did not reach its tolerance.",
    Status.ABSORBING: "The noise vanishes on the escape direction: the state is absorbing for this dynamics.",
    Status.NO_DATA: "Too few events to estimate anything.",
    Validity.VALID: "The prediction's assumptions hold here.",
    Validity.MARGINAL: "The prediction's assumptions hold only roughly here; treat it as an estimate.",
    Validity.NOT_APPLICABLE: "The prediction's assumptions fail here; it is not given.",
    Verdict.AGREES: "The prediction lies inside the measurement's confidence interval.",
    Verdict.DISAGREES: "The prediction lies outside the measurement's confidence interval.",
    Verdict.INCONCLUSIVE: "The measurement cannot decide (its interval also holds the null value).",
    Verdict.NO_PREDICTION: "There is no valid prediction to compare with.",
    Verdict.NO_DATA: "Too few events to compare.",
}


def message(code) -> str:
    """The English text of a status, validity or verdict code (an enum member or its string value)."""
    for enum in (Status, Validity, Verdict):
        try:
            return MESSAGES[enum(code)]
        except ValueError:
            continue
    raise InputError(f"code must be a Status, Validity or Verdict value, got {code!r}")
