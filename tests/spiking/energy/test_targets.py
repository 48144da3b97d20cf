"""spiking.energy.targets.imported_target: models named by an import path, and its errors."""

from __future__ import annotations

import re

import pytest
import torch

from spiking.energy.targets import imported_target


def test_imported_target_torchvision_and_callable():
    g = torch.Generator().manual_seed(0)
    t = imported_target("torchvision:resnet18", (2, 3, 32, 32), g)
    assert t.name == "torchvision.resnet18" and t.example.shape == (2, 3, 32, 32) and t.per == ("sample", 2.0)
    t = imported_target("torch.nn:Identity", (4, 5), g, input_kind="spikes", rate=0.5, T=3)
    assert t.T == 3 and set(t.example.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize(
    "spec, shape, message",
    [
        ("resnet18", None, "expected torchvision:NAME or module:callable"),
        ("torchvision:no_such_net", None, "no_such_net"),
        ("no_such_module_xyz:f", (2,), "cannot import 'f' from 'no_such_module_xyz'"),
        ("torch.nn:Identity", None, "needs an input shape"),
        ("builtins:dict", (2,), "returning an nn.Module (got dict"),
    ],
)
def test_imported_target_errors(spec, shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        imported_target(spec, shape, torch.Generator())
