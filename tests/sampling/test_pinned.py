"""sampling.pinned: page-boundary chunks, no double registration, release paths, error hygiene.

The bookkeeping runs against a fake CUDA runtime on the CPU; ``cuda`` tests repeat the key
properties with the real driver.
"""

import gc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import pinned
from sampling.pinned import (
    HOST_REGISTER_READ_ONLY,
    PinnedRegion,
    UnpinnableError,
    is_pinned_range,
    page_size,
    register_ranges,
    writable_range,
)
from tests.sampling.fakes import FakeEvent, FakeRuntime, read_only_tensor

PAGE = page_size()


def _table(pages=10, offset=0):
    base = torch.zeros(pages * PAGE + PAGE, dtype=torch.uint8)
    start = (-base.data_ptr()) % PAGE + offset  # page-aligned + offset inside the allocation
    return base[start : start + pages * PAGE - offset]


@settings(max_examples=200, deadline=None)
@given(base=st.integers(0, 1 << 20), nbytes=st.integers(0, 1 << 16), chunk_pages=st.integers(1, 6))
def test_register_ranges_cover_the_range_with_page_aligned_inner_boundaries(base, nbytes, chunk_pages):
    chunk = chunk_pages * PAGE
    ranges = register_ranges(base, nbytes, chunk, PAGE)
    assert sum(size for _, size in ranges) == nbytes
    pos = base
    for i, (start, size) in enumerate(ranges):
        assert start == pos and 0 < size <= chunk
        pos += size
        if i < len(ranges) - 1:
            assert pos % PAGE == 0  # no page shared by two registrations
    assert pos == base + nbytes


def test_region_registers_page_aligned_chunks_and_close_unregisters_all():
    rt = FakeRuntime()
    t = _table(pages=10, offset=100)
    region = PinnedRegion(t, chunk_bytes=3 * PAGE, runtime=rt)
    expected = register_ranges(t.data_ptr(), t.numel(), 3 * PAGE, PAGE)
    assert [(s, n) for _, s, n, _ in rt.log] == expected and region.num_chunks == len(expected) == 4
    assert is_pinned_range(t.data_ptr(), t.numel(), rt)
    assert region.tensor is t
    region.close()
    region.close()  # idempotent
    assert rt.registered == {} and region.closed and region.tensor is None
    assert not is_pinned_range(t.data_ptr(), t.numel(), rt)


def test_context_exit_and_finaliser_unregister():
    rt = FakeRuntime()
    t = _table()
    with PinnedRegion(t, runtime=rt) as region:
        assert region.num_chunks == 1
    assert rt.registered == {}
    region = PinnedRegion(t, runtime=rt)
    assert rt.registered
    del region
    gc.collect()
    assert rt.registered == {}


def test_no_double_registration_of_the_same_pages():
    rt = FakeRuntime()
    t = _table(pages=4)
    with PinnedRegion(t, runtime=rt):
        calls = rt.calls
        with pytest.raises(ValueError, match="overlaps a live PinnedRegion"):
            PinnedRegion(t, runtime=rt)
        with pytest.raises(ValueError, match="overlaps a live PinnedRegion"):
            PinnedRegion(t[PAGE : 2 * PAGE], runtime=rt)  # a view sharing pages
        assert rt.calls == calls  # refused before CUDA was called
    with PinnedRegion(t, runtime=rt) as again:  # released pages can be registered again
        assert again.num_chunks == 1


def test_close_waits_for_in_flight_gathers_first():
    rt = FakeRuntime()
    region = PinnedRegion(_table(), runtime=rt)
    region.track(FakeEvent(rt.log))
    region.close()
    assert [entry[0] for entry in rt.log] == ["register", "synchronize", "unregister"]
    with pytest.raises(ValueError, match="closed"):
        region.track(FakeEvent(rt.log))


def test_failed_registration_rolls_back_and_clears_the_error_flag():
    rt = FakeRuntime(fail_on_call=2)
    t = _table(pages=6)
    with pytest.raises(UnpinnableError, match=r"cudaHostRegister failed at byte .* \(got fake error 2"):
        PinnedRegion(t, chunk_bytes=2 * PAGE, runtime=rt)
    assert rt.last_error == 0  # the next kernel's launch check will not see it
    assert rt.registered == {}  # the first chunk was unregistered
    assert not pinned._registry
    with PinnedRegion(t, chunk_bytes=2 * PAGE, runtime=rt) as region:  # nothing left claimed
        assert region.num_chunks == 3


def test_read_only_mmap_is_refused_clearly_or_registered_read_only(tmp_path):
    path = tmp_path / "table.npy"
    np.save(path, np.arange(4 * PAGE, dtype=np.uint8))
    table = read_only_tensor(path)
    rt = FakeRuntime(read_only=False)
    with pytest.raises(UnpinnableError, match=r"read-only memory .*unpinnable='copy'"):
        PinnedRegion(table, runtime=rt)
    assert rt.calls == 0 and not pinned._registry
    rt = FakeRuntime(read_only=True)
    with PinnedRegion(table, runtime=rt) as region:
        assert region.read_only and all(flags & HOST_REGISTER_READ_ONLY for *_, flags in rt.log)


def test_writable_range_reads_the_mappings():
    maps = (
        "1000-3000 rw-p 00000000 00:00 0\n"
        "3000-4000 r--s 00000000 00:00 0 /data/x.npy\n"
        "5000-6000 rw-p 00000000 00:00 0\n"
    )
    assert writable_range(0x1000, 0x2000, maps) is True
    assert writable_range(0x2F00, 0x200, maps) is False  # runs into a read-only mapping
    assert writable_range(0x4800, 0x1000, maps) is False  # starts in a hole
    assert writable_range(0x5000, 0x2000, maps) is False  # runs past the last mapping
    assert writable_range(torch.zeros(10).data_ptr(), 40) is True


def test_pinnedness_is_checked_over_the_whole_range():
    rt = FakeRuntime()
    t = _table(pages=8)
    ptr = t.data_ptr()
    rt.foreign = [(ptr, ptr + 3 * PAGE), (ptr + 4 * PAGE, ptr + 8 * PAGE)]  # one page missing
    assert rt.is_host_registered(ptr) and rt.is_host_registered(ptr + t.numel() - 1)  # both ends look pinned
    assert not is_pinned_range(ptr, t.numel(), rt)
    with pytest.raises(ValueError, match="part of this memory is already page-locked"):
        PinnedRegion(t, runtime=rt)
    rt.foreign = [(ptr, ptr + 8 * PAGE)]
    assert is_pinned_range(ptr, t.numel(), rt)
    with PinnedRegion(t, runtime=rt) as region:  # already pinned whole: borrowed, not registered twice
        assert region.borrowed and rt.calls == 0
    assert rt.log == []


def test_bad_input():
    rt = FakeRuntime()
    with pytest.raises(TypeError, match="expected a CPU tensor"):
        PinnedRegion(np.zeros(4), runtime=rt)
    with pytest.raises(ValueError, match="contiguous"):
        PinnedRegion(torch.zeros(8, 8).t(), runtime=rt)
    with pytest.raises(ValueError, match="chunk_bytes"):
        PinnedRegion(torch.zeros(8), chunk_bytes=1, runtime=rt)
    with PinnedRegion(torch.zeros(0), runtime=rt) as empty:
        assert empty.borrowed and rt.calls == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_without_cuda_the_default_runtime_says_so():
    with pytest.raises(RuntimeError, match="needs a CUDA driver and device"):
        PinnedRegion(torch.zeros(16))


# --- the real driver ------------------------------------------------------------------------
@pytest.mark.cuda
def test_cuda_register_in_place_and_release():
    t = torch.zeros(3 * PAGE // 4 + 5)  # not a whole number of pages
    with PinnedRegion(t, chunk_bytes=PAGE) as region:
        assert t.is_pinned() and region.num_chunks >= 3
        assert is_pinned_range(t.data_ptr(), t.numel() * 4)
        with pytest.raises(ValueError, match="overlaps"):
            PinnedRegion(t)
    assert not t.is_pinned()


@pytest.mark.cuda
def test_cuda_failed_registration_does_not_poison_the_next_kernel():
    rt = pinned.default_runtime()
    t = _table(pages=4)
    middle = t.data_ptr() + PAGE + (-t.data_ptr()) % PAGE
    assert rt.host_register(middle, PAGE, 1) == 0  # someone else pins one inner page
    try:
        with pytest.raises(UnpinnableError, match="cudaHostRegister failed"):
            PinnedRegion(t)
        out = torch.ones(4, device="cuda") + 1  # the launch check must not report the old error
        torch.cuda.synchronize()
        assert out.sum().item() == 8
    finally:
        rt.host_unregister(middle)
    assert not pinned._registry


@pytest.mark.cuda
def test_cuda_pinned_memory_borrowed_not_registered_twice():
    t = torch.zeros(4096).pin_memory()
    with PinnedRegion(t) as region:
        assert region.borrowed and region.num_chunks == 0
    assert t.is_pinned()  # we did not unregister what torch's allocator pinned
