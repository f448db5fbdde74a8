"""SSD with a tuned alpha: each candidate alpha dampens its own copy of the model, and the one
whose copy is most accurate on a held-out slice of the retain data wins.

This is the tuning SSD needs and ASSD avoids; its cost (every candidate's dampening and
evaluation, the forget pass once) is reported in seconds. The forget importances are computed
once, on the given model, so each candidate's copy equals
``unlearned_copy(model, ssd_unlearn, forget_loader, full_importances, alpha=a, lam=lam)`` bit
for bit at a fraction of the cost.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

from torch import Tensor, nn

from assd_core import DampeningReport, accuracy, dampen, forget_importances
from assd_core.dampening import check_number

__all__ = ["DEFAULT_ALPHAS", "TunedSSDInfo", "tuned_ssd"]

DEFAULT_ALPHAS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
"""Candidate alphas: a roughly logarithmic grid from 1 to 100 that holds SSD's tuned values
(5, 10 and 25; book: Method, "SSD's tuned parameters"). A choice of this project."""


@dataclasses.dataclass(frozen=True)
class TunedSSDInfo:
    """What :func:`tuned_ssd` did.

    Attributes:
        alpha: the chosen alpha.
        lam: the dampening constant used for every candidate.
        accuracies: ``(alpha, accuracy %)`` on the validation slice for every candidate, in
            the order tried.
        report: the chosen candidate's :class:`~assd_core.DampeningReport`.
        seconds: the tuning's wall time: the forget pass, every candidate's copy, dampening
            and evaluation.
    """

    alpha: float
    lam: float
    accuracies: tuple[tuple[float, float], ...]
    report: DampeningReport
    seconds: float


def tuned_ssd(
    model: nn.Module,
    forget_loader: Iterable[Any],
    full_importances: Mapping[str, Tensor],
    *,
    validation_loader: Iterable[Any],
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    lam: float = 1.0,
) -> tuple[nn.Module, TunedSSDInfo]:
    """SSD (:func:`assd_core.ssd_unlearn`) with the alpha of best validation accuracy.

    Args:
        model: the trained model (not modified); the copies live on its device.
        forget_loader: batches of Df, with the batch size of ``full_importances``.
        full_importances: ``[]_D`` for ``model``.
        validation_loader: batches ``(x, y, *rest)`` of a held-out slice of the retain data
            (rows the importances and the training saw are no test of retained accuracy).
        alphas: candidate alphas, each a finite number >= 0, tried in this order; a tie in
            accuracy goes to the earlier one.
        lam: SSD's dampening constant lambda, the same for every candidate.

    Returns:
        The chosen candidate's copy and its :class:`TunedSSDInfo`. No randomness is
        involved: the result depends on the data alone.

    Raises:
        ValueError: ``alphas`` is empty or holds something that is not a finite number >= 0;
            ``lam`` is not a finite number >= 0; all before any work. Then as
            :func:`assd_core.forget_importances` (bad importances or forget batches) and
            :func:`assd_core.accuracy` (bad or empty validation batches).
    """
    started = time.perf_counter()
    candidates = tuple(alphas)
    if not candidates:
        raise ValueError("alphas is empty: give at least one candidate alpha, e.g. "
                         "DEFAULT_ALPHAS")
    for alpha in candidates:
        if isinstance(alpha, bool) or not isinstance(alpha, Real) or not math.isfinite(alpha) \
                or alpha < 0:
            raise ValueError(f"alphas holds {alpha!r}: every candidate must be a finite "
                             "number >= 0")
    lam = check_number("lam", lam)
    forget = forget_importances(model, forget_loader, full_importances)
    best: tuple[float, nn.Module, DampeningReport, float] | None = None
    scores = []
    for alpha in candidates:
        candidate = copy.deepcopy(model)
        report = dampen(candidate, full_importances, forget, alpha=float(alpha), lam=lam)
        score = accuracy(candidate, validation_loader)
        scores.append((float(alpha), score))
        if best is None or score > best[3]:
            best = (float(alpha), candidate, report, score)
    assert best is not None  # candidates is not empty
    alpha, chosen, report, _ = best
    return chosen, TunedSSDInfo(alpha, lam, tuple(scores), report,
                                time.perf_counter() - started)
