"""cuda_ext.gather_rows: hand table, reference parity on every placement, bounds on every path,
opcheck, gradients, compile; on CUDA: the zero-copy kernel, the async handle (index lifetime,
no host synchronisation), device-side checks. Placements other than "cpu" are marked ``cuda``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from cuda_ext._backend import extension_status
from cuda_ext.gather import DEFAULT_MAX_THREADS, gather_rows, gather_rows_async, gather_rows_reference

CUDA_PLACEMENTS = ["pinned", "device", "pageable", "device_host_index"]


@pytest.fixture(params=["cpu", *[pytest.param(p, marks=pytest.mark.cuda) for p in CUDA_PLACEMENTS]])
def placement(request) -> str:
    return request.param


def place(table: torch.Tensor, index: torch.Tensor, placement: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(table, index)`` where ``placement`` puts them: both on the CPU, a pinned (page-locked)
    host table with a CUDA index (zero-copy kernel), both on the GPU, a pageable host table with a
    CUDA index (gather on the host, then copy), or a GPU table with a host index."""
    if placement == "cpu":
        return table, index
    if placement == "pinned":
        return table.pin_memory(), index.cuda()
    if placement == "device":
        return table.cuda(), index.cuda()
    if placement == "pageable":
        return table, index.cuda()
    return table.cuda(), index


def test_hand_table():
    table = torch.tensor([[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]])
    out = gather_rows(table, torch.tensor([2, 0, 2, 1]))
    torch.testing.assert_close(out, torch.tensor([[20.0, 21.0], [0.0, 1.0], [20.0, 21.0], [10.0, 11.0]]))


# Row sizes from 1 to 1028 bytes: every lane-group width (1..32 lanes), every vector width
# (16/8/4/2/1 bytes), rows under and over the 128-B line, and several vectors per lane.
@pytest.mark.parametrize(
    "rows,width,dtype",
    [
        (1, 1, torch.float32),
        (113, 7, torch.float32),
        (1023, 33, torch.float32),
        (500, 4, torch.float32),
        (300, 16, torch.float32),
        (300, 32, torch.float32),
        (300, 257, torch.float32),
        (64, 256, torch.float64),
        (257, 3, torch.float16),
        (257, 64, torch.bfloat16),
        (99, 5, torch.uint8),
        (99, 1, torch.uint8),
        (130, 6, torch.int64),
    ],
)
def test_matches_reference(placement, rows, width, dtype):
    g = torch.Generator().manual_seed(rows * width)
    table = (torch.randn(rows, width, generator=g) * 100).to(dtype)
    index = torch.randint(0, rows, (1000,), generator=g)
    want = table[index]
    table, index = place(table, index, placement)
    out = gather_rows(table, index)
    assert out.dtype == dtype and out.shape == (1000, width)
    assert out.device == (index.device if index.is_cuda else table.device)
    torch.testing.assert_close(out.cpu(), want, rtol=0, atol=0)
    torch.testing.assert_close(out.cpu(), gather_rows_reference(table, index).cpu(), rtol=0, atol=0)
    handle = gather_rows_async(table, index)
    torch.testing.assert_close(handle.wait().cpu(), want, rtol=0, atol=0)


def test_multidim_rows_int32_index_and_empty_index(placement):
    base = torch.arange(4 * 3 * 2, dtype=torch.float32).reshape(4, 3, 2)
    table, index = place(base, torch.tensor([3, 1], dtype=torch.int32), placement)
    torch.testing.assert_close(gather_rows(table, index).cpu(), base[[3, 1]])
    table, empty = place(base, torch.empty(0, dtype=torch.int64), placement)
    assert gather_rows(table, empty).shape == (0, 3, 2)
    assert gather_rows_async(table, empty).wait().shape == (0, 3, 2)


def test_noncontiguous_table():
    table = torch.arange(40.0).reshape(5, 8)[:, ::2]
    assert not table.is_contiguous()
    index = torch.tensor([4, 0, 0])
    torch.testing.assert_close(gather_rows(table, index), table[index])


def test_gradient_flows_to_table():
    table = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([1, 1, 5])
    assert torch.autograd.gradcheck(lambda t: gather_rows(t, index), (table,))
    (grad,) = torch.autograd.grad(gather_rows(table, index).sum(), table)
    torch.testing.assert_close(grad[:, 0], torch.tensor([0.0, 2.0, 0.0, 0.0, 0.0, 1.0], dtype=torch.float64))


def test_async_on_cpu_is_finished_at_once():
    table = torch.randn(5, 2)
    handle = gather_rows_async(table, torch.tensor([0, 4]))
    assert handle.done()
    torch.testing.assert_close(handle.wait(), table[[0, 4]])


@pytest.mark.parametrize("backend", ["torch", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_opcheck(backend):
    table, index = torch.randn(9, 4), torch.tensor([8, 0, 3])
    if backend == "cuda":
        table, index = table.cuda(), index.cuda()
    torch.library.opcheck(torch.ops.graphspike.gather_rows.default, (table, index, DEFAULT_MAX_THREADS, backend))


@pytest.mark.parametrize("bad", [[-1], [5], [0, 7]])
def test_out_of_range_raises(bad):
    with pytest.raises(ValueError, match=r"gather_rows: index out of range .*got min"):
        gather_rows(torch.zeros(5, 2), torch.tensor(bad))
    with pytest.raises(ValueError, match=r"gather_rows: index out of range"):
        gather_rows_async(torch.zeros(5, 2), torch.tensor(bad))


def test_bad_arguments():
    with pytest.raises(TypeError, match="index"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0.0]))
    with pytest.raises(TypeError, match="index"):
        gather_rows(torch.zeros(5, 2), torch.tensor([[0]]))
    with pytest.raises(TypeError, match="table"):
        gather_rows([[0.0]], torch.tensor([0]))
    with pytest.raises(ValueError, match="max_threads"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0]), max_threads=10)
    with pytest.raises(ValueError, match="check must be one of"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0]), check="later")
    with pytest.raises(ValueError, match="CUDA tensors"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0]), backend="cuda")


def test_torch_compile_fullgraph_keeps_bounds_check():
    extension_status()  # resolve the (cached) extension load outside the compiled region
    fn = torch.compile(lambda t, i: gather_rows(t, i) * 2, fullgraph=True, backend="eager")
    table = torch.randn(5, 3)
    torch.testing.assert_close(fn(table, torch.tensor([4, 0])), table[[4, 0]] * 2)
    with pytest.raises(ValueError, match="out of range"):
        fn(table, torch.tensor([5, 0]))


# ----------------------------------------------------------------------------- CUDA only
@pytest.mark.cuda
@pytest.mark.parametrize("placement", ["pinned", "device", "pageable"])
def test_cuda_out_of_range_raises_with_sync_check_and_at_wait(placement):
    table, bad = place(torch.randn(10, 4), torch.tensor([0, 10, 3, -1]), placement)
    with pytest.raises(ValueError, match=r"2 value\(s\) outside \[0, 10\)"):
        gather_rows(table, bad, check="sync")
    handle = gather_rows_async(table, bad)
    with pytest.raises(ValueError, match="out of range"):
        handle.wait()


@pytest.mark.cuda
def test_cuda_kernel_zero_fills_and_counts_bad_rows():
    from cuda_ext._backend import extension

    table = torch.randn(10, 8).pin_memory()
    index = torch.tensor([1, 10, 2, -5], device="cuda")
    out = torch.full((4, 8), float("nan"), device="cuda")
    invalid = torch.zeros((), dtype=torch.int64, device="cuda")
    extension().gather_rows_into(table, index, None, out, invalid, DEFAULT_MAX_THREADS)
    assert int(invalid) == 2
    torch.testing.assert_close(out.cpu(), torch.stack([table[1], torch.zeros(8), table[2], torch.zeros(8)]))


@pytest.mark.cuda
def test_cuda_bounds_check_does_not_synchronise():
    table = torch.randn(1000, 32).pin_memory()
    index = torch.randint(0, 1000, (4096,), device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any host synchronisation now raises
    try:
        out = gather_rows(table, index, backend="cuda")
        device_out = gather_rows(table.cuda(non_blocking=True), index)
        handle = gather_rows_async(table, index)
        rows = handle.wait(check=False)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(out.cpu(), table[index.cpu()], rtol=0, atol=0)
    torch.testing.assert_close(device_out.cpu(), table[index.cpu()], rtol=0, atol=0)
    torch.testing.assert_close(rows.cpu(), table[index.cpu()], rtol=0, atol=0)


@pytest.mark.cuda
def test_cuda_device_check_surfaces_at_next_sync():
    # a device-side assertion leaves the CUDA context unusable: run it in a child process
    code = textwrap.dedent("""
        import torch
        from cuda_ext.gather import gather_rows
        table = torch.randn(10, 4).pin_memory()
        out = gather_rows(table, torch.tensor([0, 12], device="cuda"))
        print("queued", flush=True)
        torch.cuda.synchronize()
        print("not reached", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "queued" in result.stdout and "not reached" not in result.stdout
    assert result.returncode != 0
    assert "device-side assert" in result.stderr or "gather_rows: index out of range" in result.stderr


@pytest.mark.cuda
def test_cuda_async_gather_keeps_a_freed_index_alive():
    # The caller drops the index right after launching; the current stream then allocates a
    # tensor of the same size (the caching allocator hands it the freed block unless the index
    # was recorded on the side stream) and overwrites it while the side stream is still asleep.
    table = torch.randn(1 << 15, 16).pin_memory()
    side = torch.cuda.Stream()
    for trial in range(4):
        index = torch.randint(0, table.shape[0], (1 << 15,), device="cuda")
        want = table[index.cpu()]
        with torch.cuda.stream(side):
            torch.cuda._sleep(100_000_000)  # keep the side stream busy (~50 ms) before the gather
        handle = gather_rows_async(table, index, stream=side)
        del index
        clobber = torch.full((1 << 15,), trial + 1, dtype=torch.int64, device="cuda")
        rows = handle.wait()
        torch.testing.assert_close(rows.cpu(), want, rtol=0, atol=0)
        del clobber


@pytest.mark.cuda
def test_cuda_compile_fullgraph_with_pinned_table():
    extension_status()
    table = torch.randn(50, 8).pin_memory()
    fn = torch.compile(lambda t, i: gather_rows(t, i, backend="cuda") + 1, fullgraph=True)
    index = torch.tensor([49, 0, 7], device="cuda")
    torch.testing.assert_close(fn(table, index).cpu(), table[[49, 0, 7]] + 1)


@pytest.mark.cuda
def test_cuda_graph_capture_of_device_table_gather():
    table = torch.randn(64, 16, device="cuda")
    index = torch.randint(0, 64, (128,), device="cuda")
    gather_rows(table, index)  # warm up outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = gather_rows(table, index)
    index.copy_(torch.randint(0, 64, (128,), device="cuda"))
    graph.replay()
    torch.testing.assert_close(out, table[index], rtol=0, atol=0)


@pytest.mark.cuda
@pytest.mark.parametrize("max_threads", [256, 10240, 1 << 24])
def test_cuda_thread_cap_does_not_change_rows(max_threads):
    table = torch.randn(5000, 24).pin_memory()
    index = torch.randint(0, 5000, (20000,), device="cuda")
    out = gather_rows(table, index, backend="cuda", max_threads=max_threads)
    torch.testing.assert_close(out.cpu(), table[index.cpu()], rtol=0, atol=0)


@pytest.mark.cuda
def test_cuda_misaligned_and_chunk_views_of_a_pinned_buffer():
    buffer = torch.randn(4001 * 9 + 1).pin_memory()
    table = buffer[1:].view(4001, 9)  # starts 4 bytes into the allocation: narrower vectors
    index = torch.randint(0, 4001, (3000,), device="cuda")
    torch.testing.assert_close(gather_rows(table, index, backend="cuda").cpu(), table[index.cpu()], rtol=0, atol=0)


@pytest.mark.cuda
def test_cuda_backend_needs_a_readable_table():
    with pytest.raises(ValueError, match="page-locked"):
        gather_rows(torch.randn(10, 4), torch.tensor([1], device="cuda"), backend="cuda")
    with pytest.raises(ValueError, match="non-contiguous"):
        gather_rows(torch.randn(10, 8, device="cuda")[:, ::2], torch.tensor([1], device="cuda"), backend="cuda")


@pytest.mark.cuda
def test_cuda_gradient_to_a_device_table():
    table = torch.randn(6, 3, dtype=torch.float64, device="cuda", requires_grad=True)
    index = torch.tensor([1, 1, 5], device="cuda")
    assert torch.autograd.gradcheck(lambda t: gather_rows(t, index, backend="cuda"), (table,))
