"""SpikingGCN: a parameter-free graph convolution, Bernoulli spike encoding and one LIF layer."""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor, nn

from graphnets.conv import gcn_norm, propagate
from graphnets.conv._inputs import as_graph
from graphnets.conv.propagate import check_square
from graphnets.seeded import dropout as _dropout
from graphnets.seeded import reset_linear
from sampling import Graph
from spiking.encoding import bernoulli_encode, sparse_bernoulli_encode
from spiking.neurons import LIF
from spiking.sparse_spikes import CSRSpikes, SparseSpikes

__all__ = ["SpikingGCN", "symmetrize"]


def symmetrize(graph: Graph) -> Graph:
    """Unweighted ``A + A^T`` with duplicates merged (graphgallery ``to_undirected``); no-op when symmetric."""
    if graph.weight is None and graph.is_symmetric():
        return graph
    n = graph.num_rows
    rows = torch.cat([graph.row, graph.indices])
    cols = torch.cat([graph.indices, graph.row])
    key = torch.unique(rows * n + cols)
    return Graph.from_edge_index(torch.stack([key % n, key // n]), num_nodes=n)


class SpikingGCN(nn.Module):
    r"""SpikingGCN: a parameter-free graph convolution, Bernoulli spike encoding and one LIF layer.

    Zhu, Peng, Wang, Zhu, Liu, Yang, "Spiking Graph Convolutional Networks", IJCAI 2022,
    https://arxiv.org/abs/2205.02767; official code https://github.com/ZulunZhu/SpikingGCN
    (``handcode/model_lif_fc.py``, ``datareader.py``).

    .. math::
        \bar X &= \hat A^{K} X + c, \qquad \hat A = \tilde D^{-1/2}(A+I)\tilde D^{-1/2},\ K = 2
            \quad\text{(computed once; } c = 0.05 \text{ for CiteSeer/PubMed)} \\
        o_t &\sim \mathrm{Bernoulli}(\min(\bar X, 1)) \in \{0, 1\}^{B\times F}, \quad t = 1..T \\
        I_t &= o_t W^\top \quad (W \in \mathbb{R}^{C\times F}, \text{ no bias}) \\
        H_t &= V_{t-1} + (I_t - V_{t-1})/\tau,\quad s_t = \Theta(H_t - V_{th}),\quad V_t = H_t - s_t V_{th}
            \quad\text{(LIF, soft reset, } V_0 = 0) \\
        \mathrm{rate} &= \tfrac1T \textstyle\sum_t s_t,\qquad \mathcal L = \mathrm{MSE}(\mathrm{rate},
            \mathrm{onehot}(y)),\qquad \hat y = \arg\max_c \textstyle\sum_t s_{t,c}

    The encoder is :func:`spiking.encoding.bernoulli_encode` (dense) or
    :func:`~spiking.encoding.sparse_bernoulli_encode`; the neurons are one
    :class:`spiking.neurons.LIF` (``lif``, soft reset, sigmoid surrogate with ``alpha`` = 1 as in
    spikingjelly 0.0.0.0.4, which the official code pins), reset before every batch.

    Args:
        in_channels: ``F``. out_channels: ``C``. T: time steps. tau: membrane time constant (> 1).
        v_threshold: firing threshold (> 0). surrogate_alpha: sigmoid-surrogate sharpness.
        dropout: dropout on the synaptic current in training, a fresh mask every step (the official
            ``model_lif_fc_with_val.py`` used for the Cora notebook run has 0.6; ``model_lif_fc.py`` none).

    Shapes:
        forward: features ``[B, F]`` (propagated, from :meth:`features`) -> output spikes ``[T, B, C]``.

    Differences from the official code: the T steps run as one multi-step call (identical to the
    step loop, tested) and the T encodings are drawn at once (``[T, B, F]``, then one matmul);
    :meth:`encode` + :meth:`run` offer a sparse encoder with the same distribution whose spikes can be
    stored as a CSR and reused; randomness comes from a ``torch.Generator``; the graph is
    symmetrised before normalisation as graphgallery's ``to_undirected`` does (Cora and PubMed
    are already symmetric).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        T: int = 200,
        tau: float = 80.0,
        v_threshold: float = 0.2,
        surrogate_alpha: float = 1.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("T", T)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"SpikingGCN: {name} must be a positive int (got {v!r})")
        if not v_threshold > 0:
            raise ValueError(f"SpikingGCN: v_threshold must be > 0 (got {v_threshold})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SpikingGCN: dropout must be in [0, 1) (got {dropout})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.T = T
        self.dropout = float(dropout)
        self.fc = nn.Linear(in_channels, out_channels, bias=False)
        self.lif = LIF(
            tau=tau, v_threshold=v_threshold, v_reset=None, surrogate="sigmoid", alpha=surrogate_alpha, step_mode="m"
        )
        self.reset_parameters()

    @property
    def tau(self) -> float:
        return self.lif.tau

    @property
    def v_threshold(self) -> float:
        return self.lif.v_threshold

    @property
    def surrogate_alpha(self) -> float:
        return self.lif.alpha

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        reset_linear(self.fc, generator)
        self.lif.reset()

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, T={self.T}, tau={self.tau}, "
            f"v_threshold={self.v_threshold}, surrogate_alpha={self.surrogate_alpha}, dropout={self.dropout}"
        )

    @staticmethod
    def features(graph: Graph, x: Tensor, hops: int = 2, offset: float = 0.0) -> Tensor:
        r""":math:`\hat A^{hops} X + offset` ``[N, F]`` on the symmetrised, self-looped normalised graph."""
        if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
            got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"SpikingGCN.features: x must be a 2-D floating tensor [N, F] (got {got})")
        check_square(as_graph("SpikingGCN.features", graph), x.shape[0], "SpikingGCN.features")
        return propagate(gcn_norm(symmetrize(graph)), x, hops)[:, -1] + offset  # [N, F]

    def neurons(self, current: Tensor) -> Tensor:
        """The LIF layer, from rest, over ``current [T, B, C]`` -> spikes ``[T, B, C]``."""
        self.lif.reset()
        return self.lif(current)

    def current(self, spikes: Union[Tensor, SparseSpikes, CSRSpikes]) -> Tensor:
        """Synaptic current ``W o_t`` ``[T, B, C]`` from dense ``[T, B, F]`` or sparse input spikes."""
        if isinstance(spikes, (SparseSpikes, CSRSpikes)):
            return spikes.matmul(self.fc.weight.t())  # [T, B, C]
        return self.fc(spikes)

    def input_spikes(
        self, h: Tensor, generator: Optional[torch.Generator] = None, *, uniform: Optional[Tensor] = None
    ) -> Tensor:
        """Dense input spikes ``[T, B, F]``: ``u <= min(h, 1)`` (``uniform`` supplies ``u`` if given)."""
        self._check(h)
        return bernoulli_encode(h.clamp(0.0, 1.0), self.T, generator=generator, uniform=uniform)

    def encode(self, h: Tensor, generator: Optional[torch.Generator] = None) -> SparseSpikes:
        """Input spikes for features ``h`` ``[B, F]`` (sparse Bernoulli encoding over ``T`` steps)."""
        self._check(h)
        return sparse_bernoulli_encode(h.clamp(0.0, 1.0), self.T, generator=generator)

    def run(
        self, spikes: Union[Tensor, SparseSpikes, CSRSpikes], generator: Optional[torch.Generator] = None
    ) -> Tensor:
        """Output spikes ``[T, B, C]`` for given input spikes (dense ``[T, B, F]`` or sparse)."""
        current = _dropout(self.current(spikes), self.dropout, self.training, generator)  # [T, B, C]
        return self.neurons(current)

    def _check(self, h: Tensor) -> None:
        if not isinstance(h, Tensor) or h.dim() != 2 or not h.is_floating_point():
            got = f"{h.dtype} tensor of shape {tuple(h.shape)}" if isinstance(h, Tensor) else type(h).__name__
            raise TypeError(f"SpikingGCN: h must be a 2-D floating tensor [B, F] (got {got})")
        if h.shape[1] != self.in_channels:
            raise ValueError(f"SpikingGCN: h must have in_channels={self.in_channels} features (got {h.shape[1]})")

    def forward(
        self, h: Tensor, generator: Optional[torch.Generator] = None, *, uniform: Optional[Tensor] = None
    ) -> Tensor:
        """Output spikes ``[T, B, C]`` for propagated features ``h`` ``[B, F]`` (dense encoding)."""
        return self.run(self.input_spikes(h, generator, uniform=uniform), generator)
