"""The package version (one definition; pyproject.toml carries the same string)."""

__version__ = "0.2.0"
