"""Model builders: CIFAR ResNet18, timm Vision Transformers and the supply-chain MLPs.

Every builder returns a freshly initialised ``torch.nn.Module`` in training mode that maps a
batch of inputs to logits of shape ``(N, n_classes)``. :class:`ModelSpec` describes a model as
plain JSON-able data so that experiment configs and checkpoints can rebuild it with
:func:`build_model`.

Layout choices that other modules rely on:

* The classifier head is a top-level child named ``fc`` (ResNet18) or ``head`` (ViT, MLP), and
  the body sits in other top-level children without ``reset_parameters`` (``Sequential``
  containers), so the authors' "retrain" rule (re-initialise the modules with
  ``reset_parameters`` among ``model.children()``, book, Method chapter) touches the head only.
  For timm ViTs it also touches the final ``norm`` LayerNorm, a top-level child in timm.
* Parameter names are stable: importances keyed by ``named_parameters()`` survive deep copies
  and checkpoint round trips.
"""

from assd_repro.models.common import CPU_RESNET_WIDTH, count_parameters
from assd_repro.models.mlp import SupplyChainMLP, mlp_size, supply_chain_mlp
from assd_repro.models.resnet import ResNet18Cifar, resnet18_cifar
from assd_repro.models.spec import ModelKind, ModelSpec, build_model
from assd_repro.models.vit import load_vit_weights, vit, vit_b16, vit_tiny_cifar

__all__ = [
    "CPU_RESNET_WIDTH",
    "ModelKind",
    "ModelSpec",
    "ResNet18Cifar",
    "SupplyChainMLP",
    "build_model",
    "count_parameters",
    "load_vit_weights",
    "mlp_size",
    "resnet18_cifar",
    "supply_chain_mlp",
    "vit",
    "vit_b16",
    "vit_tiny_cifar",
]
