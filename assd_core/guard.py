"""A safety net for in-place unlearning: keep the result only if accuracy on held-out retained
data did not fall too far; otherwise put the model back exactly as it was."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Sized
from numbers import Real
from typing import Any

from torch import nn

from assd_core._kernels import module_flags, restore_module_flags
from assd_core.metrics import accuracy

__all__ = ["GuardReport", "guarded"]


@dataclasses.dataclass(frozen=True)
class GuardReport:
    """What :func:`guarded` decided.

    Attributes:
        refused: True if the model was put back as it was.
        accuracy_before: accuracy (%) on ``check_loader`` before the unlearning.
        accuracy_after: accuracy (%) of the unlearned model, also when it was refused.
        reason: the rule applied and its numbers, in words.
        result: what the unlearning function returned (e.g. its DampeningReport).
    """

    refused: bool
    accuracy_before: float
    accuracy_after: float
    reason: str
    result: Any


def guarded(
    model: nn.Module,
    unlearn: Callable[..., Any],
    /,
    *args: Any,
    check_loader: Iterable[Any],
    max_drop_points: float = 1.0,
    tolerance: float | None = None,
    **kwargs: Any,
) -> GuardReport:
    """Run ``unlearn(model, *args, **kwargs)`` in place and undo it if it cost too much.

    The model's ``state_dict`` (parameters and buffers) and training flags are copied first;
    a refused or failing run restores them bit for bit. Two rules:

    - default: refuse if accuracy on ``check_loader`` fell by more than ``max_drop_points``
      percentage points;
    - ``tolerance`` given (the ASSD authors' notebook's unused "safety step"): keep the result
      only if its accuracy on ``check_loader`` (there: the retain *training* rows) exceeds
      ``tolerance`` times the accuracy before; ``max_drop_points`` is then ignored.

    Args:
        model: changed in place, or restored.
        unlearn: an in-place method such as :func:`~assd_core.assd_unlearn`.
        args, kwargs: the positional and keyword arguments passed to ``unlearn`` after
            ``model``.
        check_loader: batches ``(x, y, *rest)``, e.g. a held-out slice of Dr.
        max_drop_points: largest accepted fall in accuracy, in points (>= 0).
        tolerance: in ``(0, 1]``, or None for the default rule.

    Returns:
        The :class:`GuardReport`.

    Raises:
        ValueError: ``unlearn`` is not callable (or is a model); ``max_drop_points`` is not a
            finite number >= 0; ``tolerance`` outside ``(0, 1]``; ``check_loader`` is a
            one-shot iterator, or sized and empty; all before anything changes. Then as
            :func:`~assd_core.accuracy` (before the unlearning) and whatever ``unlearn``
            raises (the model restored).
    """
    if isinstance(unlearn, nn.Module) or not callable(unlearn):
        raise ValueError(f"unlearn is a {type(unlearn).__name__}; call guarded(model, unlearn, "
                         "*args, check_loader=...), the model first, then the function")
    if isinstance(max_drop_points, bool) or not isinstance(max_drop_points, Real) \
            or not math.isfinite(max_drop_points) or max_drop_points < 0:
        raise ValueError(f"max_drop_points={max_drop_points!r} must be a finite number >= 0 "
                         "(percentage points of accuracy)")
    if tolerance is not None and (isinstance(tolerance, bool) or not isinstance(tolerance, Real)
                                  or not 0 < tolerance <= 1):
        raise ValueError(f"tolerance={tolerance!r} must lie in (0, 1], e.g. 0.95 to keep a "
                         "result with more than 95% of the accuracy before")
    if isinstance(check_loader, Iterator):
        raise ValueError("check_loader is a one-shot iterator; pass a DataLoader or a list of "
                         "batches (it is read twice, before and after)")
    if isinstance(check_loader, Sized) and len(check_loader) == 0:
        raise ValueError("check_loader is empty; give held-out retained rows to check on")
    before = accuracy(model, check_loader)
    saved = {name: value.detach().clone() for name, value in model.state_dict().items()}
    flags = module_flags(model)

    def restore() -> None:
        model.load_state_dict(saved)
        restore_module_flags(flags)

    try:
        result = unlearn(model, *args, **kwargs)
        after = accuracy(model, check_loader)
    except BaseException:
        restore()
        raise
    if tolerance is None:
        refused = before - after > max_drop_points
        reason = (f"accuracy fell by {before - after:.3g} points ({before:.4g}% -> {after:.4g}%);"
                  f" at most {max_drop_points:g} accepted")
    else:
        refused = not after > tolerance * before
        reason = (f"accuracy after {after:.4g}% vs tolerance {tolerance:g} x {before:.4g}% "
                  f"= {tolerance * before:.4g}%; kept only above it")
    if refused:
        restore()
    return GuardReport(refused, before, after, reason, result)
