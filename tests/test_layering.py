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


def resolved_imports(path: Path) -> set[str]:
    """Absolute module names imported by ``path``, relative imports resolved against its package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    package = parts[:-1]  # a module's package; an ``__init__``'s package is its own folder
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                names.add(".".join([*base, node.module]))
            else:  # ``from . import x`` imports sub-modules
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


# Within a top-level package, sub-packages also point down. The neuron core sits under every spiking
# model; attention blocks use only neurons; energy estimation and datasets know no model (energy
# works on any nn.Module); graph model families do not import each other (they share graphnets.conv).
SPIKING_MODELS = ("spiking.models", "spiking.attention", "spiking.diffusion", "spiking.delays", "spiking.training")
GRAPH_MODELS = ("graphnets.node", "graphnets.ckgconv", "graphnets.protein", "graphnets.recsys")
SUB_FORBIDDEN = {
    "spiking/neurons": (*SPIKING_MODELS, "spiking.datasets", "spiking.energy", "spiking.encoding"),
    "spiking/attention": (
        "spiking.models",
        "spiking.diffusion",
        "spiking.delays",
        "spiking.training",
        "spiking.datasets",
    ),
    "spiking/energy": (*SPIKING_MODELS, "spiking.datasets"),
    "spiking/datasets": (*SPIKING_MODELS, "spiking.neurons", "spiking.energy"),
    **{model.replace(".", "/"): tuple(m for m in GRAPH_MODELS if m != model) for model in GRAPH_MODELS},
}


@pytest.mark.parametrize("subpackage", sorted(SUB_FORBIDDEN))
def test_subpackages_point_down(subpackage):
    offenders = []
    for path in sorted((REPO / subpackage).rglob("*.py")):
        bad = sorted(m for m in resolved_imports(path) if m.startswith(SUB_FORBIDDEN[subpackage]))
        if bad:
            offenders.append(f"{path.relative_to(REPO)} imports {bad}")
    assert not offenders, "layering violated:\n" + "\n".join(offenders)


def test_resolved_imports_sees_relative_imports(tmp_path, monkeypatch):
    """The checker itself: a relative import of a forbidden sibling is caught (so the test above can fail)."""
    import tests.test_layering as layering

    pkg = tmp_path / "spiking" / "neurons"
    pkg.mkdir(parents=True)
    (pkg / "bad.py").write_text("from ..models import sdt\nfrom . import lif\n")
    monkeypatch.setattr(layering, "REPO", tmp_path)
    assert layering.resolved_imports(pkg / "bad.py") == {"spiking.models", "spiking.neurons.lif"}
    with pytest.raises(AssertionError, match="spiking.models"):
        layering.test_subpackages_point_down("spiking/neurons")


def test_cuda_ext_does_not_touch_the_gpu_at_import():
    import subprocess
    import sys

    code = "import torch, cuda_ext, sampling; print(torch.cuda.is_initialized())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("folder", ["benchmarks", "examples"])
def test_no_script_shadows_a_package(folder):
    """``python benchmarks/x.py`` puts ``benchmarks/`` first on sys.path: a ``sampling.py`` there would
    be imported instead of the ``sampling`` package by everything the script imports."""
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()} | {"torch", "numpy"}
    shadowing = sorted(p.name for p in (REPO / folder).glob("*.py") if p.stem in packages)
    assert not shadowing, f"{folder}/ scripts named like importable packages: {shadowing}"
