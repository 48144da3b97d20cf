// CSR sum aggregation out[i] = sum_{e in row i} w_e * x[col_e]  (cuda_ext/spmm.py is the spec), and
// its edge-weight gradient grad_w[e] = <grad[row_e], x[col_e]> (a row-wise "SDDMM").
//
// Deterministic, no atomics: every output element is summed in one fixed order on every run.
// Design, for bandwidth (the traffic model is nnz * (8 + w + F b) + R F b bytes):
//   * a group of G lanes owns one (row segment, feature tile); G is the smallest power of two
//     covering the row's 16-byte vectors, so at F = 16 fp32 a warp serves 8 rows instead of
//     leaving most lanes idle;
//   * 16-byte vector loads and stores of x and out (float4, 8 halves, 2 doubles) whenever F * b is
//     a multiple of 16 (scalar loads otherwise);
//   * kUnroll edges in flight per group: their column ids are loaded together, then their x rows,
//     then accumulated in edge order (so the sum is the sequential one);
//   * heavy rows (more than seg_len edges, the stragglers of power-law in-degrees) are split into
//     segments of seg_len edges processed by different groups; each writes a partial sum (in the
//     accumulation type) to a workspace, and a fix-up kernel adds a row's partials in segment
//     order. Light rows are written directly. The schedule (extra_ptr: exclusive prefix sum of
//     segments - 1 per row; ws_ptr: exclusive prefix sum of the workspace rows of heavy rows) is
//     computed once per graph by the caller and needs no host synchronisation: the grid is sized
//     by the bound floor(nnz / seg_len) on the extra segments;
//   * accumulation in the op-math type (float for half, bfloat16 and float; double for double).
// Column ids outside [0, num_cols) and an indptr that is not non-decreasing from 0 to nnz stop the
// kernel with a device-side assertion (the graph was built with validate=False or is a raw CSR):
// nothing is read out of bounds and the error surfaces at the next synchronisation.
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS  // light headers: keeps nvcc time small on CI
#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/macros/Macros.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "spmm_kernels.cuh"

namespace graphspike {
namespace {

using namespace spmm_detail;

void check_csr(const at::Tensor& indptr, const at::Tensor& indices, const at::Tensor& x, const at::Tensor& extra_ptr,
               const char* name) {
  TORCH_CHECK(x.is_cuda() && x.dim() == 2, name, ": x must be a 2-D CUDA tensor");
  for (const at::Tensor* t : {&indptr, &indices, &extra_ptr}) {
    TORCH_CHECK(t->device() == x.device() && t->scalar_type() == at::kLong && t->dim() == 1 && t->is_contiguous(), name,
                ": indptr, indices and extra_ptr must be contiguous 1-D int64 tensors on the device of x");
  }
  TORCH_CHECK(indptr.numel() >= 1 && extra_ptr.numel() == indptr.numel(), name,
              ": indptr and extra_ptr must have num_rows + 1 entries");
}

}  // namespace

at::Tensor spmm_csr(const at::Tensor& indptr, const at::Tensor& indices, const std::optional<at::Tensor>& weight_in,
                    const at::Tensor& x_in, const at::Tensor& extra_ptr, const at::Tensor& ws_ptr, int64_t seg_len) {
  check_csr(indptr, indices, x_in, extra_ptr, "spmm_csr");
  TORCH_CHECK(ws_ptr.device() == x_in.device() && ws_ptr.scalar_type() == at::kLong && ws_ptr.is_contiguous() &&
                  ws_ptr.numel() == indptr.numel(),
              "spmm_csr: ws_ptr must be a contiguous int64 tensor like indptr");
  TORCH_CHECK(seg_len >= 1, "spmm_csr: seg_len must be >= 1 (got ", seg_len, ")");
  if (weight_in.has_value()) {
    TORCH_CHECK(weight_in->device() == x_in.device() && weight_in->scalar_type() == x_in.scalar_type() &&
                    weight_in->numel() == indices.numel(),
                "spmm_csr: weight must be an [nnz] tensor with the dtype and device of x");
  }
  const at::Tensor x = x_in.contiguous();
  const std::optional<at::Tensor> weight =
      weight_in.has_value() ? std::optional<at::Tensor>(weight_in->contiguous()) : std::nullopt;
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t num_rows = indptr.numel() - 1;
  const int64_t num_cols = x.size(0);
  const int64_t nnz = indices.numel();
  const int64_t F = x.size(1);
  at::Tensor out = at::empty({num_rows, F}, x.options());
  if (num_rows == 0 || F == 0) return out;
  const int64_t extra_bound = spmm_extra_bound(nnz, seg_len);
  const int64_t ws_rows = spmm_workspace_rows(nnz, seg_len);
  const int64_t num_items = num_rows + extra_bound;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "spmm_csr", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    at::Tensor ws = at::empty({ws_rows > 0 ? ws_rows : 1, F}, x.options().dtype(c10::CppTypeToScalarType<acc_t>::value));
    const bool vec = spmm_vectorizable(F, sizeof(scalar_t), reinterpret_cast<uintptr_t>(x.const_data_ptr()));
    const scalar_t* wp = weight.has_value() ? weight->const_data_ptr<scalar_t>() : nullptr;
    auto launch = [&](auto kernel, const SpmmConfig& cfg) {
      const int64_t tiles = tiles_grid(F, cfg.tile);
      TORCH_CHECK(tiles <= 65535, "spmm_csr: F = ", F, " is too wide");
      const int64_t blocks = items_grid(num_items, cfg.G);
      TORCH_CHECK(blocks < (int64_t{1} << 31), "spmm_csr: too many rows");
      kernel<<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(tiles)), kBlock, 0, stream>>>(
          indptr.const_data_ptr<int64_t>(), indices.const_data_ptr<int64_t>(), wp, x.const_data_ptr<scalar_t>(),
          out.data_ptr<scalar_t>(), ws.data_ptr<acc_t>(), extra_ptr.const_data_ptr<int64_t>(),
          ws_ptr.const_data_ptr<int64_t>(), num_rows, num_cols, nnz, F, seg_len, num_items);
    };
    dispatch_spmm<scalar_t, acc_t>(F, vec, launch);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (extra_bound > 0) {
      const int64_t blocks = fixup_grid(extra_bound);
      spmm_fixup_kernel<scalar_t, acc_t><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(
          extra_ptr.const_data_ptr<int64_t>(), ws_ptr.const_data_ptr<int64_t>(), ws.const_data_ptr<acc_t>(),
          out.data_ptr<scalar_t>(), num_rows, F, extra_bound);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  });
  return out;
}

at::Tensor spmm_edge_dot(const at::Tensor& indptr, const at::Tensor& indices, const at::Tensor& g_in,
                         const at::Tensor& x_in, const at::Tensor& extra_ptr, int64_t seg_len) {
  check_csr(indptr, indices, x_in, extra_ptr, "spmm_edge_dot");
  TORCH_CHECK(g_in.device() == x_in.device() && g_in.dim() == 2 && g_in.size(0) == indptr.numel() - 1 &&
                  g_in.size(1) == x_in.size(1) && g_in.scalar_type() == x_in.scalar_type(),
              "spmm_edge_dot: grad must be [num_rows, F] with the dtype and device of x");
  TORCH_CHECK(seg_len >= 1, "spmm_edge_dot: seg_len must be >= 1 (got ", seg_len, ")");
  const at::Tensor x = x_in.contiguous();
  const at::Tensor g = g_in.contiguous();
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t num_rows = indptr.numel() - 1;
  const int64_t nnz = indices.numel();
  const int64_t F = x.size(1);
  at::Tensor out = at::empty({nnz}, x.options());
  if (nnz == 0) return out;
  if (F == 0) return out.zero_();
  const int64_t num_items = num_rows + spmm_extra_bound(nnz, seg_len);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "spmm_edge_dot", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const bool vec = spmm_vectorizable(F, sizeof(scalar_t), reinterpret_cast<uintptr_t>(x.const_data_ptr()),
                                       reinterpret_cast<uintptr_t>(g.const_data_ptr()));
    auto launch = [&](auto kernel, int G) {
      const int64_t blocks = items_grid(num_items, G);
      TORCH_CHECK(blocks < (int64_t{1} << 31), "spmm_edge_dot: too many rows");
      kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(
          indptr.const_data_ptr<int64_t>(), indices.const_data_ptr<int64_t>(), g.const_data_ptr<scalar_t>(),
          x.const_data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), extra_ptr.const_data_ptr<int64_t>(), num_rows,
          x.size(0), nnz, F, seg_len, num_items);
    };
    dispatch_edge_dot<scalar_t, acc_t>(F, vec, launch);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

}  // namespace graphspike
