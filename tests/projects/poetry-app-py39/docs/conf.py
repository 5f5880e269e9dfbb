project = "meter-ingest"
extensions = ["sphinx.ext.autodoc", "sphinx_rtd_theme"]
html_theme = "sphinx_rtd_theme"
master_doc = "index"
