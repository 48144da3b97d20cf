// Device code of csrc/gather.cu: the row gather and the streaming copy. In a header so that the
// launcher (gather.cu) and a host emulation (tests/cuda_ext/test_kernel_emulation.py, which
// compiles this file as plain C++ and runs every thread of a grid in turn) share one copy. See
// gather.cu for the design.
#pragma once

#include <cstdint>

namespace graphspike {
namespace gather_detail {

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

inline int vector_width(uintptr_t table, uintptr_t out, int64_t row_bytes) {
  for (int w = 16; w > 1; w /= 2) {
    if (row_bytes % w == 0 && table % w == 0 && out % w == 0) return w;
  }
  return 1;
}

inline int group_size(int64_t nvec) {
  int g = 1;
  while (g < 32 && g < nvec) g *= 2;
  return g;
}

// Launch geometry of gather_rows_kernel: (vector width, lanes per row, blocks). Groups cover the
// vectors of a row plus, for rows of >= 128 B, the idle lanes of the alignment shift; the grid is
// capped at max_threads.
struct GatherGeometry {
  int w;
  int g;
  int64_t blocks;
};

inline GatherGeometry gather_geometry(uintptr_t table, uintptr_t out, int64_t row_bytes, int64_t num_index,
                                      int64_t max_threads) {
  const int w = vector_width(table, out, row_bytes);
  const int64_t nvec = row_bytes / w;
  const int g = group_size(row_bytes >= kLine ? nvec + kLine / w - 1 : nvec);
  int64_t blocks = (num_index * g + kBlock - 1) / kBlock;
  const int64_t cap = max_threads / kBlock;
  if (blocks > cap) blocks = cap;
  if (blocks > (int64_t{1} << 31) - 1) blocks = (int64_t{1} << 31) - 1;
  return {w, g, blocks};
}

// Blocks of stream_copy_kernel for n 16-byte vectors, capped at max_threads.
inline int64_t stream_copy_blocks(int64_t n, int64_t max_threads) {
  int64_t blocks = (n + kBlock * kUnroll - 1) / (kBlock * kUnroll);
  const int64_t cap = max_threads / kBlock;
  if (blocks > cap) blocks = cap;
  if (blocks > (int64_t{1} << 31) - 1) blocks = (int64_t{1} << 31) - 1;
  return blocks;
}

// Calls launch(kernel) with the gather_rows_kernel instantiation for vector width w and G = g.
template <typename vec_t, typename Launch>
void dispatch_gather_group(int g, Launch&& launch) {
  switch (g) {
    case 1: launch(gather_rows_kernel<vec_t, 1>); break;
    case 2: launch(gather_rows_kernel<vec_t, 2>); break;
    case 4: launch(gather_rows_kernel<vec_t, 4>); break;
    case 8: launch(gather_rows_kernel<vec_t, 8>); break;
    case 16: launch(gather_rows_kernel<vec_t, 16>); break;
    default: launch(gather_rows_kernel<vec_t, 32>);
  }
}

template <typename Launch>
void dispatch_gather(int w, int g, Launch&& launch) {
  switch (w) {
    case 16: dispatch_gather_group<uint4>(g, launch); break;
    case 8: dispatch_gather_group<uint2>(g, launch); break;
    case 4: dispatch_gather_group<uint32_t>(g, launch); break;
    case 2: dispatch_gather_group<uint16_t>(g, launch); break;
    default: dispatch_gather_group<uint8_t>(g, launch);
  }
}

}  // namespace gather_detail
}  // namespace graphspike
