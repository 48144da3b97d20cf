"""spiking.training.run_sequence_epoch: per-step (TET) training, mean-logit evaluation, rates, non-finite checks."""

from __future__ import annotations

import copy

import pytest
import torch
from spikingjelly.activation_based import functional
from torch.utils.data import DataLoader

from sampling.finite import NonFiniteError
from spiking.datasets import SyntheticEvents
from spiking.models import get_transformer_config
from spiking.training import run_sequence_epoch, time_major_collate


def _setup(tet=True):
    torch.manual_seed(0)
    cfg = get_transformer_config("nmnist", T=4, chunk_size=2, embed_dim=16, num_heads=2, tet=tet)
    data = SyntheticEvents(12, T=4, seed=1)
    return cfg, cfg.build_model(), DataLoader(data, 6, collate_fn=time_major_collate)


def _by_hand(model, loader, cfg, optimizer):
    """The loop written out: loss before the step, reset after each batch, argmax of the mean logits."""
    total, correct, n = 0.0, 0, 0
    model.train(optimizer is not None)
    for x, y in loader:
        z = model.forward_seq(x)  # [T, B, K]
        loss = cfg.loss(z, y) if optimizer is not None else torch.nn.functional.cross_entropy(z.mean(0), y)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        functional.reset_net(model)
        total += float(loss.detach()) * y.numel()
        correct += int((z.mean(0).argmax(1) == y).sum())
        n += y.numel()
    return total / n, correct / n


@pytest.mark.parametrize("tet", [True, False])
def test_training_pass_matches_the_loop_written_out(tet):
    cfg, model, loader = _setup(tet)
    twin = copy.deepcopy(model)
    opt, opt2 = cfg.make_optimizer(model.parameters()), cfg.make_optimizer(twin.parameters())
    out = run_sequence_epoch(model, loader, cfg.loss, optimizer=opt)
    loss, acc = _by_hand(twin, loader, cfg, opt2)
    assert out["loss"] == pytest.approx(loss, rel=1e-6, abs=1e-7) and out["acc"] == acc and out["samples"] == 12
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))
    assert "blocks.0.attn.attn.qkv.lif" in out["rates"] and all(0.0 <= r <= 1.0 for r in out["rates"].values())


def test_evaluation_is_plain_cross_entropy_of_the_mean_logits_and_leaves_weights_alone():
    cfg, model, loader = _setup(tet=True)
    before = copy.deepcopy(model.state_dict())
    out = run_sequence_epoch(model, loader, cfg.loss)
    loss, acc = _by_hand(copy.deepcopy(model), loader, cfg, None)
    assert out["loss"] == pytest.approx(loss, rel=1e-6) and out["acc"] == acc and not model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert not any(h for m in model.modules() for h in m._forward_hooks.values())  # monitor hooks removed


def test_bad_arguments():
    cfg, model, loader = _setup()
    with pytest.raises(TypeError, match=r"run_sequence_epoch: model must have a forward_seq method \(got Linear\)"):
        run_sequence_epoch(torch.nn.Linear(2, 2), loader, cfg.loss)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        run_sequence_epoch(model, loader, None)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        run_sequence_epoch(model, loader, cfg.loss, optimizer="adam")
    with pytest.raises(ValueError, match="at least one sample"):
        run_sequence_epoch(model, [], cfg.loss)


def test_non_finite_input_loss_and_weights_name_the_caller():
    cfg, model, loader = _setup()
    x, y = next(iter(loader))
    before = copy.deepcopy(model.state_dict())
    opt = cfg.make_optimizer(model.parameters())
    with pytest.raises(NonFiniteError, match=r"demo \(epoch 1 train\), batch 0: .*input batch must be finite"):
        run_sequence_epoch(model, [(x * float("nan"), y)], cfg.loss, optimizer=opt, where="demo (epoch 1 train)")
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # no step taken
    with pytest.raises(NonFiniteError, match=r"demo: non-finite loss"):
        run_sequence_epoch(model, loader, lambda z, t: z.sum() * float("inf"), optimizer=opt, where="demo")
    name, first = next(iter(model.named_parameters()))
    with torch.no_grad():
        first.fill_(float("nan"))
    with pytest.raises(NonFiniteError, match=rf"demo: (non-finite loss|parameter '{name}' became non-finite)"):
        run_sequence_epoch(model, loader, cfg.loss, optimizer=opt, where="demo")
