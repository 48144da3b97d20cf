"""cuda_ext.spmm: hand table, reference parity, gradients, opcheck, edge cases, backends."""
import pytest
import torch

import cuda_ext
from cuda_ext.spmm import _spmm_op
from sampling import Graph


def random_graph(num_rows: int, num_cols: int, nnz: int, seed: int = 0, weighted: bool = True,
                 dtype=torch.float32) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(0, num_cols, (nnz,), generator=gen)
    dst = torch.randint(0, num_rows, (nnz,), generator=gen)
    w = torch.rand(nnz, generator=gen, dtype=dtype) if weighted else None
    return Graph.from_edge_index(torch.stack([src, dst]), num_rows, w, num_cols=num_cols)


def test_hand_computed():
    # row 0 = 2*x1 + 3*x2 ; row 1 empty ; row 2 = 1*x0
    g = Graph(torch.tensor([0, 2, 2, 3]), torch.tensor([1, 2, 0]), torch.tensor([2.0, 3.0, 1.0]))
    x = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    expected = torch.tensor([[13.0, 130.0], [0.0, 0.0], [1.0, 10.0]])
    torch.testing.assert_close(cuda_ext.spmm(g, x), expected)
    torch.testing.assert_close(cuda_ext.spmm_reference(g.indptr, g.indices, g.weight, x), expected)


@pytest.mark.parametrize("shape", [(1, 1, 1), (113, 57, 700), (1023, 1023, 5000), (50, 200, 0)])
@pytest.mark.parametrize("features", [1, 16, 113])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_reference_and_dense(shape, features, weighted):
    g = random_graph(*shape, weighted=weighted)
    x = torch.randn(shape[1], features)
    out = cuda_ext.spmm(g, x)
    torch.testing.assert_close(out, cuda_ext.spmm_reference(g.indptr, g.indices, g.weight, x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out, g.to_dense() @ x, rtol=1e-5, atol=1e-5)


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


def test_gradcheck_float64_x_and_weight():
    g = random_graph(17, 13, 60, dtype=torch.float64)
    x = torch.randn(13, 3, dtype=torch.float64, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: cuda_ext.spmm(g, x, w), (x, w))
    assert torch.autograd.gradgradcheck(lambda x, w: cuda_ext.spmm(g, x, w), (x, w))


def test_gradient_matches_dense_autograd():
    g = random_graph(25, 25, 120)
    x = torch.randn(25, 6, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    upstream = torch.randn(25, 6)
    (cuda_ext.spmm(g, x, w) * upstream).sum().backward()
    x2 = x.detach().clone().requires_grad_()
    w2 = w.detach().clone().requires_grad_()
    dense = torch.zeros(25, 25).index_put((g.row, g.indices), w2, accumulate=True)
    ((dense @ x2) * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w.grad, w2.grad, rtol=1e-5, atol=1e-5)


def test_opcheck():
    g = random_graph(11, 9, 40, dtype=torch.float64)
    x = torch.randn(9, 5, dtype=torch.float64, requires_grad=True)
    w = g.weight.clone().requires_grad_()
    torch.library.opcheck(_spmm_op, (g.indptr, g.indices, w, x, *g.transpose_csr(), "torch"))
    torch.library.opcheck(_spmm_op, (g.indptr, g.indices, None, x, *g.transpose_csr(), "torch"))


def test_non_contiguous_input():
    g = random_graph(30, 30, 90)
    x = torch.randn(8, 30).T  # [30, 8], non-contiguous
    assert not x.is_contiguous()
    torch.testing.assert_close(cuda_ext.spmm(g, x), g.to_dense() @ x, rtol=1e-5, atol=1e-5)


def test_empty_rows_and_zero_degree_nodes():
    g = Graph(torch.tensor([0, 0, 0, 2, 2]), torch.tensor([0, 0]), num_cols=4)
    x = torch.randn(4, 3)
    out = cuda_ext.spmm(g, x)
    torch.testing.assert_close(out[[0, 1, 3]], torch.zeros(3, 3))
    torch.testing.assert_close(out[2], 2 * x[0])


def test_torch_compile_fullgraph():
    g = random_graph(20, 20, 80)
    x = torch.randn(20, 4)
    g.transpose_csr()  # data-dependent sizes: build the cached transpose outside the compiled region
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


def test_explicit_cuda_backend_is_never_replaced():
    g = random_graph(5, 5, 10)
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        cuda_ext.spmm(g, torch.randn(5, 2), backend="cuda")


def test_backward_transposed_weight_cache_follows_in_place_changes():
    # the backward caches weight[t_perm] for a fixed graph; changing the weight in place
    # (a new _version) must not reuse the stale transposed weights
    g = random_graph(30, 20, 150)
    w = g.weight.clone()
    upstream = torch.randn(30, 5)
    for scale in (1.0, 1.0, 3.0):
        w.mul_(scale)
        x = torch.randn(20, 5, requires_grad=True)
        (cuda_ext.spmm(g, x, w) * upstream).sum().backward()
        dense = torch.zeros(30, 20).index_put((g.row, g.indices), w, accumulate=True)
        torch.testing.assert_close(x.grad, dense.T @ upstream, rtol=1e-5, atol=1e-5)
