"""Fig. 2(a): the loss along the minimal path at beta = 0.29, 0.32, 0.35 (eta = 0.8, L = 3).

Thin wrapper around `langevin-grok figures --only fig2a` writing into this directory
(`fig2a.png`, `fig2a.pdf`, `fig2a.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Extra arguments are passed on, e.g. `python paper_figs/fig2a.py --full`.
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig2a", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
