"""UltraGCN: beta and item-item weights against their formulas; the loss against a hand computation."""

import math

import pytest
import torch

from graphnets.recsys import PairBatch, UltraGCN, beta_vectors, build_trainer, get_preset, item_item_topk
from graphnets.recsys.synthetic import make_synthetic
from tests.graphnets.recsys.test_metrics import tiny_split


def test_beta_matches_formula():
    data = tiny_split()  # user degrees [2, 1, 1], item degrees [2, 1, 1, 0, 0]
    bu, bi = beta_vectors(data.user_degree(), data.item_degree())
    for u, du in enumerate([2, 1, 1]):
        for i, di in enumerate([2, 1, 1, 0, 0]):
            expected = (1 / du) * math.sqrt((du + 1) / (di + 1))
            assert float(bu[u] * bi[i]) == pytest.approx(expected, rel=1e-6)
    bu, _ = beta_vectors(torch.tensor([0, 3]), torch.tensor([1]))
    assert float(bu[0]) == 0.0


def dense_omega(data, diagonal_zero=False):
    r = torch.zeros(data.num_users, data.num_items, dtype=torch.float64)
    r[data.train_users, data.train_items] = 1
    g = r.T @ r
    if diagonal_zero:
        g.fill_diagonal_(0)
    gs = g.sum(1)
    left = torch.where(gs > 0, torch.sqrt(gs + 1) / gs, torch.zeros_like(gs))
    return g * left[:, None] / torch.sqrt(gs + 1)[None, :]


@pytest.mark.parametrize("diagonal_zero", [False, True])
def test_item_item_topk_matches_dense_formula(diagonal_zero):
    data = make_synthetic(80, 113, mean_items=10, generator=torch.Generator().manual_seed(2))
    k = 6
    nbrs, w = item_item_topk(data, k, diagonal_zero=diagonal_zero)
    omega = dense_omega(data, diagonal_zero)
    assert nbrs.shape == w.shape == (113, k)
    top = torch.topk(omega, k, dim=1).values
    torch.testing.assert_close(w.double(), top, rtol=1e-6, atol=1e-7)
    # the chosen neighbours carry exactly those weights (ties may pick different but equal ones);
    # zero-weight slots are padding (the item itself) and contribute nothing
    picked = omega.gather(1, nbrs)
    real = w > 0
    torch.testing.assert_close(picked[real], w.double()[real], rtol=1e-6, atol=1e-7)
    assert bool((nbrs[~real] == torch.arange(113).unsqueeze(1).expand_as(nbrs)[~real]).all())


def test_item_item_pads_short_rows_with_self_at_zero():
    data = tiny_split()  # item 2 co-occurs only with itself; items 3, 4 have no train user
    nbrs, w = item_item_topk(data, 3)
    assert nbrs[2].tolist()[0] == 2 and w[2, 1:].tolist() == [0.0, 0.0] and nbrs[2, 1:].tolist() == [2, 2]
    assert w[3].tolist() == [0.0, 0.0, 0.0] and nbrs[4].tolist() == [4, 4, 4]
    with pytest.raises(ValueError, match="num_neighbors must be an int >= 1"):
        item_item_topk(data, 0)


@pytest.mark.parametrize("num_negatives", [2, 40])
def test_loss_matches_hand_computation(num_negatives):
    torch.manual_seed(0)
    data = tiny_split()
    m = UltraGCN(
        3,
        5,
        4,
        w1=0.1,
        w2=2.0,
        w3=0.3,
        w4=0.5,
        negative_weight=7.0,
        gamma=0.01,
        lambda_=0.2,
        init_std=0.5,
        generator=torch.Generator().manual_seed(1),
    )
    bu, bi = beta_vectors(data.user_degree(), data.item_degree())
    nbrs, omega = item_item_topk(data, 2)
    m.set_constraints(bu, bi, nbrs, omega)
    users, pos = torch.tensor([0, 1, 0]), torch.tensor([1, 2, 0])
    neg = torch.randint(0, 5, (3, num_negatives))
    U, I = m.user_embedding.detach(), m.item_embedding.detach()
    total = 0.0
    for b in range(3):
        u, i = int(users[b]), int(pos[b])
        s = float(U[u] @ I[i])
        total += (0.1 + 2.0 * bu[u] * bi[i]) * -math.log(1 / (1 + math.exp(-s)))
        negs = 0.0
        for j in neg[b].tolist():
            sj = float(U[u] @ I[j])
            negs += (0.3 + 0.5 * bu[u] * bi[j]) * -math.log(1 - 1 / (1 + math.exp(-sj)))
        total += 7.0 * negs / num_negatives
        for kk in range(2):
            j = int(nbrs[i, kk])
            total += 0.2 * -float(omega[i, kk]) * math.log(1 / (1 + math.exp(-float(U[u] @ I[j]))))
    total += 0.01 * 0.5 * float(U.pow(2).sum() + I.pow(2).sum())
    assert float(m.loss(PairBatch(users, pos, neg)).detach()) == pytest.approx(float(total), rel=1e-5)


def test_dense_and_gather_negative_paths_agree():
    m = UltraGCN(4, 300, 8, init_std=0.3, generator=torch.Generator().manual_seed(0))
    u = m.user_embedding[torch.tensor([0, 3])]
    neg = torch.randint(0, 300, (2, 50))
    dense = (u @ m.item_embedding.T).gather(1, neg)
    gather = torch.bmm(m.item_embedding[neg.reshape(-1)].view(2, 50, 8), u.unsqueeze(2)).squeeze(2)
    torch.testing.assert_close(m._negative_scores(u, neg), dense)  # 300 <= 64 * 50: dense path
    torch.testing.assert_close(dense, gather)
    few = neg[:, :2]  # 300 > 64 * 2: the gather path
    torch.testing.assert_close(m._negative_scores(u, few), (u @ m.item_embedding.T).gather(1, few))


def test_trainer_improves_and_schedule_is_official():
    data = make_synthetic(300, 200, mean_items=15, generator=torch.Generator().manual_seed(1))
    cfg = get_preset("ultragcn", "synthetic", embedding_dim=16, batch_size=512)
    tr = build_trainer("ultragcn", data, cfg, seed=0)
    start = tr.evaluate()["recall@20"]
    for _ in range(6):
        tr.train_epoch()
    assert tr.evaluate()["recall@20"] > start + 0.1
    official = build_trainer("ultragcn", data, get_preset("ultragcn", "ml-1m", embedding_dim=4), seed=0)
    due = []
    for epoch in range(1, 60):
        official.epoch = epoch
        due.append(official.eval_due())
    # 0-based epochs 0, 5, ..., 45 and every epoch from 50 on
    assert [e for e, d in zip(range(1, 60), due) if d] == [1, 6, 11, 16, 21, 26, 31, 36, 41, 46] + list(range(51, 60))


def test_presets_and_unknown_names():
    cfg = get_preset("ultragcn", "amazon-electronics")
    assert (cfg.batch_size, cfg.negative_num, cfg.sift_pos, cfg.gamma, cfg.early_stop) == (2048, 75, True, 5e-5, 250)
    assert get_preset("ultragcn", "ml-1m").embedding_dim == 128
    assert get_preset("lightgcn", "gowalla", lr=0.01).lr == 0.01
    with pytest.raises(ValueError, match=r"no ultragcn preset for dataset 'lastfm' \(valid: "):
        get_preset("ultragcn", "lastfm")
    with pytest.raises(ValueError, match="model must be one of"):
        get_preset("ngcf", "gowalla")
    with pytest.raises(ValueError, match=r"unknown lightgcn option\(s\) \['negative_num'\]"):
        get_preset("lightgcn", "gowalla", negative_num=3)


def test_sampled_scores_sparse_backward_matches_dense_autograd():
    from graphnets.recsys.sampled_scores import sampled_scores

    g = torch.Generator().manual_seed(4)
    u = torch.randn(9, 3, dtype=torch.float64, generator=g).requires_grad_()
    v = torch.randn(13, 3, dtype=torch.float64, generator=g).requires_grad_()
    items = torch.randint(0, 13, (9, 6), generator=g)
    items[0, :4] = 5  # repeated negatives accumulate
    torch.autograd.gradcheck(lambda a, b: sampled_scores(a, b, items), (u, v))
    w = torch.randn(9, 6, dtype=torch.float64, generator=g)
    (sampled_scores(u, v, items) * w).sum().backward()
    gu, gv = u.grad.clone(), v.grad.clone()
    u.grad = v.grad = None
    ((u @ v.T).gather(1, items) * w).sum().backward()
    torch.testing.assert_close(gu, u.grad)
    torch.testing.assert_close(gv, v.grad)
    with pytest.raises(ValueError, match=r"items must be \[B, N\] with B = 9"):
        sampled_scores(u, v, items[:3])
