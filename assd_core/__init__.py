"""assd_core: Adaptive Selective Synaptic Dampening (ASSD), the algorithm alone.

Make a trained classifier forget a subset of its training data (for example rows whose labels
were entered wrongly) without retraining and without a hyper-parameter to tune::

    full = compute_importances(model, retain_loader)       # []_D, once; save_importances(...)
    report = assd_unlearn(model, forget_loader, full, n_total=n_retain + n_forget)
    accuracy(model, test_loader), entropy_mia(model, retain_loader, forget_loader, test_loader)

Dependencies: torch, numpy, safetensors, tqdm; scikit-learn only for :func:`entropy_mia`
(the ``mia`` extra). The reproduction of the paper (data, models, training, experiments) lives
in the separate package ``assd_repro``, which imports this one.
"""

from assd_core.dampening import DampeningReport, check_importances, dampen
from assd_core.guard import guarded
from assd_core.importance import (
    Importances,
    compute_importances,
    load_importances,
    model_fingerprint,
    save_importances,
)
from assd_core.metrics import (
    SampleScores,
    accuracy,
    entropy_mia,
    mia_score,
    predict_entropy,
    sample_scores,
)
from assd_core.selection import adaptive_percentile, select_alpha
from assd_core.unlearn import assd_unlearn, forget_importances, ssd_unlearn

__version__ = "0.2.0"

__all__ = [
    # importances and their cache
    "Importances",
    "compute_importances",
    "load_importances",
    "model_fingerprint",
    "save_importances",
    # ASSD's choice of alpha, and dampening
    "DampeningReport",
    "adaptive_percentile",
    "check_importances",
    "dampen",
    "select_alpha",
    # one-call unlearning
    "assd_unlearn",
    "forget_importances",
    "ssd_unlearn",
    "guarded",
    # evaluation (the SSD protocol)
    "SampleScores",
    "accuracy",
    "entropy_mia",
    "mia_score",
    "predict_entropy",
    "sample_scores",
]
