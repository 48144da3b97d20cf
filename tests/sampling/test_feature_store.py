"""sampling.FeatureStore: every placement equals index_select; budget, lifetime and bad input."""

import numpy as np
import pytest
import torch

from sampling import FeatureStore, UnpinnableError
from sampling import pinned as pinned_module
from sampling.pinned import writable_range
from tests.sampling.fakes import FakeRuntime, read_only_tensor


def _table(rows=50, dim=6):
    return torch.randn(rows, dim, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def npy(tmp_path):
    path = tmp_path / "x.npy"
    table = _table()
    np.save(path, table.numpy())
    return path, table


@pytest.mark.parametrize("index", [[3, 0, 49, 3, 7], [], [10]])
def test_cpu_and_mmap_gather_equal_index_select(npy, index):
    path, table = npy
    idx = torch.tensor(index, dtype=torch.int64)
    for store in (FeatureStore(table, "cpu"), FeatureStore.from_file(path), FeatureStore(path, "cpu")):
        with store:
            torch.testing.assert_close(store.gather(idx), table.index_select(0, idx), rtol=0, atol=0)
            torch.testing.assert_close(store.gather_async(idx.int()).wait(), table[idx], rtol=0, atol=0)
            assert store.gather(idx).device.type == "cpu"


def test_mmap_keeps_the_table_on_disk(npy):
    path, _ = npy
    store = FeatureStore.from_file(path)
    table = store.table
    assert store.path == path and writable_range(table.data_ptr(), store.nbytes) is False  # a read-only mapping
    assert store.shape == (50, 6) and store.dtype == torch.float32 and store.nbytes == 50 * 6 * 4 and len(store) == 50


def test_memory_budget_refuses_resident_placements_but_not_mmap(npy):
    path, table = npy
    budget = table.numel() * 4 // 2  # the table is twice the budget
    with pytest.raises(ValueError, match=r"over memory_budget=600 \(got a too-large table\); use placement='mmap'"):
        FeatureStore(table, "cpu", memory_budget=budget)
    with FeatureStore.from_file(path, memory_budget=budget) as store:
        assert store.gather(torch.tensor([1])).shape == (1, 6)


def test_out_of_range_rows_raise_on_every_path(npy):
    path, table = npy
    for store in (FeatureStore(table), FeatureStore.from_file(path)):
        with pytest.raises(ValueError, match=r"FeatureStore.gather: row ids must lie in \[0, 50\) \(got min 0, max 50"):
            store.gather(torch.tensor([0, 50]))
        handle = store.gather_async(torch.tensor([-1]))  # launching does not raise ...
        with pytest.raises(ValueError, match="got min -1"):
            handle.wait()  # ... waiting does


def test_closed_store_raises():
    store = FeatureStore(_table())
    store.close()
    store.close()
    assert store.closed and "closed" in repr(store)
    for call in (
        lambda: store.gather(torch.tensor([0])),
        lambda: store.gather_async(torch.tensor([0])),
        lambda: store.table,
    ):
        with pytest.raises(ValueError, match="the store is closed"):
            call()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"placement": "gpu"}, ValueError, "placement must be one of"),
        ({"unpinnable": "ignore"}, ValueError, "unpinnable must be one of"),
        ({"memory_budget": -1}, ValueError, "memory_budget"),
        ({"placement": "mmap"}, ValueError, "placement='mmap' reads a file"),
        ({"device": "meta"}, ValueError, "CPU or CUDA device"),
    ],
)
def test_bad_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        FeatureStore(_table(), **kwargs)


def test_bad_table_and_index(tmp_path):
    with pytest.raises(TypeError, match="table must be a tensor"):
        FeatureStore([[1.0]])
    with pytest.raises(TypeError, match="table must be a tensor"):
        FeatureStore(torch.tensor(1.0))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FeatureStore(tmp_path / "missing.npy", "mmap")
    store = FeatureStore(_table())
    for bad in (torch.tensor([0.0]), torch.tensor([[0]]), [0]):
        with pytest.raises(TypeError, match="FeatureStore.gather: index must be a 1-D int64/int32 tensor"):
            store.gather(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
@pytest.mark.parametrize("placement", ["cuda", "pinned"])
def test_gpu_placements_without_a_gpu_say_so(placement):
    with pytest.raises(RuntimeError, match="needs a CUDA device"):
        FeatureStore(_table(), placement)


def test_pinned_placement_locks_in_place_and_close_unlocks():
    rt = FakeRuntime()
    table = _table(rows=2000, dim=16)
    with FeatureStore(table, "pinned", runtime=rt) as store:
        assert store.table.data_ptr() == table.data_ptr() and not store.copied  # no copy
        assert store.region.num_chunks == 1 and rt.registered
        torch.testing.assert_close(store.gather(torch.tensor([5, 1999])), table[[5, 1999]])
    assert rt.registered == {} and store.region.closed


def test_unpinnable_read_only_mapping(npy):
    path, table = npy
    mapped = read_only_tensor(path)
    rt = FakeRuntime(read_only=False)
    with pytest.raises(UnpinnableError, match=r"read-only memory .*unpinnable='copy'"):
        FeatureStore(mapped, "pinned", runtime=rt)
    assert not pinned_module._registry
    with pytest.warns(UserWarning, match="copying its 1200 bytes"):
        store = FeatureStore(mapped, "pinned", runtime=rt, unpinnable="copy")
    assert store.copied and store.table.data_ptr() != mapped.data_ptr() and rt.registered
    torch.testing.assert_close(store.gather(torch.tensor([4])), table[[4]])
    store.close()
    assert rt.registered == {}


# --- GPU -------------------------------------------------------------------------------------
@pytest.mark.cuda
@pytest.mark.parametrize("placement", ["cuda", "pinned", "cpu", "mmap"])
def test_gpu_gather_equals_index_select(npy, placement):
    path, table = npy
    source = path if placement == "mmap" else table.clone()
    idx = torch.tensor([3, 0, 49, 3, 7, 22])
    with FeatureStore(source, placement, device="cuda") as store:
        for index in (idx, idx.cuda(), idx.int().cuda()):
            out = store.gather(index)
            assert out.device.type == "cuda"
            torch.testing.assert_close(out.cpu(), table.index_select(0, idx), rtol=0, atol=0)
        handle = store.gather_async(idx.cuda())
        torch.testing.assert_close(handle.wait().cpu(), table[idx], rtol=0, atol=0)


@pytest.mark.cuda
@pytest.mark.parametrize("placement", ["cuda", "pinned"])
def test_gpu_async_bounds_check_raises_at_wait_without_syncing_at_launch(placement):
    table = _table(rows=1000, dim=32)
    bad = torch.tensor([1, 1000], device="cuda")
    with FeatureStore(table.clone(), placement) as store:
        store.gather(torch.tensor([0], device="cuda"))  # warm-up (side stream, allocator)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            handle = store.gather_async(bad)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        with pytest.raises(ValueError, match="row ids must lie in"):
            handle.wait()


@pytest.mark.cuda
def test_gpu_zero_copy_gather_equals_index_select_on_a_large_table():
    table = torch.randn(200_000, 96)
    idx = torch.randint(0, 200_000, (50_000,), device="cuda")
    with FeatureStore(table, "pinned") as store:
        out = store.gather(idx)
        torch.testing.assert_close(out.cpu(), table.index_select(0, idx.cpu()), rtol=0, atol=0)
        assert store.region.num_chunks >= 1 and table.is_pinned()
    assert not table.is_pinned()
