from pathlib import Path

import readme_renderer.rst


def test_readme_renders_on_pypi():
    source = (Path(__file__).parent.parent / "README.rst").read_text()
    assert readme_renderer.rst.render(source) is not None
