"""cuda_ext.host_memory: argument errors and no-GPU behaviour (CPU); on CUDA, register -> gather ->
unregister, a failed registration that is reported AND cleared (the next kernel launch must not
inherit it), read-only mappings -- through the extension and through the torch.cuda.cudart() path."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from cuda_ext.gather import gather_rows
from cuda_ext.host_memory import host_register, host_unregister, is_pinned_range

host_memory = importlib.import_module("cuda_ext.host_memory")


@pytest.fixture(params=["extension", pytest.param("cudart", id="cudart")])
def registration_path(request, monkeypatch):
    """The helpers through the compiled extension, or (monkeypatched away) through torch's cudart."""
    if request.param == "cudart":
        monkeypatch.setattr(host_memory, "extension", lambda: None)
    return request.param


def test_bad_arguments():
    with pytest.raises(ValueError, match="host_register: expected a positive pointer and size"):
        host_register(0, 10)
    with pytest.raises(ValueError, match="host_register: expected a positive pointer and size"):
        host_register(4096, -1)
    with pytest.raises(TypeError, match="is_pinned_range: expected a tensor"):
        is_pinned_range([1.0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a CUDA device")
def test_without_a_gpu_says_why():
    table = torch.zeros(4, 4)
    with pytest.raises(RuntimeError, match="needs a CUDA driver and device"):
        host_register(table.data_ptr(), table.nbytes)
    with pytest.raises(RuntimeError, match="needs a CUDA driver and device"):
        host_unregister(table.data_ptr())
    assert not is_pinned_range(table)


@pytest.mark.cuda
def test_register_gather_unregister(registration_path):
    table = torch.randn(3000, 24)
    host_register(table.data_ptr(), table.nbytes)
    try:
        assert table.is_pinned() and is_pinned_range(table)
        index = torch.randint(0, 3000, (5000,), device="cuda")
        torch.testing.assert_close(gather_rows(table, index, backend="cuda").cpu(), table[index.cpu()], rtol=0, atol=0)
    finally:
        host_unregister(table.data_ptr())
    assert not table.is_pinned() and not is_pinned_range(table)


@pytest.mark.cuda
def test_partly_registered_table_is_not_pinned_over_its_range(registration_path):
    table = torch.randn(4096, 256)  # 4 MiB; register the first MiB only (page-aligned start by the allocator)
    assert table.data_ptr() % 4096 == 0
    host_register(table.data_ptr(), 1 << 20)
    try:
        assert table.is_pinned()  # the first byte is
        assert not is_pinned_range(table)  # the last is not
        with pytest.raises(RuntimeError, match="page-locked over its whole range"):
            gather_rows(table, torch.tensor([4095], device="cuda"), backend="cuda")
    finally:
        host_unregister(table.data_ptr())


@pytest.mark.cuda
def test_failed_registration_is_reported_and_cleared(registration_path):
    table = torch.randn(512, 512)
    host_register(table.data_ptr(), table.nbytes)
    try:
        with pytest.raises(RuntimeError, match=r"host_register: cudaHostRegister of \d+ bytes at 0x[0-9a-f]+ failed"):
            host_register(table.data_ptr(), table.nbytes)  # already registered
        # the failure must not stay in the runtime's last-error slot: these launches check it
        torch.cuda.synchronize()
        assert float(torch.ones(1000, device="cuda").sum()) == 1000.0
        index = torch.tensor([511, 0], device="cuda")
        torch.testing.assert_close(gather_rows(table, index, backend="cuda").cpu(), table[[511, 0]], rtol=0, atol=0)
    finally:
        host_unregister(table.data_ptr())
    with pytest.raises(RuntimeError, match="host_unregister: cudaHostUnregister"):
        host_unregister(table.data_ptr())  # no longer registered
    assert float(torch.ones(10, device="cuda").sum()) == 10.0


@pytest.mark.cuda
def test_read_only_mapping_registers_with_the_read_only_flag(tmp_path, registration_path):
    path = tmp_path / "table.f32"
    data = np.random.default_rng(0).standard_normal((4096, 32)).astype(np.float32)
    data.tofile(path)
    mapped = np.memmap(path, dtype=np.float32, mode="r", shape=data.shape)
    with pytest.warns(UserWarning, match="not writable"):
        table = torch.from_numpy(mapped)  # [4096, 32], read-only pages
    try:
        host_register(table.data_ptr(), table.nbytes, read_only=True)
    except RuntimeError as err:
        if "cudaErrorNotSupported" in str(err):
            pytest.skip(f"this device cannot register read-only host memory ({err})")
        raise
    try:
        index = torch.randint(0, 4096, (1000,), device="cuda")
        want = torch.from_numpy(data)[index.cpu()]
        torch.testing.assert_close(gather_rows(table, index, backend="cuda").cpu(), want, rtol=0, atol=0)
    finally:
        host_unregister(table.data_ptr())
