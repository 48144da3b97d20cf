r"""A synthetic implicit-feedback split with planted latent structure (the quick-start default).

Generative model (all draws from one ``torch.Generator``):

1. ``num_clusters`` taste centres :math:`c_k \sim \mathcal N(0, I_d)`; each user and each item
   belongs to a uniformly drawn cluster and gets :math:`z = c_{k} + \sigma\,\epsilon`.
2. Item popularity :math:`\pi_i \propto r_i^{-a}` over a random ranking :math:`r` (Zipf-like).
3. User :math:`u` interacts with :math:`n_u` items (:math:`n_u` = ``min_items`` + a geometric
   number with mean ``mean_items - min_items``), chosen without replacement by Gumbel top-:math:`n_u`
   of the affinity :math:`\tau\, z_u^\top z_i / \sqrt d + \log \pi_i`.
4. Each user's items are split at random: ``test_ratio`` of them (at least one) go to test
   (:func:`sampling.random_user_split`).

A model that learns the latent structure beats the popularity ranking by a wide margin; one
that only learns popularity does not.
"""

from __future__ import annotations

from typing import Optional

import torch

from graphnets.recsys.data import InteractionData
from sampling import random_user_split

__all__ = ["make_synthetic"]


def make_synthetic(
    num_users: int = 2000,
    num_items: int = 1500,
    *,
    mean_items: float = 40.0,
    min_items: int = 5,
    num_clusters: int = 10,
    latent_dim: int = 16,
    noise: float = 0.5,
    sharpness: float = 4.0,
    popularity_exponent: float = 0.8,
    test_ratio: float = 0.2,
    generator: Optional[torch.Generator] = None,
) -> InteractionData:
    """Generate an :class:`InteractionData` named ``"synthetic"`` (see the module docstring).

    Raises:
        ValueError: non-positive sizes, ``min_items`` of 2 or more not satisfiable, or a
            ``test_ratio`` outside ``(0, 1)``.
    """
    fn = "make_synthetic"
    for name, v in (
        ("num_users", num_users),
        ("num_items", num_items),
        ("num_clusters", num_clusters),
        ("latent_dim", latent_dim),
    ):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{fn}: {name} must be a positive int (got {v!r})")
    if not isinstance(min_items, int) or not 2 <= min_items <= num_items:
        raise ValueError(f"{fn}: min_items must be an int in [2, num_items={num_items}] (got {min_items!r})")
    if not min_items <= mean_items <= num_items:
        raise ValueError(f"{fn}: mean_items must lie in [min_items, num_items] (got {mean_items})")
    if not 0.0 < test_ratio < 1.0:
        raise ValueError(f"{fn}: test_ratio must lie in (0, 1) (got {test_ratio})")
    if num_users * num_items > 50_000_000:
        raise ValueError(
            f"{fn}: num_users * num_items must be <= 5e7 for this dense generator (got {num_users * num_items})"
        )
    g = generator
    centres = torch.randn(num_clusters, latent_dim, generator=g)
    zu = centres[torch.randint(0, num_clusters, (num_users,), generator=g)] + noise * torch.randn(
        num_users, latent_dim, generator=g
    )
    zi = centres[torch.randint(0, num_clusters, (num_items,), generator=g)] + noise * torch.randn(
        num_items, latent_dim, generator=g
    )
    rank = torch.randperm(num_items, generator=g).to(torch.float32) + 1
    log_pop = -popularity_exponent * torch.log(rank)  # [I]
    affinity = sharpness * (zu @ zi.T) / latent_dim**0.5 + log_pop  # [U, I]
    gumbel = -torch.log(-torch.log(torch.rand(num_users, num_items, generator=g).clamp_(1e-12, 1 - 1e-7)))
    order = torch.argsort(affinity + gumbel, dim=1, descending=True)  # [U, I]
    p = 1.0 / max(mean_items - min_items + 1.0, 1.0)  # geometric with mean mean_items - min_items
    extra = (
        torch.floor(torch.log(torch.rand(num_users, generator=g).clamp_(1e-12)) / torch.log1p(torch.tensor(-p)))
        if p < 1
        else torch.zeros(num_users)
    )
    n_items = (min_items + extra.long()).clamp_(max=num_items)  # [U]
    take = torch.arange(num_items).unsqueeze(0) < n_items.unsqueeze(1)  # [U, I] first n_u ranked
    users = torch.arange(num_users).unsqueeze(1).expand(num_users, num_items)[take]
    items = order[take]
    # split each user's items: test_ratio of them (at least one, never all) to test, at random
    is_test = random_user_split(users, items, num_users, test_ratio, generator=g)
    return InteractionData(
        users[~is_test],
        items[~is_test],
        users[is_test],
        items[is_test],
        num_users=num_users,
        num_items=num_items,
        name="synthetic",
    )
