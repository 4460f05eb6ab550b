"""Fig. 3: test MSE against beta in quasi-static sweeps up and down (hysteresis).

Thin wrapper around `langevin-grok figures --only fig3` writing into this directory
(`fig3.png`, `fig3.pdf`, `fig3.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Quick protocol by default; `python paper_figs/fig3.py --full` runs the
paper's seed counts and lengths (run times in the docstring of langevin_grok/report/paper_*.py).
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "fig3", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
