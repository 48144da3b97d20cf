"""Helpers shared by the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """The real-data folder: ``$GRAPHSPIKE_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("GRAPHSPIKE_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def data_path(name: str) -> Path:
    """``data_root() / name``, or skip the calling test when it is absent."""
    path = data_root() / name
    if not path.exists():
        pytest.skip(f"real data {name!r} not found under {data_root()} (set GRAPHSPIKE_DATA)")
    return path


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible)")


def load_example(name: str):
    """Import ``examples/<name>.py`` as the module ``<name>_example``.

    It is registered in ``sys.modules`` because dataclasses resolve their module through it.
    """
    import importlib.util
    import sys

    examples = str(REPO / "examples")
    if examples not in sys.path:  # examples import their shared layer: ``from _run import ...``
        sys.path.insert(0, examples)
    spec = importlib.util.spec_from_file_location(f"{name}_example", REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
