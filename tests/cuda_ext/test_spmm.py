"""cuda_ext.spmm: hand table, reference parity, gradients, opcheck, edge cases, backends, and bad
structure -- on the CPU and, through the ``device`` fixture (marked ``cuda``), on the GPU kernel:
rows of more than 32 edges, heavy rows split into segments, fp32/fp16/bf16/fp64, determinism."""

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import cuda_ext
from cuda_ext.spmm import _edge_grad_op, _spmm_op
from sampling import Graph

spmm_module = importlib.import_module("cuda_ext.spmm")  # the module (``cuda_ext.spmm`` is the function)


def random_graph(
    num_rows: int, num_cols: int, nnz: int, seed: int = 0, weighted: bool = True, dtype=torch.float32
) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, num_cols, (nnz,), generator=gen)
    dst = torch.randint(0, num_rows, (nnz,), generator=gen)
    w = torch.rand(nnz, generator=gen, dtype=dtype) if weighted else None
    return Graph.from_edge_index(torch.stack([src, dst]), num_rows, w, num_cols=num_cols)


def heavy_row_graph(num_rows: int, num_cols: int, heavy: dict[int, int], light_degree: int, seed: int = 0) -> Graph:
    """Light rows of ``light_degree`` random edges each, plus rows ``heavy`` (row -> degree):
    power-law-like destination rows, the stragglers of a row-per-warp kernel."""
    gen = torch.Generator().manual_seed(seed)
    dst = [torch.arange(num_rows).repeat_interleave(light_degree)]
    dst += [torch.full((degree,), row) for row, degree in heavy.items()]
    dst = torch.cat(dst)
    src = torch.randint(0, num_cols, (dst.numel(),), generator=gen)
    w = torch.rand(dst.numel(), generator=gen) + 0.5
    return Graph.from_edge_index(torch.stack([src, dst]), num_rows, w, num_cols=num_cols)


def assert_close_to_reference(got: torch.Tensor, graph: Graph, x: torch.Tensor, weight=None) -> None:
    """``got`` against the float64 reference on the same (rounded) inputs: error at most the output
    rounding of ``got``'s dtype plus float32-accumulation error relative to sum |w| |x|."""
    w = graph.weight if weight is None else weight
    w64 = None if w is None else w.double().cpu()
    csr = (graph.indptr.cpu(), graph.indices.cpu())
    want = cuda_ext.spmm_reference(*csr, w64, x.double().cpu())
    scale = cuda_ext.spmm_reference(*csr, None if w64 is None else w64.abs(), x.double().abs().cpu())
    eps = {torch.float64: 1e-15, torch.float32: 1e-6, torch.float16: 1e-3, torch.bfloat16: 8e-3}[got.dtype]
    err = (got.double().cpu() - want).abs()
    bound = eps * want.abs() + 1e-5 * scale + 1e-30
    assert bool((err <= bound).all()), f"max excess {float((err - bound).max())}"


def test_hand_computed(device):
    # row 0 = 2*x1 + 3*x2 ; row 1 empty ; row 2 = 1*x0
    g = Graph(torch.tensor([0, 2, 2, 3]), torch.tensor([1, 2, 0]), torch.tensor([2.0, 3.0, 1.0])).to(device)
    x = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], device=device)
    expected = torch.tensor([[13.0, 130.0], [0.0, 0.0], [1.0, 10.0]], device=device)
    torch.testing.assert_close(cuda_ext.spmm(g, x), expected)
    torch.testing.assert_close(cuda_ext.spmm_reference(g.indptr, g.indices, g.weight, x), expected)


@pytest.mark.parametrize("shape", [(1, 1, 1), (113, 57, 700), (1023, 1023, 5000), (50, 200, 0)])
@pytest.mark.parametrize("features", [1, 16, 113])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_reference_and_dense(device, shape, features, weighted):
    g = random_graph(*shape, weighted=weighted).to(device)
    x = torch.randn(shape[1], features, device=device)
    out = cuda_ext.spmm(g, x)
    torch.testing.assert_close(out, cuda_ext.spmm_reference(g.indptr, g.indices, g.weight, x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, g.to_dense() @ x, rtol=1e-5, atol=1e-5)


# Features chosen to hit every kernel configuration: 1..32 vectors per row (1 to 32 lanes per
# row, several rows per warp), two vectors per lane (F = 256 fp32), several feature tiles, and
# the scalar path (F * bytes not a multiple of 16).
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("features", [1, 4, 8, 16, 33, 64, 128, 256, 300, 513])
def test_rows_over_32_edges_all_dtypes(device, dtype, features):
    # 200 rows of 40-90 edges (over one warp's 32) and a few empty rows
    gen = torch.Generator().manual_seed(features)
    degrees = torch.randint(40, 90, (200,), generator=gen)
    degrees[::17] = 0
    dst = torch.arange(200).repeat_interleave(degrees)
    src = torch.randint(0, 150, (dst.numel(),), generator=gen)
    w = (torch.rand(dst.numel(), generator=gen) - 0.3).to(dtype)
    g = Graph.from_edge_index(torch.stack([src, dst]), 200, w, num_cols=150).to(device)
    x = torch.randn(150, features, generator=gen).to(dtype).to(device)
    out = cuda_ext.spmm(g, x)
    assert out.dtype == dtype and out.device == x.device
    assert_close_to_reference(out, g, x)
    assert torch.equal(out[::17], torch.zeros_like(out[::17]))


@pytest.mark.parametrize("seg_len", [8, 256])
@pytest.mark.parametrize("features", [16, 64, 256])
def test_heavy_rows_split_into_segments(device, monkeypatch, seg_len, features):
    monkeypatch.setattr(spmm_module, "SEG_LEN", seg_len)
    g = heavy_row_graph(300, 400, {0: 3000, 17: 257, 299: 1000, 150: 256}, light_degree=3).to(device)
    x = torch.randn(400, features, device=device)
    out = cuda_ext.spmm(g, x)
    assert_close_to_reference(out, g, x)
    # the edge-weight gradient takes the same schedule
    w = g.weight.clone().requires_grad_()
    upstream = torch.randn(300, features, device=device)
    (gw,) = torch.autograd.grad((cuda_ext.spmm(g, x, w) * upstream).sum(), w)
    rows = g.row
    want = (upstream.double()[rows] * x.double()[g.indices]).sum(-1)
    torch.testing.assert_close(gw.double(), want, rtol=1e-5, atol=1e-4)


@pytest.mark.cuda
def test_cuda_kernel_is_bitwise_deterministic(monkeypatch):
    monkeypatch.setattr(spmm_module, "SEG_LEN", 32)
    g = heavy_row_graph(5000, 5000, {0: 20000, 10: 5000}, light_degree=7).to("cuda")
    x = torch.randn(5000, 64, device="cuda")
    w = g.weight.clone().requires_grad_()
    runs = []
    for _ in range(3):
        out = cuda_ext.spmm(g, x, w, backend="cuda")
        runs.append((out, torch.autograd.grad(out.square().sum(), w)[0]))
    for out, gw in runs[1:]:
        assert torch.equal(out, runs[0][0]) and torch.equal(gw, runs[0][1])


def test_csr_equals_coo_equals_dense():
    g = random_graph(40, 40, 300)
    x = torch.randn(40, 8)
    coo = torch.sparse_coo_tensor(torch.stack([g.row, g.indices]), g.weight, g.shape, check_invariants=False)
    torch.testing.assert_close(cuda_ext.spmm(g, x), torch.sparse.mm(coo, x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(cuda_ext.spmm(g, x), g.to_dense() @ x, rtol=1e-5, atol=1e-5)


def test_tuple_input_and_graphs_recognised_by_type():
    g = random_graph(30, 30, 100, weighted=False)
    x = torch.randn(30, 4)
    torch.testing.assert_close(cuda_ext.spmm((g.indptr, g.indices), x), cuda_ext.spmm(g, x))
    assert isinstance(g, cuda_ext.CSR)

    class LooksLikeCsr:  # same attribute names, not a CSR: refused, not duck-typed
        indptr, indices, weight = g.indptr, g.indices, None

    with pytest.raises(TypeError, match="sampling.Graph"):
        cuda_ext.spmm(LooksLikeCsr(), x)


def test_float16_and_bfloat16_use_reference_path():
    g = random_graph(20, 20, 60)
    x = torch.randn(20, 8)
    for dtype in (torch.float16, torch.bfloat16):
        out = cuda_ext.spmm(g, x.to(dtype), g.weight.to(dtype))
        assert out.dtype == dtype
        torch.testing.assert_close(out.float(), cuda_ext.spmm(g, x), rtol=2e-2, atol=2e-2)


def test_gradcheck_float64_x_and_weight(device):
    g = random_graph(17, 13, 60, dtype=torch.float64).to(device)
    x = torch.randn(13, 3, dtype=torch.float64, device=device, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: cuda_ext.spmm(g, x, w), (x, w))
    assert torch.autograd.gradgradcheck(lambda x, w: cuda_ext.spmm(g, x, w), (x, w))


def test_gradient_matches_dense_autograd(device):
    g = random_graph(25, 25, 120).to(device)
    x = torch.randn(25, 6, device=device, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    upstream = torch.randn(25, 6, device=device)
    (cuda_ext.spmm(g, x, w) * upstream).sum().backward()
    x2 = x.detach().clone().requires_grad_()
    w2 = w.detach().clone().requires_grad_()
    dense = torch.zeros(25, 25, device=device).index_put((g.row, g.indices), w2, accumulate=True)
    ((dense @ x2) * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w.grad, w2.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", ["torch", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_opcheck(backend):
    device = "cuda" if backend == "cuda" else "cpu"
    g = random_graph(11, 9, 40, dtype=torch.float64).to(device)
    x = torch.randn(9, 5, dtype=torch.float64, device=device, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    grad = torch.randn(11, 5, dtype=torch.float64, device=device, requires_grad=True)
    torch.library.opcheck(_spmm_op, (g.indptr, g.indices, w, x, *g.transpose_csr(), backend))
    torch.library.opcheck(_spmm_op, (g.indptr, g.indices, None, x, *g.transpose_csr(), backend))
    torch.library.opcheck(_edge_grad_op, (g.indptr, g.indices, grad, x, *g.transpose_csr(), backend))


def test_edge_weight_gradient_has_no_nnz_by_f_temporary(monkeypatch):
    # nnz * F * 4 = 12.8 MB; a chunk of EDGE_GRAD_CHUNK elements is 256 KB. The old backward
    # gathered two [nnz, F] tensors (and their product): one allocation of 12.8 MB each.
    from torch.profiler import ProfilerActivity, profile

    monkeypatch.setattr(spmm_module, "EDGE_GRAD_CHUNK", 1 << 16)
    g = random_graph(2000, 2000, 50_000)
    x = torch.randn(2000, 64)
    w = g.weight.clone().requires_grad_()
    out = cuda_ext.spmm(g, x, w)
    upstream = torch.randn_like(out)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        (gw,) = torch.autograd.grad(out, w, upstream)
    largest = max(event.cpu_memory_usage for event in prof.events())
    assert largest < 50_000 * 64 * 4 // 4, f"an allocation of {largest} bytes in the weight gradient"
    want = (upstream.double()[g.row] * x.double()[g.indices]).sum(-1)
    torch.testing.assert_close(gw.double(), want, rtol=1e-5, atol=1e-5)


def test_non_contiguous_input(device):
    g = random_graph(30, 30, 90).to(device)
    x = torch.randn(8, 30, device=device).T  # [30, 8], non-contiguous
    assert not x.is_contiguous()
    torch.testing.assert_close(cuda_ext.spmm(g, x), g.to_dense() @ x, rtol=1e-5, atol=1e-5)


def test_empty_rows_and_zero_degree_nodes(device):
    g = Graph(torch.tensor([0, 0, 0, 2, 2]), torch.tensor([0, 0]), num_cols=4).to(device)
    x = torch.randn(4, 3, device=device)
    out = cuda_ext.spmm(g, x)
    torch.testing.assert_close(out[[0, 1, 3]], torch.zeros(3, 3, device=device))
    torch.testing.assert_close(out[2], 2 * x[0])


def test_torch_compile_fullgraph(device):
    g = random_graph(20, 20, 80).to(device)
    x = torch.randn(20, 4, device=device)
    g.transpose_csr()  # data-dependent sizes: build the cached transpose outside the compiled region
    cuda_ext.extension_status()
    fn = torch.compile(lambda x: cuda_ext.spmm(g, x).relu(), fullgraph=True, backend="eager")
    torch.testing.assert_close(fn(x), cuda_ext.spmm(g, x).relu())


def test_bad_inputs():
    g = random_graph(5, 5, 10)
    with pytest.raises(TypeError, match="2-D floating"):
        cuda_ext.spmm(g, torch.randn(5))
    with pytest.raises(TypeError, match="2-D floating"):
        cuda_ext.spmm(g, torch.ones(5, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="one row per graph column"):
        cuda_ext.spmm(g, torch.randn(6, 2))
    with pytest.raises(ValueError, match=r"shape \[nnz\]"):
        cuda_ext.spmm(g, torch.randn(5, 2), torch.ones(3))
    with pytest.raises(TypeError, match="dtype must match"):
        cuda_ext.spmm(g, torch.randn(5, 2), torch.ones(10, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"lie in \[0, 5\)"):
        cuda_ext.spmm((torch.tensor([0, 1]), torch.tensor([7])), torch.randn(5, 2))
    with pytest.raises(TypeError, match="sampling.Graph"):
        cuda_ext.spmm("graph", torch.randn(5, 2))
    with pytest.raises(ValueError, match="backend must be one of"):
        cuda_ext.spmm(g, torch.randn(5, 2), backend="fast")


@pytest.mark.parametrize(
    "indptr,message",
    [
        ([0, 3, 1, 4], r"non-decreasing \(got indptr\[1\] = 3 > indptr\[2\] = 1\)"),
        ([1, 2, 3, 4], r"start at 0 and end at len\(indices\) = 4 \(got indptr\[0\] = 1"),
        ([0, 1, 2, 3], r"end at len\(indices\) = 4 \(got indptr\[0\] = 0, indptr\[-1\] = 3\)"),
        ([], r"num_rows \+ 1 >= 1 entries"),
    ],
)
def test_raw_csr_structure_is_checked(indptr, message):
    with pytest.raises(ValueError, match=message):
        cuda_ext.spmm((torch.tensor(indptr, dtype=torch.int64), torch.tensor([0, 1, 2, 0])), torch.randn(5, 2))


def test_unvalidated_graph_with_bad_columns_raises_on_cpu():
    # validate=False skips the constructor's checks; the op must not read x out of bounds
    g = Graph(torch.tensor([0, 2, 3]), torch.tensor([0, 9, 1]), num_cols=3, validate=False)
    with pytest.raises(ValueError, match=r"column indices must lie in \[0, 3\)"):
        cuda_ext.spmm(g, torch.randn(3, 4))
    g = Graph(torch.tensor([0, 2, 1, 2]), torch.tensor([0, 1]), num_cols=3, validate=False)
    with pytest.raises(ValueError, match="non-decreasing"):
        cuda_ext.spmm(g, torch.randn(3, 4))


@pytest.mark.cuda
@pytest.mark.parametrize("backend", ["cuda", "torch"])
def test_cuda_unvalidated_graph_with_bad_columns_asserts_on_device(backend):
    code = textwrap.dedent(f"""
        import torch, cuda_ext
        from sampling import Graph
        g = Graph(torch.tensor([0, 2, 3]), torch.tensor([0, 9, 1]), num_cols=3, validate=False).to("cuda")
        out = cuda_ext.spmm(g, torch.randn(3, 4, device="cuda"), backend={backend!r})
        print("queued", flush=True)
        torch.cuda.synchronize()
        print("not reached", flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert "not reached" not in result.stdout and result.returncode != 0
    assert "device-side assert" in result.stderr or "malformed CSR" in result.stderr or "out of range" in result.stderr


def test_explicit_cuda_backend_is_never_replaced():
    g = random_graph(5, 5, 10)
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        cuda_ext.spmm(g, torch.randn(5, 2), backend="cuda")


def test_backward_transposed_weight_cache_follows_in_place_changes(device):
    # the backward caches weight[t_perm] for a fixed graph; changing the weight in place
    # (a new _version) must not reuse the stale transposed weights
    g = random_graph(30, 20, 150).to(device)
    w = g.weight.clone()
    upstream = torch.randn(30, 5, device=device)
    for scale in (1.0, 1.0, 3.0):
        w.mul_(scale)
        x = torch.randn(20, 5, device=device, requires_grad=True)
        (cuda_ext.spmm(g, x, w) * upstream).sum().backward()
        dense = torch.zeros(30, 20, device=device).index_put((g.row, g.indices), w, accumulate=True)
        torch.testing.assert_close(x.grad, dense.T @ upstream, rtol=1e-5, atol=1e-5)
