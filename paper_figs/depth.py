"""Beyond the paper: beta_c, beta* and the barriers for depth L = 3..6 (eta = 0.8 and 0.9).

Thin wrapper around `langevin-grok figures --only depth` writing into this directory
(`depth.png`, `depth.pdf`, `depth.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Extra arguments are passed on, e.g. `python paper_figs/depth.py --full`.
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "depth", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
