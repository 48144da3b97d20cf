"""SHD/SSC frames for the delay networks, and the recipes end to end on tiny files in the real HDF5 format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spiking.datasets import SHD, SSC
from spiking.delays import (
    AudioFrames,
    audio_frames,
    evaluate,
    get_recipe,
    pad_collate,
    set_sigma,
    train_epoch,
)
from tests.spiking.formats import write_spike_h5


def _recordings(n, num_classes, seed=0, span=0.3):
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        k = int(rng.integers(20, 200))
        samples.append((np.sort(rng.uniform(0.01, span, k)), rng.integers(0, 700, k)))
    return samples, rng.integers(0, num_classes, n)


def test_audio_frames_hand_values():
    t = np.array([1_000, 1_000, 9_999, 11_000, 35_000, 41_000])  # us; t0 = 1 ms
    u = np.array([0, 4, 5, 699, 12, 3])
    f = audio_frames(t, u, 10_000, 700, 5)
    assert f.shape == (4, 140)  # ceil(40 ms / 10 ms) frames, the last taking the tail
    assert f[0, 0] == 2 and f[0, 1] == 1 and f[1, 139] == 1 and f[3, 2] == 1 and f[3, 0] == 1 and f.sum() == 6
    assert audio_frames(np.array([5]), np.array([3]), 10_000, 700, 5).shape == (1, 140)
    assert audio_frames(t, u, 10_000, 700, 3).shape == (4, 233)  # units 699 (past 233 * 3) dropped
    with pytest.raises(ValueError, match="empty recording"):
        audio_frames(t[:0], u[:0], 10_000, 700, 5)


def test_dataset_cache_and_collate(tmp_path):
    samples, labels = _recordings(5, 20)
    write_spike_h5(tmp_path / "shd_train.h5", samples, labels)
    ds = AudioFrames(SHD(tmp_path, "train"), cache_dir=tmp_path / "cache")
    x0, y0 = ds[0]
    t, _u = samples[0]
    assert x0.shape == (int(np.ceil((np.round(t[-1] * 1e6) - np.round(t[0] * 1e6)) / 1e4)), 140) and y0 == labels[0]
    assert x0.sum() == len(t)
    assert torch.equal(ds[0][0], x0)  # from the cache
    x, y, lengths = pad_collate([ds[i] for i in range(5)])
    assert x.shape == (int(lengths.max()), 5, 140) and y.tolist() == list(labels)
    assert x[lengths[0] :, 0].sum() == 0  # zero padding after each recording
    with pytest.raises(TypeError, match="SHD or SSC"):
        AudioFrames([1, 2])
    with pytest.raises(ValueError, match="frame_us"):
        AudioFrames(ds.dataset, frame_us=0)


@pytest.mark.parametrize(
    "name,cls,splits,classes",
    [
        ("shd", SHD, ("train", "test"), 20),
        pytest.param("ssc", SSC, ("train", "valid", "test"), 35, marks=pytest.mark.slow),  # 3 x 512, K = 31
    ],
)
def test_recipe_end_to_end(tmp_path, name, cls, splits, classes):
    """The paper's network and training step (full size) on a few recordings written in the real layout."""
    for i, split in enumerate(splits):
        samples, labels = _recordings(4, classes, seed=i, span=0.12)
        write_spike_h5(tmp_path / f"{name}_{split}.h5", samples, labels)
    r = get_recipe(name, epochs=1, batch_size=2)
    train = AudioFrames(cls(tmp_path, "train"), r.frame_us, r.channel_bins)
    test = AudioFrames(cls(tmp_path, splits[-1]), r.frame_us, r.channel_bins)
    loader = torch.utils.data.DataLoader(
        train, batch_size=r.batch_size, shuffle=True, collate_fn=pad_collate, generator=torch.Generator().manual_seed(0)
    )
    model = r.build_model(train.num_channels, train.num_classes, generator=torch.Generator().manual_seed(0))
    opts, scheds = r.optimizers(model)
    P0 = model.delays[0].P.detach().clone()
    for epoch in range(r.epochs):
        set_sigma(model, r.sigma_schedule()(epoch))
        stats = train_epoch(model, loader, opts)
        for s in scheds:
            s.step()
        assert np.isfinite(stats["loss"]) and stats["samples"] == 4
    assert not torch.equal(model.delays[0].P.detach(), P0)  # positions were trained
    ev = evaluate(model, torch.utils.data.DataLoader(test, batch_size=4, collate_fn=pad_collate))
    assert ev["samples"] == 4 and 0 <= ev["acc"] <= 1 and np.isfinite(ev["loss"])
    assert not any(m.rounded for m in model.delays)  # evaluation's rounding was temporary
