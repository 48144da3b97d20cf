"""Fixtures of the cuda_ext tests: ``device`` runs a test on the CPU and, marked ``cuda``, on the GPU."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request) -> torch.device:
    return torch.device(request.param)
