"""The CUDA-test policy of ``tests/conftest.py``, run on simulated machines with pytester."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cuda_ext import _backend

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
SUITE = """
import pytest

@pytest.mark.cuda
def test_kernel():
    pass

def test_cpu():
    pass
"""


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(CONFTEST.read_text().replace('pytest_plugins = ("pytester",)', ""))
    pytester.makeini("[pytest]\nmarkers =\n    cuda: needs a CUDA GPU\n")
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def _simulate(monkeypatch, gpu: bool, extension: tuple[bool, str]):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    monkeypatch.setattr(_backend, "extension_status", lambda: extension)


def test_gpu_without_extension_fails_cuda_tests(suite, monkeypatch):
    _simulate(monkeypatch, True, (False, "not built (simulated)"))
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*extension is unavailable (not built (simulated))*python -m cuda_ext build*"])


def test_gpu_without_extension_can_skip_on_request(suite, monkeypatch):
    _simulate(monkeypatch, True, (False, "not built (simulated)"))
    monkeypatch.setenv("GRAPHSPIKE_SKIP_CUDA_TESTS", "1")
    suite.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, skipped=1)


def test_no_gpu_skips_cuda_tests(suite, monkeypatch):
    _simulate(monkeypatch, False, (False, "not built"))
    result = suite.runpytest_inprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*no CUDA GPU on this machine*"])


def test_gpu_with_extension_runs_cuda_tests(suite, monkeypatch):
    _simulate(monkeypatch, True, (True, "loaded (simulated)"))
    suite.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
