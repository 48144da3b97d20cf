"""Mean firing rate of every spiking-neuron layer of a model, collected by forward hooks."""

from __future__ import annotations

from torch import nn

from spiking.neurons import SpikingNeuron

__all__ = ["FiringRateMonitor"]


class FiringRateMonitor:
    r"""Mean firing rate of each :class:`~spiking.neurons.SpikingNeuron` layer, per forward call.

    Each call of a neuron layer contributes the mean of its output spikes
    :math:`\frac{1}{|S|}\sum S` (spikes per neuron per time step); :meth:`pop` returns, per layer
    name, the mean over the calls since the last :meth:`pop` (a batch-count-weighted mean, as
    spikingjelly's ``monitor.OutputMonitor`` with ``cal_firing_rate`` averaged over batches).

    Args:
        model: any module; hooks are attached to its spiking-neuron submodules (``named_modules`` names).

    Example:
        >>> from spiking.models import SpikingConvNet
        >>> import torch
        >>> net = SpikingConvNet(2, 10, (4,), dropout=0.0)
        >>> mon = FiringRateMonitor(net)
        >>> _ = net(torch.zeros(2, 1, 2, 8, 8))
        >>> mon.pop()
        {'neurons.0': 0.0}
        >>> mon.remove()
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"FiringRateMonitor: model must be an nn.Module (got {type(model).__name__})")
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.handles = [
            m.register_forward_hook(self._hook(n)) for n, m in model.named_modules() if isinstance(m, SpikingNeuron)
        ]

    def _hook(self, name: str):
        def hook(_module, _inputs, out):
            self.sums[name] = self.sums.get(name, 0.0) + float(out.detach().float().mean())
            self.counts[name] = self.counts.get(name, 0) + 1

        return hook

    def pop(self) -> dict[str, float]:
        """Per-layer mean rates since the last call; then start afresh."""
        out = {n: self.sums[n] / self.counts[n] for n in self.sums}
        self.sums, self.counts = {}, {}
        return out

    def remove(self) -> None:
        """Detach the hooks."""
        for h in self.handles:
            h.remove()
        self.handles = []
