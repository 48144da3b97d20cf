// Zero-copy row gather from pinned host memory: out[perm[k]] = table[sorted_index[k]].
//
// GPU threads read the table directly over PCIe/NVLink-C2C through its mapped device address
// (UVA), so there is no CPU gather and no staging copy (PyTorch-Direct, Min et al., VLDB'21;
// DGL's IndexSelectCPUFromGPU and GraphBolt's UVAIndexSelect follow the same idea). Choices:
//   * one warp per row; each lane moves a vector of W bytes, W = the widest of 16/8/4/2/1 that
//     divides the row size and the base addresses (16-byte loads for the usual fp32 rows with
//     4 | D);
//   * 128-B alignment ("shift and waste"): a row's first access is moved back to the previous
//     128-byte boundary and lanes before the row start idle, so each warp instruction touches
//     whole 128-B lines (a zero-copy read that straddles a line costs an extra PCIe request);
//   * the caller passes the indices sorted (and the permutation to put rows back), so
//     neighbouring warps read neighbouring host addresses;
//   * the grid is capped (max_threads) so the gather can run on a side stream beside compute
//     without taking the whole GPU (GraphBolt's default cap is 10240 threads);
//   * out-of-range rows are never read (the caller validates; the kernel also skips them).
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS  // light headers: keeps nvcc time small on CI
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace graphspike {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr int64_t kLine = 128;

template <typename vec_t>
__global__ void gather_rows_kernel(const char* __restrict__ table, const int64_t* __restrict__ sorted_index,
                                   const int64_t* __restrict__ perm, char* __restrict__ out, int64_t num_index,
                                   int64_t num_rows, int64_t row_bytes) {
  constexpr int64_t W = sizeof(vec_t);
  const int lane = threadIdx.x;
  const int64_t nvec = row_bytes / W;
  const int64_t warp_stride = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.y; k < num_index;
       k += warp_stride) {
    const int64_t r = sorted_index[k];
    if (r < 0 || r >= num_rows) continue;  // validated by the caller; never read outside the table
    const vec_t* src = reinterpret_cast<const vec_t*>(table + r * row_bytes);
    vec_t* dst = reinterpret_cast<vec_t*>(out + perm[k] * row_bytes);
    // Start at the 128-B line holding the row's first byte: lanes with i < 0 idle once.
    const int64_t shift = static_cast<int64_t>(reinterpret_cast<uintptr_t>(src) % kLine) / W;
    for (int64_t i = lane - shift; i < nvec; i += kWarp) {
      if (i >= 0) dst[i] = src[i];
    }
  }
}

int vector_width(uintptr_t table, uintptr_t out, int64_t row_bytes) {
  for (int w = 16; w > 1; w /= 2) {
    if (row_bytes % w == 0 && table % w == 0 && out % w == 0) return w;
  }
  return 1;
}

}  // namespace

void gather_rows_uva(const at::Tensor& table, const at::Tensor& sorted_index, const at::Tensor& perm, at::Tensor& out,
                     int64_t max_threads) {
  TORCH_CHECK(table.device().is_cpu() && table.dim() == 2 && table.is_contiguous(),
              "gather_rows_uva: table must be a contiguous 2-D CPU tensor");
  TORCH_CHECK(table.is_pinned(), "gather_rows_uva: table must be in pinned (page-locked) host memory");
  TORCH_CHECK(sorted_index.is_cuda() && sorted_index.scalar_type() == at::kLong && sorted_index.dim() == 1 &&
                  sorted_index.is_contiguous(),
              "gather_rows_uva: sorted_index must be a contiguous 1-D int64 CUDA tensor");
  TORCH_CHECK(perm.device() == sorted_index.device() && perm.scalar_type() == at::kLong &&
                  perm.numel() == sorted_index.numel() && perm.is_contiguous(),
              "gather_rows_uva: perm must be a contiguous int64 tensor like sorted_index");
  TORCH_CHECK(out.device() == sorted_index.device() && out.is_contiguous() && out.dim() == 2 &&
                  out.size(0) == sorted_index.numel() && out.size(1) == table.size(1) &&
                  out.scalar_type() == table.scalar_type(),
              "gather_rows_uva: out must be a contiguous [len(index), D] CUDA tensor of the table's dtype");
  TORCH_CHECK(max_threads >= kWarp * kWarpsPerBlock, "gather_rows_uva: max_threads must be >= ",
              kWarp * kWarpsPerBlock);
  const c10::cuda::CUDAGuard guard(sorted_index.device());
  const int64_t num_index = sorted_index.numel();
  const int64_t row_bytes = table.size(1) * static_cast<int64_t>(table.element_size());
  if (num_index == 0 || row_bytes == 0) return;

  void* device_ptr = nullptr;
  C10_CUDA_CHECK(cudaHostGetDevicePointer(&device_ptr, table.data_ptr(), 0));
  int same_address = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&same_address, cudaDevAttrCanUseHostPointerForRegisteredMem,
                                        sorted_index.device().index()));
  // Tables pinned in several cudaHostRegister chunks are only contiguous in the device view when
  // the device uses host addresses directly (true on x86-64/ARM servers with UVA).
  TORCH_CHECK(same_address || device_ptr == table.data_ptr() ||
                  table.nbytes() <= (static_cast<size_t>(64) << 30),
              "gather_rows_uva: the device cannot address this multi-chunk pinned table contiguously");

  const char* src = static_cast<const char*>(device_ptr);
  char* dst = static_cast<char*>(out.data_ptr());
  const int w = vector_width(reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst), row_bytes);
  const int64_t threads_per_block = kWarp * kWarpsPerBlock;
  int64_t blocks = (num_index + kWarpsPerBlock - 1) / kWarpsPerBlock;
  const int64_t cap = max_threads / threads_per_block;
  if (blocks > cap) blocks = cap;
  const dim3 grid(static_cast<unsigned>(blocks));
  const dim3 block(kWarp, kWarpsPerBlock);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t* idx = sorted_index.data_ptr<int64_t>();
  const int64_t* pp = perm.data_ptr<int64_t>();
  const int64_t R = table.size(0);
  switch (w) {
    case 16:
      gather_rows_kernel<uint4><<<grid, block, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes);
      break;
    case 8:
      gather_rows_kernel<uint2><<<grid, block, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes);
      break;
    case 4:
      gather_rows_kernel<uint32_t><<<grid, block, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes);
      break;
    case 2:
      gather_rows_kernel<uint16_t><<<grid, block, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes);
      break;
    default:
      gather_rows_kernel<uint8_t><<<grid, block, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace graphspike
