"""DiffusionTrainer: deterministic steps, exact resume, EMA sampling, config validation."""

import pytest
import torch

from spiking.datasets.images import IMAGE_SETS, ImageTensorDataset
from spiking.diffusion import DiffusionTrainer, GaussianDiffusion, TrainConfig, UNet


def data():
    return ImageTensorDataset(
        torch.randint(0, 256, (20, 1, 8, 8), dtype=torch.uint8), torch.zeros(20), IMAGE_SETS["digits"]
    )


def trainer(seed=0):
    torch.manual_seed(0)
    ddpm = GaussianDiffusion(UNet(image_channels=1, ch=8, ch_mult=(1, 2), num_res_blocks=1), num_steps=50)
    return DiffusionTrainer(
        ddpm, data(), TrainConfig(lr=1e-3, batch_size=4, ema_decay=0.9, hflip=True), torch.Generator().manual_seed(seed)
    )


def test_resume_reproduces_the_uninterrupted_run():
    a = trainer()
    losses = [a.step() for _ in range(4)]
    b = trainer()
    b.step(), b.step()
    c = trainer(seed=99)
    c.load_state_dict(b.state_dict())
    assert [c.step(), c.step()] == losses[2:] and c.steps == 4
    x = c.ema_diffusion().sample((2, 1, 8, 8), sampler="ddim", steps=3, generator=torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 8, 8)
    assert not torch.equal(a.ema.module.head_conv.conv.weight, a.diffusion.model.head_conv.conv.weight)


def test_trainer_and_config_errors():
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=0.0)
    with pytest.raises(TypeError, match="GaussianDiffusion"):
        DiffusionTrainer(torch.nn.Linear(1, 1), data())


def test_non_finite_loss_names_the_step_before_the_update():
    t = trainer()
    t.step()
    with torch.no_grad():  # a diverged model (uint8 images cannot carry NaN in)
        next(iter(t.diffusion.model.parameters())).fill_(float("inf"))
    ema_before = {k: v.clone() for k, v in t.ema.module.state_dict().items()}
    with pytest.raises(FloatingPointError, match="DiffusionTrainer.step: non-finite (loss|gradient norm) .* at step 2"):
        t.step()
    assert t.steps == 1  # no update counted, and the EMA model never saw the diverged weights
    assert all(torch.equal(v, ema_before[k]) for k, v in t.ema.module.state_dict().items())
