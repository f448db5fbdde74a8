"""assd_core: Adaptive Selective Synaptic Dampening (ASSD) and everything its experiments need.

The algorithm in four calls::

    full = compute_importances(model, retain_loader)       # []_D, once; save_importances(...)
    report = assd_unlearn(model, forget_loader, full, n_total=n_retain + n_forget)
    accuracy(model, test_loader), entropy_mia(model, retain_loader, forget_loader, test_loader)
"""

from assd_core.baselines import (
    assd_baseline,
    finetune,
    retrain_from_scratch,
    retrain_head_only,
    ssd_baseline,
)
from assd_core.dampening import DampeningReport, check_importances, dampen
from assd_core.data import (
    DatasetNotFoundError,
    ForgetTask,
    ImageData,
    ImageDataset,
    fullclass,
    leak_free_protocol,
    load_dataco,
    load_image_dataset,
    make_dataco_like,
    make_loader,
    random_forget,
    paper_protocol,
    subclass,
)
from assd_core.importance import (
    Importances,
    compute_importances,
    load_importances,
    model_fingerprint,
    save_importances,
)
from assd_core.label_errors import inject_label_errors
from assd_core.metrics import accuracy, entropy_mia, predict_entropy
from assd_core.models import (
    ModelSpec,
    build_model,
    mlp_size,
    resnet18_cifar,
    supply_chain_mlp,
    vit,
    vit_b16,
    vit_tiny_cifar,
)
from assd_core.paper import paper_table
from assd_core.selection import adaptive_percentile, percentile_linear, select_alpha
from assd_core.training import (
    TrainRecipe,
    decayed_lr,
    load_checkpoint,
    save_checkpoint,
    ssd_image_recipe,
    supply_chain_recipe,
    train,
)
from assd_core.unlearn import assd_unlearn, forget_importances, ssd_unlearn

__version__ = "0.1.0"

__all__ = [
    # the algorithm
    "DampeningReport",
    "Importances",
    "adaptive_percentile",
    "assd_unlearn",
    "check_importances",
    "compute_importances",
    "dampen",
    "forget_importances",
    "load_importances",
    "model_fingerprint",
    "percentile_linear",
    "save_importances",
    "select_alpha",
    "ssd_unlearn",
    # evaluation and label errors
    "accuracy",
    "entropy_mia",
    "inject_label_errors",
    "predict_entropy",
    # data
    "DatasetNotFoundError",
    "ForgetTask",
    "ImageData",
    "ImageDataset",
    "fullclass",
    "leak_free_protocol",
    "load_dataco",
    "load_image_dataset",
    "make_dataco_like",
    "make_loader",
    "paper_protocol",
    "random_forget",
    "subclass",
    # models and training
    "ModelSpec",
    "TrainRecipe",
    "build_model",
    "decayed_lr",
    "load_checkpoint",
    "mlp_size",
    "resnet18_cifar",
    "save_checkpoint",
    "ssd_image_recipe",
    "supply_chain_mlp",
    "supply_chain_recipe",
    "train",
    "vit",
    "vit_b16",
    "vit_tiny_cifar",
    # baselines
    "assd_baseline",
    "finetune",
    "retrain_from_scratch",
    "retrain_head_only",
    "ssd_baseline",
    # the paper's tables
    "paper_table",
]
