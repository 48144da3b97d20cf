"""Every public class of graphnets carries its own docstring, so ``help(Model)`` shows the math and the shapes."""
import importlib
import inspect

import pytest

PACKAGES = ("graphnets.conv", "graphnets.node", "graphnets.ckgconv", "graphnets.protein", "graphnets.recsys")
# SpikingGCN keeps its docstring on the module until the neuron-core rewrite of graphnets/node/spikinggcn.py
# lands; strict: once it moves to the class this test XPASSes and fails, so the marker cannot outlive the fix.
PENDING = {"graphnets.node.SpikingGCN"}


def public_classes():
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                key = f"{pkg}.{name}"
                pending = pytest.mark.xfail(strict=True, reason="docstring still on the module")
                yield pytest.param(obj, id=key, marks=[pending] if key in PENDING else [])


@pytest.mark.parametrize("cls", list(public_classes()))
def test_class_has_its_own_docstring(cls):
    doc = cls.__dict__.get("__doc__")
    assert doc and doc.strip(), f"{cls.__module__}.{cls.__qualname__} has no class docstring"
