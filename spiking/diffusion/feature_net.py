r"""An FID that runs offline: Fréchet distance on the features of a small classifier trained here.

Standard FID needs Inception-v3 weights (a download); this one needs nothing but the data. A
three-conv classifier is trained on the real training images (fixed seed, Adam, cross-entropy);
its 64-d penultimate activations stand in for Inception's pool features, and
:func:`~spiking.diffusion.fid.frechet_distance` compares generated images with the real ones.

The number depends on this classifier and data set: it ranks models trained on the same data (the
use here) and is **not comparable with published Inception FIDs**. Report the classifier's
held-out accuracy with it, and the real-vs-real distance (``ClassifierFID.score(held_out_real)``)
as the floor that finite samples reach. Deterministic: the same ``generator`` seed, data and thread
count give the same classifier and scores (``train_fid_classifier``).
"""

from __future__ import annotations

import os

import torch
from torch import nn

from sampling.finite import check_finite, check_loss

from .fid import FeatureStatistics, feature_statistics, frechet_distance

__all__ = ["ClassifierFID", "FIDClassifier", "train_fid_classifier"]


class FIDClassifier(nn.Module):
    r"""``[B, C, H, W]`` in [-1, 1] -> logits ``[B, num_classes]``; :meth:`features` gives ``[B, feature_dim]``.

    conv3x3(C, 32)-ReLU-maxpool2, conv3x3(32, 64)-ReLU-maxpool2, conv3x3(64, 64)-ReLU, global
    average pool, linear(64, feature_dim)-ReLU (the features), linear(feature_dim, num_classes).
    Needs H, W >= 4.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, feature_dim: int = 64) -> None:
        super().__init__()
        self.in_channels, self.num_classes, self.feature_dim = in_channels, num_classes, feature_dim
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(64, feature_dim),
            nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.reset_parameters()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels or min(x.shape[-2:]) < 4:
            raise ValueError(
                f"FIDClassifier: expected images [B, {self.in_channels}, H>=4, W>=4] (got {tuple(x.shape)})"
            )
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, num_classes={self.num_classes}, feature_dim={self.feature_dim}"


@torch.no_grad()
def _apply(fn, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([fn(part) for part in images.split(batch_size)])


def train_fid_classifier(
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-3,
    feature_dim: int = 64,
    generator: torch.Generator | None = None,
) -> tuple[FIDClassifier, float]:
    """Train a :class:`FIDClassifier` on float images [N, C, H, W] in [-1, 1] and int labels [N].

    Returns ``(classifier in eval mode, accuracy on the test images)``. Initialisation and shuffling
    draw from ``generator`` (a fresh ``torch.Generator().manual_seed(0)`` when None); the global RNG
    is left untouched.

    Raises:
        ValueError: bad shapes; :class:`~sampling.finite.NonFiniteError` (a ``ValueError``) for a NaN/inf
            image (naming it) or a non-finite loss (naming the epoch and batch, before its update), so a
            diverged classifier never yields an accuracy and FID features.
    """
    for name, imgs, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if imgs.dim() != 4 or labels.shape != (imgs.shape[0],) or imgs.shape[0] == 0:
            raise ValueError(
                f"train_fid_classifier: {name} images must be [N, C, H, W] with N labels "
                f"(got {tuple(imgs.shape)} and {tuple(labels.shape)})"
            )
        check_finite(imgs, "train_fid_classifier", f"{name} images", ("image", "channel", "row", "col"))
    g = torch.Generator().manual_seed(0) if generator is None else generator
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=g)))
        model = FIDClassifier(train_images.shape[1], num_classes, feature_dim)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = train_images.shape[0]
    model.train()
    for epoch in range(1, epochs + 1):
        for batch, idx in enumerate(torch.randperm(n, generator=g).split(batch_size)):
            loss = nn.functional.cross_entropy(model(train_images[idx]), train_labels[idx])
            check_loss(loss, "train_fid_classifier", epoch=epoch, batch=batch)  # before the update
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    logits = check_finite(
        _apply(model, test_images), "train_fid_classifier", "test logits (the last update diverged)", ("image", "class")
    )
    acc = float((logits.argmax(1) == test_labels).float().mean())
    return model, acc


class ClassifierFID:
    """FID on :class:`FIDClassifier` features against fixed real images.

    Args:
        classifier: a trained :class:`FIDClassifier` (see :func:`train_fid_classifier`).
        real_images: float [N, C, H, W] in [-1, 1], the reference set (statistics computed once).
        accuracy: the classifier's held-out accuracy, kept for reports.

    ``score(images)`` -> FID of ``images`` [M, C, H, W] against the reference (M >= 2; use equal M
    across the models you compare: the estimate is biased upwards for small M).
    """

    def __init__(self, classifier: FIDClassifier, real_images: torch.Tensor, accuracy: float | None = None) -> None:
        if not isinstance(classifier, FIDClassifier):
            raise TypeError(f"ClassifierFID: classifier must be a FIDClassifier (got {type(classifier).__name__})")
        self.classifier, self.accuracy = classifier.eval(), accuracy
        self.reference: FeatureStatistics = self.statistics(real_images)

    def statistics(self, images: torch.Tensor) -> FeatureStatistics:
        if not isinstance(images, torch.Tensor) or not images.is_floating_point():
            raise TypeError(f"ClassifierFID: images must be a float tensor in [-1, 1] (got {type(images).__name__})")
        return feature_statistics(_apply(self.classifier.features, images.float()))

    def score(self, images: torch.Tensor) -> float:
        return frechet_distance(self.statistics(images), self.reference)

    def save(self, path: str | os.PathLike) -> None:
        torch.save(
            {
                "state_dict": self.classifier.state_dict(),
                "accuracy": self.accuracy,
                "config": (self.classifier.in_channels, self.classifier.num_classes, self.classifier.feature_dim),
                "mu": torch.from_numpy(self.reference.mu),
                "sigma": torch.from_numpy(self.reference.sigma),
                "n": self.reference.n,
            },
            path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> ClassifierFID:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        net = FIDClassifier(*blob["config"])
        net.load_state_dict(blob["state_dict"])
        self = cls.__new__(cls)
        self.classifier, self.accuracy = net.eval(), blob["accuracy"]
        self.reference = FeatureStatistics(blob["mu"].numpy(), blob["sigma"].numpy(), int(blob["n"]))
        return self
