"""spiking.training.SpikingTransformerTrainer: the recipe's optimizer/schedule, loaders, exact resume."""

from __future__ import annotations

import copy

import pytest
import torch

from spiking.datasets import SyntheticEvents
from spiking.models import get_transformer_config
from spiking.training import SpikingTransformerTrainer


def _trainer(epochs=3):
    torch.manual_seed(0)
    cfg = get_transformer_config("nmnist", T=4, chunk_size=2, embed_dim=16, num_heads=2, batch_size=8, epochs=epochs)
    data = SyntheticEvents(16, T=4, seed=1), SyntheticEvents(8, T=4, seed=2)
    return SpikingTransformerTrainer(cfg.build_model(), cfg, *data, torch.Generator().manual_seed(0))


def test_recipe_schedule_and_exact_resume():
    a = _trainer()
    assert isinstance(a.optimizer, torch.optim.AdamW) and a.lr == pytest.approx(a.config.lr * a.config.lr_factor(0))
    a.train_epoch()
    a.step_schedule()
    assert a.epoch == 1 and a.lr == pytest.approx(a.config.lr * a.config.lr_factor(1))
    state = copy.deepcopy(a.state_dict())
    assert set(state) == {"model", "optimizer", "scheduler", "generator", "epoch"}
    rng = torch.get_rng_state()
    first = [a.train_epoch()["loss"] for _ in range(2)]
    b = _trainer()
    b.load_state_dict(state)
    torch.set_rng_state(rng)
    assert [b.train_epoch()["loss"] for _ in range(2)] == first and b.epoch == 1 and b.lr == a.lr
    ev = b.evaluate()
    assert ev["samples"] == 8 and 0.0 <= ev["acc"] <= 1.0 and "blocks.0.attn.attn.attn_lif" in ev["rates"]


def test_bad_arguments():
    t = _trainer()
    with pytest.raises(TypeError, match=r"config must be a SpikingTransformerConfig \(got dict\)"):
        SpikingTransformerTrainer(t.model, {}, [], [], torch.Generator())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        SpikingTransformerTrainer(t.model, t.config, [], [], 0)
    with pytest.raises(ValueError, match=r"workers must be an int >= 0 \(got -1\)"):
        SpikingTransformerTrainer(t.model, t.config, [], [], torch.Generator(), workers=-1)
