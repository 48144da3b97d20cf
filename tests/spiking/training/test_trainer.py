"""spiking.training: time-major batches, seeded subsets, firing rates, an exactly resumable trainer."""

from __future__ import annotations

import copy

import pytest
import torch

from spiking.datasets import SyntheticEvents
from spiking.models import SpikingConvNet
from spiking.training import FiringRateMonitor, SNNClassifierTrainer, SNNTrainConfig, random_subset, time_major_collate


def test_time_major_collate_and_subset():
    x, y = time_major_collate([(torch.zeros(3, 2), 1), (torch.ones(3, 2), 0)])
    assert x.shape == (3, 2, 2) and torch.equal(x[:, 1], torch.ones(3, 2)) and y.tolist() == [1, 0]
    with pytest.raises(ValueError, match="empty batch"):
        time_major_collate([])
    ds = list(range(10))
    sub = random_subset(ds, 4, torch.Generator().manual_seed(0))
    assert len(sub) == 4 and list(sub.indices) == sorted(sub.indices)
    assert random_subset(ds, 0, torch.Generator()) is ds


def test_monitor_counts_rates():
    net = SpikingConvNet(2, 10, (4,), dropout=0.0)
    mon = FiringRateMonitor(net)
    net(torch.full((2, 1, 2, 8, 8), 5.0))
    rates = mon.pop()
    assert set(rates) == {"neurons.0"} and 0.0 < rates["neurons.0"] <= 1.0 and mon.pop() == {}
    mon.remove()
    net(torch.zeros(2, 1, 2, 8, 8))
    assert mon.pop() == {}


def _trainer():
    torch.manual_seed(0)
    data = SyntheticEvents(24, T=3, seed=1), SyntheticEvents(8, T=3, seed=2)
    model = SpikingConvNet(2, 10, (4,), dropout=0.5)
    return SNNClassifierTrainer(model, *data, SNNTrainConfig(epochs=3, batch_size=8), torch.Generator().manual_seed(0))


def test_state_round_trip_continues_exactly():
    a = _trainer()
    a.train_epoch()
    a.step_schedule()
    state = copy.deepcopy(a.state_dict())
    rng = torch.get_rng_state()
    first = [a.train_epoch()["loss"] for _ in range(2)]
    b = _trainer()
    b.load_state_dict(state)
    torch.set_rng_state(rng)
    assert [b.train_epoch()["loss"] for _ in range(2)] == first and b.epoch == 1
    ev = b.evaluate()
    assert ev["samples"] == 8 and 0.0 <= ev["acc"] <= 1.0 and set(ev["rates"]) == {"neurons.0"}


def test_config_validation_and_non_finite_loss():
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        SNNTrainConfig(batch_size=0)
    t = _trainer()
    with torch.no_grad():
        for p in t.model.parameters():
            p.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="non-finite loss nan at epoch 1, batch 0"):
        t.train_epoch()


class _Poisoned(torch.utils.data.Dataset):
    """``base`` with sample ``bad`` made NaN (a corrupt recording / an overflowed encoder)."""

    def __init__(self, base, bad):
        self.base, self.bad = base, bad

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        return (x * float("nan"), y) if i == self.bad else (x, y)


def test_non_finite_loss_stops_before_the_update():
    torch.manual_seed(0)
    train = _Poisoned(SyntheticEvents(24, T=3, seed=1), bad=5)
    t = SNNClassifierTrainer(
        SpikingConvNet(2, 10, (4,), dropout=0.0),
        train,
        SyntheticEvents(8, T=3, seed=2),
        SNNTrainConfig(epochs=1, batch_size=24),
        torch.Generator().manual_seed(0),
    )
    before = copy.deepcopy(dict(t.model.named_parameters()))
    # a spiking neuron turns NaN input into silence (NaN >= threshold is False), so the loss would stay
    # finite: the trainer checks the input batch itself
    with pytest.raises(FloatingPointError, match=r"input batch must be finite .* first at time 0, sample \d+, index"):
        t.train_epoch()
    assert all(torch.equal(v, before[k]) for k, v in t.model.named_parameters())  # no optimiser step taken


def test_nan_weights_before_a_spiking_layer_are_caught_although_the_loss_stays_finite():
    t = _trainer()
    name, first = next(iter(t.model.named_parameters()))
    with torch.no_grad():
        first.fill_(float("nan"))  # the neurons after it never fire: silence, not NaN
    with pytest.raises(
        FloatingPointError,
        match=rf"SNNClassifierTrainer: parameter '{name}' became non-finite "
        r"at epoch 1",
    ):
        t.train_epoch()


def test_warm_frames_fills_the_cache_of_a_subset_only():
    from spiking.training import warm_frames

    ds = SyntheticEvents(6, T=2, seed=1, in_memory=True)
    seen = []
    warm_frames(random_subset(ds, 3, torch.Generator().manual_seed(0)), lambda r: seen.extend(r) or r)
    assert len(seen) == 3 and seen == sorted(seen) and sorted(ds._ram) == seen
    plain = SyntheticEvents(6, T=2, seed=1, in_memory=False)
    warm_frames(plain, lambda r: pytest.fail("no cache: nothing to warm"))
    with pytest.raises(TypeError, match=r"warm_frames: dataset must be a FrameDataset or a Subset of one \(got list\)"):
        warm_frames([1, 2])
