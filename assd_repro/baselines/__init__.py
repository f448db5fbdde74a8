"""Unlearning baselines. Every function leaves the caller's model untouched and returns a new
model together with what produced it.

- :mod:`~assd_repro.baselines.classic`: retrain (from scratch, head-only), fine-tune on Dr,
  :func:`unlearned_copy` (any in-place method of ``assd_core`` on a copy);
- :mod:`~assd_repro.baselines.neggrad`: NegGrad+ (Kurmanji et al. 2023);
- :mod:`~assd_repro.baselines.scrub`: SCRUB (Kurmanji et al. 2023);
- :mod:`~assd_repro.baselines.random_label`: random-label fine-tuning (the SalUn paper's RL);
- :mod:`~assd_repro.baselines.salun`: SalUn (Fan et al. 2024);
- :mod:`~assd_repro.baselines.bad_teacher`: Bad Teacher (Chundawat et al. 2023);
- :mod:`~assd_repro.baselines.repair`: ASSD followed by fine-tuning on Dr;
- :mod:`~assd_repro.baselines.tuned_ssd`: SSD with alpha tuned on held-out retained data.

The optimisation-based methods (NegGrad+, SCRUB, RL, SalUn, Bad Teacher) share one interface:
``method(model, retain, forget, *, <hyper-parameters with the paper's defaults>, seed,
device) -> (new_model, UnlearningInfo)``, deterministic for a given seed on the CPU.
"""

from assd_repro.baselines._common import UnlearningInfo
from assd_repro.baselines.bad_teacher import bad_teacher, bad_teacher_loss, bad_teacher_targets
from assd_repro.baselines.classic import (
    finetune,
    reset_top_level_modules,
    retrain_from_scratch,
    retrain_head_only,
    unlearned_copy,
)
from assd_repro.baselines.neggrad import neggrad_loss, neggrad_plus
from assd_repro.baselines.random_label import random_label, random_label_loss, relabel
from assd_repro.baselines.repair import RepairInfo, assd_repair
from assd_repro.baselines.salun import saliency_mask, salun
from assd_repro.baselines.scrub import distill_kl, scrub
from assd_repro.baselines.tuned_ssd import DEFAULT_ALPHAS, TunedSSDInfo, tuned_ssd

__all__ = [
    "DEFAULT_ALPHAS",
    "RepairInfo",
    "TunedSSDInfo",
    "UnlearningInfo",
    "assd_repair",
    "bad_teacher",
    "bad_teacher_loss",
    "bad_teacher_targets",
    "distill_kl",
    "finetune",
    "neggrad_loss",
    "neggrad_plus",
    "random_label",
    "random_label_loss",
    "relabel",
    "reset_top_level_modules",
    "retrain_from_scratch",
    "retrain_head_only",
    "saliency_mask",
    "salun",
    "scrub",
    "tuned_ssd",
    "unlearned_copy",
]
