// Host emulation of graphspike's CUDA kernels, for tests without a GPU.
//
// Compiles the device code of cuda_ext/csrc/spmm_kernels.cuh and gather_kernels.cuh as plain C++
// and runs a launch by calling the kernel once per (block, thread) of its grid, in turn. That is
// exact for kernels whose threads do not talk to each other (spmm_kernel, spmm_fixup_kernel,
// gather_rows_kernel, stream_copy_kernel): it checks their indexing, work split, tails, vector
// widths and bounds handling with the same launch geometry and dispatch the CUDA launchers use.
// (edge_dot_kernel reduces across lanes with warp shuffles and is left to the CUDA tests.)
// Built and called through ctypes by tests/cuda_ext/test_kernel_emulation.py.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace emulation {
struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};
}  // namespace emulation

static emulation::Dim3 threadIdx, blockIdx, gridDim, blockDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
struct uint4 {
  unsigned x, y, z, w;
};
struct uint2 {
  unsigned x, y;
};
template <typename T>
inline void __stcg(T* p, T v) {
  *p = v;
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  const unsigned long long old = *p;
  *p += v;
  return old;
}
#define GRAPHSPIKE_KERNEL_ASSERT(cond, msg) \
  do {                                      \
    if (!(cond)) throw std::runtime_error(msg); \
  } while (0)

#include "../../cuda_ext/csrc/gather_kernels.cuh"
#include "../../cuda_ext/csrc/spmm_kernels.cuh"

namespace {

template <typename Kernel, typename... Args>
void run_grid(int64_t grid_x, int64_t grid_y, unsigned block, Kernel kernel, Args... args) {
  gridDim = {static_cast<unsigned>(grid_x), static_cast<unsigned>(grid_y), 1};
  blockDim = {block, 1, 1};
  for (unsigned by = 0; by < gridDim.y; ++by) {
    for (unsigned bx = 0; bx < gridDim.x; ++bx) {
      blockIdx = {bx, by, 1};
      for (unsigned t = 0; t < block; ++t) {
        threadIdx = {t, 0, 0};
        kernel(args...);
      }
    }
  }
}

int report(const std::exception& err, char* message, int capacity) {
  std::strncpy(message, err.what(), static_cast<size_t>(capacity - 1));
  message[capacity - 1] = '\0';
  return 1;
}

// The launcher of spmm.cu, with kernel<<<...>>> replaced by run_grid.
template <typename scalar_t>
int spmm(const int64_t* indptr, const int64_t* indices, const scalar_t* weight, const scalar_t* x, scalar_t* out,
         const int64_t* extra_ptr, const int64_t* ws_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz, int64_t F,
         int64_t seg_len, int* config, char* message, int capacity) {
  using namespace graphspike::spmm_detail;
  try {
    const int64_t extra_bound = spmm_extra_bound(nnz, seg_len);
    const int64_t num_items = num_rows + extra_bound;
    std::vector<scalar_t> ws(static_cast<size_t>((spmm_workspace_rows(nnz, seg_len) + 1) * F) + 64);
    scalar_t* wsp = ws.data();
    while (reinterpret_cast<uintptr_t>(wsp) % 32) ++wsp;  // cudaMalloc alignment, for the 16-byte packs
    const bool vec = spmm_vectorizable(F, sizeof(scalar_t), reinterpret_cast<uintptr_t>(x));
    dispatch_spmm<scalar_t, scalar_t>(F, vec, [&](auto kernel, const SpmmConfig& cfg) {
      config[0] = vec;
      config[1] = cfg.G;
      config[2] = cfg.KV;
      run_grid(items_grid(num_items, cfg.G), tiles_grid(F, cfg.tile), kBlock, kernel, indptr, indices, weight, x, out,
               wsp, extra_ptr, ws_ptr, num_rows, num_cols, nnz, F, seg_len, num_items);
    });
    if (extra_bound > 0) {
      run_grid(fixup_grid(extra_bound), 1, kBlock, spmm_fixup_kernel<scalar_t, scalar_t>, extra_ptr, ws_ptr,
               static_cast<const scalar_t*>(wsp), out, num_rows, F, extra_bound);
    }
  } catch (const std::exception& err) {
    return report(err, message, capacity);
  }
  return 0;
}

}  // namespace

extern "C" {

int emulate_spmm_f32(const int64_t* indptr, const int64_t* indices, const float* weight, const float* x, float* out,
                     const int64_t* extra_ptr, const int64_t* ws_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz,
                     int64_t F, int64_t seg_len, int* config, char* message, int capacity) {
  return spmm<float>(indptr, indices, weight, x, out, extra_ptr, ws_ptr, num_rows, num_cols, nnz, F, seg_len, config,
                     message, capacity);
}

int emulate_spmm_f64(const int64_t* indptr, const int64_t* indices, const double* weight, const double* x,
                     double* out, const int64_t* extra_ptr, const int64_t* ws_ptr, int64_t num_rows, int64_t num_cols,
                     int64_t nnz, int64_t F, int64_t seg_len, int* config, char* message, int capacity) {
  return spmm<double>(indptr, indices, weight, x, out, extra_ptr, ws_ptr, num_rows, num_cols, nnz, F, seg_len, config,
                      message, capacity);
}

// The launcher of gather.cu (gather_rows_into), with kernel<<<...>>> replaced by run_grid.
int emulate_gather(const char* table, const int64_t* index, const int64_t* perm, char* out, int64_t num_index,
                   int64_t num_rows, int64_t row_bytes, unsigned long long* invalid, int64_t max_threads, int* geometry) {
  using namespace graphspike::gather_detail;
  const GatherGeometry geo = gather_geometry(reinterpret_cast<uintptr_t>(table), reinterpret_cast<uintptr_t>(out),
                                             row_bytes, num_index, max_threads);
  geometry[0] = geo.w;
  geometry[1] = geo.g;
  geometry[2] = static_cast<int>(geo.blocks);
  dispatch_gather(geo.w, geo.g, [&](auto kernel) {
    run_grid(geo.blocks, 1, kBlock, kernel, table, index, perm, out, num_index, num_rows, row_bytes, invalid);
  });
  return 0;
}

int emulate_stream_copy(const char* src, char* dst, int64_t nbytes, int64_t max_threads) {
  using namespace graphspike::gather_detail;
  const int64_t n = nbytes / 16;
  run_grid(stream_copy_blocks(n, max_threads), 1, kBlock, stream_copy_kernel, reinterpret_cast<const uint4*>(src),
           reinterpret_cast<uint4*>(dst), n);
  return 0;
}

}  // extern "C"
