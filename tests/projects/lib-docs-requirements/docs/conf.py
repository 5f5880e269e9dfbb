# Configuration file for the Sphinx documentation builder.
import os
import sys

sys.path.insert(0, os.path.abspath("../src"))

from pollwise import __version__  # noqa: E402

project = "pollwise"
author = "Pollwise maintainers"
copyright = "2021-2024, Pollwise maintainers"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "myst_parser",
]
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "tenacity": ("https://tenacity.readthedocs.io/en/latest/", None),
}
autodoc_member_order = "bysource"
html_theme = "furo"
html_title = f"pollwise {release}"
