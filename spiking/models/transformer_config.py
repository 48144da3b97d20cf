"""Configurations of the spiking transformers for the neuromorphic benchmarks (STAtten / SDT recipes)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from spiking.attention.functional import ATTENTION_MODES, check_chunk, check_heads

from .frame_resize import FrameResize
from .sdt import SpikeDrivenTransformer
from .spikformer import Spikformer
from .tet import tet_loss

__all__ = ["TRANSFORMER_CONFIGS", "SpikingTransformerConfig", "get_transformer_config"]

MODELS = ("sdt", "spikformer")


@dataclass(frozen=True)
class SpikingTransformerConfig:
    """A spiking-transformer setup: data shape, architecture and training recipe (validated).

    ``img_size=None`` feeds frames at sensor size; otherwise frames are resized by
    :class:`FrameResize` (``resize_mode``). ``model`` is ``"sdt"`` (:class:`SpikeDrivenTransformer`)
    or ``"spikformer"`` (:class:`Spikformer`); ``attention``/``chunk_size``/``scale``/``dvs_pool`` as
    :class:`~spiking.attention.SpikingAttention`. ``tet`` trains with :func:`tet_loss`. The recipe
    fields (optimizer, learning rates with a cosine schedule after ``warmup_epochs``, weight
    decay, batch, epochs, label smoothing) are the source's; ``source`` says where they come from.
    """

    dataset: str
    num_classes: int
    T: int
    chunk_size: int
    img_size: tuple[int, int] | None = (64, 64)
    resize_mode: str = "bilinear"
    in_channels: int = 2
    model: str = "sdt"
    attention: str = "statten"
    embed_dim: int = 256
    num_heads: int = 8
    depth: int = 2
    mlp_ratio: float = 4.0
    pooling: str = "0011"
    dvs_pool: bool = True
    scale: float | str = "event"
    tet: bool = False
    tet_means: float = 1.0
    tet_lamb: float = 0.001
    optimizer: str = "adamw"
    lr: float = 1e-2
    min_lr: float = 3e-4
    warmup_epochs: int = 10
    weight_decay: float = 1e-4
    batch_size: int = 16
    epochs: int = 200
    label_smoothing: float = 0.1
    source: str = ""

    def __post_init__(self) -> None:
        fn = "SpikingTransformerConfig"
        if self.model not in MODELS:
            raise ValueError(f"{fn}: model must be one of {MODELS} (got {self.model!r})")
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"{fn}: attention must be one of {ATTENTION_MODES} (got {self.attention!r})")
        if isinstance(self.T, bool) or not isinstance(self.T, int) or self.T <= 0:
            raise ValueError(f"{fn}: T must be a positive int (got {self.T!r})")
        if self.attention == "statten":
            check_chunk(fn, self.T, self.chunk_size)
        check_heads(fn, self.embed_dim, self.num_heads)
        if self.img_size is not None:
            FrameResize(self.img_size, self.resize_mode)  # validates
        if self.optimizer not in ("adamw", "adam", "sgd"):
            raise ValueError(f"{fn}: optimizer must be 'adamw', 'adam' or 'sgd' (got {self.optimizer!r})")

    def replace(self, **changes) -> SpikingTransformerConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def transform(self) -> FrameResize | None:
        """The frame transform of this setup (``None`` when frames are used at sensor size)."""
        return None if self.img_size is None else FrameResize(self.img_size, self.resize_mode)

    def loss(self, logits_seq: Tensor, target: Tensor) -> Tensor:
        """The training loss on per-step logits ``[T, B, K]``: :func:`tet_loss` when ``tet``, else
        cross-entropy of the time-averaged logits; both with ``label_smoothing``."""
        if self.tet:
            return tet_loss(logits_seq, target, self.tet_means, self.tet_lamb, self.label_smoothing)
        return nn.functional.cross_entropy(logits_seq.mean(0), target, label_smoothing=self.label_smoothing)

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        """The recipe's optimizer at ``lr`` / ``weight_decay`` (its schedule: :meth:`make_scheduler`)."""
        if self.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=self.weight_decay)

    def lr_factor(self, epoch: int) -> float:
        """Multiplier of ``lr`` in epoch ``epoch`` (0-based): linear warm-up over ``warmup_epochs``
        (capped at ``epochs - 1``), then cosine from ``lr`` to ``min_lr`` over the remaining epochs,
        stepped per epoch as timm's ``CosineLRScheduler``."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"SpikingTransformerConfig.lr_factor: epoch must be an int >= 0 (got {epoch!r})")
        warm = min(self.warmup_epochs, self.epochs - 1)
        if epoch < warm:
            return (epoch + 1) / (warm + 1)
        progress = (epoch - warm) / max(1, self.epochs - warm)
        floor = self.min_lr / self.lr
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    def make_scheduler(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
        """The recipe's per-epoch schedule on ``optimizer`` (:meth:`lr_factor`; call ``step()`` after each epoch)."""
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: self.lr_factor(e))

    def build_model(self) -> nn.Module:
        """The model of this setup (fresh parameters)."""
        cls = SpikeDrivenTransformer if self.model == "sdt" else Spikformer
        return cls(
            self.in_channels,
            self.num_classes,
            self.embed_dim,
            self.num_heads,
            self.depth,
            self.mlp_ratio,
            self.pooling,
            self.attention,
            self.chunk_size,
            self.scale,
            self.dvs_pool,
        )


_STATTEN = "STAtten (Lee et al., CVPR 2025) conf/{}.yml, SDT backbone"
_DVS = {
    "img_size": (64, 64),
    "pooling": "0011",
    "dvs_pool": True,
    "scale": "event",
    "lr": 1e-2,
    "min_lr": 3e-4,
    "warmup_epochs": 10,
    "weight_decay": 1e-4,
    "batch_size": 16,
    "epochs": 200,
    "label_smoothing": 0.1,
}
_GESTURE = (
    "Spike-driven Transformer v1 conf/gesture/2_256_200E_t{}.yml (no DVS max-pool; optimizer LAMB there, "
    "AdamW here as torch has no LAMB); STAtten gives no Gesture chunk size: {} (as its other T={} configs)"
)

#: named setups; ``get_transformer_config(name, **changes)`` returns one with changes
TRANSFORMER_CONFIGS: dict[str, SpikingTransformerConfig] = {
    "cifar10-dvs-t10": SpikingTransformerConfig(
        "cifar10-dvs",
        10,
        T=10,
        chunk_size=5,
        tet=True,
        source=_STATTEN.format("cifar10-dvs/2_256_200E_t10_TET"),
        **_DVS,
    ),
    "cifar10-dvs-t16": SpikingTransformerConfig(
        "cifar10-dvs",
        10,
        T=16,
        chunk_size=4,
        tet=True,
        source=_STATTEN.format("cifar10-dvs/2_256_200E_t16_TET"),
        **_DVS,
    ),
    "ncaltech101-t10": SpikingTransformerConfig(
        "ncaltech101",
        101,
        T=10,
        chunk_size=5,
        resize_mode="nearest",
        source=_STATTEN.format("ncaltech101/2_256_200E_t10") + " (official training adds roll/rotate/shear)",
        **_DVS,
    ),
    "ncaltech101-t16": SpikingTransformerConfig(
        "ncaltech101",
        101,
        T=16,
        chunk_size=4,
        resize_mode="nearest",
        source=_STATTEN.format("ncaltech101/2_256_200E_t16") + " (official training adds roll/rotate/shear)",
        **_DVS,
    ),
    "dvs128-gesture-t10": SpikingTransformerConfig(
        "dvs128-gesture",
        11,
        T=10,
        chunk_size=5,
        img_size=None,
        pooling="0111",
        dvs_pool=False,
        lr=2e-3,
        min_lr=1e-5,
        weight_decay=1e-4,
        source=_GESTURE.format(10, 5, 10),
    ),
    "dvs128-gesture-t16": SpikingTransformerConfig(
        "dvs128-gesture",
        11,
        T=16,
        chunk_size=4,
        img_size=None,
        pooling="0111",
        dvs_pool=False,
        lr=3e-4,
        min_lr=1e-5,
        weight_decay=6e-2,
        source=_GESTURE.format(16, 4, 16),
    ),
    "nmnist": SpikingTransformerConfig(
        "nmnist",
        10,
        T=8,
        chunk_size=4,
        img_size=None,
        embed_dim=64,
        num_heads=4,
        depth=1,
        pooling="0011",
        dvs_pool=True,
        scale="event",
        lr=5e-3,
        min_lr=1e-4,
        warmup_epochs=1,
        weight_decay=1e-4,
        batch_size=32,
        epochs=10,
        label_smoothing=0.1,
        source="graphspike's CPU-sized N-MNIST setup (34 x 34 frames, 9 x 9 tokens; not from a paper)",
    ),
}


def get_transformer_config(name: str, **changes) -> SpikingTransformerConfig:
    """The named setup of :data:`TRANSFORMER_CONFIGS`, with ``changes`` applied."""
    if name not in TRANSFORMER_CONFIGS:
        raise ValueError(f"get_transformer_config: name must be one of {sorted(TRANSFORMER_CONFIGS)} (got {name!r})")
    return TRANSFORMER_CONFIGS[name].replace(**changes) if changes else TRANSFORMER_CONFIGS[name]
