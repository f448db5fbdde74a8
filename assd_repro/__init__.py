"""assd_repro: the reproduction of the ASSD paper, built on :mod:`assd_core`.

Data loaders (CIFAR-10/100/20, PinsFaceRecognition, DataCo, embedded defaults), models (CIFAR
ResNet18, ViT, supply-chain MLPs), training, baselines (retrain, fine-tune, unlearning a copy,
NegGrad+, SCRUB, random labels, SalUn, Bad Teacher, ASSD + repair, SSD with a tuned alpha),
simulated label errors, the paper's tables, the experiment engine
(:mod:`assd_repro.experiments.engine`), the chapter experiments and plotting helpers.

It needs the ``repro`` extra: ``pip install "assd-core[repro]"``. This package imports
``assd_core``; ``assd_core`` never imports it.
"""

from __future__ import annotations

from importlib.util import find_spec

#: Import name -> distribution name of what the ``repro`` extra installs and this package needs.
REPRO_REQUIREMENTS: dict[str, str] = {
    "pandas": "pandas",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "pyarrow": "pyarrow",
    "timm": "timm",
    "optuna": "optuna",
    "mlxtend": "mlxtend",
    "cleanlab": "cleanlab",
    "PIL": "pillow",
    "torchvision": "torchvision",
    "matplotlib": "matplotlib",
    "seaborn": "seaborn",
}


def _check_requirements() -> None:
    missing = [dist for name, dist in REPRO_REQUIREMENTS.items() if find_spec(name) is None]
    if missing:
        raise ImportError(
            f"assd_repro needs the 'repro' extra, which is not installed (missing: "
            f"{', '.join(missing)}); install it with: pip install \"assd-core[repro]\" "
            "(from a clone: pip install -e \".[repro]\"). The algorithm alone is assd_core."
        )


_check_requirements()

__version__ = "0.2.0"
