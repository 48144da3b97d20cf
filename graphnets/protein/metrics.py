r"""Model-quality-assessment metrics: lDDT-CA and the per-target evaluation of S-GCN.

* :func:`lddt_ca` — local Distance Difference Test on CA atoms (Mariani et al., Bioinformatics
  2013): for residue ``i``, the pairs ``(i, j)``, ``j != i``, with native CA distance
  :math:`d^0_{ij} < R_0` (15 Å); the score is the fraction of them with
  :math:`|d_{ij} - d^0_{ij}| < t`, averaged over :math:`t \in \{0.5, 1, 2, 4\}` Å. (No
  stereochemistry checks, no sequence-separation filter: the lDDT_CA of the ProteinGCN labels.)
* :func:`ca_rmsd` — CA RMSD after optimal superposition (Kabsch 1976):
  :math:`\sqrt{(\lVert A\rVert^2 + \lVert B\rVert^2 - 2\sum_i \sigma_i') / R}` of the centred
  coordinates, :math:`\sigma'` the singular values of :math:`A^\top B` with the last one's sign
  flipped when the optimal map would be a reflection.
* :func:`per_target_correlation` — Pearson and Spearman correlation computed within every target
  (over its models' global scores, or over its residues) and averaged over targets through the
  Fisher z-transform, as the official S-GCN ``evaluation.py``.
* :func:`top1_zscore` — per target, the z-score of the ground-truth score of the model ranked
  first by the prediction, :math:`z = (y_{\mathrm{top}} - \bar y) / \sigma_y` (population std),
  averaged over targets; also the loss :math:`\max y - y_{\mathrm{top}}`.

Non-finite inputs (predictions or labels) raise :class:`~sampling.finite.NonFiniteError` naming
the entry: ``argsort``/``argmax`` would rank NaN last/first and give finite, plausible Spearman and
z-scores, and a NaN Pearson would be skipped by the Fisher mean, silently dropping its target. The
NaN a *constant* input gives (correlation undefined) is documented per function and is skipped by
the means.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Sequence

import torch
from torch import Tensor

from sampling.finite import check_finite

__all__ = ["ca_rmsd", "fisher_mean", "lddt_ca", "pearson", "spearman", "per_target_correlation", "top1_zscore"]


def lddt_ca(
    model_ca: Tensor,
    native_ca: Tensor,
    inclusion_radius: float = 15.0,
    thresholds: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
) -> Tensor:
    """Per-residue lDDT-CA of ``model_ca`` ``[R, 3]`` against ``native_ca`` ``[R, 3]`` -> ``[R]`` in [0, 1].

    Residues without any native neighbour within the radius get 1.0 (nothing to violate).
    """
    if model_ca.shape != native_ca.shape or model_ca.dim() != 2 or model_ca.shape[1] != 3:
        raise ValueError(
            f"lddt_ca: model and native CA must both be [R, 3] "
            f"(got {tuple(model_ca.shape)} and {tuple(native_ca.shape)})"
        )
    check_finite(model_ca, "lddt_ca", "model_ca", ("residue", "axis"))
    check_finite(native_ca, "lddt_ca", "native_ca", ("residue", "axis"))
    d_model = torch.cdist(model_ca, model_ca)
    d_native = torch.cdist(native_ca, native_ca)
    r = native_ca.shape[0]
    mask = (d_native < inclusion_radius) & ~torch.eye(r, dtype=torch.bool, device=native_ca.device)
    err = (d_model - d_native).abs()
    kept = torch.stack([(err < t) & mask for t in thresholds]).to(model_ca.dtype).mean(0)  # [R, R]
    count = mask.sum(1).to(model_ca.dtype)
    score = kept.sum(1) / count.clamp_min(1.0)
    return torch.where(count > 0, score, torch.ones_like(score))


def ca_rmsd(model_ca: Tensor, native_ca: Tensor) -> float:
    """CA RMSD (Å) of ``model_ca`` ``[R, 3]`` to ``native_ca`` ``[R, 3]`` after optimal rigid superposition."""
    if model_ca.shape != native_ca.shape or model_ca.dim() != 2 or model_ca.shape[1] != 3 or model_ca.shape[0] < 1:
        raise ValueError(
            f"ca_rmsd: model and native CA must both be [R >= 1, 3] "
            f"(got {tuple(model_ca.shape)} and {tuple(native_ca.shape)})"
        )
    check_finite(model_ca, "ca_rmsd", "model_ca", ("residue", "axis"))
    check_finite(native_ca, "ca_rmsd", "native_ca", ("residue", "axis"))
    a = model_ca.double() - model_ca.double().mean(0)
    b = native_ca.double() - native_ca.double().mean(0)
    u, s, vt = torch.linalg.svd(a.T @ b)
    if float(torch.det(u @ vt)) < 0:  # a reflection would fit better: use the best proper rotation
        s = torch.cat([s[:-1], -s[-1:]])
    msd = (float((a * a).sum() + (b * b).sum()) - 2 * float(s.sum())) / a.shape[0]
    return max(msd, 0.0) ** 0.5


def pearson(a: Tensor, b: Tensor) -> float:
    """Pearson r of two 1-D tensors; NaN when either is constant or shorter than 2 (undefined).

    Raises ``ValueError`` for different lengths and :class:`~sampling.finite.NonFiniteError` for NaN/inf input.
    """
    a = check_finite(a.double().flatten(), "pearson", "a", ("index",))
    b = check_finite(b.double().flatten(), "pearson", "b", ("index",))
    if a.numel() != b.numel():
        raise ValueError(f"pearson: inputs must have the same length (got {a.numel()} and {b.numel()})")
    if a.numel() < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    den = float(a.norm() * b.norm())
    return float((a * b).sum()) / den if den > 0 else float("nan")


def _rank(x: Tensor) -> Tensor:
    """Average ranks (ties share the mean rank), 0-based."""
    x = x.double().flatten()
    order = torch.argsort(x, stable=True)
    ranks = torch.empty_like(x)
    ranks[order] = torch.arange(x.numel(), dtype=torch.float64)
    uniq, inv = torch.unique(x, return_inverse=True)
    sums = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inv, ranks)
    counts = torch.zeros(uniq.numel(), dtype=torch.float64).index_add_(0, inv, torch.ones_like(ranks))
    return (sums / counts)[inv]


def spearman(a: Tensor, b: Tensor) -> float:
    """Spearman rho (Pearson of average ranks); NaN/inf input raises (it would get a finite rank)."""
    a = check_finite(a, "spearman", "a", ("index",))
    return pearson(_rank(a), _rank(check_finite(b, "spearman", "b", ("index",))))


def fisher_mean(values: Sequence[float]) -> float:
    """Mean of correlations through the Fisher z-transform, tanh(mean(atanh r)); NaNs are skipped."""
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return float("nan")
    z = [math.atanh(max(min(v, 1 - 1e-12), -1 + 1e-12)) for v in vals]
    return math.tanh(sum(z) / len(z))


def _group(targets: Sequence[str], n: int, fn: str) -> dict[str, list[int]]:
    if len(targets) != n:
        raise ValueError(f"{fn}: need one target id per value (got {len(targets)} ids for {n} values)")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(targets):
        groups[t].append(i)
    return dict(groups)


def per_target_correlation(pred: Tensor, true: Tensor, targets: Sequence[str]) -> dict:
    """Pearson / Spearman within each target, plus their Fisher-z means over targets.

    Returns:
        ``{"pearson": float, "spearman": float, "per_target": {target: {"pearson", "spearman", "n"}}}``.
    """
    pred = check_finite(pred.detach().flatten(), "per_target_correlation", "pred", ("index",))
    true = check_finite(true.detach().flatten(), "per_target_correlation", "true", ("index",))
    if pred.numel() != true.numel():
        raise ValueError(
            f"per_target_correlation: pred and true differ in length (got {pred.numel()} and {true.numel()})"
        )
    per: dict[str, dict] = {}
    for t, idx in _group(targets, pred.numel(), "per_target_correlation").items():
        ix = torch.tensor(idx)
        per[t] = {"pearson": pearson(pred[ix], true[ix]), "spearman": spearman(pred[ix], true[ix]), "n": len(idx)}
    return {
        "pearson": fisher_mean([v["pearson"] for v in per.values()]),
        "spearman": fisher_mean([v["spearman"] for v in per.values()]),
        "per_target": per,
    }


def top1_zscore(pred: Tensor, true: Tensor, targets: Sequence[str]) -> dict:
    """z-score and loss of the top-predicted model per target, averaged over targets."""
    pred = check_finite(pred.detach().double().flatten(), "top1_zscore", "pred", ("index",))
    true = check_finite(true.detach().double().flatten(), "top1_zscore", "true", ("index",))
    per: dict[str, dict] = {}
    for t, idx in _group(targets, pred.numel(), "top1_zscore").items():
        ix = torch.tensor(idx)
        p, y = pred[ix], true[ix]
        top = int(torch.argmax(p))
        std = float(y.std(unbiased=False))
        z = (float(y[top]) - float(y.mean())) / std if std > 0 else float("nan")
        per[t] = {"z": z, "loss": float(y.max() - y[top]), "top_index": idx[top]}
    zs = [v["z"] for v in per.values() if not math.isnan(v["z"])]
    return {
        "z": sum(zs) / len(zs) if zs else float("nan"),
        "loss": sum(v["loss"] for v in per.values()) / max(len(per), 1),
        "per_target": per,
    }
