r"""BPR triples ``(user, positive item, negative item)`` for pairwise recommender training.

Two ways to pick the ``(user, positive)`` half, both vectorised and seeded:

* ``mode="user"`` -- the official LightGCN-PyTorch sampler (``UniformSample_original``):
  users uniform over users, then one positive uniform among that user's items. Heavy users
  are *not* favoured. The official code draws users over all users and drops draws of users
  without train items; we draw only among users that have train items (same distribution of
  the kept triples, and exactly ``num_samples`` of them).
* ``mode="edge"`` -- each observed pair once, in random order (RecBole, PyG's example):
  a random permutation of the edges, repeated when ``num_samples`` exceeds their number.

The negative is uniform over the user's non-positive items (rejection of positives, drawn
exactly in one pass by :func:`sampling.negatives.sample_negatives`).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from sampling.negatives import PositiveSets, _check_generator, sample_negatives

__all__ = ["sample_bpr_triples", "sample_positive_pairs"]


def sample_positive_pairs(
    positives: PositiveSets,
    num_samples: int,
    *,
    mode: str = "user",
    generator: Optional[torch.Generator] = None,
) -> tuple[Tensor, Tensor]:
    """``(users [S], items [S])``: observed pairs drawn user-uniformly or edge-uniformly.

    Raises:
        ValueError: unknown ``mode``, ``num_samples < 0``, or no positives at all.
    """
    fn = "sample_positive_pairs"
    _check_generator(fn, generator)
    if mode not in ("user", "edge"):
        raise ValueError(f"{fn}: mode must be 'user' or 'edge' (got {mode!r})")
    if not isinstance(num_samples, int) or num_samples < 0:
        raise ValueError(f"{fn}: num_samples must be a non-negative int (got {num_samples!r})")
    num_edges = positives.indices.numel()
    if num_edges == 0:
        raise ValueError(f"{fn}: positives holds no (user, item) pair to sample from (got 0)")
    device = positives.indptr.device
    if mode == "user":
        active = (positives.degree > 0).nonzero().squeeze(1)  # users with >= 1 positive
        pick = torch.randint(0, active.numel(), (num_samples,), generator=generator, device=device)
        users = active.index_select(0, pick)
        deg = positives.degree.index_select(0, users)
        offset = (torch.rand(num_samples, generator=generator, dtype=torch.float64, device=device) * deg).long()
        offset = torch.minimum(offset, deg - 1)
        edge = positives.indptr.index_select(0, users) + offset
    else:
        reps = -(-num_samples // num_edges)
        edge = torch.cat([torch.randperm(num_edges, generator=generator, device=device) for _ in range(reps)])[
            :num_samples
        ]
        users = torch.searchsorted(positives.indptr, edge, right=True) - 1
    return users, positives.indices.index_select(0, edge)


def sample_bpr_triples(
    positives: PositiveSets,
    num_samples: int,
    *,
    mode: str = "user",
    generator: Optional[torch.Generator] = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(users, pos_items, neg_items)``, each ``[S]`` int64; see the module docstring.

    Args:
        positives: every user's train items (:class:`sampling.negatives.PositiveSets`).
        num_samples: number of triples ``S`` (LightGCN draws one epoch = number of train pairs).
        mode: ``"user"`` (official LightGCN) or ``"edge"``.
        generator: the random source; the same generator state gives the same triples.
    """
    users, pos = sample_positive_pairs(positives, num_samples, mode=mode, generator=generator)
    neg = sample_negatives(positives, users, 1, exclude_positives=True, generator=generator)[:, 0]
    return users, pos, neg
