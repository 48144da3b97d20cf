import math

import pytest
import torch

from graphnets.protein import lddt_ca, pearson, per_target_correlation, spearman, top1_zscore


def test_lddt_identity_and_hand_example():
    ca = torch.tensor([[0.0, 0, 0], [3.8, 0, 0], [7.6, 0, 0]], dtype=torch.float64)
    torch.testing.assert_close(lddt_ca(ca, ca), torch.ones(3, dtype=torch.float64))
    model = ca.clone()
    model[2, 0] += 1.5  # d(0,2) +1.5, d(1,2) +1.5: preserved at thresholds 2 and 4 only
    expected = torch.tensor([(1 + 0.5) / 2, (1 + 0.5) / 2, 0.5], dtype=torch.float64)
    torch.testing.assert_close(lddt_ca(model, ca), expected)
    far = torch.tensor([[0.0, 0, 0], [100.0, 0, 0]], dtype=torch.float64)
    torch.testing.assert_close(lddt_ca(far, far), torch.ones(2, dtype=torch.float64))  # no neighbours -> 1
    with pytest.raises(ValueError, match=r"both be \[R, 3\]"):
        lddt_ca(ca, ca[:2])


def test_lddt_rigid_motion_invariant():
    g = torch.Generator().manual_seed(0)
    native = torch.randn(30, 3, generator=g, dtype=torch.float64) * 6
    model = native + torch.randn(30, 3, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=g, dtype=torch.float64))
    torch.testing.assert_close(lddt_ca(model @ q.T + 4.0, native), lddt_ca(model, native))


def test_pearson_spearman_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(1)
    a = torch.randn(40, generator=g)
    b = a + torch.randn(40, generator=g)
    b[3] = b[5]  # a tie
    assert pearson(a, b) == pytest.approx(stats.pearsonr(a.numpy(), b.numpy())[0], abs=1e-6)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a.numpy(), b.numpy())[0], abs=1e-6)
    assert math.isnan(pearson(torch.ones(5), a[:5]))


def test_per_target_fisher_mean_and_top1():
    pred = torch.tensor([0.1, 0.3, 0.2, 0.9, 0.1, 0.5], dtype=torch.float64)
    true = torch.tensor([1.0, 2.0, 3.0, 1.0, 3.0, 2.5], dtype=torch.float64)
    t = ["a", "a", "a", "b", "b", "b"]
    r = per_target_correlation(pred, true, t)
    ra, rb = r["per_target"]["a"]["pearson"], r["per_target"]["b"]["pearson"]
    assert ra == pytest.approx(0.5) and -1 < rb < -0.9
    assert r["pearson"] == pytest.approx(math.tanh((math.atanh(ra) + math.atanh(rb)) / 2))
    assert r["per_target"]["a"]["spearman"] == pytest.approx(0.5) and r["per_target"]["b"]["n"] == 3
    z = top1_zscore(pred, true, t)
    assert z["per_target"]["a"]["z"] == pytest.approx(0.0) and z["per_target"]["a"]["loss"] == pytest.approx(1.0)
    yb = torch.tensor([1.0, 3.0, 2.5], dtype=torch.float64)
    zb = (1.0 - yb.mean().item()) / yb.std(unbiased=False).item()
    assert z["per_target"]["b"]["z"] == pytest.approx(zb) and z["per_target"]["b"]["loss"] == pytest.approx(2.0)
    assert z["z"] == pytest.approx(zb / 2)
    with pytest.raises(ValueError, match="one target id per value"):
        per_target_correlation(pred, true, t[:3])


def test_non_finite_inputs_are_refused_not_ranked():
    import pytest
    import torch

    from graphnets.protein.metrics import lddt_ca, pearson, per_target_correlation, spearman, top1_zscore
    from sampling.finite import NonFiniteError

    pred = torch.tensor([0.1, float("nan"), 0.3, 0.2, 0.5, 0.4])
    true = torch.tensor([0.1, 0.2, 0.3, 0.2, 0.5, 0.4])
    targets = ["a", "a", "a", "b", "b", "b"]
    # before: spearman ranked NaN last (a finite rho) and the Fisher mean skipped target a's NaN pearson
    with pytest.raises(NonFiniteError, match=r"spearman: a must be finite .* at index 1"):
        spearman(pred[:3], true[:3])
    with pytest.raises(NonFiniteError, match=r"per_target_correlation: pred must be finite .* at index 1"):
        per_target_correlation(pred, true, targets)
    with pytest.raises(NonFiniteError, match=r"top1_zscore: pred must be finite"):
        top1_zscore(pred, true, targets)
    with pytest.raises(NonFiniteError, match=r"pearson: b must be finite"):
        pearson(true, pred)
    ca = torch.zeros(3, 3)
    ca[2, 0] = float("inf")
    with pytest.raises(NonFiniteError, match=r"lddt_ca: model_ca must be finite .* residue 2, axis 0"):
        lddt_ca(ca, torch.zeros(3, 3))
    assert pearson(torch.ones(3), true[:3]) != pearson(torch.ones(3), true[:3])  # constant: NaN, documented
