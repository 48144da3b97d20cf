"""Configs: validation, and one training step end to end on tiny files in the real formats."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from spikingjelly.activation_based import functional
from torch.utils.data import DataLoader

from spiking.datasets import CIFAR10DVS, DVS128Gesture, NCaltech101
from spiking.datasets.cifar10_dvs import CLASSES
from spiking.models import TRANSFORMER_CONFIGS, SpikeDrivenTransformer, get_transformer_config
from tests.spiking.formats import write_aedat2_cifar, write_aedat3, write_atis_bin, write_gesture_csv


def _events(n, W, H, seed):
    g = np.random.default_rng(seed)
    return (np.sort(g.integers(0, 50_000, n)), g.integers(0, W, n), g.integers(0, H, n), g.integers(0, 2, n))


def cifar10dvs_root(root: Path) -> Path:
    for c, cls in enumerate(CLASSES):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            write_aedat2_cifar(root / cls / f"cifar10_{cls}_{i}.aedat", *_events(300, 128, 128, 10 * c + i))
    return root


def ncaltech101_root(root: Path) -> Path:
    for c, cls in enumerate(("accordion", "airplanes", "anchor")):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            write_atis_bin(root / cls / f"image_{i + 1:04d}.bin", *_events(400, 240, 180, 10 * c + i))
    return root


def gesture_root(root: Path) -> Path:
    root = root / "DvsGesture"
    root.mkdir(parents=True)
    for user, classes in (("user01_led", (1, 5)), ("user02_led", (11,))):
        t, x, y, p = _events(600, 128, 128, len(classes))
        write_aedat3(root / f"{user}.aedat", [(t, x, y, p, 0)], with_special_packet=False)
        bounds = np.linspace(t[0], t[-1], len(classes) + 1).astype(int)
        write_gesture_csv(root / f"{user}_labels.csv", [(c, bounds[i], bounds[i + 1]) for i, c in enumerate(classes)])
    (root / "trials_to_train.txt").write_text("user01_led.aedat\nuser02_led.aedat\n")
    (root / "trials_to_test.txt").write_text("user02_led.aedat\n")
    return root.parent


def dataset(cfg, root):
    name = cfg.dataset
    kw = {"T": cfg.T, "split_by": "number", "transform": cfg.transform()}
    if name == "cifar10-dvs":
        return CIFAR10DVS(cifar10dvs_root(root), train=True, split="9:1", **kw)
    if name == "ncaltech101":
        return NCaltech101(ncaltech101_root(root), **kw)
    return DVS128Gesture(gesture_root(root), train=True, **kw)


def time_major(batch):
    return torch.stack([b[0] for b in batch], 1), torch.tensor([b[1] for b in batch])  # [T, B, C, H, W], [B]


def one_step(cfg, ds):
    """One optimisation step of the config's model, loss and optimizer on the first batch of ``ds``."""
    torch.manual_seed(0)
    model = cfg.build_model()
    opt = cfg.make_optimizer(model.parameters())
    x, y = next(iter(DataLoader(ds, batch_size=2, shuffle=False, collate_fn=time_major)))
    expected = (cfg.T, 2, cfg.in_channels, *(cfg.img_size or ds.sensor_size[::-1]))
    assert tuple(x.shape) == expected and x.sum() > 0
    before = [p.detach().clone() for p in model.parameters()]
    logits = model.forward_seq(x)
    loss = cfg.loss(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    functional.reset_net(model)
    assert logits.shape == (cfg.T, 2, cfg.num_classes) and torch.isfinite(loss)
    assert sum(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters())) > 0.9 * len(before)
    return loss


@pytest.mark.parametrize("name", ["cifar10-dvs-t10", "ncaltech101-t16", "dvs128-gesture-t16"])
def test_one_training_step_on_real_formats(name, tmp_path):
    # the config's data path, resize, T, chunk, pooling, DVS pool, loss and optimizer; a narrow model
    cfg = get_transformer_config(name, embed_dim=16, num_heads=2)
    one_step(cfg, dataset(cfg, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cifar10-dvs-t10", "ncaltech101-t10", "dvs128-gesture-t10"])
def test_one_training_step_full_width(name, tmp_path):
    cfg = get_transformer_config(name)  # exactly the published width and depth
    one_step(cfg, dataset(cfg, tmp_path))


def test_configs_are_the_sources():
    c = TRANSFORMER_CONFIGS["cifar10-dvs-t10"]
    assert (c.T, c.chunk_size, c.img_size, c.embed_dim, c.depth, c.num_heads, c.pooling) == (
        10,
        5,
        (64, 64),
        256,
        2,
        8,
        "0011",
    )
    assert c.tet and (c.tet_means, c.tet_lamb) == (1.0, 0.001) and c.scale == "event" and c.dvs_pool
    assert (TRANSFORMER_CONFIGS["cifar10-dvs-t16"].T, TRANSFORMER_CONFIGS["cifar10-dvs-t16"].chunk_size) == (16, 4)
    assert TRANSFORMER_CONFIGS["ncaltech101-t10"].resize_mode == "nearest"
    assert TRANSFORMER_CONFIGS["dvs128-gesture-t16"].pooling == "0111"
    for cfg in TRANSFORMER_CONFIGS.values():
        assert cfg.source and cfg.T % cfg.chunk_size == 0
    m = c.build_model()
    assert isinstance(m, SpikeDrivenTransformer) and m.blocks[0].attn.attn.attention == "statten"


def test_bad_config():
    with pytest.raises(ValueError, match=r"chunk_size must divide the number of time steps T \(got T=10, chunk_size=4"):
        get_transformer_config("cifar10-dvs-t10", chunk_size=4)
    with pytest.raises(ValueError, match="num_heads must divide"):
        get_transformer_config("cifar10-dvs-t10", num_heads=7)
    with pytest.raises(ValueError, match="name must be one of"):
        get_transformer_config("cifar100")
    with pytest.raises(ValueError, match="model must be one of"):
        get_transformer_config("cifar10-dvs-t10", model="vit")
    with pytest.raises(TypeError):
        get_transformer_config("cifar10-dvs-t10", colour=True)
    with pytest.raises(AttributeError):  # frozen
        TRANSFORMER_CONFIGS["cifar10-dvs-t10"].T = 4


def test_schedule_warms_up_then_follows_the_cosine_to_min_lr():
    cfg = get_transformer_config("cifar10-dvs-t10", epochs=20, warmup_epochs=4, lr=1e-2, min_lr=1e-4)
    f = [cfg.lr_factor(e) for e in range(20)]
    assert f[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])  # (e + 1) / (warm + 1)
    assert f[4] == pytest.approx(1.0) and all(a > b for a, b in zip(f[4:], f[5:]))
    assert f[12] == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 8 / 16)))
    assert min(f) > 0.01  # approaches min_lr / lr from above
    one = get_transformer_config("nmnist", epochs=1, warmup_epochs=5)  # warm-up capped at epochs - 1
    assert one.lr_factor(0) == 1.0
    opt = cfg.make_optimizer(torch.nn.Linear(2, 2).parameters())
    sched = cfg.make_scheduler(opt)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx([1e-2 * v for v in f[:6]])
    with pytest.raises(ValueError, match=r"lr_factor: epoch must be an int >= 0 \(got -1\)"):
        cfg.lr_factor(-1)
