"""The feed-forward delay network of the paper: (delay layer -> BN -> LIF -> dropout) x L, delay read-out."""

from __future__ import annotations

import itertools

import torch
from spikingjelly.activation_based import layer as sj_layer
from torch import Tensor, nn

from spiking.neurons import LIF

from .layer import DelayLinear
from .readout import MembraneReadout

__all__ = ["DelaySNN"]


class DelaySNN(nn.Module):
    r"""Spiking network with a learnable delay on every synapse (Hammouamri et al., ICLR 2024, Fig. 1).

    .. math::
        S^{l} = \mathrm{Dropout}(\mathrm{LIF}(\mathrm{BN}(\mathrm{Delay}^{l}(S^{l-1})))),\ l = 1..L,
        \qquad V = \mathrm{Readout}(\mathrm{Delay}^{L+1}(S^{L}))

    Every ``Delay`` is a :class:`~spiking.delays.DelayLinear` (each adds ``(K - 1) // 2`` steps), BN
    normalises each channel over time and batch (``nn.BatchNorm1d`` on ``[T * B, C]``, as spikingjelly's
    multi-step ``BatchNorm1d``), LIF is :class:`spiking.neurons.LIF` (the shared neuron core, fused
    multi-step op) with ``decay_input=False``, ATan(alpha) surrogate and detached reset, dropout keeps
    one mask for all steps (spikingjelly ``layer.Dropout``), and the read-out is the potential of a LIF
    that never fires (:class:`~spiking.delays.readout.MembraneReadout`).
    Train with :func:`~spiking.delays.loss.sum_softmax_loss`; call
    ``spikingjelly.activation_based.functional.reset_net(model)`` after every batch.

    Args:
        in_features: input channels (140 after binning the 700 SHD/SSC channels by 5).
        num_classes: 20 (SHD), 35 (SSC).
        hidden_features: neurons per hidden layer (256 SHD, 512 SSC).
        num_hidden_layers: L (2 SHD, 3 SSC).
        kernel_size: K (25 SHD, 31 SSC); 1 gives the same network without delays.
        interpolation: ``"gauss"`` (default), ``"triangle"``, ``"bilinear"``.
        dropout: after each spiking layer (0.4 SHD, 0.25 SSC).
        tau: LIF and read-out time constant in steps (1.005 SHD, 1.5 SSC).
        v_threshold: LIF threshold (1.0).
        alpha: ATan surrogate sharpness (5.0).
        batch_norm: BN after each hidden delay layer (True).
        bias: biases in the delay layers (False).
        learn_delays: False freezes the positions (fixed random delays; ``requires_grad=False``).
        backend: ``"auto"``, ``"torch"`` or ``"cuda"``: the LIF op of the neurons and the read-out
            (:func:`spiking.neurons.lif_multistep`, the shared neuron core).

    Shapes:
        ``[T, B, in_features]`` -> read-out potentials ``[T + (L + 1) * ((K - 1) // 2), B, num_classes]``.

    Example:
        >>> net = DelaySNN(140, 20)                      # the SHD network, 0.2 M parameters
        >>> v = net(torch.rand(100, 4, 140))             # [136, 4, 20]
        >>> from spikingjelly.activation_based import functional; functional.reset_net(net)

    Differences from the official ``SnnDelays``: one class for every dataset (no config object),
    the read-out keeps only the membrane sequence of its ``v_threshold=1e9`` LIF, the options the
    paper's best configurations do not use (PLIF, stateful synapses, weight sparsity, kernel count
    > 1) are left out.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden_features: int = 256,
        num_hidden_layers: int = 2,
        kernel_size: int = 25,
        interpolation: str = "gauss",
        dropout: float = 0.4,
        tau: float = 1.005,
        v_threshold: float = 1.0,
        alpha: float = 5.0,
        batch_norm: bool = True,
        bias: bool = False,
        learn_delays: bool = True,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        fn = "DelaySNN"
        if isinstance(num_hidden_layers, bool) or not isinstance(num_hidden_layers, int) or num_hidden_layers < 1:
            raise ValueError(f"{fn}: num_hidden_layers must be an int >= 1 (got {num_hidden_layers!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{fn}: dropout must be in [0, 1) (got {dropout})")
        self.in_features, self.num_classes = in_features, num_classes
        self.hidden_features, self.num_hidden_layers = hidden_features, num_hidden_layers
        self.kernel_size, self.interpolation, self.dropout = kernel_size, interpolation, dropout
        self.tau, self.v_threshold, self.alpha = tau, v_threshold, alpha
        self.batch_norm, self.bias, self.learn_delays, self.backend = batch_norm, bias, learn_delays, backend
        dims = [in_features] + [hidden_features] * num_hidden_layers
        self.delays = nn.ModuleList(
            DelayLinear(a, b, kernel_size, interpolation, bias=bias) for a, b in itertools.pairwise(dims)
        )
        self.norms = nn.ModuleList(
            nn.BatchNorm1d(hidden_features) if batch_norm else nn.Identity() for _ in range(num_hidden_layers)
        )
        self.neurons = nn.ModuleList(
            LIF(
                tau=tau,
                v_threshold=v_threshold,
                surrogate="atan",
                alpha=alpha,
                detach_reset=True,
                decay_input=False,
                step_mode="m",
                backend=backend,
            )
            for _ in range(num_hidden_layers)
        )
        self.drops = nn.ModuleList(sj_layer.Dropout(dropout, step_mode="m") for _ in range(num_hidden_layers))
        self.readout_delay = DelayLinear(hidden_features, num_classes, kernel_size, interpolation, bias=bias)
        self.readout = MembraneReadout(tau, backend)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw weights and positions (``generator`` for reproducibility), reset BN, freeze positions
        when ``learn_delays`` is False."""
        for m in [*self.delays, self.readout_delay]:
            m.reset_parameters(generator)
            m.P.requires_grad_(self.learn_delays)
        for n in self.norms:
            if isinstance(n, nn.BatchNorm1d):
                n.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"DelaySNN: expected input [T, B, in_features={self.in_features}] "
                f"(got {getattr(x, 'shape', type(x).__name__)})"
            )
        for delay, norm, neuron, drop in zip(self.delays, self.norms, self.neurons, self.drops):
            h = delay(x)  # [T', B, H]
            h = norm(h.flatten(0, 1)).unflatten(0, h.shape[:2])  # BN over [T' * B, H]
            x = drop(neuron(h))  # [T', B, H] spikes
        return self.readout(self.readout_delay(x))  # [T'', B, num_classes]

    def output_steps(self, T: int) -> int:
        """Number of read-out steps for an input of ``T`` steps."""
        return T + sum(m.right_padding for m in [*self.delays, self.readout_delay])

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, num_classes={self.num_classes}, hidden_features={self.hidden_features}, "
            f"num_hidden_layers={self.num_hidden_layers}, kernel_size={self.kernel_size}, "
            f"interpolation={self.interpolation!r}, dropout={self.dropout}, tau={self.tau}, "
            f"v_threshold={self.v_threshold}, alpha={self.alpha}, batch_norm={self.batch_norm}, bias={self.bias}, "
            f"learn_delays={self.learn_delays}, backend={self.backend!r}"
        )
