"""assd_core: Adaptive Selective Synaptic Dampening (ASSD) and everything its experiments need.

The algorithm in four calls::

    full = compute_importances(model, retain_loader)       # []_D, once; save_importances(...)
    report = assd_unlearn(model, forget_loader, full, n_total=n_retain + n_forget)
    accuracy(model, test_loader), entropy_mia(model, retain_loader, forget_loader, test_loader)
"""

from assd_core.dampening import DampeningReport, check_importances, dampen
from assd_core.importance import (
    Importances,
    compute_importances,
    load_importances,
    model_fingerprint,
    save_importances,
)
from assd_core.label_errors import inject_label_errors
from assd_core.metrics import accuracy, entropy_mia, predict_entropy
from assd_core.selection import adaptive_percentile, percentile_linear, select_alpha
from assd_core.unlearn import assd_unlearn, forget_importances, ssd_unlearn

__version__ = "0.1.0"

__all__ = [
    "DampeningReport",
    "Importances",
    "accuracy",
    "adaptive_percentile",
    "assd_unlearn",
    "check_importances",
    "compute_importances",
    "dampen",
    "entropy_mia",
    "forget_importances",
    "inject_label_errors",
    "load_importances",
    "model_fingerprint",
    "percentile_linear",
    "predict_entropy",
    "save_importances",
    "select_alpha",
    "ssd_unlearn",
]
