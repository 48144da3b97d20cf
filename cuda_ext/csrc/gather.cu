// Row gather out[perm[k]] = table[index[k]] from a table the GPU can address: device memory, or
// page-locked host memory read in place over PCIe / NVLink-C2C ("zero-copy", UVA), plus the thin
// host-memory registration helpers the sampling layer's pinned feature store calls.
//
// Zero-copy (PyTorch-Direct, Min et al., VLDB'21; DGL's IndexSelectCPUFromGPU and GraphBolt's
// UVAIndexSelect follow the same idea): GPU threads read the rows where they lie, so there is no
// CPU gather and no staging copy. Design, for bandwidth:
//   * a group of G lanes per row, G the smallest power of two covering the row's vectors (so a
//     warp serves 32/G rows of 16..64 B at once instead of idling 31 lanes);
//   * each lane moves W-byte vectors, W the widest of 16/8/4/2/1 dividing the row size and both
//     base addresses (16-byte loads for fp32 rows with 4 | D), and issues kUnroll independent
//     loads before its first store (kUnroll * 32 * W bytes in flight per warp);
//   * the next row's index (and output position) is loaded before the current row is copied, so
//     the index read does not serialise with the row read;
//   * rows of 128 B or more start at the 128-B line holding their first byte ("shift and waste":
//     lanes before the row start idle once), so each warp access touches whole lines (a zero-copy
//     read straddling a line costs an extra PCIe request);
//   * for host tables the caller sorts the indices (and passes the permutation that puts rows
//     back), so neighbouring groups read neighbouring host addresses;
//   * the grid is capped at max_threads (a parameter) so a gather on a side stream leaves the
//     GPU to compute (GraphBolt's default cap is 10240 threads, about 5-7 SMs).
// Out-of-range rows are never read: their output rows are zero-filled and counted in *invalid
// (one atomic per bad row), which the caller checks on the device or at wait() without a host
// synchronisation per call (cuda_ext/gather.py).
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS  // light headers: keeps nvcc time small on CI
#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace graphspike {
namespace {

constexpr int kBlock = 256;  // threads per block
constexpr int kUnroll = 4;   // independent vector loads per lane before the first store
constexpr int64_t kLine = 128;

template <typename vec_t, int G>
__global__ void __launch_bounds__(kBlock) gather_rows_kernel(const char* __restrict__ table,
                                                             const int64_t* __restrict__ index,
                                                             const int64_t* __restrict__ perm, char* __restrict__ out,
                                                             int64_t num_index, int64_t num_rows, int64_t row_bytes,
                                                             unsigned long long* __restrict__ invalid) {
  constexpr int64_t W = sizeof(vec_t);
  const int lane = threadIdx.x % G;
  const int64_t nvec = row_bytes / W;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * (kBlock / G);
  int64_t k = (static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x) / G;
  int64_t r = k < num_index ? index[k] : 0;
  int64_t pos = k < num_index ? (perm != nullptr ? perm[k] : k) : 0;
  while (k < num_index) {
    // Prefetch the next row's index and output position before touching this row.
    const int64_t k_next = k + stride;
    int64_t r_next = 0, pos_next = 0;
    if (k_next < num_index) {
      r_next = index[k_next];
      pos_next = perm != nullptr ? perm[k_next] : k_next;
    }
    vec_t* dst = reinterpret_cast<vec_t*>(out + pos * row_bytes);
    if (r < 0 || r >= num_rows) {
      if (lane == 0) atomicAdd(invalid, 1ULL);
      const vec_t zero{};
      for (int64_t i = lane; i < nvec; i += G) dst[i] = zero;
    } else {
      const vec_t* src = reinterpret_cast<const vec_t*>(table + r * row_bytes);
      const int64_t shift =
          row_bytes >= kLine ? static_cast<int64_t>(reinterpret_cast<uintptr_t>(src) % kLine) / W : 0;
      for (int64_t base = lane - shift; base < nvec; base += static_cast<int64_t>(G) * kUnroll) {
        vec_t v[kUnroll];
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const int64_t i = base + static_cast<int64_t>(u) * G;
          if (i >= 0 && i < nvec) v[u] = src[i];
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
          const int64_t i = base + static_cast<int64_t>(u) * G;
          if (i >= 0 && i < nvec) dst[i] = v[u];
        }
      }
    }
    k = k_next;
    r = r_next;
    pos = pos_next;
  }
}

// Plain streaming copy dst[i] = src[i] of n 16-byte vectors, every thread kUnroll loads deep:
// the "SM-read" ceiling for zero-copy reads when src is page-locked host memory.
__global__ void __launch_bounds__(kBlock) stream_copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst,
                                                             int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlock;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kBlock + threadIdx.x; base < n; base += stride * kUnroll) {
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + u * stride;
      if (i < n) v[u] = src[i];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = base + u * stride;
      if (i < n) dst[i] = v[u];
    }
  }
}

int vector_width(uintptr_t table, uintptr_t out, int64_t row_bytes) {
  for (int w = 16; w > 1; w /= 2) {
    if (row_bytes % w == 0 && table % w == 0 && out % w == 0) return w;
  }
  return 1;
}

int group_size(int64_t nvec) {
  int g = 1;
  while (g < 32 && g < nvec) g *= 2;
  return g;
}

// The address the device reads `tensor` through: its own for device memory, the mapped device
// pointer for page-locked host memory (whose first and last byte must both be page-locked).
const char* device_view(const at::Tensor& tensor, const char* what) {
  if (tensor.is_cuda()) return static_cast<const char*>(tensor.const_data_ptr());
  TORCH_CHECK(tensor.device().is_cpu(), what, ": the table must be on the GPU or in host memory");
  const char* first = static_cast<const char*>(tensor.const_data_ptr());
  const char* last = first + tensor.nbytes() - 1;
  for (const char* p : {first, last}) {
    cudaPointerAttributes attributes{};
    const cudaError_t err = cudaPointerGetAttributes(&attributes, p);
    if (err != cudaSuccess) (void)cudaGetLastError();  // not an error worth keeping: the answer is "not pinned"
    TORCH_CHECK(err == cudaSuccess && attributes.type == cudaMemoryTypeHost, what,
                ": a host table must be page-locked over its whole range (pinned or registered with "
                "cudaHostRegister); byte ",
                p - first, " of ", tensor.nbytes(), " is not");
  }
  void* mapped = nullptr;
  C10_CUDA_CHECK(cudaHostGetDevicePointer(&mapped, const_cast<char*>(first), 0));
  if (mapped != first) {
    // Tables registered in several chunks are contiguous in the device view only when the
    // device uses host addresses directly (x86-64 and ARM servers with UVA): check the last byte.
    void* mapped_last = nullptr;
    C10_CUDA_CHECK(cudaHostGetDevicePointer(&mapped_last, const_cast<char*>(last), 0));
    TORCH_CHECK(static_cast<const char*>(mapped_last) - static_cast<const char*>(mapped) == last - first, what,
                ": the device cannot address this pinned table contiguously (registered in several chunks on a "
                "device without host-pointer access)");
  }
  return static_cast<const char*>(mapped);
}

template <typename vec_t>
void launch_gather(int g, dim3 grid, cudaStream_t stream, const char* src, const int64_t* idx, const int64_t* perm,
                   char* dst, int64_t n, int64_t rows, int64_t row_bytes, unsigned long long* invalid) {
  switch (g) {
#define GATHER_CASE(G)                                                                                        \
  case G:                                                                                                     \
    gather_rows_kernel<vec_t, G><<<grid, kBlock, 0, stream>>>(src, idx, perm, dst, n, rows, row_bytes, invalid); \
    break;
    GATHER_CASE(1)
    GATHER_CASE(2)
    GATHER_CASE(4)
    GATHER_CASE(8)
    GATHER_CASE(16)
    default:
      GATHER_CASE(32)
#undef GATHER_CASE
  }
}

}  // namespace

void gather_rows_into(const at::Tensor& table, const at::Tensor& index, const std::optional<at::Tensor>& perm,
                      at::Tensor& out, at::Tensor& invalid, int64_t max_threads) {
  TORCH_CHECK(table.dim() == 2 && table.is_contiguous(), "gather_rows_into: table must be a contiguous 2-D tensor");
  TORCH_CHECK(index.is_cuda() && index.scalar_type() == at::kLong && index.dim() == 1 && index.is_contiguous(),
              "gather_rows_into: index must be a contiguous 1-D int64 CUDA tensor");
  TORCH_CHECK(!table.is_cuda() || table.device() == index.device(),
              "gather_rows_into: a device table must be on the index's device");
  if (perm.has_value()) {
    TORCH_CHECK(perm->device() == index.device() && perm->scalar_type() == at::kLong &&
                    perm->numel() == index.numel() && perm->is_contiguous(),
                "gather_rows_into: perm must be a contiguous int64 tensor like index");
  }
  TORCH_CHECK(out.device() == index.device() && out.is_contiguous() && out.dim() == 2 &&
                  out.size(0) == index.numel() && out.size(1) == table.size(1) &&
                  out.scalar_type() == table.scalar_type(),
              "gather_rows_into: out must be a contiguous [len(index), D] CUDA tensor of the table's dtype");
  TORCH_CHECK(invalid.device() == index.device() && invalid.scalar_type() == at::kLong && invalid.numel() == 1,
              "gather_rows_into: invalid must be a one-element int64 tensor on the index's device");
  TORCH_CHECK(max_threads >= kBlock, "gather_rows_into: max_threads must be >= ", kBlock, " (got ", max_threads, ")");
  const c10::cuda::CUDAGuard guard(index.device());
  const int64_t num_index = index.numel();
  const int64_t row_bytes = table.size(1) * static_cast<int64_t>(table.element_size());
  if (num_index == 0 || row_bytes == 0) return;
  const char* src = table.numel() ? device_view(table, "gather_rows_into") : nullptr;
  char* dst = static_cast<char*>(out.data_ptr());
  const int w = vector_width(reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst), row_bytes);
  const int64_t nvec = row_bytes / w;
  // Groups cover the vectors of a row plus, for rows of >= 128 B, the idle lanes of the shift.
  const int g = group_size(row_bytes >= kLine ? nvec + kLine / w - 1 : nvec);
  int64_t blocks = (num_index * g + kBlock - 1) / kBlock;
  const int64_t cap = max_threads / kBlock;
  if (blocks > cap) blocks = cap;
  if (blocks > (int64_t{1} << 31) - 1) blocks = (int64_t{1} << 31) - 1;
  const dim3 grid(static_cast<unsigned>(blocks));
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t* idx = index.const_data_ptr<int64_t>();
  const int64_t* pp = perm.has_value() ? perm->const_data_ptr<int64_t>() : nullptr;
  auto* bad = reinterpret_cast<unsigned long long*>(invalid.data_ptr<int64_t>());
  const int64_t R = table.size(0);
  switch (w) {
    case 16:
      launch_gather<uint4>(g, grid, stream, src, idx, pp, dst, num_index, R, row_bytes, bad);
      break;
    case 8:
      launch_gather<uint2>(g, grid, stream, src, idx, pp, dst, num_index, R, row_bytes, bad);
      break;
    case 4:
      launch_gather<uint32_t>(g, grid, stream, src, idx, pp, dst, num_index, R, row_bytes, bad);
      break;
    case 2:
      launch_gather<uint16_t>(g, grid, stream, src, idx, pp, dst, num_index, R, row_bytes, bad);
      break;
    default:
      launch_gather<uint8_t>(g, grid, stream, src, idx, pp, dst, num_index, R, row_bytes, bad);
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

void stream_copy(const at::Tensor& src, at::Tensor& dst, int64_t max_threads) {
  TORCH_CHECK(dst.is_cuda() && dst.is_contiguous() && src.is_contiguous() && src.nbytes() == dst.nbytes(),
              "stream_copy: src and dst must be contiguous with the same size, dst on the GPU");
  TORCH_CHECK(src.nbytes() % 16 == 0 && reinterpret_cast<uintptr_t>(src.const_data_ptr()) % 16 == 0 &&
                  reinterpret_cast<uintptr_t>(dst.data_ptr()) % 16 == 0,
              "stream_copy: sizes and addresses must be multiples of 16 bytes");
  TORCH_CHECK(max_threads >= kBlock, "stream_copy: max_threads must be >= ", kBlock);
  const c10::cuda::CUDAGuard guard(dst.device());
  const int64_t n = static_cast<int64_t>(src.nbytes() / 16);
  if (n == 0) return;
  const char* from = device_view(src, "stream_copy");
  int64_t blocks = (n + kBlock * kUnroll - 1) / (kBlock * kUnroll);
  const int64_t cap = max_threads / kBlock;
  if (blocks > cap) blocks = cap;
  if (blocks > (int64_t{1} << 31) - 1) blocks = (int64_t{1} << 31) - 1;
  stream_copy_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, c10::cuda::getCurrentCUDAStream()>>>(
      reinterpret_cast<const uint4*>(from), reinterpret_cast<uint4*>(dst.data_ptr()), n);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// ---------------------------------------------------------------------------------------------
// Host-memory registration for the sampling layer (page-locking a feature table in place).
// Each returns the cudaError code (0 = success) after CLEARING the runtime's last-error state:
// a failed cudaHostRegister otherwise stays in cudaGetLastError() and the next kernel's launch
// check would report it as its own failure.
// ---------------------------------------------------------------------------------------------
int64_t host_register(int64_t ptr, int64_t nbytes, bool read_only) {
  unsigned int flags = cudaHostRegisterPortable | cudaHostRegisterMapped;
  if (read_only) flags |= cudaHostRegisterReadOnly;
  const cudaError_t err = cudaHostRegister(reinterpret_cast<void*>(ptr), static_cast<size_t>(nbytes), flags);
  if (err != cudaSuccess) (void)cudaGetLastError();
  return static_cast<int64_t>(err);
}

int64_t host_unregister(int64_t ptr) {
  const cudaError_t err = cudaHostUnregister(reinterpret_cast<void*>(ptr));
  if (err != cudaSuccess) (void)cudaGetLastError();
  return static_cast<int64_t>(err);
}

// (memory type, device address) of a host or device address: type 0 unregistered, 1 page-locked
// host, 2 device, 3 managed; the device address is 0 when the device cannot address it.
std::tuple<int64_t, int64_t> pointer_info(int64_t ptr) {
  cudaPointerAttributes attributes{};
  const cudaError_t err = cudaPointerGetAttributes(&attributes, reinterpret_cast<void*>(ptr));
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return {0, 0};
  }
  return {static_cast<int64_t>(attributes.type), reinterpret_cast<int64_t>(attributes.devicePointer)};
}

std::string cuda_error_name(int64_t code) {
  return std::string(cudaGetErrorName(static_cast<cudaError_t>(code))) + ": " +
         cudaGetErrorString(static_cast<cudaError_t>(code));
}

}  // namespace graphspike
