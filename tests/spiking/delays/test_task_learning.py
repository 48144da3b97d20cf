"""The offset task needs delays: the delay network learns it, the same network without delays cannot."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import DelayTask, evaluate, get_recipe, pad_collate, set_sigma, train_epoch


def _train(mode: str, seed: int = 0, epochs: int = 12) -> float:
    recipe = get_recipe("delay-task", delays=mode, epochs=epochs)
    g = torch.Generator().manual_seed(seed)
    train, test = DelayTask(1000, generator=g), DelayTask(500, generator=g)
    torch.manual_seed(seed)
    model = recipe.build_model(train.num_channels, train.num_classes, generator=g)
    opts, scheds = recipe.optimizers(model)
    sigma = recipe.sigma_schedule()
    loader = torch.utils.data.DataLoader(train, batch_size=recipe.batch_size, shuffle=True, collate_fn=pad_collate)
    for epoch in range(epochs):
        set_sigma(model, sigma(epoch))
        train_epoch(model, loader, opts)
        for s in scheds:
            s.step()
    return evaluate(model, torch.utils.data.DataLoader(test, batch_size=250, collate_fn=pad_collate))["acc"]


@pytest.mark.slow
def test_delays_solve_what_no_delays_cannot():
    learned, none = _train("learn"), _train("none")
    assert learned >= 0.9, learned  # rounded integer delays, held-out samples
    assert none <= 0.35, none  # 4 classes: chance 0.25
