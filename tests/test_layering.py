"""Imports only point down: examples/benchmarks -> graphnets, spiking -> sampling -> cuda_ext -> torch."""
import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

FORBIDDEN = {
    "cuda_ext": {"sampling", "graphnets", "spiking", "examples", "benchmarks", "tests"},
    "sampling": {"graphnets", "spiking", "examples", "benchmarks", "tests"},
    "spiking": {"graphnets", "examples", "benchmarks", "tests"},
    "graphnets": {"examples", "benchmarks", "tests"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down(package):
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        bad = imported_top_levels(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {sorted(bad)}")
    assert not offenders, "layering violated:\n" + "\n".join(offenders)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_conv_layers_sit_below_the_models():
    """graphnets.conv is the layer library the models, samplers and pipeline stages build on: it imports no model."""
    models = ("graphnets.node", "graphnets.ckgconv", "graphnets.protein", "graphnets.recsys")
    offenders = []
    for path in sorted((REPO / "graphnets" / "conv").rglob("*.py")):
        bad = sorted(m for m in imported_modules(path) if m.startswith(models))
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {bad}")
    assert not offenders, "layering violated:\n" + "\n".join(offenders)


def test_cuda_ext_does_not_touch_the_gpu_at_import():
    import subprocess
    import sys

    code = "import torch, cuda_ext, sampling; print(torch.cuda.is_initialized())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
