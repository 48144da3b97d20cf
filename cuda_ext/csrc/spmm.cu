// CSR sum aggregation out[i] = sum_{e in row i} w_e * x[col_e]  (cuda_ext/spmm.py is the spec).
//
// Row-parallel, deterministic, no atomics: one warp owns one (row, feature tile) pair and walks
// the row's edges in CSR order, so every output element is summed in the same order as the
// sequential reference on every run. Design after GE-SpMM (Huang et al., SC'20): the warp loads
// 32 edges (column ids and weights) cooperatively with coalesced reads and broadcasts them with
// shuffles ("coalesced row caching"); each lane then accumulates kPerLane features spaced 32
// apart, so the reads of x rows are coalesced across the warp. A feature tile is 32 * kPerLane
// wide; wider F uses several tiles along gridDim.y. Accumulation is in the op-math type
// (float for half/bfloat16/float, double for double).
//
// Traffic model: nnz * (8 [col] + w bytes) + nnz * F * b [x rows] + R * F * b [out] bytes.
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS  // light headers: keeps nvcc time small on CI
#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>

#include <optional>

namespace graphspike {
namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 8;  // warps per block
constexpr int kPerLane = 4;       // features per lane per tile
constexpr int kTile = kWarp * kPerLane;

template <typename scalar_t, typename acc_t, bool kWeighted>
__global__ void spmm_csr_kernel(const int64_t* __restrict__ indptr, const int64_t* __restrict__ indices,
                                const scalar_t* __restrict__ weight, const scalar_t* __restrict__ x,
                                scalar_t* __restrict__ out, int64_t num_rows, int64_t F) {
  const int lane = threadIdx.x;
  const int64_t f0 = static_cast<int64_t>(blockIdx.y) * kTile + lane;
  const int64_t row_stride = static_cast<int64_t>(gridDim.x) * kRowsPerBlock;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.y; row < num_rows;
       row += row_stride) {
    acc_t acc[kPerLane];
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) acc[k] = acc_t(0);
    const int64_t begin = indptr[row];
    const int64_t end = indptr[row + 1];
    for (int64_t base = begin; base < end; base += kWarp) {
      const int64_t e = base + lane;
      int64_t my_col = 0;
      acc_t my_w = acc_t(1);
      if (e < end) {
        my_col = indices[e];
        if (kWeighted) my_w = static_cast<acc_t>(weight[e]);
      }
      const int count = static_cast<int>(end - base < kWarp ? end - base : kWarp);
      for (int j = 0; j < count; ++j) {
        const int64_t col = __shfl_sync(0xffffffffu, my_col, j);
        const acc_t w = kWeighted ? __shfl_sync(0xffffffffu, my_w, j) : acc_t(1);
        const scalar_t* xrow = x + col * F;
#pragma unroll
        for (int k = 0; k < kPerLane; ++k) {
          const int64_t f = f0 + static_cast<int64_t>(k) * kWarp;
          if (f < F) {
            const acc_t xv = static_cast<acc_t>(xrow[f]);
            acc[k] = kWeighted ? acc[k] + w * xv : acc[k] + xv;
          }
        }
      }
    }
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int64_t f = f0 + static_cast<int64_t>(k) * kWarp;
      if (f < F) out[row * F + f] = static_cast<scalar_t>(acc[k]);
    }
  }
}

}  // namespace

at::Tensor spmm_csr(const at::Tensor& indptr_in, const at::Tensor& indices_in,
                    const std::optional<at::Tensor>& weight_in, const at::Tensor& x_in) {
  TORCH_CHECK(x_in.is_cuda() && x_in.dim() == 2, "spmm_csr: x must be a 2-D CUDA tensor");
  TORCH_CHECK(indptr_in.device() == x_in.device() && indptr_in.scalar_type() == at::kLong && indptr_in.dim() == 1 &&
                  indptr_in.numel() >= 1,
              "spmm_csr: indptr must be a 1-D int64 tensor on the device of x");
  TORCH_CHECK(indices_in.device() == x_in.device() && indices_in.scalar_type() == at::kLong && indices_in.dim() == 1,
              "spmm_csr: indices must be a 1-D int64 tensor on the device of x");
  if (weight_in.has_value()) {
    TORCH_CHECK(weight_in->device() == x_in.device() && weight_in->scalar_type() == x_in.scalar_type() &&
                    weight_in->numel() == indices_in.numel(),
                "spmm_csr: weight must be an [nnz] tensor with the dtype and device of x");
  }
  const at::Tensor x = x_in.contiguous();
  const at::Tensor indptr = indptr_in.contiguous();
  const at::Tensor indices = indices_in.contiguous();
  const std::optional<at::Tensor> weight =
      weight_in.has_value() ? std::optional<at::Tensor>(weight_in->contiguous()) : std::nullopt;
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t num_rows = indptr.numel() - 1;
  const int64_t F = x.size(1);
  at::Tensor out = at::empty({num_rows, F}, x.options());
  if (num_rows == 0 || F == 0) return out;
  const int64_t tiles = (F + kTile - 1) / kTile;
  TORCH_CHECK(tiles <= 65535, "spmm_csr: F = ", F, " is too wide (max ", int64_t{65535} * kTile, ")");
  int64_t row_blocks = (num_rows + kRowsPerBlock - 1) / kRowsPerBlock;
  if (row_blocks > (int64_t{1} << 30)) row_blocks = int64_t{1} << 30;
  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(tiles));
  const dim3 block(kWarp, kRowsPerBlock);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "spmm_csr", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    if (weight.has_value()) {
      spmm_csr_kernel<scalar_t, acc_t, true><<<grid, block, 0, stream>>>(
          indptr.data_ptr<int64_t>(), indices.data_ptr<int64_t>(), weight->data_ptr<scalar_t>(),
          x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), num_rows, F);
    } else {
      spmm_csr_kernel<scalar_t, acc_t, false><<<grid, block, 0, stream>>>(
          indptr.data_ptr<int64_t>(), indices.data_ptr<int64_t>(), nullptr, x.data_ptr<scalar_t>(),
          out.data_ptr<scalar_t>(), num_rows, F);
    }
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace graphspike
