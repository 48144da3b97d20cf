// Device code of csrc/spmm.cu: CSR SpMM, its fix-up of split rows, and the edge-weight gradient.
// In a header so that the launcher (spmm.cu) and a host emulation (tests/cuda_ext/
// test_kernel_emulation.py, which compiles this file as plain C++ and runs every thread of a
// grid in turn) share one copy. See spmm.cu for the design.
#pragma once

#include <cstdint>
#include <cstring>

#ifndef GRAPHSPIKE_KERNEL_ASSERT
#define GRAPHSPIKE_KERNEL_ASSERT(cond, msg) CUDA_KERNEL_ASSERT_MSG(cond, msg)
#endif

namespace graphspike {
namespace spmm_detail {

constexpr int kBlock = 256;  // threads per block
constexpr int kUnroll = 4;   // edges in flight per group

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

// Store a pack with 16-byte stores when it is a multiple of 16 bytes: through __stcg, because
// nvcc splits a plain vector store here into four scalar ones (seen in the PTX of this kernel).
template <typename T, int N>
__device__ __forceinline__ void store_pack(T* dst, const Pack<T, N>& p) {
  if constexpr (sizeof(Pack<T, N>) % 16 == 0) {
    constexpr int kChunks = sizeof(Pack<T, N>) / 16;
    uint4 chunk[kChunks];
    memcpy(chunk, &p, sizeof(chunk));
#pragma unroll
    for (int c = 0; c < kChunks; ++c) __stcg(reinterpret_cast<uint4*>(dst) + c, chunk[c]);
  } else {
    *reinterpret_cast<Pack<T, N>*>(dst) = p;
  }
}

// Work item -> (row, segment). Items [0, R) are segment 0 of each row; item R + j is extra
// segment j, which belongs to the row r with extra_ptr[r] <= j < extra_ptr[r + 1].
// Returns false when the item has no work (beyond the actual number of extra segments).
__device__ __forceinline__ bool resolve_item(int64_t item, const int64_t* __restrict__ extra_ptr, int64_t num_rows,
                                             int64_t& row, int64_t& seg) {
  if (item < num_rows) {
    row = item;
    seg = 0;
    return true;
  }
  const int64_t j = item - num_rows;
  if (j >= extra_ptr[num_rows]) return false;
  int64_t lo = 0, hi = num_rows;  // invariant: extra_ptr[lo] <= j < extra_ptr[hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (extra_ptr[mid] <= j) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  row = lo;
  seg = j - extra_ptr[lo] + 1;
  return true;
}

// The edges [e0, e1) of a work item's segment of row `row`; heavy rows (more than seg_len edges)
// are cut into segments of seg_len edges. False when the item has no work.
struct Segment {
  int64_t row, seg, e0, e1;
  bool heavy;
};

__device__ __forceinline__ bool segment_of(int64_t item, const int64_t* __restrict__ indptr,
                                           const int64_t* __restrict__ extra_ptr, int64_t num_rows,
                                           int64_t num_items, int64_t seg_len, int64_t nnz, Segment& s) {
  if (item >= num_items || !resolve_item(item, extra_ptr, num_rows, s.row, s.seg)) return false;
  const int64_t begin = indptr[s.row];
  const int64_t end = indptr[s.row + 1];
  GRAPHSPIKE_KERNEL_ASSERT(0 <= begin && begin <= end && end <= nnz,
                         "graphspike spmm: indptr must be non-decreasing from 0 to nnz");
  s.heavy = end - begin > seg_len;
  s.e0 = begin + s.seg * seg_len;
  s.e1 = s.heavy ? (end < s.e0 + seg_len ? end : s.e0 + seg_len) : end;
  return true;
}

__device__ __forceinline__ int64_t checked_col(const int64_t* __restrict__ indices, int64_t e, int64_t num_cols) {
  const int64_t c = indices[e];
  GRAPHSPIKE_KERNEL_ASSERT(0 <= c && c < num_cols, "graphspike spmm: column index out of range");
  return c;
}

template <typename scalar_t, typename acc_t, int V, int G, int KV>
__global__ void __launch_bounds__(kBlock)
    spmm_kernel(const int64_t* __restrict__ indptr, const int64_t* __restrict__ indices,
                const scalar_t* __restrict__ weight, const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                acc_t* __restrict__ ws, const int64_t* __restrict__ extra_ptr,
                const int64_t* __restrict__ ws_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz, int64_t F,
                int64_t seg_len, int64_t num_items) {
  using pack_t = Pack<scalar_t, V>;
  const int lane = threadIdx.x % G;
  Segment s;
  if (!segment_of(static_cast<int64_t>(blockIdx.x) * (kBlock / G) + threadIdx.x / G, indptr, extra_ptr, num_rows,
                  num_items, seg_len, nnz, s)) {
    return;
  }
  const int64_t f_tile = static_cast<int64_t>(blockIdx.y) * (G * KV * V);

  acc_t acc[KV][V];
#pragma unroll
  for (int k = 0; k < KV; ++k)
#pragma unroll
    for (int v = 0; v < V; ++v) acc[k][v] = acc_t(0);

  const int64_t e0 = s.e0, e1 = s.e1;
  for (int64_t e = e0; e < e1; e += kUnroll) {
    int64_t col[kUnroll];
    acc_t w[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      col[u] = 0;
      w[u] = acc_t(1);
      if (e + u < e1) {
        col[u] = checked_col(indices, e + u, num_cols);
        if (weight != nullptr) w[u] = static_cast<acc_t>(weight[e + u]);
      }
    }
    pack_t xv[kUnroll][KV];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
#pragma unroll
      for (int k = 0; k < KV; ++k) {
        const int64_t f = f_tile + static_cast<int64_t>(lane + k * G) * V;
        if (e + u < e1 && f < F) xv[u][k] = *reinterpret_cast<const pack_t*>(x + col[u] * F + f);
      }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
#pragma unroll
      for (int k = 0; k < KV; ++k) {
        const int64_t f = f_tile + static_cast<int64_t>(lane + k * G) * V;
        if (e + u < e1 && f < F) {
#pragma unroll
          for (int v = 0; v < V; ++v) acc[k][v] += w[u] * static_cast<acc_t>(xv[u][k].v[v]);
        }
      }
  }

#pragma unroll
  for (int k = 0; k < KV; ++k) {
    const int64_t f = f_tile + static_cast<int64_t>(lane + k * G) * V;
    if (f >= F) continue;
    if (s.heavy) {
      Pack<acc_t, V> p;
#pragma unroll
      for (int v = 0; v < V; ++v) p.v[v] = acc[k][v];
      store_pack(ws + (ws_ptr[s.row] + s.seg) * F + f, p);
    } else {
      pack_t p;
#pragma unroll
      for (int v = 0; v < V; ++v) p.v[v] = static_cast<scalar_t>(acc[k][v]);
      store_pack(out + s.row * F + f, p);
    }
  }
}

// out[row] = sum of the row's workspace partials in segment order; run by the group of the first
// extra segment of each heavy row (one warp per extra segment; the others exit at once).
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kBlock)
    spmm_fixup_kernel(const int64_t* __restrict__ extra_ptr, const int64_t* __restrict__ ws_ptr,
                      const acc_t* __restrict__ ws, scalar_t* __restrict__ out, int64_t num_rows,
                      int64_t F, int64_t num_extra) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * (kBlock / 32) + threadIdx.x / 32;
  if (j >= num_extra) return;
  int64_t row, seg;
  if (!resolve_item(num_rows + j, extra_ptr, num_rows, row, seg) || seg != 1) return;
  const int64_t nseg = extra_ptr[row + 1] - extra_ptr[row] + 1;
  const acc_t* part = ws + ws_ptr[row] * F;
  for (int64_t f = threadIdx.x % 32; f < F; f += 32) {
    acc_t s = acc_t(0);
    for (int64_t k = 0; k < nseg; ++k) s += part[k * F + f];
    out[row * F + f] = static_cast<scalar_t>(s);
  }
}

// grad_w[e] = <g[row_e], x[col_e]>: lanes of a group take vectors f = lane * V, lane * V + G * V, ...
// and the group reduces its partial dots with a fixed butterfly, so the result is deterministic.
template <typename scalar_t, typename acc_t, int V, int G>
__global__ void __launch_bounds__(kBlock)
    edge_dot_kernel(const int64_t* __restrict__ indptr, const int64_t* __restrict__ indices,
                    const scalar_t* __restrict__ g, const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                    const int64_t* __restrict__ extra_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz, int64_t F,
                    int64_t seg_len, int64_t num_items) {
  using pack_t = Pack<scalar_t, V>;
  const int lane = threadIdx.x % G;
  const unsigned mask = G == 32 ? 0xffffffffu : (((1u << G) - 1u) << (threadIdx.x % 32 / G * G));
  Segment s;  // edges are independent: every segment, heavy or not, writes its own outputs
  if (!segment_of(static_cast<int64_t>(blockIdx.x) * (kBlock / G) + threadIdx.x / G, indptr, extra_ptr, num_rows,
                  num_items, seg_len, nnz, s)) {
    return;
  }
  const int64_t e0 = s.e0, e1 = s.e1;
  const scalar_t* grow = g + s.row * F;
  for (int64_t e = e0; e < e1; e += kUnroll) {
    int64_t col[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) col[u] = e + u < e1 ? checked_col(indices, e + u, num_cols) : 0;
    acc_t part[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) part[u] = acc_t(0);
    for (int64_t f = static_cast<int64_t>(lane) * V; f < F; f += static_cast<int64_t>(G) * V) {
      const pack_t gv = *reinterpret_cast<const pack_t*>(grow + f);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        if (e + u < e1) {
          const pack_t xv = *reinterpret_cast<const pack_t*>(x + col[u] * F + f);
#pragma unroll
          for (int v = 0; v < V; ++v) part[u] += static_cast<acc_t>(gv.v[v]) * static_cast<acc_t>(xv.v[v]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
      for (int offset = G / 2; offset > 0; offset /= 2) part[u] += __shfl_xor_sync(mask, part[u], offset, G);
      if (lane == 0 && e + u < e1) out[e + u] = static_cast<scalar_t>(part[u]);
    }
  }
}


// Launch geometry shared by the launcher (spmm.cu) and the host emulation of the tests.
inline int pow2_at_least(int64_t n, int cap) {
  int g = 1;
  while (g < cap && g < n) g *= 2;
  return g;
}

// Lanes per row group (G), vectors per lane (KV) and the feature tile G * KV * V of spmm_kernel:
// 16-byte vectors of V = 16 / elem elements when `vec`, else scalars.
struct SpmmConfig {
  int G;
  int KV;
  int64_t tile;
};

inline SpmmConfig spmm_config(int64_t F, int64_t elem, bool vec) {
  if (vec) {
    const int64_t V = 16 / elem;
    const int64_t nv = F / V;
    if (nv <= 32) {
      const int g = pow2_at_least(nv, 32);
      return {g, 1, g * V};
    }
    return {32, 2, 64 * V};
  }
  if (F <= 8) return {8, 1, 8};
  return {32, 1, 32};
}

// Lanes per row group of edge_dot_kernel (each lane loops over its vectors).
inline int edge_dot_group(int64_t F, int64_t elem, bool vec) {
  if (vec) return pow2_at_least(F / (16 / elem), 32);
  return F <= 8 ? 8 : 32;
}

// 16-byte vectors of x (and grad) when every row starts on a 16-byte boundary.
inline bool spmm_vectorizable(int64_t F, int64_t elem, uintptr_t x, uintptr_t g = 0) {
  return (F * elem) % 16 == 0 && x % 16 == 0 && g % 16 == 0;
}

// The grid never waits for the host to count segments: extra segments are at most nnz / seg_len
// (a row of d > seg_len edges has ceil(d / seg_len) - 1 < d / seg_len of them), and the heavy rows,
// each of more than seg_len edges, number at most nnz / (seg_len + 1).
inline int64_t spmm_extra_bound(int64_t nnz, int64_t seg_len) { return nnz / seg_len; }
inline int64_t spmm_workspace_rows(int64_t nnz, int64_t seg_len) { return nnz / seg_len + nnz / (seg_len + 1); }

// Grids: one group of G lanes per work item (x) and one feature tile per y; one warp per extra
// segment for the fix-up.
inline int64_t items_grid(int64_t num_items, int G) { return (num_items + kBlock / G - 1) / (kBlock / G); }
inline int64_t tiles_grid(int64_t F, int64_t tile) { return (F + tile - 1) / tile; }
inline int64_t fixup_grid(int64_t extra_bound) { return (extra_bound + kBlock / 32 - 1) / (kBlock / 32); }

// Calls launch(kernel, config) with the spmm_kernel instantiation for (F, vec).
template <typename scalar_t, typename acc_t, typename Launch>
void dispatch_spmm(int64_t F, bool vec, Launch&& launch) {
  constexpr int V = 16 / sizeof(scalar_t);
  const SpmmConfig cfg = spmm_config(F, sizeof(scalar_t), vec);
  if (!vec) {
    if (cfg.G == 8) {
      launch(spmm_kernel<scalar_t, acc_t, 1, 8, 1>, cfg);
    } else {
      launch(spmm_kernel<scalar_t, acc_t, 1, 32, 1>, cfg);
    }
    return;
  }
  switch (cfg.G * cfg.KV) {
    case 1: launch(spmm_kernel<scalar_t, acc_t, V, 1, 1>, cfg); break;
    case 2: launch(spmm_kernel<scalar_t, acc_t, V, 2, 1>, cfg); break;
    case 4: launch(spmm_kernel<scalar_t, acc_t, V, 4, 1>, cfg); break;
    case 8: launch(spmm_kernel<scalar_t, acc_t, V, 8, 1>, cfg); break;
    case 16: launch(spmm_kernel<scalar_t, acc_t, V, 16, 1>, cfg); break;
    case 32: launch(spmm_kernel<scalar_t, acc_t, V, 32, 1>, cfg); break;
    default: launch(spmm_kernel<scalar_t, acc_t, V, 32, 2>, cfg);
  }
}

// Calls launch(kernel, G) with the edge_dot_kernel instantiation for (F, vec).
template <typename scalar_t, typename acc_t, typename Launch>
void dispatch_edge_dot(int64_t F, bool vec, Launch&& launch) {
  constexpr int V = 16 / sizeof(scalar_t);
  const int G = edge_dot_group(F, sizeof(scalar_t), vec);
  if (!vec) {
    if (G == 8) {
      launch(edge_dot_kernel<scalar_t, acc_t, 1, 8>, G);
    } else {
      launch(edge_dot_kernel<scalar_t, acc_t, 1, 32>, G);
    }
    return;
  }
  switch (G) {
    case 1: launch(edge_dot_kernel<scalar_t, acc_t, V, 1>, G); break;
    case 2: launch(edge_dot_kernel<scalar_t, acc_t, V, 2>, G); break;
    case 4: launch(edge_dot_kernel<scalar_t, acc_t, V, 4>, G); break;
    case 8: launch(edge_dot_kernel<scalar_t, acc_t, V, 8>, G); break;
    case 16: launch(edge_dot_kernel<scalar_t, acc_t, V, 16>, G); break;
    default: launch(edge_dot_kernel<scalar_t, acc_t, V, 32>, G);
  }
}

}  // namespace spmm_detail
}  // namespace graphspike
