r"""LightGCN: linear propagation on the user-item graph, layer outputs averaged.

Paper: Xiangnan He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
Recommendation", SIGIR 2020, https://arxiv.org/abs/2002.02126. Official code:
gusye1234/LightGCN-PyTorch (``code/model.py``), kuandeng/LightGCN (TF).

.. math::
    E^{(0)} = \begin{pmatrix} E_U \\ E_I \end{pmatrix}, \quad
    E^{(k+1)} = \hat A\, E^{(k)}, \quad
    \hat A = D^{-1/2} \begin{pmatrix} 0 & R \\ R^\top & 0 \end{pmatrix} D^{-1/2}, \quad
    E = \frac{1}{K+1} \sum_{k=0}^{K} E^{(k)},

score :math:`s_{ui} = e_u^\top e_i`. Trained with BPR and
:math:`\frac{\lambda}{2B}(\lVert e^{(0)}_u\rVert^2 + \lVert e^{(0)}_{i^+}\rVert^2 + \lVert e^{(0)}_{i^-}\rVert^2)`
on the batch's layer-0 rows (:mod:`graphnets.recsys.losses`).

How we differ from the official code: same model, init N(0, 0.1) and loss. Propagation is
:func:`cuda_ext.spmm` on a CSR whose transpose is cached (the official code multiplies a COO
``torch.sparse`` tensor); evaluation propagates once, not once per 100 test users.

Args:
    num_users, num_items: table sizes.
    embedding_dim: ``D`` (64).
    num_layers: ``K`` (3).
    init_std: embeddings start as N(0, init_std^2) (0.1, as LightGCN-PyTorch).
    generator: optional generator for the initialisation.

Shapes:
    graph: :class:`sampling.Graph` ``[U + I, U + I]`` (``InteractionData.bipartite_graph()``);
    :meth:`propagate` -> ``[U + I, D]``.

Example:
    >>> model = LightGCN(3, 4, embedding_dim=8, num_layers=2)
    >>> users, items = model.embeddings(graph)   # [3, 8], [4, 8]
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from cuda_ext import spmm

__all__ = ["LightGCN"]


class LightGCN(nn.Module):
    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 64, num_layers: int = 3, *,
                 init_std: float = 0.1, generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        for name, v in (("num_users", num_users), ("num_items", num_items), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"LightGCN: {name} must be a positive int (got {v!r})")
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"LightGCN: num_layers must be an int >= 0 (got {num_layers!r})")
        self.num_users, self.num_items = num_users, num_items
        self.embedding_dim, self.num_layers, self.init_std = embedding_dim, num_layers, init_std
        self.user_embedding = nn.Parameter(torch.empty(num_users, embedding_dim))
        self.item_embedding = nn.Parameter(torch.empty(num_items, embedding_dim))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        with torch.no_grad():
            self.user_embedding.normal_(0.0, self.init_std, generator=generator)
            self.item_embedding.normal_(0.0, self.init_std, generator=generator)

    def _check_graph(self, graph) -> None:
        n = self.num_users + self.num_items
        if getattr(graph, "shape", None) != (n, n):
            raise ValueError(f"LightGCN: graph must be [{n}, {n}] (users + items) (got {getattr(graph, 'shape', type(graph).__name__)})")

    def propagate(self, graph) -> Tensor:
        """Mean of layers ``0..K`` for all nodes, ``[U + I, D]`` (users first)."""
        self._check_graph(graph)
        x = torch.cat([self.user_embedding, self.item_embedding])  # [U + I, D]
        if not torch.is_grad_enabled():  # evaluation: accumulate in place, two [U + I, D] buffers fewer
            out = x.clone()
            for _ in range(self.num_layers):
                x = spmm(graph, x)
                out.add_(x)
            return out.div_(self.num_layers + 1)
        out = x
        for _ in range(self.num_layers):
            x = spmm(graph, x)
            out = out + x
        return out / (self.num_layers + 1)

    def propagate_rows(self, graph, rows: Tensor) -> Tensor:
        r"""``propagate(graph)[rows]`` (``[R, D]``) without the last layer's other rows.

        Layers ``1..K-1`` are propagated over all nodes (their rows feed the next layer); the
        last layer is needed only at ``rows``: :math:`E^{(K)}_r = \hat A_{r,:} E^{(K-1)}`, one
        product over the selected rows' edges (``graph.select_rows``). Same value, one full
        sparse product (forward and backward) fewer per training step, and no ``[U + I, D]``
        mean of the layers. The sum runs in the same order as :meth:`propagate`.
        """
        self._check_graph(graph)
        x = torch.cat([self.user_embedding, self.item_embedding])  # [U + I, D]
        out = x.index_select(0, rows)  # [R, D]
        for layer in range(self.num_layers):
            if layer == self.num_layers - 1:
                out = out + spmm(graph.select_rows(rows), x)  # [R, D]: only the rows asked for
            else:
                x = spmm(graph, x)
                out = out + x.index_select(0, rows)
        return out / (self.num_layers + 1)

    def embeddings(self, graph) -> tuple[Tensor, Tensor]:
        """``(users [U, D], items [I, D])`` final representations."""
        out = self.propagate(graph)
        return out[: self.num_users], out[self.num_users:]

    def forward(self, graph, users: Tensor, items: Tensor) -> Tensor:
        """Scores ``[B]`` of the pairs ``(users[b], items[b])``."""
        u, i = self.embeddings(graph)
        return (u.index_select(0, users) * i.index_select(0, items)).sum(-1)

    def extra_repr(self) -> str:
        return (f"num_users={self.num_users}, num_items={self.num_items}, embedding_dim={self.embedding_dim}, "
                f"num_layers={self.num_layers}, init_std={self.init_std}")
