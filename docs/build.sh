#!/bin/sh
# Install the docs extra and build the HTML documentation with warnings as errors (as CI does).
#   sh docs/build.sh            # from the repository root; pages in docs/_build/html
#   sh docs/build.sh --no-install
# LG_DOCS_NO_GALLERY=1 skips executing the gallery examples.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-install" ]; then
    python -m pip install -e ".[docs]"
fi
start=$(date +%s)
python -m sphinx -W --keep-going -b html docs docs/_build/html
echo "docs built in $(( $(date +%s) - start )) s: docs/_build/html/index.html"
