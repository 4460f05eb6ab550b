"""Thin wrapper: ``python validation/run_validation.py [--quick | --full] [--out DIR] ...``.

Same as ``langevin-grok validate ...``; all logic lives in :mod:`langevin_grok.validation`.
"""

import sys

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
