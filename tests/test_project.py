"""Project-level checks: the layout of the two packages, their dependencies and their files.

- the conda environment and pyproject list the same packages, and the exact versions (the
  torch pair among them) live in constraints.txt only;
- ``assd_core`` stays small, exports its public API, loads none of the reproduction's
  packages and never imports ``assd_repro``;
- ``import assd_repro`` without its extra names the extra;
- no file cites a document outside the repository; notebooks stay short;
- the wheel holds both packages, the paper's tables, the DataCo sample and ``py.typed``, and
  nothing else.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
SELF = PROJECT["name"]

#: The core's public API (the names a user imports).
CORE_API = {
    "Importances", "compute_importances", "load_importances", "model_fingerprint",
    "save_importances", "DampeningReport", "adaptive_percentile", "check_importances", "dampen",
    "select_alpha", "assd_unlearn", "forget_importances", "ssd_unlearn", "accuracy",
    "entropy_mia", "predict_entropy", "SampleScores", "sample_scores", "mia_score", "guarded",
}
#: Packages ``import assd_core`` must not load.
HEAVY = ("pandas", "sklearn", "scipy", "PIL", "pyarrow", "optuna", "dask", "timm", "matplotlib",
         "assd_repro")


def _normalise(requirements: list[str]) -> dict[str, str]:
    out = {}
    for text in requirements:
        req = Requirement(text)
        if req.name != SELF:  # extras that pull in other extras
            out[req.name.lower().replace("_", "-")] = str(req.specifier)
    return out


def _pins() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return {name.lower().replace("_", "-"): version
            for name, version in (line.split("==", 1) for line in lines if "==" in line)}


def _declared() -> list[str]:
    declared = list(PROJECT["dependencies"])
    for extra in PROJECT["optional-dependencies"].values():
        declared += extra
    return declared


def test_environment_yml_matches_pyproject() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    # the book's environment: the Python that constraints.txt was frozen with
    assert conda_pythons == ["python=3.11"]
    assert Version("3.11") in SpecifierSet(PROJECT["requires-python"])
    assert _normalise(pip_section) == _normalise(_declared())


def test_dependencies_are_ranges_and_constraints_pin_them() -> None:
    for text in _declared():
        req = Requirement(text)
        assert not any(s.operator in ("==", "===") for s in req.specifier), text
    pins = _pins()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    for text in _declared():
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        if name != SELF:
            assert name in pins, f"{name} is not pinned in constraints.txt"
            assert req.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_python_312_is_allowed() -> None:
    assert Version("3.12") in SpecifierSet(PROJECT["requires-python"])


def test_core_dependencies_are_light() -> None:
    core = set(_normalise(PROJECT["dependencies"]))
    assert core == {"torch", "numpy", "safetensors", "tqdm"}
    assert set(_normalise(PROJECT["optional-dependencies"]["mia"])) == {"scikit-learn"}


def test_core_public_api() -> None:
    import assd_core

    assert set(assd_core.__all__) == CORE_API
    assert len(assd_core.__all__) <= 20
    for name in assd_core.__all__:
        assert getattr(assd_core, name) is not None, name


def test_core_is_small() -> None:
    lines = sum(len(path.read_text().splitlines()) for path in (REPO / "assd_core").glob("*.py"))
    assert lines <= 1800, f"assd_core has {lines} lines"
    assert (REPO / "assd_core" / "py.typed").is_file()


def test_core_never_imports_the_reproduction() -> None:
    for path in (REPO / "assd_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("assd_repro"), f"{path.name} imports {name}"


def test_import_core_loads_no_heavy_package() -> None:
    code = ("import sys, assd_core; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "[]", out.stdout


def test_import_repro_without_its_extra_names_the_extra() -> None:
    code = ("import sys; sys.modules['optuna'] = None\n"
            "try:\n    import assd_repro\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert "'repro' extra" in out.stdout and "optuna" in out.stdout, out.stdout
    assert 'pip install "assd-core[repro]"' in out.stdout


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [REPO / line for line in out.splitlines() if (REPO / line).is_file()]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    pattern = re.compile("REFERENCE" + r"\.md")
    offenders = [str(p.relative_to(REPO)) for p in _tracked_files()
                 if p.suffix in {".py", ".md", ".ipynb", ".yml", ".toml", ".txt", ".cfg"}
                 and pattern.search(p.read_text(errors="replace"))]
    assert offenders == []


@pytest.mark.parametrize("notebook", sorted((REPO / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_notebooks_hold_little_code(notebook: Path) -> None:
    """The logic lives in assd_repro: a notebook holds at most 100 Python statements (counted
    by the syntax tree, so breaking a call over lines to stay within 88 columns is free)."""
    cells = json.loads(notebook.read_text())["cells"]
    statements = sum(isinstance(node, ast.stmt)
                     for cell in cells if cell["cell_type"] == "code"
                     for node in ast.walk(ast.parse("".join(cell["source"]))))
    assert statements <= 100, f"{notebook.name}: {statements} statements"


@pytest.mark.slow
def test_wheel_contents(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy of the files git knows: the build leaves REPO clean
    for path in _tracked_files():
        target = source / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True, text=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"assd_core", "assd_repro"}
    assert "assd_core/py.typed" in names
    tables = {n.rsplit("/", 1)[1] for n in names if n.startswith("assd_repro/paper_data/")}
    assert {"table1_fullclass.csv", "table2_subclass.csv", "table3_random.csv",
            "table4_error_unlearning.csv", "README.md"} <= tables
    assert {"assd_repro/data/files/DataCoSupplyChainDataset.sample6000.csv.gz",
            "assd_repro/data/files/DATACO-SAMPLE.md"} <= set(names)
    for package in ("assd_core", "assd_repro"):
        sources = {p.relative_to(REPO).as_posix() for p in (REPO / package).rglob("*.py")}
        assert sources <= set(names), sorted(sources - set(names))
    assert not [n for n in names if "/tests/" in n or n.startswith(("tests/", "notebooks/"))]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: torch>=2.1" in text and "==2.14.1" not in text
