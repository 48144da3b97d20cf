"""Suite-wide settings: deterministic seeds and the CUDA-test policy.

CUDA-test policy, for every test marked ``cuda``:

* no CUDA GPU visible: skipped, with that reason (CPU machines, CI);
* a GPU is visible but graphspike's compiled extension is unusable (not built, stale, or built
  for another GPU architecture): the test FAILS with the reason. On a GPU machine a green CUDA
  suite must mean the kernels ran, not that every kernel test skipped;
* ``GRAPHSPIKE_SKIP_CUDA_TESTS=1``: skipped on purpose (a GPU user who does not build).
"""

from __future__ import annotations

import os

import pytest
import torch

pytest_plugins = ("pytester",)  # tests/test_cuda_policy.py runs this policy on a simulated machine

SKIP_ENV = "GRAPHSPIKE_SKIP_CUDA_TESTS"


def cuda_test_policy(gpu_visible: bool, extension: tuple[bool, str], skip_requested: bool) -> tuple[str, str]:
    """``("run" | "skip" | "fail", reason)`` for a ``cuda`` test on this machine."""
    if not gpu_visible:
        return "skip", "CUDA test: no CUDA GPU on this machine"
    if skip_requested:
        return "skip", f"CUDA test: skipped on request ({SKIP_ENV}=1)"
    available, reason = extension
    if not available:
        return "fail", (
            f"CUDA test on a machine with a GPU, but graphspike's compiled extension is unavailable "
            f"({reason}); run `python -m cuda_ext build`, or set {SKIP_ENV}=1 to skip CUDA tests"
        )
    return "run", ""


def _policy() -> tuple[str, str]:
    gpu = torch.cuda.is_available()
    if not gpu:
        return cuda_test_policy(False, (False, ""), False)
    from cuda_ext import _backend

    return cuda_test_policy(True, _backend.extension_status(), os.environ.get(SKIP_ENV, "") not in ("", "0"))


def pytest_collection_modifyitems(config, items):
    cuda_items = [item for item in items if "cuda" in item.keywords]
    if not cuda_items:
        return
    action, reason = _policy()
    for item in cuda_items:
        if action == "skip":
            item.add_marker(pytest.mark.skip(reason=reason))
        elif action == "fail":
            item.user_properties.append(("cuda_policy_failure", reason))


def pytest_runtest_call(item):  # runs before the test body, so the test is reported FAILED
    for key, reason in item.user_properties:
        if key == "cuda_policy_failure":
            pytest.fail(reason, pytrace=False)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
