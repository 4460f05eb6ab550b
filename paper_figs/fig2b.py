"""Fig. 2(b): the Arrhenius plot of the paper's lr sweep, and of plain-SGD escapes that do happen.

Thin wrapper around `langevin-grok figures --only fig2b` writing into this directory
(`fig2b.png`, `fig2b.pdf`, `fig2b.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Quick protocol by default; `python paper_figs/fig2b.py --full` runs the
paper's seed counts and lengths (run times in the docstring of langevin_grok/report/paper_*.py).
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig2b", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
