"""Every public class of graphnets carries its own docstring, so ``help(Model)`` shows the math and the shapes."""

import importlib
import inspect

import pytest

PACKAGES = ("graphnets.conv", "graphnets.node", "graphnets.ckgconv", "graphnets.protein", "graphnets.recsys")


def public_classes():
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield pytest.param(obj, id=f"{pkg}.{name}")


@pytest.mark.parametrize("cls", list(public_classes()))
def test_class_has_its_own_docstring(cls):
    doc = cls.__dict__.get("__doc__")
    assert doc and doc.strip(), f"{cls.__module__}.{cls.__qualname__} has no class docstring"
