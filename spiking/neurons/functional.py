"""Model-wide neuron settings (spikingjelly's ``functional.set_backend`` for graphspike neurons)."""

from torch import nn

from cuda_ext import BACKENDS

from .base import SpikingNeuron


def set_backend(model: nn.Module, backend: str) -> int:
    """Set ``backend`` on every graphspike spiking neuron inside ``model``; returns how many changed.

    The counterpart of spikingjelly's ``functional.set_backend(net, backend)``: a model built from
    layers that create their own neurons (attention blocks, U-Nets, transformers) switches all of
    them at once instead of threading ``backend=`` through every constructor. ``"auto"`` runs the
    fused CUDA kernel on CUDA tensors when the extension is built, the compiled CPU kernel on CPU
    tensors when built, and the reference elsewhere;
    ``"torch"`` always runs the reference; ``"cuda"`` insists on the kernel (an error on CPU
    tensors, or where it is not built).

    Args:
        model: any module; neurons are found with ``model.modules()`` (``model`` itself counts).
        backend: one of ``"auto"``, ``"torch"``, ``"cuda"``.

    Returns:
        The number of :class:`~spiking.neurons.SpikingNeuron` modules found (all set).

    Raises:
        TypeError: ``model`` not an ``nn.Module``.
        ValueError: unknown ``backend``; or ``"cuda"`` with a neuron whose surrogate the kernel does
            not implement (nothing is changed then).

    Example:
        >>> from torch import nn
        >>> from spiking.neurons import LIF, IF
        >>> net = nn.Sequential(nn.Linear(4, 4), LIF(), nn.Linear(4, 2), IF())
        >>> set_backend(net, "torch"), net[1].backend, net[3].backend
        (2, 'torch', 'torch')
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"set_backend: model must be an nn.Module (got {type(model).__name__})")
    if backend not in BACKENDS:
        raise ValueError(f"set_backend: backend must be one of {BACKENDS} (got {backend!r})")
    neurons = [m for m in model.modules() if isinstance(m, SpikingNeuron)]
    previous = [n.backend for n in neurons]
    try:
        for neuron in neurons:
            neuron.backend = backend
    except ValueError:
        for neuron, old in zip(neurons, previous):  # all or nothing: never leave a half-switched model
            neuron.backend = old
        raise
    return len(neurons)
