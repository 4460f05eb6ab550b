"""Beyond the paper: escape-time distribution against the exponential law.

Thin wrapper around `langevin-grok figures --only escape_dist` writing into this directory
(`escape_dist.png`, `escape_dist.pdf`, `escape_dist.json`) and rebuilding REPRODUCTION.md here from every
figure record present. Quick protocol by default; `python paper_figs/escape_dist.py --full` runs the
paper's seed counts and lengths (run times in the docstring of langevin_grok/report/paper_*.py).
"""

import sys
from pathlib import Path

from langevin_grok.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "escape_dist", "--out", str(Path(__file__).resolve().parent), *sys.argv[1:]]))
