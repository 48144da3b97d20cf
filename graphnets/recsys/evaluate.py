r"""Full-ranking evaluation: every test user against every item, on the embeddings' device.

The embeddings are a recommender's ``forward()`` (:class:`graphnets.recsys.Recommender`); the
top-``k`` step is the one :meth:`~graphnets.recsys.Recommender.recommend` serves with.

Non-finite values are refused (:class:`~sampling.finite.NonFiniteError`, naming the user or item):
``topk`` ranks NaN first, so a diverged model's NaN scores would otherwise be scored as its
"unseen items in index order" and report plausible metrics. Embeddings are checked before any
scoring, and the top-``k`` scores of every user (NaN or ``+inf`` from an overflowing dot product)
before they count.

For a chunk of users :math:`B` the scores :math:`S = E_U[B] E_I^\top` (``[|B|, I]``) are
computed, the chunk's *train* items are set to :math:`-\infty` by scattering into just those
``nnz`` positions (read from the train CSR -- no dense users x items mask ever exists), the
top-:math:`k_{\max}` items are taken, and hits are looked up in the sorted test keys
``u * I + i`` with one ``searchsorted``. Only ``[|B|, I]`` scores are alive at a time.

How we differ from the official code: LightGCN-PyTorch re-runs the full graph propagation for
every batch of 100 test users and masks after a sigmoid with ``-1024``; UltraGCN adds a dense
float32 ``U x I`` mask on the host (4.9 GB on Gowalla). The caller here passes embeddings
computed once per evaluation; the ranking is the same (sigmoid is monotone).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from graphnets.recsys.data import InteractionData
from graphnets.recsys.metrics import METRIC_NAMES, ranking_metrics_per_user, summarize_metrics
from sampling.finite import NonFiniteError, check_finite

__all__ = ["full_ranking_metrics", "popularity_embeddings", "mask_train_items", "top_k_items"]

# float32 scores alive per chunk (16 MB). Measured on Gowalla (1 thread): 2^22 ran no slower
# than 2^24 (4.7-6.0 s vs 6.3-6.4 s per full evaluation) and lowered the peak RSS by ~80 MB.
_SCORE_BUDGET = 1 << 22


def mask_train_items(scores: Tensor, users: Tensor, indptr: Tensor, indices: Tensor) -> Tensor:
    """Set ``scores[b, i] = -inf`` for every train item ``i`` of ``users[b]`` (in place).

    Shapes: scores ``[B, I]``, users ``[B]``, (indptr, indices) the train CSR over all users.
    """
    starts = indptr.index_select(0, users)
    counts = indptr.index_select(0, users + 1) - starts  # [B]
    total = int(counts.sum())
    if total == 0:
        return scores
    rows = torch.repeat_interleave(torch.arange(users.numel(), device=users.device), counts, output_size=total)
    first = torch.cumsum(counts, 0) - counts  # [B] position of each row's first entry in the flat list
    pos = starts.index_select(0, rows) + torch.arange(total, device=users.device) - first.index_select(0, rows)
    scores.index_put_((rows, indices.index_select(0, pos)), scores.new_tensor(float("-inf")))
    return scores


def top_k_items(
    user_emb: Tensor, item_emb: Tensor, users: Tensor, k: int, exclude: Optional[tuple[Tensor, Tensor]] = None
) -> Tensor:
    """``[B, k]`` ids of the ``k`` best-scored items of ``users`` (scores ``user_emb[users] @ item_emb.T``).

    ``exclude`` = ``(indptr, indices)``: a CSR over all users of items set to ``-inf`` first
    (:func:`mask_train_items`). Shapes: user_emb ``[U, D]``, item_emb ``[I, D]``, users ``[B]``.

    Raises:
        NonFiniteError: a NaN or ``+inf`` score among a user's top ``k`` (names the user and item).
    """
    return _top_k("top_k_items", user_emb, item_emb, users, k, exclude)[1]


def _top_k(
    fn: str, user_emb: Tensor, item_emb: Tensor, users: Tensor, k: int, exclude: Optional[tuple[Tensor, Tensor]]
) -> tuple[Tensor, Tensor]:
    scores = user_emb.index_select(0, users) @ item_emb.T  # [B, I]
    if exclude is not None:
        mask_train_items(scores, users, *exclude)
    values, indices = torch.topk(scores, k, dim=1)  # [B, k]; topk ranks NaN above everything
    bad = torch.isnan(values) | torch.isposinf(values)  # -inf: masked items of users with < k others
    if bool(bad.any()):
        b, j = (int(v) for v in bad.nonzero()[0])
        raise NonFiniteError(
            f"{fn}: non-finite score {values[b, j].item()} for user {int(users[b])}, item "
            f"{int(indices[b, j])} (the embeddings overflow or diverged)"
        )
    return values, indices


@torch.no_grad()
def full_ranking_metrics(
    user_emb: Tensor,
    item_emb: Tensor,
    data: InteractionData,
    ks: Sequence[int] = (20,),
    *,
    users: Optional[Tensor] = None,
    chunk_size: Optional[int] = None,
) -> dict[str, float]:
    """Recall / NDCG / Precision / HR (and F1) @k by full ranking with train items masked.

    Args:
        user_emb: ``[U, D]`` final user representations; the score is ``user_emb @ item_emb.T``.
        item_emb: ``[I, D]`` final item representations (same device).
        data: the split; its train items are masked, its test items are the targets.
        ks: cut-offs (default ``(20,)``).
        users: which users to evaluate; default every user with at least one test item.
        chunk_size: users per chunk; default keeps ``chunk_size * I`` scores under 4 M.

    Returns:
        ``{"recall@20": .., "ndcg@20": .., "precision@20": .., "hr@20": .., "f1@20": ..}``
        averaged over the evaluated users, plus ``"num_users"``.

    Raises:
        ValueError: shapes, ``ks`` or users without test items.
        NonFiniteError: NaN/inf embeddings, or a NaN/``+inf`` top-k score (names the user and item).
    """
    fn = "full_ranking_metrics"
    if user_emb.dim() != 2 or item_emb.dim() != 2 or user_emb.shape[1] != item_emb.shape[1]:
        raise ValueError(
            f"{fn}: embeddings must be [U, D] and [I, D] with equal D "
            f"(got {tuple(user_emb.shape)} and {tuple(item_emb.shape)})"
        )
    if user_emb.shape[0] != data.num_users or item_emb.shape[0] != data.num_items:
        raise ValueError(
            f"{fn}: embeddings must have {data.num_users} user rows and {data.num_items} item "
            f"rows (got {user_emb.shape[0]} and {item_emb.shape[0]})"
        )
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1 or max(ks) > data.num_items:
        raise ValueError(f"{fn}: ks must lie in [1, {data.num_items}] (got {list(ks)})")
    check_finite(user_emb, fn, "user embeddings", ("user", "dim"))
    check_finite(item_emb, fn, "item embeddings", ("item", "dim"))
    device = user_emb.device
    num_items, k_max = data.num_items, max(ks)
    tr_indptr, tr_indices = (t.to(device) for t in data.train_csr())
    te_indptr, te_indices = (t.to(device) for t in data.test_csr())
    te_rows = torch.repeat_interleave(torch.arange(data.num_users, device=device), te_indptr[1:] - te_indptr[:-1])
    test_key = te_rows * num_items + te_indices  # [E_test], sorted ascending
    if users is None:
        users = data.test_user_ids()
    users = users.to(device)
    num_test = (te_indptr[1:] - te_indptr[:-1]).index_select(0, users)
    if users.numel() == 0 or bool((num_test == 0).any()):
        raise ValueError(
            f"{fn}: every evaluated user needs at least one test item (got {int((num_test == 0).sum())} "
            f"users without, of {users.numel()})"
        )
    if chunk_size is None:
        chunk_size = max(1, _SCORE_BUDGET // max(num_items, 1))
    sums = {f"{m}@{k}": 0.0 for m in METRIC_NAMES for k in ks}
    for start in range(0, users.numel(), chunk_size):
        batch = users[start : start + chunk_size]  # [B]
        top = _top_k(fn, user_emb, item_emb, batch, k_max, (tr_indptr, tr_indices))[1]  # [B, k_max]
        query = batch.unsqueeze(1) * num_items + top  # [B, k_max]
        pos = torch.searchsorted(test_key, query.reshape(-1)).clamp_(max=test_key.numel() - 1)
        hits = (test_key.index_select(0, pos) == query.reshape(-1)).reshape(query.shape)
        per_user = ranking_metrics_per_user(hits, num_test[start : start + chunk_size], ks)
        for name, value in per_user.items():
            sums[name] += float(value.sum())
    out = summarize_metrics(sums, users.numel(), ks)
    out["num_users"] = int(users.numel())
    return out


def popularity_embeddings(data: InteractionData) -> tuple[Tensor, Tensor]:
    """Embeddings whose scores rank items by train popularity for every user (a baseline).

    ``user = 1``, ``item = item degree``: :func:`full_ranking_metrics` on them gives the
    most-popular-unseen-items baseline.
    """
    users = torch.ones(data.num_users, 1)
    items = data.item_degree().to(torch.float32).unsqueeze(1)
    return users, items
