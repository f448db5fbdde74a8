"""Sphinx extension: a page's ``.ipynb`` download is the notebook as executed for the book.

The notebooks are committed without outputs, and Sphinx copies each page's source file into
``_sources/``, which is what sphinx-book-theme's download button serves: without this extension
the ``.ipynb`` a reader downloads is the empty source. MyST-NB writes every notebook it executes
(the ``.ipynb`` chapters and the MyST Markdown pages with code cells) to
``<outdir>/../jupyter_execute/<page>.ipynb``, with its outputs. This extension

- copies each of those over ``_sources/<page>.ipynb`` when the build has finished, and
- gives the Markdown pages that were executed an ``.ipynb`` entry in the download menu
  (the theme adds one only when a launch button, Binder and the like, is configured).

Registered in ``_config.yml`` under ``sphinx.local_extensions``. Only HTML builders are touched.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

EXECUTED_FOLDER = "jupyter_execute"  # MyST-NB's folder, beside the HTML output folder


def executed_folder(app: Sphinx) -> Path:
    """Where MyST-NB wrote the executed notebooks of this build."""
    config = getattr(app.env, "mystnb_config", None)
    folder = getattr(config, "output_folder", None)
    return Path(folder) if folder else Path(app.outdir).parent / EXECUTED_FOLDER


def copy_executed_notebooks(docnames: Iterable[str], executed: Path, outdir: Path) -> list[Path]:
    """Copy ``executed/<doc>.ipynb`` to ``outdir/_sources/<doc>.ipynb`` for each page that has
    one; returns the files written, in the order of ``docnames``."""
    written = []
    for docname in docnames:
        source = executed / f"{docname}.ipynb"
        if source.is_file():
            target = outdir / "_sources" / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(target)
    return written


def _is_html(app: Sphinx) -> bool:
    return getattr(app.builder, "format", None) == "html"


def offer_ipynb(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                doctree: Any) -> None:
    """``html-page-context``: a Markdown page that was executed gets the ``.ipynb`` download."""
    if not _is_html(app) or pagename not in app.env.all_docs:
        return
    if Path(app.env.doc2path(pagename)).suffix == ".ipynb":  # its source button is the .ipynb
        return
    if (executed_folder(app) / f"{pagename}.ipynb").is_file():
        context["ipynb_source"] = f"{pagename}.ipynb"


def publish_executed(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: the executed notebooks replace the sources offered for download."""
    if exception is None and _is_html(app):
        copy_executed_notebooks(sorted(app.env.all_docs), executed_folder(app), Path(app.outdir))


def setup(app: Sphinx) -> dict[str, Any]:
    # before sphinx-book-theme's add_header_buttons (priority 501), which reads ipynb_source
    app.connect("html-page-context", offer_ipynb, priority=400)
    app.connect("build-finished", publish_executed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
