"""Fig. 1(a): test MSE against epochs from random init, rank-1 trap and trivial trap (beta = 0.32).

Thin wrapper around `langevin-grok figures --only fig1a` writing into this directory
(`fig1a.png`, `fig1a.pdf`, `fig1a.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Quick protocol by default; `python paper_figs/fig1a.py --full` runs the
paper's seed counts and lengths (run times in the docstring of langevin_grok/report/paper_*.py).
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig1a", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
