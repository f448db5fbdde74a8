"""Project-level checks: the conda environment and pyproject list the same packages."""

from __future__ import annotations

import tomllib

import yaml
from conftest import REPO
from packaging.requirements import Requirement


def _normalise(requirements: list[str]) -> dict[str, str]:
    out = {}
    for text in requirements:
        req = Requirement(text)
        out[req.name.lower().replace("_", "-")] = str(req.specifier)
    return out


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert conda_pythons == ["python=3.11"]
    assert _normalise(pip_section) == _normalise(declared)


def test_torch_pair_is_pinned_everywhere() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = _normalise(project["dependencies"])
    assert deps["torch"] == "==2.14.1" and deps["torchvision"] == "==0.29.1"
    pins = dict(
        line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line
    )
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_public_api_is_exported() -> None:
    import assd_core

    for name in [
        "compute_importances",
        "adaptive_percentile",
        "select_alpha",
        "dampen",
        "DampeningReport",
        "ssd_unlearn",
        "assd_unlearn",
        "save_importances",
        "load_importances",
        "accuracy",
        "entropy_mia",
        "inject_label_errors",
    ]:
        assert callable(getattr(assd_core, name)), name
        assert name in assd_core.__all__
