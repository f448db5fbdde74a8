"""ASSD and its evaluation written the way the authors' code runs them: the baseline to beat.

A faithful, self-contained transcription of the hot paths of the SSD repository
(``ssd.py: ParameterPerturber.calc_importance / modify_weight``, ``metrics.py:
collect_prob / get_membership_attack_prob``, ``utils.py: evaluate``) and of the ASSD
notebook's ``modify_weight`` (ratios copied to numpy per parameter, concatenated, then
``np.nanpercentile``), see the book's Method chapter ("Importances", "Adaptive SSD",
"Evaluation protocol"):

- importances: ``optimizer.zero_grad()``, ``loss.backward()``, then a Python loop over
  ``named_parameters()`` adding ``p.grad.data.clone().pow(2)``;
- alpha: per parameter ``fimp.div(oimp)``, NaN and inf dropped, ``.cpu().numpy()``; the
  arrays concatenated and ``np.nanpercentile``'d (float32, as theirs);
- dampening: per parameter ``torch.where`` locations, ``weight[locations]``, clamp to 1 by
  index assignment, ``p[locations] = p[locations].mul(update)``;
- accuracy: mean over batches of the batch accuracy (equal to the sample-weighted accuracy
  when all batches have the same size);
- MIA: softmax collected **one sample at a time** (a ``batch_size=1`` loader over the
  loader's dataset), entropy in float32, ``LogisticRegression(class_weight="balanced")``
  (their ``multi_class="multinomial"`` is gone from scikit-learn 1.8; for two classes the
  default binary fit is used, as in :func:`assd_core.entropy_mia`).

Left out, to keep the baseline conservative: the notebook's per-layer ``mean``, ``std`` and
``median`` of the ratios that are computed and never used, its ``print`` calls, and the
``wandb`` logging of the SSD scripts.

It gives the same results as :mod:`assd_core` up to float rounding (``tests/repro/test_benchmarks.py``
and ``alternatives.py`` check it): importances to ~1e-6 relative (``p.grad ** 2`` added vs
our fused multiply-add), alpha, the selected set and the dampened weights, accuracies on
loaders with equal-size batches, and the MIA score.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader


def calc_importance(model: nn.Module, dataloader: DataLoader, optimizer: torch.optim.Optimizer
                    ) -> dict[str, torch.Tensor]:
    """SSD's ``ParameterPerturber.calc_importance``: mean squared batch gradient, per parameter."""
    criterion = nn.CrossEntropyLoss()
    importances = dict([(k, torch.zeros_like(p, device=p.device)) for k, p in model.named_parameters()])
    for batch in dataloader:
        x, y = batch[0], batch[1]
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        for (k1, p), (k2, imp) in zip(model.named_parameters(), importances.items()):
            if p.grad is not None:
                imp.data += p.grad.data.clone().pow(2)
    for _, imp in importances.items():
        imp.data /= float(len(dataloader))
    return importances


def nanpercentile_alpha(
    model: nn.Module,
    original_importance: dict[str, torch.Tensor],
    forget_importance: dict[str, torch.Tensor],
    percentile: float,
) -> float:
    """First half of the ASSD notebook's ``modify_weight``: ratios per parameter to numpy,
    concatenated, ``np.nanpercentile``."""
    all_relative_values = []
    with torch.no_grad():
        for (n, p), (oimp_n, oimp), (fimp_n, fimp) in zip(
            model.named_parameters(), original_importance.items(), forget_importance.items()
        ):
            divs_ = fimp.div(oimp)
            divs_ = divs_[~torch.isnan(divs_)]
            divs_ = divs_[~torch.isinf(divs_)]
            all_relative_values.append(divs_.reshape(-1).cpu().numpy())
    all_relative_values = np.concatenate(all_relative_values)
    return np.nanpercentile(all_relative_values, percentile).item()


def dampen_loop(
    model: nn.Module,
    original_importance: dict[str, torch.Tensor],
    forget_importance: dict[str, torch.Tensor],
    selection_weighting: float,
    dampening_constant: float = 1.0,
) -> None:
    """Second half of ``modify_weight`` (SSD's): select and dampen, parameter by parameter."""
    with torch.no_grad():
        for (n, p), (oimp_n, oimp), (fimp_n, fimp) in zip(
            model.named_parameters(), original_importance.items(), forget_importance.items()
        ):
            oimp_norm = oimp.mul(selection_weighting)
            locations = torch.where(fimp > oimp_norm)
            weight = ((oimp.mul(dampening_constant)).div(fimp)).pow(1)
            update = weight[locations]
            min_locs = torch.where(update > 1)
            update[min_locs] = 1
            p[locations] = p[locations].mul(update)


def modify_weight(
    model: nn.Module,
    original_importance: dict[str, torch.Tensor],
    forget_importance: dict[str, torch.Tensor],
    percentile: float,
    dampening_constant: float = 1.0,
) -> float:
    """The ASSD notebook's ``modify_weight``: alpha = nanpercentile of the ratios, then SSD.

    Returns:
        The alpha used (the notebook's "cutoff value").
    """
    alpha = nanpercentile_alpha(model, original_importance, forget_importance, percentile)
    dampen_loop(model, original_importance, forget_importance, alpha, dampening_constant)
    return alpha


def assd_percentile(n_forget: int, n_total: int) -> float:
    """The notebook's ``100 - np.log(1 + (len_forget / len_all) * 100)``."""
    return 100 - np.log(1 + (n_forget / n_total) * 100)


def assd_unlearn(model: nn.Module, forget_loader: DataLoader,
                 original_importances: dict[str, torch.Tensor], *, n_forget: int, n_total: int
                 ) -> float:
    """ASSD in place, the full-data importances given (cached): forget importances, alpha,
    dampening. Returns alpha."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()
    sample_importances = calc_importance(model, forget_loader, optimizer)
    return modify_weight(model, original_importances, sample_importances,
                         assd_percentile(n_forget, n_total))


def assd_unlearn_as_run(model: nn.Module, retain_loader: DataLoader, forget_loader: DataLoader
                        ) -> float:
    """The notebook's ``ssd(net, retain_loader, forget_loader, alpha="Adaptive", lambda_param=1)``
    as it runs: the retain-set importances are recomputed on every call. Returns alpha."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()
    original_importances = calc_importance(model, retain_loader, optimizer)
    sample_importances = calc_importance(model, forget_loader, optimizer)
    len_all = len(retain_loader.dataset) + len(forget_loader.dataset)
    percentile = assd_percentile(len(forget_loader.dataset), len_all)
    return modify_weight(model, original_importances, sample_importances, percentile)


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _accuracy(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    _, preds = torch.max(outputs, dim=1)
    return torch.tensor(torch.sum(preds == labels).item() / len(preds))


@torch.no_grad()
def evaluate(model: nn.Module, val_loader: Iterable[Any]) -> float:
    """SSD's ``evaluate``: per batch loss and accuracy, averaged over batches; accuracy in %."""
    model.eval()
    outputs = []
    for batch in val_loader:
        images, labels = batch[0], batch[1]
        out = model(images)
        loss = F.cross_entropy(out, labels)
        outputs.append({"Loss": loss.detach(), "Acc": _accuracy(out, labels)})
    epoch_acc = torch.stack([x["Acc"] for x in outputs]).mean()
    return 100.0 * epoch_acc.item()


def entropy(p: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """SSD's ``metrics.entropy``."""
    return -torch.where(p > 0, p * p.log(), p.new([0.0])).sum(dim=dim, keepdim=keepdim)


def collect_prob(data_loader: DataLoader, model: nn.Module) -> torch.Tensor:
    """SSD's ``collect_prob``: softmax outputs, one sample at a time."""
    data_loader = torch.utils.data.DataLoader(data_loader.dataset, batch_size=1, shuffle=False)
    prob = []
    with torch.no_grad():
        for batch in data_loader:
            batch = [tensor.to(next(model.parameters()).device) for tensor in batch]
            data, target = batch[0], batch[1]
            output = model(data)
            prob.append(F.softmax(output, dim=-1).data)
    return torch.cat(prob)


def get_membership_attack_prob(retain_loader: DataLoader, forget_loader: DataLoader,
                               test_loader: DataLoader, model: nn.Module) -> float:
    """SSD's entropy MIA, in percent (theirs returns a fraction)."""
    from sklearn.linear_model import LogisticRegression

    model.eval()
    retain_prob = collect_prob(retain_loader, model)
    forget_prob = collect_prob(forget_loader, model)
    test_prob = collect_prob(test_loader, model)
    X_r = torch.cat([entropy(retain_prob), entropy(test_prob)]).cpu().numpy().reshape(-1, 1)
    Y_r = np.concatenate([np.ones(len(retain_prob)), np.zeros(len(test_prob))])
    X_f = entropy(forget_prob).cpu().numpy().reshape(-1, 1)
    clf = LogisticRegression(class_weight="balanced", solver="lbfgs")
    clf.fit(X_r, Y_r)
    results = clf.predict(X_f)
    return 100.0 * results.mean()


def evaluate_unlearned(model: nn.Module, retain_loader: DataLoader, forget_loader: DataLoader,
                       test_loader: DataLoader) -> dict[str, float]:
    """What the SSD scripts report for one unlearned model: test ("Dr") and forget accuracy,
    and the MIA."""
    return {
        "test_accuracy": evaluate(model, test_loader),
        "forget_accuracy": evaluate(model, forget_loader),
        "mia": get_membership_attack_prob(retain_loader, forget_loader, test_loader, model),
    }
