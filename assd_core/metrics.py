"""Evaluation metrics of the SSD protocol: accuracy and the entropy membership-inference attack.

Both are batched and sample-weighted. The authors' SSD evaluation averages accuracies per batch
and collects MIA features one sample at a time (book: Method, "Evaluation protocol"); with
equal-size batches the accuracies agree, with a partial last batch ours is the correct one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from assd_core._kernels import (
    check_labels,
    check_logits,
    module_flags,
    restore_module_flags,
    split_batch,
)

__all__ = ["accuracy", "entropy_mia", "predict_entropy"]


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _eval_batches(model: nn.Module, loader: Iterable[Any]) -> Iterable[tuple[Tensor, Tensor]]:
    """Yield ``(logits, y)`` per batch in eval/inference mode; restores every module's
    ``training`` flag afterwards."""
    device = _model_device(model)
    flags = module_flags(model)
    model.eval()
    try:
        with torch.inference_mode():
            for batch in loader:
                x, y = (t.to(device) if isinstance(t, Tensor) else t for t in split_batch(batch))
                logits = model(x)
                check_logits(logits)
                yield logits, y
    finally:
        restore_module_flags(flags)


def accuracy(model: nn.Module, loader: Iterable[Any]) -> float:
    """Top-1 accuracy in percent, weighted by samples (not averaged per batch).

    Args:
        model: classifier returning logits ``(batch, n_classes)``; evaluated in eval mode,
            every module's ``training`` flag is restored.
        loader: batches ``(x, y, *rest)``; ``y`` integer class indices of shape ``(batch,)``.

    Raises:
        ValueError: a batch is not a tuple or list ``(x, y, *rest)``; the model's output is not
            a tensor of shape ``(batch, n_classes)``; labels that are not a tensor, not of
            shape ``(batch,)``, not of an integer dtype, or outside ``[0, n_classes)``; the
            loader yields no sample.
    """
    correct = 0
    total = 0
    for logits, y in _eval_batches(model, loader):
        check_labels(y, logits)
        correct += int((logits.argmax(dim=1) == y).sum())
        total += y.numel()
    if total == 0:
        raise ValueError("accuracy of an empty loader is undefined; check the data split")
    return 100.0 * correct / total


def predict_entropy(model: nn.Module, loader: Iterable[Any]) -> np.ndarray:
    """Entropy (nats) of the softmax output per sample, shape ``(n_samples,)``, float64.

    Args:
        model: classifier returning logits ``(batch, n_classes)``; evaluated in eval mode,
            every module's ``training`` flag is restored.
        loader: batches ``(x, y, *rest)``; the labels are not used.

    Returns:
        ``(n_samples,)`` float64 entropies in ``[0, ln n_classes]``, in loader order (empty
        for a loader without samples).

    Raises:
        ValueError: a batch is not a tuple or list ``(x, y, *rest)``; the model's output is not
            a tensor of shape ``(batch, n_classes)``.
    """
    chunks = [
        torch.special.entr(torch.softmax(logits.double(), dim=1)).sum(dim=1).cpu()
        for logits, _ in _eval_batches(model, loader)
    ]
    return torch.cat(chunks).numpy() if chunks else np.empty(0)


def entropy_mia(
    model: nn.Module,
    retain_loader: Iterable[Any],
    forget_loader: Iterable[Any],
    test_loader: Iterable[Any],
) -> float:
    """Entropy membership-inference attack of the SSD protocol, in percent.

    An attacker ``LogisticRegression(class_weight="balanced")`` learns, from the entropy of the
    softmax output alone, to tell retain *train* samples (members, label 1) from *test* samples
    (non-members, label 0). The score is the share of forget *train* samples it calls members:
    lower after unlearning; ideally near the retrained model's value.

    Args:
        model: classifier, evaluated in eval mode.
        retain_loader: retain training samples Dr.
        forget_loader: forgotten training samples Df.
        test_loader: held-out samples.

    Returns:
        Percentage of forget samples predicted "member", in ``[0, 100]``.

    Raises:
        ImportError: scikit-learn is not installed (the ``mia`` extra); checked first.
        ValueError: a batch is not a tuple or list ``(x, y, *rest)``; the model's output is not
            a tensor of shape ``(batch, n_classes)`` (both as :func:`predict_entropy`); one of
            the loaders yields no sample (named: retain, test or forget).
    """
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as error:
        raise ImportError(
            "entropy_mia needs scikit-learn, which is not installed: "
            'pip install "assd-core[mia]" (or pip install scikit-learn)'
        ) from error

    h_retain = predict_entropy(model, retain_loader)
    h_test = predict_entropy(model, test_loader)
    h_forget = predict_entropy(model, forget_loader)
    for name, h in (("retain", h_retain), ("test", h_test), ("forget", h_forget)):
        if h.size == 0:
            raise ValueError(f"the {name} loader of the MIA yielded no sample")
    x = np.concatenate([h_retain, h_test]).reshape(-1, 1)
    y = np.concatenate([np.ones(h_retain.size), np.zeros(h_test.size)])
    attacker = LogisticRegression(class_weight="balanced", solver="lbfgs")
    attacker.fit(x, y)
    return 100.0 * float(attacker.predict(h_forget.reshape(-1, 1)).mean())
