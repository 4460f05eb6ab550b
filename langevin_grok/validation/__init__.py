"""The validation layer: predictions beside simulations, as typed numbers (no matplotlib, no English).

- :mod:`~langevin_grok.validation.config`: one settings object per row and the presets;
- :mod:`~langevin_grok.validation.results`: :class:`RowResult`, :class:`ValidationReport`, comparison statistics;
- :mod:`~langevin_grok.validation.cache`: finished rows and ensembles survive interruption;
- one module per row family (``row_langevin``, ``row_network``, ``row_sgd``);
- :mod:`~langevin_grok.validation.runner`: :func:`run_validation`.

The report layer (:mod:`langevin_grok.report.validation`) renders a report's table, text and figures.
"""

from .config import MODES, ROW_IDS, ValidationConfig, validation_config
from .results import RowResult, ValidationReport, combine_points, compare_time
from .runner import ROW_RUNNERS, check_out_dir, default_out_dir, run_validation

__all__ = ["MODES", "ROW_IDS", "ValidationConfig", "validation_config", "RowResult", "ValidationReport",
           "combine_points", "compare_time", "ROW_RUNNERS", "check_out_dir", "default_out_dir", "run_validation"]
