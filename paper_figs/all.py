"""Every registered figure and REPRODUCTION.md in this directory.

Thin wrapper around `langevin-grok figures --out paper_figs`; extra arguments are passed on,
e.g. `python paper_figs/all.py --full` or `python paper_figs/all.py --seed 1`.
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
