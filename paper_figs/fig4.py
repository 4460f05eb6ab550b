"""Fig. 4: the bifurcation diagram (stable and unstable lambda against beta, eta = 0.9 and 0.8, L = 3).

Thin wrapper around `langevin-grok figures --only fig4` writing into this directory
(`fig4.png`, `fig4.pdf`, `fig4.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Extra arguments are passed on, e.g. `python paper_figs/fig4.py --full`.
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig4", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
