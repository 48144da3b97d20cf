// Fused multi-step LIF neuron: forward and backward kernels.
//
// Semantics: cuda_ext/neuron.py (the PyTorch reference step is the spec). One thread owns one
// neuron -- or, for float16/bfloat16 with an even neuron count, two neighbouring neurons read
// and written as one half2/bfloat162 word ("paired lanes") -- and loops over the T time steps,
// keeping the membrane potential in registers. The layout is time-major [T, N], so at every
// step consecutive threads touch consecutive addresses. Each lane computes exactly the float
// operations of the one-neuron path, so pairing changes no bit of any output.
//
// Memory traffic (per neuron and step, element size b, opmath size a):
//   forward : read x (b), write spike (b), write H (a) only when backward needs it; the final
//             state V[T-1] is written once per neuron (no [T, N] membrane buffer);
//   backward: read grad_spike (b) when given, read H (a), [read grad_H (a)], write grad_x (b).
// Spikes are recomputed in backward as H >= V_th and V[t-1] from H[t-1], so nothing else is
// stored. The gradient of tau is reduced per neuron in registers and written once ([N]); the
// final sum over neurons is a deterministic torch reduction on the host side. No atomics:
// results are bitwise reproducible run to run.
#define TORCH_ASSERT_ONLY_METHOD_OPERATORS  // light headers: keeps nvcc time small on CI
#include <ATen/core/Tensor.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace graphspike {
namespace {

constexpr int kThreads = 256;

// ----------------------------------------------------------------------------------------------
// Lane access: L = 1 (any dtype, static_cast) or L = 2 (half/bfloat16 pairs, float pairs).
// Conversions round to nearest even in both, so L = 2 stores the same bits as two L = 1 stores.
// ----------------------------------------------------------------------------------------------
__device__ __forceinline__ float2 load2(const c10::Half* p) {
  return __half22float2(*reinterpret_cast<const __half2*>(p));
}
__device__ __forceinline__ float2 load2(const c10::BFloat16* p) {
  return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p));
}
__device__ __forceinline__ float2 load2(const float* p) { return *reinterpret_cast<const float2*>(p); }
__device__ __forceinline__ void store2(c10::Half* p, float a, float b) {
  *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b);
}
__device__ __forceinline__ void store2(c10::BFloat16* p, float a, float b) {
  *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b);
}
__device__ __forceinline__ void store2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }

template <int L>
struct Lanes;

template <>
struct Lanes<1> {
  template <typename T, typename A>
  static __device__ __forceinline__ void load(const T* p, A* out) {
    out[0] = static_cast<A>(p[0]);
  }
  template <typename T, typename A>
  static __device__ __forceinline__ void store(T* p, const A* in) {
    p[0] = static_cast<T>(in[0]);
  }
};

template <>
struct Lanes<2> {
  template <typename T>
  static __device__ __forceinline__ void load(const T* p, float* out) {
    const float2 f = load2(p);
    out[0] = f.x;
    out[1] = f.y;
  }
  template <typename T>
  static __device__ __forceinline__ void store(T* p, const float* in) {
    store2(p, in[0], in[1]);
  }
};

template <typename acc_t>
__device__ __forceinline__ acc_t surrogate_grad(acc_t x, acc_t alpha, int sid) {
  // Same expressions as cuda_ext/surrogate.py (and spikingjelly 2.0 _ops/surrogate.py).
  if (sid == 0) {
    const acc_t s = acc_t(1) / (acc_t(1) + exp(-alpha * x));
    return (acc_t(1) - s) * s * alpha;
  }
  const acc_t z = x * (acc_t(1.5707963267948966) * alpha);
  return (alpha / acc_t(2)) / (acc_t(1) + z * z);
}

// Forward. Lane group g covers neurons n = g*L .. g*L+L-1.
template <typename scalar_t, typename acc_t, int L>
__global__ void lif_forward_kernel(const scalar_t* __restrict__ x, const acc_t* __restrict__ v_init,
                                   const double* __restrict__ tau_ptr, scalar_t* __restrict__ spikes,
                                   scalar_t* __restrict__ v_last, acc_t* __restrict__ h_out, int64_t T, int64_t N,
                                   acc_t v_th, acc_t v_reset, bool hard, bool decay_input) {
  const acc_t tau = static_cast<acc_t>(*tau_ptr);
  const bool is_if = isinf(tau);
  const acc_t vr = hard ? v_reset : acc_t(0);
  const int64_t groups = N / L;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    const int64_t n = g * L;
    acc_t v[L];
    Lanes<L>::load(v_init + n, v);
#pragma unroll 4
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = t * N + n;
      acc_t xv[L], h[L], s[L];
      Lanes<L>::load(x + i, xv);
#pragma unroll
      for (int l = 0; l < L; ++l) {
        if (is_if) {
          h[l] = v[l] + xv[l];
        } else if (decay_input) {
          h[l] = v[l] + (xv[l] - (v[l] - vr)) / tau;
        } else {
          h[l] = v[l] - (v[l] - vr) / tau + xv[l];
        }
        const bool fire = h[l] >= v_th;
        s[l] = fire ? acc_t(1) : acc_t(0);
        v[l] = fire ? (hard ? v_reset : h[l] - v_th) : h[l];
      }
      Lanes<L>::store(spikes + i, s);
      if (h_out != nullptr) Lanes<L>::store(h_out + i, h);
    }
    Lanes<L>::store(v_last + n, v);
  }
}

// Backward, t = T-1 .. 0. carry = dL/dV[t] flowing back from step t+1; it starts at dL/dV[T-1],
// the gradient of v_last. Any of grad_s, grad_vl, grad_h may be null (an unused output).
template <typename scalar_t, typename acc_t, int L>
__global__ void lif_backward_kernel(const scalar_t* __restrict__ grad_s, const scalar_t* __restrict__ grad_vl,
                                    const acc_t* __restrict__ grad_h, const acc_t* __restrict__ h_seq,
                                    const acc_t* __restrict__ v_init, const double* __restrict__ tau_ptr,
                                    scalar_t* __restrict__ grad_x, acc_t* __restrict__ grad_v,
                                    acc_t* __restrict__ tau_partial, int64_t T, int64_t N, acc_t v_th,
                                    acc_t v_reset, bool hard, bool decay_input, bool detach_reset, int sid,
                                    acc_t alpha) {
  const acc_t tau = static_cast<acc_t>(*tau_ptr);
  const bool is_if = isinf(tau);
  const acc_t inv_tau = is_if ? acc_t(0) : acc_t(1) / tau;
  const acc_t gain_x = decay_input ? (is_if ? acc_t(1) : inv_tau) : acc_t(1);
  const acc_t vr = hard ? v_reset : acc_t(0);
  const int64_t groups = N / L;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    const int64_t n = g * L;
    acc_t carry[L], gtau[L], h[L];
#pragma unroll
    for (int l = 0; l < L; ++l) {
      carry[l] = acc_t(0);
      gtau[l] = acc_t(0);
    }
    if (grad_vl != nullptr) Lanes<L>::load(grad_vl + n, carry);
    Lanes<L>::load(h_seq + (T - 1) * N + n, h);
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t i = t * N + n;
      acc_t h_prev[L], gs[L], gh_in[L], gx[L];
      if (t > 0) {
        Lanes<L>::load(h_seq + i - N, h_prev);
      } else {
#pragma unroll
        for (int l = 0; l < L; ++l) h_prev[l] = acc_t(0);
      }
      if (grad_s != nullptr) {
        Lanes<L>::load(grad_s + i, gs);
      } else {
#pragma unroll
        for (int l = 0; l < L; ++l) gs[l] = acc_t(0);
      }
      if (grad_h != nullptr) {
        Lanes<L>::load(grad_h + i, gh_in);
      } else {
#pragma unroll
        for (int l = 0; l < L; ++l) gh_in[l] = acc_t(0);
      }
#pragma unroll
      for (int l = 0; l < L; ++l) {
        const acc_t sg = surrogate_grad(h[l] - v_th, alpha, sid);
        acc_t dv_dh;
        if (hard) {
          dv_dh = h[l] >= v_th ? acc_t(0) : acc_t(1);
          if (!detach_reset) dv_dh += (v_reset - h[l]) * sg;
        } else {
          dv_dh = detach_reset ? acc_t(1) : acc_t(1) - v_th * sg;
        }
        const acc_t gh = gs[l] * sg + carry[l] * dv_dh + gh_in[l];
        gx[l] = gh * gain_x;
        if (tau_partial != nullptr) {
          acc_t v_prev;
          if (t == 0) {
            v_prev = v_init[n + l];
          } else if (h_prev[l] >= v_th) {
            v_prev = hard ? v_reset : h_prev[l] - v_th;
          } else {
            v_prev = h_prev[l];
          }
          // dH/dtau = -(H - V[t-1]) / tau (decay_input) or (V[t-1] - V_r) / tau^2; 0 for IF.
          const acc_t dh_dtau = decay_input ? -(h[l] - v_prev) * inv_tau : (v_prev - vr) * inv_tau * inv_tau;
          gtau[l] += gh * dh_dtau;
        }
        carry[l] = gh - gh * inv_tau;
        h[l] = h_prev[l];
      }
      Lanes<L>::store(grad_x + i, gx);
    }
    Lanes<L>::store(grad_v + n, carry);
    if (tau_partial != nullptr) Lanes<L>::store(tau_partial + n, gtau);
  }
}

int64_t num_blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return blocks < 1 ? 1 : (blocks > (int64_t{1} << 30) ? (int64_t{1} << 30) : blocks);
}

bool aligned(const void* p, std::size_t bytes) { return reinterpret_cast<std::uintptr_t>(p) % bytes == 0; }

// Paired lanes for half types: N even and every pointer aligned to its 2-element word.
bool use_pairs(at::ScalarType dtype, int64_t N, std::initializer_list<std::pair<const void*, std::size_t>> ptrs) {
  if (dtype != at::kHalf && dtype != at::kBFloat16) return false;
  if (N % 2 != 0) return false;
  for (const auto& p : ptrs) {
    if (p.first != nullptr && !aligned(p.first, p.second)) return false;
  }
  return true;
}

// Paired lanes exist for float16/bfloat16 only (two 2-byte values per 4-byte word, computed in float).
template <typename scalar_t>
constexpr bool kPairable = std::is_same_v<scalar_t, c10::Half> || std::is_same_v<scalar_t, c10::BFloat16>;

template <typename scalar_t, typename acc_t>
void launch_forward(bool pairs, cudaStream_t stream, const scalar_t* x, const acc_t* v_init, const double* tau,
                    scalar_t* spikes, scalar_t* v_last, acc_t* h_out, int64_t T, int64_t N, acc_t v_th,
                    acc_t v_reset, bool hard, bool decay_input) {
  if constexpr (kPairable<scalar_t>) {
    if (pairs) {
      lif_forward_kernel<scalar_t, acc_t, 2><<<num_blocks(N / 2), kThreads, 0, stream>>>(
          x, v_init, tau, spikes, v_last, h_out, T, N, v_th, v_reset, hard, decay_input);
      return;
    }
  }
  lif_forward_kernel<scalar_t, acc_t, 1><<<num_blocks(N), kThreads, 0, stream>>>(
      x, v_init, tau, spikes, v_last, h_out, T, N, v_th, v_reset, hard, decay_input);
}

template <typename scalar_t, typename acc_t>
void launch_backward(bool pairs, cudaStream_t stream, const scalar_t* grad_s, const scalar_t* grad_vl,
                     const acc_t* grad_h, const acc_t* h_seq, const acc_t* v_init, const double* tau,
                     scalar_t* grad_x, acc_t* grad_v, acc_t* tau_partial, int64_t T, int64_t N, acc_t v_th,
                     acc_t v_reset, bool hard, bool decay_input, bool detach_reset, int sid, acc_t alpha) {
  if constexpr (kPairable<scalar_t>) {
    if (pairs) {
      lif_backward_kernel<scalar_t, acc_t, 2><<<num_blocks(N / 2), kThreads, 0, stream>>>(
          grad_s, grad_vl, grad_h, h_seq, v_init, tau, grad_x, grad_v, tau_partial, T, N, v_th, v_reset, hard,
          decay_input, detach_reset, sid, alpha);
      return;
    }
  }
  lif_backward_kernel<scalar_t, acc_t, 1><<<num_blocks(N), kThreads, 0, stream>>>(
      grad_s, grad_vl, grad_h, h_seq, v_init, tau, grad_x, grad_v, tau_partial, T, N, v_th, v_reset, hard,
      decay_input, detach_reset, sid, alpha);
}

void check_common(const at::Tensor& x, const at::Tensor& v_init, const at::Tensor& tau, const char* fn) {
  TORCH_CHECK(x.is_cuda() && x.is_contiguous(), fn, ": x must be a contiguous CUDA tensor");
  TORCH_CHECK(x.dim() >= 1 && x.size(0) >= 1, fn, ": x must be [T, ...] with T >= 1 (got ", x.sizes(), ")");
  const auto opmath = at::toOpMathType(x.scalar_type());
  TORCH_CHECK(v_init.device() == x.device() && v_init.is_contiguous() && v_init.scalar_type() == opmath &&
                  v_init.numel() * x.size(0) == x.numel(),
              fn, ": v_init must be a contiguous tensor of one time step in the op-math dtype, on x's device");
  TORCH_CHECK(tau.device() == x.device() && tau.numel() == 1 && tau.scalar_type() == at::kDouble, fn,
              ": tau must be a 1-element float64 tensor on the device of x");
}

void check_like(const std::optional<at::Tensor>& t, const at::Tensor& ref, at::ScalarType dtype, int64_t numel,
                const char* what) {
  if (!t.has_value()) return;
  TORCH_CHECK(t->device() == ref.device() && t->is_contiguous() && t->scalar_type() == dtype && t->numel() == numel,
              "lif_backward: ", what, " must be contiguous, on the device of h_seq, dtype ", dtype, ", ", numel,
              " elements");
}

}  // namespace

std::vector<at::Tensor> lif_forward(const at::Tensor& x, const at::Tensor& v_init, const at::Tensor& tau,
                                    double v_threshold, std::optional<double> v_reset, bool decay_input,
                                    bool store_h) {
  check_common(x, v_init, tau, "lif_forward");
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t T = x.size(0);
  const int64_t N = x.numel() / T;
  const auto opmath = at::toOpMathType(x.scalar_type());
  at::Tensor spikes = at::empty_like(x);
  at::Tensor v_last = at::empty(v_init.sizes(), x.options());
  at::Tensor h_seq = store_h ? at::empty(x.sizes(), x.options().dtype(opmath)) : at::empty({0}, x.options().dtype(opmath));
  if (N == 0) return {spikes, v_last, h_seq};
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "lif_forward", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const acc_t* vp = v_init.data_ptr<acc_t>();
    scalar_t* sp = spikes.data_ptr<scalar_t>();
    scalar_t* vlp = v_last.data_ptr<scalar_t>();
    acc_t* hp = store_h ? h_seq.data_ptr<acc_t>() : nullptr;
    const bool pairs = use_pairs(x.scalar_type(), N, {{xp, 2 * sizeof(scalar_t)}, {vp, 2 * sizeof(acc_t)},
                                                      {sp, 2 * sizeof(scalar_t)}, {vlp, 2 * sizeof(scalar_t)},
                                                      {hp, 2 * sizeof(acc_t)}});
    launch_forward<scalar_t, acc_t>(pairs, stream, xp, vp, tau.data_ptr<double>(), sp, vlp, hp, T, N,
                                    static_cast<acc_t>(v_threshold), static_cast<acc_t>(v_reset.value_or(0.0)),
                                    v_reset.has_value(), decay_input);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {spikes, v_last, h_seq};
}

std::vector<at::Tensor> lif_backward(at::Tensor& grad_x, const std::optional<at::Tensor>& grad_spikes,
                                     const std::optional<at::Tensor>& grad_v_last,
                                     const std::optional<at::Tensor>& grad_h, const at::Tensor& h_seq,
                                     const at::Tensor& v_init, const at::Tensor& tau, double v_threshold,
                                     std::optional<double> v_reset, bool decay_input, bool detach_reset,
                                     int64_t surrogate_id, double alpha, bool need_tau_grad) {
  TORCH_CHECK(grad_x.is_cuda() && grad_x.is_contiguous() && grad_x.dim() >= 1 && grad_x.size(0) >= 1,
              "lif_backward: grad_x must be a contiguous CUDA tensor [T, ...] with T >= 1");
  const auto dtype = grad_x.scalar_type();
  const auto opmath = at::toOpMathType(dtype);
  const int64_t T = grad_x.size(0);
  const int64_t N = grad_x.numel() / T;
  TORCH_CHECK(h_seq.device() == grad_x.device() && h_seq.is_contiguous() && h_seq.scalar_type() == opmath &&
                  h_seq.numel() == grad_x.numel(),
              "lif_backward: h_seq must be contiguous, in the op-math dtype, one value per element of grad_x");
  TORCH_CHECK(v_init.device() == grad_x.device() && v_init.is_contiguous() && v_init.scalar_type() == opmath &&
                  v_init.numel() == N,
              "lif_backward: v_init must be a contiguous tensor of one time step in the op-math dtype");
  TORCH_CHECK(tau.device() == grad_x.device() && tau.numel() == 1 && tau.scalar_type() == at::kDouble,
              "lif_backward: tau must be a 1-element float64 tensor on the device of grad_x");
  check_like(grad_spikes, grad_x, dtype, grad_x.numel(), "grad_spikes");
  check_like(grad_v_last, grad_x, dtype, N, "grad_v_last");
  check_like(grad_h, grad_x, opmath, grad_x.numel(), "grad_h");
  TORCH_CHECK(surrogate_id == 0 || surrogate_id == 1, "lif_backward: surrogate id must be 0 or 1 (got ",
              surrogate_id, ")");
  const c10::cuda::CUDAGuard guard(grad_x.device());
  at::Tensor grad_v = at::empty_like(v_init);
  at::Tensor tau_partial = need_tau_grad ? at::empty({N}, grad_x.options().dtype(opmath)) : at::Tensor();
  if (N > 0) {
    const auto stream = c10::cuda::getCurrentCUDAStream();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "lif_backward", [&] {
      using acc_t = at::opmath_type<scalar_t>;
      const scalar_t* gsp = grad_spikes.has_value() ? grad_spikes->data_ptr<scalar_t>() : nullptr;
      const scalar_t* gvlp = grad_v_last.has_value() ? grad_v_last->data_ptr<scalar_t>() : nullptr;
      const acc_t* ghp = grad_h.has_value() ? grad_h->data_ptr<acc_t>() : nullptr;
      const acc_t* hp = h_seq.data_ptr<acc_t>();
      const acc_t* vp = v_init.data_ptr<acc_t>();
      scalar_t* gxp = grad_x.data_ptr<scalar_t>();
      acc_t* gvp = grad_v.data_ptr<acc_t>();
      acc_t* tp = need_tau_grad ? tau_partial.data_ptr<acc_t>() : nullptr;
      const acc_t vth = static_cast<acc_t>(v_threshold);
      const acc_t vr = static_cast<acc_t>(v_reset.value_or(0.0));
      const acc_t al = static_cast<acc_t>(alpha);
      const int sid = static_cast<int>(surrogate_id);
      const bool pairs = use_pairs(dtype, N, {{gsp, 2 * sizeof(scalar_t)}, {gvlp, 2 * sizeof(scalar_t)},
                                              {ghp, 2 * sizeof(acc_t)}, {hp, 2 * sizeof(acc_t)},
                                              {vp, 2 * sizeof(acc_t)}, {gxp, 2 * sizeof(scalar_t)},
                                              {gvp, 2 * sizeof(acc_t)}, {tp, 2 * sizeof(acc_t)}});
      launch_backward<scalar_t, acc_t>(pairs, stream, gsp, gvlp, ghp, hp, vp, tau.data_ptr<double>(), gxp, gvp, tp,
                                       T, N, vth, vr, v_reset.has_value(), decay_input, detach_reset, sid, al);
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  at::Tensor grad_tau = need_tau_grad ? tau_partial.sum(at::kDouble) : at::zeros({}, tau.options());
  return {grad_v, grad_tau};
}

}  // namespace graphspike
