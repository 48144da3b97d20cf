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

namespace graphspike {
namespace {

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
  CUDA_KERNEL_ASSERT_MSG(0 <= begin && begin <= end && end <= nnz,
                         "graphspike spmm: indptr must be non-decreasing from 0 to nnz");
  s.heavy = end - begin > seg_len;
  s.e0 = begin + s.seg * seg_len;
  s.e1 = s.heavy ? (end < s.e0 + seg_len ? end : s.e0 + seg_len) : end;
  return true;
}

__device__ __forceinline__ int64_t checked_col(const int64_t* __restrict__ indices, int64_t e, int64_t num_cols) {
  const int64_t c = indices[e];
  CUDA_KERNEL_ASSERT_MSG(0 <= c && c < num_cols, "graphspike spmm: column index out of range");
  return c;
}

template <typename scalar_t, int V, int G, int KV>
__global__ void __launch_bounds__(kBlock)
    spmm_kernel(const int64_t* __restrict__ indptr, const int64_t* __restrict__ indices,
                const scalar_t* __restrict__ weight, const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                at::opmath_type<scalar_t>* __restrict__ ws, const int64_t* __restrict__ extra_ptr,
                const int64_t* __restrict__ ws_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz, int64_t F,
                int64_t seg_len, int64_t num_items) {
  using acc_t = at::opmath_type<scalar_t>;
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
template <typename scalar_t>
__global__ void __launch_bounds__(kBlock)
    spmm_fixup_kernel(const int64_t* __restrict__ extra_ptr, const int64_t* __restrict__ ws_ptr,
                      const at::opmath_type<scalar_t>* __restrict__ ws, scalar_t* __restrict__ out, int64_t num_rows,
                      int64_t F, int64_t num_extra) {
  using acc_t = at::opmath_type<scalar_t>;
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
template <typename scalar_t, int V, int G>
__global__ void __launch_bounds__(kBlock)
    edge_dot_kernel(const int64_t* __restrict__ indptr, const int64_t* __restrict__ indices,
                    const scalar_t* __restrict__ g, const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                    const int64_t* __restrict__ extra_ptr, int64_t num_rows, int64_t num_cols, int64_t nnz, int64_t F,
                    int64_t seg_len, int64_t num_items) {
  using acc_t = at::opmath_type<scalar_t>;
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

int pow2_at_least(int64_t n, int cap) {
  int g = 1;
  while (g < cap && g < n) g *= 2;
  return g;
}

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
  const int64_t extra_bound = nnz / seg_len;  // >= the actual number of extra segments
  const int64_t ws_rows = extra_bound + nnz / (seg_len + 1);  // >= the segments of all heavy rows
  const int64_t num_items = num_rows + extra_bound;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "spmm_csr", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    constexpr int V = 16 / sizeof(scalar_t);
    at::Tensor ws = at::empty({ws_rows > 0 ? ws_rows : 1, F}, x.options().dtype(c10::CppTypeToScalarType<acc_t>::value));
    const bool vec = (F * static_cast<int64_t>(sizeof(scalar_t))) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(x.const_data_ptr()) % 16 == 0;
    const scalar_t* wp = weight.has_value() ? weight->const_data_ptr<scalar_t>() : nullptr;
    auto launch = [&](auto kernel, int G, int64_t tile) {
      const int64_t tiles = (F + tile - 1) / tile;
      TORCH_CHECK(tiles <= 65535, "spmm_csr: F = ", F, " is too wide");
      const int64_t groups_per_block = kBlock / G;
      const int64_t blocks = (num_items + groups_per_block - 1) / groups_per_block;
      TORCH_CHECK(blocks < (int64_t{1} << 31), "spmm_csr: too many rows");
      kernel<<<dim3(static_cast<unsigned>(blocks), static_cast<unsigned>(tiles)), kBlock, 0, stream>>>(
          indptr.const_data_ptr<int64_t>(), indices.const_data_ptr<int64_t>(), wp, x.const_data_ptr<scalar_t>(),
          out.data_ptr<scalar_t>(), ws.data_ptr<acc_t>(), extra_ptr.const_data_ptr<int64_t>(),
          ws_ptr.const_data_ptr<int64_t>(), num_rows, num_cols, nnz, F, seg_len, num_items);
    };
    if (vec) {
      const int64_t nv = F / V;
      switch (nv <= 32 ? pow2_at_least(nv, 32) : 64) {
        case 1: launch(spmm_kernel<scalar_t, V, 1, 1>, 1, V); break;
        case 2: launch(spmm_kernel<scalar_t, V, 2, 1>, 2, 2 * V); break;
        case 4: launch(spmm_kernel<scalar_t, V, 4, 1>, 4, 4 * V); break;
        case 8: launch(spmm_kernel<scalar_t, V, 8, 1>, 8, 8 * V); break;
        case 16: launch(spmm_kernel<scalar_t, V, 16, 1>, 16, 16 * V); break;
        case 32: launch(spmm_kernel<scalar_t, V, 32, 1>, 32, 32 * V); break;
        default: launch(spmm_kernel<scalar_t, V, 32, 2>, 32, 64 * V);
      }
    } else if (F <= 8) {
      launch(spmm_kernel<scalar_t, 1, 8, 1>, 8, 8);
    } else {
      launch(spmm_kernel<scalar_t, 1, 32, 1>, 32, 32);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (extra_bound > 0) {
      const int64_t warps_per_block = kBlock / 32;
      const int64_t blocks = (extra_bound + warps_per_block - 1) / warps_per_block;
      spmm_fixup_kernel<scalar_t><<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(
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
  const int64_t num_items = num_rows + nnz / seg_len;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "spmm_edge_dot", [&] {
    constexpr int V = 16 / sizeof(scalar_t);
    const bool vec = (F * static_cast<int64_t>(sizeof(scalar_t))) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(x.const_data_ptr()) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(g.const_data_ptr()) % 16 == 0;
    auto launch = [&](auto kernel, int G) {
      const int64_t groups_per_block = kBlock / G;
      const int64_t blocks = (num_items + groups_per_block - 1) / groups_per_block;
      TORCH_CHECK(blocks < (int64_t{1} << 31), "spmm_edge_dot: too many rows");
      kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(
          indptr.const_data_ptr<int64_t>(), indices.const_data_ptr<int64_t>(), g.const_data_ptr<scalar_t>(),
          x.const_data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), extra_ptr.const_data_ptr<int64_t>(), num_rows,
          x.size(0), nnz, F, seg_len, num_items);
    };
    if (vec) {
      switch (pow2_at_least(F / V, 32)) {
        case 1: launch(edge_dot_kernel<scalar_t, V, 1>, 1); break;
        case 2: launch(edge_dot_kernel<scalar_t, V, 2>, 2); break;
        case 4: launch(edge_dot_kernel<scalar_t, V, 4>, 4); break;
        case 8: launch(edge_dot_kernel<scalar_t, V, 8>, 8); break;
        case 16: launch(edge_dot_kernel<scalar_t, V, 16>, 16); break;
        default: launch(edge_dot_kernel<scalar_t, V, 32>, 32);
      }
    } else if (F <= 8) {
      launch(edge_dot_kernel<scalar_t, 1, 8>, 8);
    } else {
      launch(edge_dot_kernel<scalar_t, 1, 32>, 32);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

}  // namespace graphspike
