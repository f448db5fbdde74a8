"""The supply-chain MLPs of the paper's section 6.2 (sizes ``"2x50"``, ``"3x100"``, ``"5x250"``)."""

from __future__ import annotations

import re

from torch import Tensor, nn

from assd_repro.models.common import check_positive

__all__ = ["SupplyChainMLP", "mlp_size", "supply_chain_mlp"]


class SupplyChainMLP(nn.Module):
    """``n_layers`` blocks of Linear -> BatchNorm1d -> ReLU (in child ``body``), then the linear
    head ``head``. Input ``(N, n_features)``, output logits ``(N, n_classes)``.

    In training mode BatchNorm needs batches of at least 2 rows.

    Raises:
        ValueError: ``n_features``, ``n_classes``, ``n_layers`` or ``width`` is not a positive
            ``int`` (:func:`~assd_repro.models.common.check_positive`; names the first).
    """

    def __init__(self, n_features: int, n_classes: int = 3, *, n_layers: int, width: int) -> None:
        super().__init__()
        check_positive(n_features=n_features, n_classes=n_classes, n_layers=n_layers, width=width)
        layers: list[nn.Module] = []
        for index in range(n_layers):
            layers += [nn.Linear(n_features if index == 0 else width, width),
                       nn.BatchNorm1d(width), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def supply_chain_mlp(
    n_features: int, n_classes: int = 3, *, n_layers: int, width: int
) -> SupplyChainMLP:
    """The paper's supply-chain MLP; sizes "2x50", "3x100", "5x250" via :func:`mlp_size`.

    Raises:
        ValueError: as :class:`SupplyChainMLP` (a size that is not a positive ``int``).
    """
    return SupplyChainMLP(n_features, n_classes, n_layers=n_layers, width=width)


_MLP_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def mlp_size(size: str) -> tuple[int, int]:
    """Parse ``"LAYERSxWIDTH"`` (e.g. ``"3x100"``) into ``(n_layers, width)``.

    Raises:
        ValueError: the string is not of that form or a number is zero.
    """
    match = _MLP_SIZE.match(size) if isinstance(size, str) else None
    if match is None or 0 in (int(match[1]), int(match[2])):
        raise ValueError(
            f"bad MLP size {size!r}: expected 'LAYERSxWIDTH' with positive integers, e.g. '3x100'"
        )
    return int(match[1]), int(match[2])
