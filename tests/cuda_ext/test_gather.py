"""cuda_ext.gather_rows on CPU (index_select path): hand table, reference parity, bounds, opcheck."""
from __future__ import annotations

import pytest
import torch

from cuda_ext.gather import gather_rows, gather_rows_async, gather_rows_reference, pin_memory_inplace


def test_hand_table():
    table = torch.tensor([[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]])
    out = gather_rows(table, torch.tensor([2, 0, 2, 1]))
    torch.testing.assert_close(out, torch.tensor([[20.0, 21.0], [0.0, 1.0], [20.0, 21.0], [10.0, 11.0]]))


@pytest.mark.parametrize("rows,width", [(1, 1), (113, 7), (1023, 33)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64])
def test_matches_reference(rows, width, dtype):
    g = torch.Generator().manual_seed(rows)
    table = (torch.randn(rows, width, generator=g) * 100).to(dtype)
    index = torch.randint(0, rows, (257,), generator=g)
    out = gather_rows(table, index)
    assert out.dtype == dtype and out.shape == (257, width)
    torch.testing.assert_close(out, gather_rows_reference(table, index), rtol=0, atol=0)
    torch.testing.assert_close(out, table[index], rtol=0, atol=0)


def test_multidim_rows_int32_index_and_empty_index():
    table = torch.arange(4 * 3 * 2, dtype=torch.float32).reshape(4, 3, 2)
    out = gather_rows(table, torch.tensor([3, 1], dtype=torch.int32))
    torch.testing.assert_close(out, table[[3, 1]])
    empty = gather_rows(table, torch.empty(0, dtype=torch.int64))
    assert empty.shape == (0, 3, 2)


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


def test_async_on_cpu_is_synchronous():
    table = torch.randn(5, 2)
    handle = gather_rows_async(table, torch.tensor([0, 4]))
    torch.testing.assert_close(handle.wait(), table[[0, 4]])


def test_opcheck():
    table = torch.randn(9, 4)
    torch.library.opcheck(torch.ops.graphspike.gather_rows.default, (table, torch.tensor([8, 0, 3]), 10240, "torch"))


@pytest.mark.parametrize("bad", [[-1], [5], [0, 7]])
def test_out_of_range_raises(bad):
    with pytest.raises(ValueError, match=r"gather_rows: index out of range .*\(got min"):
        gather_rows(torch.zeros(5, 2), torch.tensor(bad))


def test_bad_arguments():
    with pytest.raises(TypeError, match="index"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0.0]))
    with pytest.raises(TypeError, match="index"):
        gather_rows(torch.zeros(5, 2), torch.tensor([[0]]))
    with pytest.raises(TypeError, match="table"):
        gather_rows([[0.0]], torch.tensor([0]))
    with pytest.raises(ValueError, match="max_threads"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0]), max_threads=10)
    with pytest.raises(ValueError, match="CUDA tensors"):
        gather_rows(torch.zeros(5, 2), torch.tensor([0]), backend="cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a CUDA device")
def test_pinning_without_gpu_says_why():
    with pytest.raises(RuntimeError, match="needs a CUDA driver"):
        pin_memory_inplace(torch.zeros(4, 4))


def test_torch_compile_fullgraph_keeps_bounds_check():
    from cuda_ext._backend import extension_status

    extension_status()  # resolve the (cached) extension load outside the compiled region
    fn = torch.compile(lambda t, i: gather_rows(t, i) * 2, fullgraph=True, backend="eager")
    table = torch.randn(5, 3)
    torch.testing.assert_close(fn(table, torch.tensor([4, 0])), table[[4, 0]] * 2)
    with pytest.raises(ValueError, match="out of range"):
        fn(table, torch.tensor([5, 0]))


def test_register_ranges_cover_once_and_end_on_pages():
    from cuda_ext.gather import register_ranges

    base, nbytes, page = 100, 50_000, 4096
    ranges = register_ranges(base, nbytes, chunk_bytes=16384, page=page)
    assert ranges[0][0] == base
    assert all(a + n == b for (a, n), (b, _) in zip(ranges, ranges[1:]))  # contiguous, no overlap
    assert ranges[-1][0] + ranges[-1][1] == base + nbytes
    assert all(n <= 16384 for _, n in ranges)
    assert all((a + n) % page == 0 for a, n in ranges[:-1])  # inner boundaries on pages
    assert register_ranges(0, 0, 16384, page) == []
    assert register_ranges(4096, 8192, 1 << 30, page) == [(4096, 8192)]
