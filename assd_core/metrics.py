"""Evaluation metrics of the SSD protocol: accuracy and the entropy membership-inference attack.

Both are batched and sample-weighted. The authors' SSD evaluation averages accuracies per batch
and collects MIA features one sample at a time (book: Method, "Evaluation protocol"); with
equal-size batches the accuracies agree, with a partial last batch ours is the correct one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

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

__all__ = ["SampleScores", "accuracy", "entropy_mia", "mia_score", "predict_entropy",
           "sample_scores"]


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


def _logistic_regression() -> Any:
    """scikit-learn's ``LogisticRegression`` class.

    Raises:
        ImportError: scikit-learn is not installed; the message names the ``mia`` extra.
    """
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as error:
        raise ImportError(
            "entropy_mia needs scikit-learn, which is not installed: "
            'pip install "assd-core[mia]" (or pip install scikit-learn)'
        ) from error
    return LogisticRegression


class SampleScores(NamedTuple):
    """Per-sample results of one forward pass (:func:`sample_scores`).

    Attributes:
        correct: ``(n_samples,)`` bool, whether the top-1 prediction equals the label.
        entropy: ``(n_samples,)`` float64, entropy (nats) of the softmax output.
    """

    correct: np.ndarray
    entropy: np.ndarray


def sample_scores(model: nn.Module, loader: Iterable[Any]) -> SampleScores:
    """Correctness and softmax entropy of every sample, from one forward pass.

    What :func:`accuracy` and :func:`predict_entropy` compute, in one pass: an evaluation that
    needs both on the same samples (the SSD protocol's test set) forwards them once.
    ``100.0 * correct.sum() / correct.size`` equals :func:`accuracy` and ``entropy`` equals
    :func:`predict_entropy` on the same loader.

    Args:
        model: classifier returning logits ``(batch, n_classes)``; evaluated in eval mode,
            every module's ``training`` flag is restored.
        loader: batches ``(x, y, *rest)``; ``y`` integer class indices of shape ``(batch,)``.

    Returns:
        :class:`SampleScores` in loader order (empty arrays for a loader without samples).

    Raises:
        ValueError: as :func:`accuracy` (batch structure, model output, labels), except that an
            empty loader gives empty arrays.
    """
    correct, entropy = [], []
    for logits, y in _eval_batches(model, loader):
        check_labels(y, logits)
        correct.append((logits.argmax(dim=1) == y).cpu())
        entropy.append(torch.special.entr(torch.softmax(logits.double(), dim=1)).sum(dim=1).cpu())
    if not correct:
        return SampleScores(np.empty(0, dtype=bool), np.empty(0))
    return SampleScores(torch.cat(correct).numpy(), torch.cat(entropy).numpy())


def mia_score(retain_entropy: np.ndarray, forget_entropy: np.ndarray,
              test_entropy: np.ndarray) -> float:
    """The entropy attack of :func:`entropy_mia` on entropies already computed, in percent.

    Args:
        retain_entropy: ``(n_retain,)`` entropies of retain training samples (members).
        forget_entropy: ``(n_forget,)`` entropies of the forgotten training samples.
        test_entropy: ``(n_test,)`` entropies of held-out samples (non-members).

    Returns:
        Percentage of forget samples the attacker calls "member", in ``[0, 100]``.

    Raises:
        ImportError: scikit-learn is not installed (the ``mia`` extra); checked first.
        ValueError: one of the arrays is empty (named: retain, test or forget), not 1-D, or
            holds a value that is not finite.
    """
    LogisticRegression = _logistic_regression()

    arrays = {"retain": retain_entropy, "test": test_entropy, "forget": forget_entropy}
    for name, h in arrays.items():
        h = np.asarray(h)
        if h.size == 0:
            raise ValueError(f"the {name} loader of the MIA yielded no sample")
        if h.ndim != 1 or not np.isfinite(h).all():
            raise ValueError(f"the {name} entropies must be a 1-D array of finite values, got "
                             f"shape {h.shape}; pass predict_entropy(...) or "
                             "sample_scores(...).entropy")
    h_retain, h_test, h_forget = (np.asarray(h, dtype=np.float64) for h in arrays.values())
    x = np.concatenate([h_retain, h_test]).reshape(-1, 1)
    y = np.concatenate([np.ones(h_retain.size), np.zeros(h_test.size)])
    attacker = LogisticRegression(class_weight="balanced", solver="lbfgs")
    attacker.fit(x, y)
    return 100.0 * float(attacker.predict(h_forget.reshape(-1, 1)).mean())


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
    _logistic_regression()  # scikit-learn is checked before any forward pass

    h_retain = predict_entropy(model, retain_loader)
    h_test = predict_entropy(model, test_loader)
    h_forget = predict_entropy(model, forget_loader)
    return mia_score(h_retain, h_forget, h_test)
