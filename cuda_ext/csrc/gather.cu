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

#include "gather_kernels.cuh"

namespace graphspike {
namespace {

using namespace gather_detail;

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
  const GatherGeometry geo = gather_geometry(reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst),
                                             row_bytes, num_index, max_threads);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t* idx = index.const_data_ptr<int64_t>();
  const int64_t* pp = perm.has_value() ? perm->const_data_ptr<int64_t>() : nullptr;
  auto* bad = reinterpret_cast<unsigned long long*>(invalid.data_ptr<int64_t>());
  const int64_t R = table.size(0);
  dispatch_gather(geo.w, geo.g, [&](auto kernel) {
    kernel<<<static_cast<unsigned>(geo.blocks), kBlock, 0, stream>>>(src, idx, pp, dst, num_index, R, row_bytes, bad);
  });
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
  const int64_t blocks = stream_copy_blocks(n, max_threads);
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
