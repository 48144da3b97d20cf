import pytest
import torch
from torch import nn

from spiking.models import SpikeDrivenTransformer
from spiking.neurons import IF, LIF, ParametricLIF, set_backend


def test_set_backend_reaches_every_neuron_of_a_transformer():
    model = SpikeDrivenTransformer(in_channels=2, num_classes=3, embed_dim=32, num_heads=2, depth=1)
    neurons = [m for m in model.modules() if isinstance(m, (LIF, IF, ParametricLIF))]
    assert neurons and all(n.backend == "auto" for n in neurons)
    assert set_backend(model, "torch") == len(neurons)
    assert all(n.backend == "torch" for n in neurons)


def test_set_backend_outputs_unchanged_on_cpu():
    net = nn.Sequential(nn.Linear(3, 5), LIF(step_mode="m", surrogate="atan"))
    x = torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(0))
    auto = net(x)
    net[1].reset()
    set_backend(net, "torch")
    torch.testing.assert_close(net(x), auto, rtol=0, atol=0)


def test_set_backend_is_all_or_nothing():
    net = nn.Sequential(LIF(surrogate="atan"), LIF(surrogate="erf"))
    with pytest.raises(ValueError, match="erf"):
        set_backend(net, "cuda")  # the kernel implements sigmoid and atan only
    assert [m.backend for m in net] == ["auto", "auto"]


@pytest.mark.parametrize("bad, error", [(("not a module", "torch"), TypeError), ((nn.ReLU(), "triton"), ValueError)])
def test_set_backend_bad_input(bad, error):
    with pytest.raises(error, match="set_backend"):
        set_backend(*bad)
