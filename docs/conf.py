"""Sphinx configuration of the langevin-grok documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

No network is used: intersphinx is off. The gallery (``examples/plot_*.py``) is executed at build time;
``LG_DOCS_NO_GALLERY=1`` skips executing it (API pages and theory only).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import langevin_grok  # noqa: E402

project = "langevin-grok"
author = "langevin-grok contributors"
copyright = "2026, langevin-grok contributors"
release = langevin_grok.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
templates_path = ["_templates"]

# --------------------------------------------------------------------------- autodoc / autosummary
autosummary_generate = True
autosummary_imported_members = False
# every public member (also those without a docstring, so that the summary tables link); no "Bases: object" lines
autodoc_default_options = {"members": True, "undoc-members": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc sections carry the types
autodoc_mock_imports: list[str] = []

# --------------------------------------------------------------------------- numpydoc
numpydoc_show_class_members = False  # autosummary templates list members; avoids duplicate stubs
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --------------------------------------------------------------------------- MyST (docs/theory.md as is)
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# --------------------------------------------------------------------------- gallery
_run_gallery = os.environ.get("LG_DOCS_NO_GALLERY", "") not in ("1", "true", "yes")
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True" if _run_gallery else "False",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "matplotlib_animations": False,
}

# --------------------------------------------------------------------------- HTML
try:  # furo if the docs extra installed it, else Sphinx's default
    import furo  # noqa: F401
    html_theme = "furo"
except ImportError:
    html_theme = "alabaster"
html_title = f"langevin-grok {release}"
html_static_path: list[str] = []

# --------------------------------------------------------------------------- warnings
nitpicky = False
suppress_warnings: list[str] = []

# Objects documented in full but left out of the one-line summary tables, because autosummary cuts their
# first sentence inside an inline literal (a ``. `` within ````...````). These files are being edited
# elsewhere right now; fix the docstrings there, then empty this list.
autosummary_context = {
    "skip_summary": [
        "langevin_grok.langevin.events.linear_event",
        "langevin_grok.langevin.events.network_mode_event",
        "langevin_grok.langevin.models.network_product",
    ],
}


# --------------------------------------------------------------------------- docstring conventions
# The package writes its docstrings as plain text with ASCII maths (``|W|^2``, ``|U'(R)|``), never with
# reST substitutions, and module docstrings may carry an index of the form
#
#     Functions
#     ---------
#     name      what it does, continued on
#               indented lines
#
# Both are read by docutils as markup (substitution references; definition lists without blank lines).
# The hook below makes them literal for the build only; the source docstrings stay as they are.
_LITERAL = re.compile(r"(``.*?``)")
_INDEX_HEADINGS = ("Functions", "Classes")


def _escape_bars(line: str) -> str:
    if line.lstrip().startswith(("|", "+-", "+=")):  # reST line blocks and grid tables
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else p.replace("|", r"\|") for i, p in enumerate(parts))


def _index_lists(lines: list[str]) -> list[str]:
    """``name  text`` entries under a Functions/Classes heading -> a definition list."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        heading = line.strip() in _INDEX_HEADINGS and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}
        if not heading:
            i += 1
            continue
        out.append(lines[i + 1])
        i += 2
        while i < len(lines) and lines[i].strip():
            m = re.match(r"^(\S+)\s{2,}(\S.*)$", lines[i])
            if m:
                out.extend(["", f"``{m.group(1)}``", f"    {m.group(2)}"])
            else:
                out.append(f"    {lines[i].strip()}")
            i += 1
        out.append("")
    return out


def _process_docstring(app, what, name, obj, options, lines):
    new = [_escape_bars(line) for line in lines]
    if what == "module":
        new = _index_lists(new)
    lines[:] = new


# Cross-references the Python domain cannot resolve by itself: names re-exported by ``langevin_grok`` (lazily)
# or by a subpackage ``__init__``, and short names imported into a module (``:func:`escape_target``` in
# theory.kramers). Each is documented once, in the module that defines it; an unresolved ``py`` reference is
# linked there when exactly one documented object has its last name component (no link otherwise, as before).
_ROLE_TYPES = {"func": ("function", "method"), "class": ("class", "exception"), "exc": ("exception", "class"),
               "meth": ("method",), "attr": ("attribute", "property"), "obj": None, "data": ("data",),
               "mod": ("module",)}


def _resolve_by_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    types = _ROLE_TYPES.get(node.get("reftype"), ())
    target = node.get("reftarget", "")
    last = target.rsplit(".", 1)[-1]
    if types == () or not last:
        return None
    domain = env.get_domain("py")
    exported = getattr(langevin_grok, "_EXPORTS", {})
    if target == f"langevin_grok.{last}" and last in exported and f"langevin_grok.{exported[last]}.{last}" in domain.objects:
        hits = [f"langevin_grok.{exported[last]}.{last}"]  # a lazy top-level re-export
    else:
        hits = [name for name, obj in domain.objects.items()
                if name.rsplit(".", 1)[-1] == last and (types is None or obj.objtype in types) and not obj.aliased]
    if len(hits) != 1:
        return None
    from sphinx.util.nodes import make_refnode

    obj = domain.objects[hits[0]]
    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, hits[0])


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)  # before numpydoc (500)
    app.connect("missing-reference", _resolve_by_name)
