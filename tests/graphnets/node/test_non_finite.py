"""Node-classification trainers stop on divergence instead of reporting plausible accuracies."""

import pytest
import torch

from graphnets.node import SpikingGCN, dagnn_preset, make_sbm, spikinggcn_preset, train_dagnn
from graphnets.node.train_spikinggcn import train_spikinggcn
from sampling.finite import NonFiniteError


def test_dagnn_divergence_names_the_epoch():
    data = make_sbm(torch.Generator().manual_seed(0))
    cfg = dagnn_preset("sbm", epochs=5, lr=1e30)
    with pytest.raises(
        NonFiniteError,
        match=r"train_dagnn.*(non-finite loss nan at epoch \d|log-probabilities must be "
        r"finite .* at node \d+, class \d+)",
    ):
        train_dagnn(data, data.split, cfg, torch.Generator().manual_seed(0))


def test_spikinggcn_nan_weights_are_caught_although_the_loss_stays_finite(monkeypatch):
    # NaN weights make every neuron silent (NaN >= threshold is false): the MSE to the one-hot target stays
    # finite and argmax of all-zero counts picks class 0, a plausible accuracy; the weights are checked instead
    original = SpikingGCN.reset_parameters

    def poisoned(self, generator=None):
        original(self, generator)
        with torch.no_grad():
            for p in self.parameters():
                p.fill_(float("nan"))

    monkeypatch.setattr(SpikingGCN, "reset_parameters", poisoned)
    data = make_sbm(torch.Generator().manual_seed(0))
    with pytest.raises(NonFiniteError, match=r"train_spikinggcn: parameter '.*' became non-finite at epoch 1"):
        train_spikinggcn(data, data.split, spikinggcn_preset("sbm", epochs=2), torch.Generator().manual_seed(0))
