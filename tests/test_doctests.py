"""The examples in the library's docstrings run and print what they show (``help()`` must not lie).

Every module of the four packages whose source holds a ``>>>`` example is imported and its
doctests run (ELLIPSIS and NORMALIZE_WHITESPACE on; ``# doctest: +SKIP`` for what needs a GPU or
real data). A module that stops importing, or an example that raises or prints something else,
fails here with doctest's report.
"""

import doctest
import importlib

import pytest

from tests.helpers import REPO

PACKAGES = ("cuda_ext", "sampling", "graphnets", "spiking")


def modules_with_examples() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if ">>>" in path.read_text():
                parts = path.relative_to(REPO).with_suffix("").parts
                names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = modules_with_examples()


def test_examples_were_found():
    assert len(MODULES) >= 20, MODULES  # the collector must not silently find nothing


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=report.append)
    assert runner.failures == 0, f"{name}: {runner.failures} of {runner.tries} examples failed\n" + "".join(report)
