"""LightGCN: linear propagation (:class:`graphnets.conv.LGConv`) on the user-item graph, layers averaged."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphnets.conv import LGConv
from graphnets.recsys.losses import bpr_loss, l2_batch_reg
from graphnets.recsys.recommender import PairBatch, Recommender
from sampling import Graph

__all__ = ["LightGCN"]


class LightGCN(Recommender):
    r"""LightGCN of Xiangnan He et al., "LightGCN: Simplifying and Powering Graph Convolution Network
    for Recommendation", SIGIR 2020, https://arxiv.org/abs/2002.02126. Official code:
    gusye1234/LightGCN-PyTorch (``code/model.py``), kuandeng/LightGCN (TF).

    .. math::
        E^{(0)} = \begin{pmatrix} E_U \\ E_I \end{pmatrix}, \quad
        E^{(k+1)} = \hat A\, E^{(k)}, \quad
        \hat A = D^{-1/2} \begin{pmatrix} 0 & R \\ R^\top & 0 \end{pmatrix} D^{-1/2}, \quad
        E = \frac{1}{K+1} \sum_{k=0}^{K} E^{(k)},

    score :math:`s_{ui} = e_u^\top e_i`. Each :math:`E^{(k+1)} = \hat A E^{(k)}` is one
    :class:`graphnets.conv.LGConv` over the graph given to :meth:`set_graph`. :meth:`loss` is BPR
    plus :math:`\frac{\lambda}{2B}(\lVert e^{(0)}_u\rVert^2 + \lVert e^{(0)}_{i^+}\rVert^2
    + \lVert e^{(0)}_{i^-}\rVert^2)` on the batch's layer-0 rows (:mod:`graphnets.recsys.losses`), with
    :math:`\lambda` = ``decay``.

    Implements the :class:`~graphnets.recsys.Recommender` contract: ``forward()`` gives
    ``(users [U, D], items [I, D])``, ``loss(batch)`` the training loss, ``recommend(users, k)``
    the top-``k`` items.

    Args:
        num_users, num_items: table sizes.
        embedding_dim: ``D`` (64).
        num_layers: ``K`` (3).
        decay: :math:`\lambda`, the L2 weight on the batch's layer-0 rows (1e-4, LightGCN-PyTorch).
        init_std: embeddings start as N(0, init_std^2) (0.1, as LightGCN-PyTorch).
        generator: optional generator for the initialisation.

    Shapes:
        graph (:meth:`set_graph`): :class:`sampling.Graph` ``[U + I, U + I]``, already normalised
        (``InteractionData.bipartite_graph()``); :meth:`propagate` -> ``[U + I, D]``;
        :meth:`loss` on a :class:`~graphnets.recsys.PairBatch` with ``[B]`` negatives.

    How we differ from the official code: same model, init N(0, 0.1) and loss. Propagation is
    :func:`cuda_ext.spmm` on a CSR whose transpose is cached (the official code multiplies a COO
    ``torch.sparse`` tensor); a training step propagates the last layer only at the batch's rows
    (:meth:`propagate_rows`, same value); evaluation propagates once, not once per 100 test users.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> graph = Graph.bipartite(torch.tensor([0, 1, 2]), torch.tensor([1, 0, 3]), 3, 4).normalize("sym")
        >>> model = LightGCN(3, 4, embedding_dim=8, num_layers=2)
        >>> model.set_graph(graph)
        >>> users, items = model()
        >>> users.shape, items.shape, model.recommend(torch.tensor([0]), 2).shape
        (torch.Size([3, 8]), torch.Size([4, 8]), torch.Size([1, 2]))
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        embedding_dim: int = 64,
        num_layers: int = 3,
        *,
        decay: float = 1e-4,
        init_std: float = 0.1,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        for name, v in (("num_users", num_users), ("num_items", num_items), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"LightGCN: {name} must be a positive int (got {v!r})")
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"LightGCN: num_layers must be an int >= 0 (got {num_layers!r})")
        if not decay >= 0:
            raise ValueError(f"LightGCN: decay must be >= 0 (got {decay!r})")
        self.num_users, self.num_items = num_users, num_items
        self.embedding_dim, self.num_layers, self.decay, self.init_std = embedding_dim, num_layers, decay, init_std
        self.user_embedding = nn.Parameter(torch.empty(num_users, embedding_dim))
        self.item_embedding = nn.Parameter(torch.empty(num_items, embedding_dim))
        self.conv = LGConv(normalize=False)  # the graph is normalised once, by the data
        self._graph: Optional[Graph] = None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        with torch.no_grad():
            self.user_embedding.normal_(0.0, self.init_std, generator=generator)
            self.item_embedding.normal_(0.0, self.init_std, generator=generator)

    def set_graph(self, graph: Graph) -> None:
        """Install the normalised user-item graph ``[U + I, U + I]`` (moved to the embeddings' device)."""
        n = self.num_users + self.num_items
        if not isinstance(graph, Graph) or graph.shape != (n, n):
            got = graph.shape if isinstance(graph, Graph) else type(graph).__name__
            raise ValueError(
                f"LightGCN.set_graph: graph must be a sampling.Graph [{n}, {n}] (users + items) (got {got})"
            )
        graph = graph.to(self.user_embedding.device)
        graph.transpose_csr()  # cache the transpose used by spmm's backward once
        self._graph = graph

    @property
    def graph(self) -> Graph:
        """The graph of :meth:`set_graph` (on the embeddings' device)."""
        if self._graph is None:
            raise RuntimeError("LightGCN: call set_graph(data.bipartite_graph()) before propagating")
        if self._graph.device != self.user_embedding.device:  # the module moved since set_graph
            self.set_graph(self._graph)
        return self._graph

    def propagate(self) -> Tensor:
        """Mean of layers ``0..K`` for all nodes, ``[U + I, D]`` (users first)."""
        graph = self.graph
        x = torch.cat([self.user_embedding, self.item_embedding])  # [U + I, D]
        if not torch.is_grad_enabled():  # evaluation: accumulate in place, two [U + I, D] buffers fewer
            out = x.clone()
            for _ in range(self.num_layers):
                x = self.conv(x, graph)
                out.add_(x)
            return out.div_(self.num_layers + 1)
        out = x
        for _ in range(self.num_layers):
            x = self.conv(x, graph)
            out = out + x
        return out / (self.num_layers + 1)

    def propagate_rows(self, rows: Tensor) -> Tensor:
        r"""``propagate()[rows]`` (``[R, D]``) without the last layer's other rows.

        Layers ``1..K-1`` are propagated over all nodes (their rows feed the next layer); the
        last layer is needed only at ``rows``: :math:`E^{(K)}_r = \hat A_{r,:} E^{(K-1)}`, one
        product over the selected rows' edges (``graph.select_rows``, a rectangular graph). Same
        value, one full sparse product (forward and backward) fewer per training step, and no
        ``[U + I, D]`` mean of the layers. The sum runs in the same order as :meth:`propagate`.
        """
        graph = self.graph
        x = torch.cat([self.user_embedding, self.item_embedding])  # [U + I, D]
        out = x.index_select(0, rows)  # [R, D]
        for layer in range(self.num_layers):
            if layer == self.num_layers - 1:
                out = out + self.conv(x, graph.select_rows(rows))  # [R, D]: only the rows asked for
            else:
                x = self.conv(x, graph)
                out = out + x.index_select(0, rows)
        return out / (self.num_layers + 1)

    def forward(self) -> tuple[Tensor, Tensor]:
        """``(users [U, D], items [I, D])`` final representations."""
        out = self.propagate()
        return out[: self.num_users], out[self.num_users :]

    def loss(self, batch: PairBatch) -> Tensor:
        """BPR on the batch's triples plus ``decay`` times the layer-0 L2 (LightGCN-PyTorch ``bpr_loss``)."""
        users, pos, neg = batch
        if neg.dim() != 1:
            raise ValueError(f"LightGCN.loss: BPR takes one negative per pair, neg_items [B] (got {tuple(neg.shape)})")
        # final embeddings of just the batch's users, positives and negatives: [3B, D]
        rows = torch.cat([users, pos + self.num_users, neg + self.num_users])
        u_e, p_e, q_e = self.propagate_rows(rows).split(users.numel())
        loss = bpr_loss((u_e * p_e).sum(-1), (u_e * q_e).sum(-1))
        reg = l2_batch_reg(
            self.user_embedding.index_select(0, users),
            self.item_embedding.index_select(0, pos),
            self.item_embedding.index_select(0, neg),
        )
        return loss + self.decay * reg

    def extra_repr(self) -> str:
        return (
            f"num_users={self.num_users}, num_items={self.num_items}, embedding_dim={self.embedding_dim}, "
            f"num_layers={self.num_layers}, decay={self.decay}, init_std={self.init_std}"
        )
