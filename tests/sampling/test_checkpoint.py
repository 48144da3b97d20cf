import copy

import torch
from torch import nn

from sampling.checkpoint import TrainerState


class _Trainer(TrainerState):
    def __init__(self, seed: int) -> None:
        torch.manual_seed(seed)
        self.model = nn.Linear(3, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.5)
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch = 0

    def step(self) -> None:
        x = torch.randn(4, 3, generator=self.generator)
        self.optimizer.zero_grad()
        self.model(x).square().sum().backward()
        self.optimizer.step()
        self.scheduler.step()
        self.epoch += 1


def test_state_dict_keys():
    assert set(_Trainer(0).state_dict()) == {"model", "optimizer", "scheduler", "generator", "epoch"}


def test_resume_is_bitwise():
    a = _Trainer(0)
    a.step()
    state = copy.deepcopy(a.state_dict())  # as torch.save / torch.load: no tensor shared with a
    b = _Trainer(1)  # different weights, generator and schedule until loaded
    b.load_state_dict(state)
    assert b.epoch == 1
    a.step()
    b.step()
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert a.scheduler.get_last_lr() == b.scheduler.get_last_lr()
    assert torch.equal(a.generator.get_state(), b.generator.get_state())
