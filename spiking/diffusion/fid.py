r"""Fréchet distance between two Gaussians fitted to features (Heusel et al., NeurIPS 2017):

.. math:: d^2 = \lVert\mu_1 - \mu_2\rVert^2 + \mathrm{Tr}\big(\Sigma_1 + \Sigma_2 - 2(\Sigma_1\Sigma_2)^{1/2}\big)

computed as ``pytorch-fid`` does (float64, ``scipy.linalg.sqrtm``, a small diagonal offset when the
product is singular, the imaginary part dropped when negligible). FID proper uses Inception-v3
pool features (:mod:`spiking.diffusion.inception`); :class:`~spiking.diffusion.feature_net.ClassifierFID`
uses a small classifier trained here, so its numbers compare models on one data set only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg

from sampling.finite import check_finite

__all__ = ["FeatureStatistics", "feature_statistics", "frechet_distance"]


@dataclass(frozen=True)
class FeatureStatistics:
    """Mean ``mu`` [D] and covariance ``sigma`` [D, D] (float64 numpy) of ``n`` feature vectors."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int


def feature_statistics(features: torch.Tensor | np.ndarray) -> FeatureStatistics:
    """Mean and unbiased covariance of ``features`` [N, D] (N >= 2)."""
    f = (
        features.detach().cpu().double().numpy()
        if isinstance(features, torch.Tensor)
        else np.asarray(features, np.float64)
    )
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"feature_statistics: expected features [N >= 2, D] (got shape {f.shape})")
    check_finite(torch.from_numpy(f), "feature_statistics", "features", ("sample", "feature"))
    return FeatureStatistics(f.mean(0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1]), f.shape[0])


def frechet_distance(a: FeatureStatistics, b: FeatureStatistics, eps: float = 1e-6) -> float:
    """Fréchet distance between the Gaussians of ``a`` and ``b`` (same feature width)."""
    if a.mu.shape != b.mu.shape:
        raise ValueError(f"frechet_distance: feature widths differ (got {a.mu.shape} and {b.mu.shape})")
    for name, s in (("a", a), ("b", b)):
        check_finite(torch.from_numpy(np.asarray(s.mu, np.float64)), "frechet_distance", f"{name}.mu", ("feature",))
        check_finite(
            torch.from_numpy(np.asarray(s.sigma, np.float64)), "frechet_distance", f"{name}.sigma", ("row", "col")
        )
    diff = a.mu - b.mu
    with warnings.catch_warnings():  # a singular product is handled below, as pytorch-fid does
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(a.sigma @ b.sigma)
    if not np.isfinite(covmean).all():
        offset = np.eye(a.sigma.shape[0]) * eps
        covmean = linalg.sqrtm((a.sigma + offset) @ (b.sigma + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"frechet_distance: imaginary component {np.max(np.abs(covmean.imag))} in sqrt(S1 S2)")
        covmean = covmean.real
    return float(diff @ diff + np.trace(a.sigma) + np.trace(b.sigma) - 2.0 * np.trace(covmean))
