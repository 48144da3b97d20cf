r"""``GraphStage``: a pipeline stage of a full-graph GNN, with GNNPipe's historical embeddings.

A stage holds consecutive layers ``l0 .. l1-1`` of a model given as a sequence whose graph layers
are called ``layer(x_src, block) -> x_dst`` (every ``graphnets.conv`` layer accepts a
:class:`~sampling.Block`) and whose row-wise layers are wrapped in :class:`NodeWise` (called
``layer(x)``). For each graph layer ``l`` it keeps a table :math:`\bar H^{(l)} \in \mathbb{R}^{N
\times F_l}` of the layer's input for *all* nodes (a persistent buffer, so checkpoints carry it).
When the micro-batch of chunk ``c`` reaches layer ``l``:

.. math::
    \bar H^{(l)}_{V_c} \leftarrow H^{(l)}_{V_c}\ \text{(detached)},\qquad
    H^{(l+1)}_{V_c} = f_l\big([H^{(l)}_{V_c};\ \bar H^{(l)}_{\mathrm{halo}(c)}],\ B_c\big)

where :math:`B_c` is the chunk's block (rows :math:`V_c`, sources :math:`V_c` then its halo). Halo
rows of chunks that already passed this layer in the current step are fresh; the others are one
step old (or older, before the first refresh). With an exact plan
(:class:`~sampling.pipeline.GraphChunks` ``exact=True``) nothing is read from the tables; they are
still written, so an exact full-graph forward refreshes them.

Halo rows are constants of the chunk's graph, so the gradient a chunk's loss sends into them would
be lost. With ``halo_grad=True`` (stale gradients, as PipeGCN, Wan et al., ICLR 2022, does for
its boundary nodes) the stage keeps a second table per graph layer,
:math:`G^{(l)} \in \mathbb{R}^{N \times F_l}`: the backward pass of every chunk adds
:math:`\partial \mathcal{L}_c / \partial \bar H^{(l)}_{\mathrm{halo}(c)}` into it, and in the next
step chunk :math:`c'` adds :math:`G^{(l)}_{V_{c'}}` (last step's sum) to the gradient of its own
rows at layer :math:`l`. The gradient a row receives is then the exact full-graph one, except
that the parts coming through other chunks are one step old.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sampling.pipeline.chunks import GraphChunks

__all__ = ["GraphStage", "NodeWise"]


class NodeWise(nn.Module):
    """Marks a row-wise module (linear layer, MLP, norm, read-out) in a graph model's layer sequence:
    it maps ``x [n, F] -> [n, F']`` row by row and never looks at the graph.

    Example:
        >>> NodeWise(nn.Linear(4, 2))(torch.ones(3, 4)).shape
        torch.Size([3, 2])
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise TypeError(f"NodeWise: module must be an nn.Module (got {type(module).__name__})")
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return self.module(x)


class GraphStage(nn.Module):
    """Layers ``first_layer ..`` of a graph model as one pipeline stage (see the module doc).

    Args:
        layers: this stage's layers (graph layers and :class:`NodeWise` ones).
        first_layer: index of ``layers[0]`` in the whole model.
        in_widths: input width ``F_l`` of each of ``layers`` (sizes the tables).
        num_nodes: ``N``, rows of every table.
        history: keep historical tables (``False`` for exact-only pipelines: no memory spent).
        halo_grad: also keep the stale halo-gradient tables (see the module doc; needs ``history``).
        dtype, device: of the tables (``module.to(...)`` moves and casts them later too).

    The plan comes from :meth:`use_plan`, the chunk from :meth:`set_microbatch` (the driver calls
    it before each micro-batch). ``write_history = False`` leaves the tables untouched (plain
    evaluation).

    Shapes:
        input ``[padded(first_layer), F_first]`` -> output ``[padded(last_layer + 1), F_out]``.
    """

    def __init__(
        self,
        layers: Sequence[nn.Module],
        *,
        first_layer: int,
        in_widths: Sequence[int],
        num_nodes: int,
        history: bool = True,
        halo_grad: bool = False,
        dtype: torch.dtype | None = None,
        device=None,
    ) -> None:
        super().__init__()
        layers = list(layers)
        in_widths = [int(w) for w in in_widths]
        if not layers:
            raise ValueError("GraphStage: layers must hold at least one layer (got none)")
        if len(in_widths) != len(layers):
            raise ValueError(
                f"GraphStage: one input width per layer is needed (got {len(in_widths)} widths for "
                f"{len(layers)} layers)"
            )
        if isinstance(first_layer, bool) or not isinstance(first_layer, int) or first_layer < 0:
            raise ValueError(f"GraphStage: first_layer must be an int >= 0 (got {first_layer!r})")
        self.layers = nn.ModuleList(layers)
        self.first_layer = first_layer
        self.in_widths = in_widths
        self.num_nodes = int(num_nodes)
        self.history = bool(history)
        self.halo_grad = bool(halo_grad) and self.history
        self.propagates = [not isinstance(layer, NodeWise) for layer in layers]
        dtype = dtype or torch.get_default_dtype()
        for i, (prop, width) in enumerate(zip(self.propagates, in_widths)):
            if prop and self.history:
                self.register_buffer(
                    f"history_{first_layer + i}", torch.zeros(self.num_nodes, width, dtype=dtype, device=device)
                )
                if self.halo_grad:  # this step's sums, and last step's (read)
                    for kind in ("grad_sum", "grad_last"):
                        self.register_buffer(
                            f"{kind}_{first_layer + i}", torch.zeros(self.num_nodes, width, dtype=dtype, device=device)
                        )
        self.plan: GraphChunks | None = None
        self.chunk = 0
        self.write_history = True

    @property
    def last_layer(self) -> int:
        return self.first_layer + len(self.layers) - 1

    def table(self, layer: int) -> Tensor:
        """The historical table of graph layer ``layer`` (``[N, F_layer]``)."""
        return getattr(self, f"history_{layer}")

    def start_step(self) -> None:
        """A new training step: last step's halo-gradient sums become the ones read, the sums restart."""
        if self.halo_grad:
            for i, prop in enumerate(self.propagates):
                if prop:
                    l = self.first_layer + i
                    getattr(self, f"grad_last_{l}").copy_(getattr(self, f"grad_sum_{l}"))
                    getattr(self, f"grad_sum_{l}").zero_()

    def use_plan(self, plan: GraphChunks) -> None:
        if not isinstance(plan, GraphChunks):
            raise TypeError(f"GraphStage.use_plan: plan must be a GraphChunks (got {type(plan).__name__})")
        if plan.num_layers <= self.last_layer or plan.num_nodes != self.num_nodes:
            raise ValueError(
                f"GraphStage.use_plan: the plan has {plan.num_layers} layers over {plan.num_nodes} nodes; "
                f"this stage holds layers {self.first_layer}..{self.last_layer} over {self.num_nodes}"
            )
        if not plan.exact and not self.history and any(self.propagates):
            raise ValueError("GraphStage.use_plan: a historical plan needs the tables (built with history=False)")
        self.plan = plan
        self.chunk = 0

    def set_microbatch(self, index: int) -> None:
        self.chunk = int(index)

    def forward(self, x: Tensor) -> Tensor:
        plan, c = self.plan, self.chunk
        if plan is None:
            raise RuntimeError("GraphStage: no plan set (call use_plan(GraphChunks(...)) first)")
        x = x[: plan.num_rows(c, self.first_layer)]  # drop the padding
        for i, layer in enumerate(self.layers):
            l = self.first_layer + i
            if not self.propagates[i]:
                x = layer(x)
                continue
            block = plan.block(c, l)
            if self.history:
                table = self.table(l)
                if self.write_history:
                    table.index_copy_(0, plan.rows(c, l), x.detach().to(table.dtype))
                if not plan.exact:
                    halo = table.index_select(0, plan.halo(c)).to(x.dtype)
                    if self.halo_grad and torch.is_grad_enabled() and x.requires_grad:
                        x = _AddGrad.apply(x, getattr(self, f"grad_last_{l}").index_select(0, plan.rows(c, l)))
                        halo.requires_grad_()
                        halo.register_hook(_Accumulate(getattr(self, f"grad_sum_{l}"), plan.halo(c)))
                    x = torch.cat([x, halo])  # [num_src, F_l]: the chunk first, then its halo
            x = layer(x, block)  # [num_dst, F_{l+1}]
        pad = plan.padded(self.last_layer + 1) - x.shape[0]
        return torch.cat([x, x.new_zeros((pad, *x.shape[1:]))]) if pad else x

    def extra_repr(self) -> str:
        return (
            f"first_layer={self.first_layer}, in_widths={self.in_widths}, num_nodes={self.num_nodes}, "
            f"history={self.history}, halo_grad={self.halo_grad}"
        )


class _AddGrad(torch.autograd.Function):
    """Identity forward; backward adds a constant ``extra`` to the incoming gradient."""

    @staticmethod
    def forward(ctx, x: Tensor, extra: Tensor) -> Tensor:
        ctx.save_for_backward(extra)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (extra,) = ctx.saved_tensors
        return grad + extra.to(grad.dtype), None


class _Accumulate:
    """Gradient hook of a halo block: adds its rows into ``table[index]``."""

    def __init__(self, table: Tensor, index: Tensor) -> None:
        self.table, self.index = table, index

    def __call__(self, grad: Tensor) -> None:
        self.table.index_add_(0, self.index, grad.detach().to(self.table.dtype))
