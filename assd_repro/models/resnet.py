"""The CIFAR variant of ResNet18 (3x3 stem, no max-pool), as the SSD authors train it.

The classifier head is the top-level child ``fc``; the body sits in ``Sequential`` children
without ``reset_parameters``, so the SSD authors' "retrain" rule (the book's Method
chapter, section "Retrain") touches the head only.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from assd_repro.models.common import check_positive

__all__ = ["BasicBlock", "ResNet18Cifar", "resnet18_cifar"]


class BasicBlock(nn.Module):
    """Two 3x3 conv -> BatchNorm layers with an identity (or 1x1 conv + BN) shortcut.

    Maps ``(N, in_planes, H, W)`` to ``(N, planes, H / stride, W / stride)``.

    Raises:
        ValueError: ``in_planes``, ``planes`` or ``stride`` is not a positive ``int``
            (:func:`~assd_repro.models.common.check_positive`).
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        check_positive(in_planes=in_planes, planes=planes, stride=stride)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    """ResNet18 for 32x32 images: 3x3 stride-1 stem, no max-pool, widths w, 2w, 4w, 8w.

    Top-level children: ``stem`` (conv, BN, ReLU), ``layer1`` ... ``layer4`` (two
    :class:`BasicBlock` each, strides 1, 2, 2, 2), ``pool`` (global average pool) and the linear
    head ``fc``. Input ``(N, in_channels, H, W)``, output logits ``(N, n_classes)``; any
    ``H, W >= 8`` works thanks to the adaptive pool.

    Raises:
        ValueError: ``n_classes``, ``width`` or ``in_channels`` is not a positive ``int``
            (:func:`~assd_repro.models.common.check_positive`; names the first).
    """

    def __init__(self, n_classes: int, *, width: int = 64, in_channels: int = 3) -> None:
        super().__init__()
        check_positive(n_classes=n_classes, width=width, in_channels=in_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        widths = (width, 2 * width, 4 * width, 8 * width)
        in_planes = width
        for index, (planes, stride) in enumerate(zip(widths, (1, 2, 2, 2), strict=True), start=1):
            blocks = nn.Sequential(BasicBlock(in_planes, planes, stride),
                                   BasicBlock(planes, planes))
            self.add_module(f"layer{index}", blocks)
            in_planes = planes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8 * width, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.stem(x)
        for index in range(1, 5):
            out = getattr(self, f"layer{index}")(out)
        return self.fc(torch.flatten(self.pool(out), 1))


def resnet18_cifar(n_classes: int, *, width: int = 64, in_channels: int = 3) -> ResNet18Cifar:
    """CIFAR-variant ResNet18 (about 11.2M parameters at ``width=64``, 100 classes).

    Args:
        n_classes: number of output logits.
        width: channels of the first stage; stages have ``width * (1, 2, 4, 8)``. The paper uses
            64; :data:`CPU_RESNET_WIDTH` (16) keeps CPU experiments affordable.
        in_channels: image channels (3 for RGB, 1 for MNIST-like data).

    Raises:
        ValueError: as :class:`ResNet18Cifar` (a size that is not a positive ``int``).
    """
    return ResNet18Cifar(n_classes, width=width, in_channels=in_channels)
