"""Fig. 1(b): the sparse sub-sampling curve (25 of 5000 samples) from the rank-1 state.

Thin wrapper around `langevin-grok figures --only fig1b` writing into this directory
(`fig1b.png`, `fig1b.pdf`, `fig1b.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Quick protocol by default; `python paper_figs/fig1b.py --full` runs the
paper's seed counts and lengths (run times in the docstring of langevin_grok/report/paper_*.py).
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig1b", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
