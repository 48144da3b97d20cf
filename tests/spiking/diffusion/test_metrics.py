"""Fréchet distance, the offline classifier FID, the optional Inception FID, energy of sampling, grids."""

import sys

import numpy as np
import pytest
import torch

from spiking.diffusion import (
    ClassifierFID,
    GaussianDiffusion,
    SpikingUNet,
    UNet,
    feature_statistics,
    frechet_distance,
    image_grid,
    inception_fid,
    sampling_energy,
    train_fid_classifier,
)
from spiking.diffusion.fid import FeatureStatistics
from spiking.energy import estimate_energy


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 1.0])
    a, b = FeatureStatistics(mu1, np.diag(v1), 10), FeatureStatistics(mu2, np.diag(v2), 10)
    expect = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert frechet_distance(a, b) == pytest.approx(expect, rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="widths differ"):
        frechet_distance(a, FeatureStatistics(mu1[:2], np.eye(2), 3))


def test_feature_statistics_errors():
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="NaN"):
        feature_statistics(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))


def _toy_classes(n, g):
    labels = torch.arange(n) % 2
    x = torch.full((n, 1, 8, 8), -1.0)
    x[labels == 0, :, :, :4] = 1.0  # class 0: left half bright, class 1: right half bright
    x[labels == 1, :, :, 4:] = 1.0
    return (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(-1, 1), labels


def test_classifier_fid_is_deterministic_accurate_and_ranks(tmp_path):
    g = torch.Generator().manual_seed(0)
    xtr, ytr = _toy_classes(128, g)
    xte, yte = _toy_classes(64, g)
    runs = [
        train_fid_classifier(xtr, ytr, xte, yte, epochs=3, generator=torch.Generator().manual_seed(3)) for _ in range(2)
    ]
    assert runs[0][1] == runs[1][1] > 0.9
    assert all(torch.equal(p, q) for p, q in zip(runs[0][0].parameters(), runs[1][0].parameters()))
    fid = ClassifierFID(runs[0][0], xtr, runs[0][1])
    close, far = fid.score(xte), fid.score(torch.rand(64, 1, 8, 8) * 2 - 1)
    assert 0 <= close < far
    fid.save(tmp_path / "fid.pt")
    again = ClassifierFID.load(tmp_path / "fid.pt")
    assert again.score(xte) == pytest.approx(close) and again.accuracy == fid.accuracy


def test_inception_fid_never_downloads(tmp_path, monkeypatch):
    x = torch.zeros(4, 1, 8, 8)
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        inception_fid(x, x, weights_path=None)
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        inception_fid(x, x, weights_path=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="images"):
        inception_fid(torch.zeros(4, 2, 8, 8), x, weights_path=tmp_path / "missing.pth")
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # as if the extra were not installed
    with pytest.raises(ImportError, match=r"graphspike\[fid\]"):
        inception_fid(x, x, weights_path=weights)


def test_sampling_energy_counts_every_denoising_call():
    torch.manual_seed(0)
    net = SpikingUNet(image_channels=1, ch=8, ch_mult=(1, 2), num_res_blocks=1, T_snn=2)
    ddpm = GaussianDiffusion(net, num_steps=20)
    report, calls = sampling_energy(
        ddpm, (1, 1, 8, 8), sampler="ddim", steps=4, generator=torch.Generator().manual_seed(0)
    )
    assert calls == 4 and report.mac > 0 and report.ac >= 0 and 0 <= report.firing_rate <= 1
    # one call alone, through estimate_energy, costs about a quarter of the four (rates vary by step)
    one = estimate_energy(net, (torch.randn(1, 1, 8, 8), torch.tensor([19])))
    assert 0.1 < one.energy_mJ / report.energy_mJ < 0.5
    ann = GaussianDiffusion(UNet.twin_of(net), num_steps=20)
    r_ann, calls_ann = sampling_energy(ann, (1, 1, 8, 8), sampler="ddim", steps=4, ann=True)
    assert calls_ann == 4 and r_ann.firing_rate is None and r_ann.energy_mJ > report.energy_mJ
    with pytest.raises(TypeError, match="GaussianDiffusion"):
        sampling_energy(net, (1, 1, 8, 8))


def test_image_grid_layout_and_values():
    imgs = torch.stack([torch.full((1, 2, 2), -1.0), torch.full((1, 2, 2), 1.0), torch.zeros(1, 2, 2)])
    grid = image_grid(imgs, nrow=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 3) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 4, 0] == 255 and grid[4, 1, 0] == 128 and grid[0, 0, 0] == 128
    with pytest.raises(ValueError, match="image_grid"):
        image_grid(torch.zeros(2, 2, 4, 4))


def test_non_finite_features_and_statistics_are_refused():
    f = np.zeros((4, 3))
    f[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"feature_statistics: features must be finite .* at sample 2, feature 1"):
        feature_statistics(f)
    good = feature_statistics(np.random.default_rng(0).normal(size=(5, 3)))
    bad = FeatureStatistics(np.array([0.0, np.inf, 0.0]), good.sigma, 5)
    with pytest.raises(FloatingPointError, match=r"frechet_distance: b.mu must be finite .* first at feature 1"):
        frechet_distance(good, bad)


def test_fid_classifier_refuses_nan_images_and_a_diverged_loss():
    from sampling.finite import NonFiniteError

    g = torch.Generator().manual_seed(0)
    xtr, ytr = _toy_classes(32, g)
    xte, yte = _toy_classes(16, g)
    bad = xte.clone()
    bad[5, 0, 2, 3] = float("nan")
    with pytest.raises(NonFiniteError, match=r"train_fid_classifier: test images must be finite .* image 5, channel 0"):
        train_fid_classifier(xtr, ytr, bad, yte, epochs=1)
    # an absurd learning rate: weights blow up, the loss turns NaN -- refused, not an accuracy of NaN logits
    with pytest.raises(NonFiniteError, match=r"train_fid_classifier: non-finite loss .* at epoch \d+, batch \d+"):
        train_fid_classifier(xtr, ytr, xte, yte, epochs=5, batch_size=8, lr=1e30)
