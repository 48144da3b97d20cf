// Fused multi-step LIF neuron: forward and backward kernels.
//
// Semantics: cuda_ext/lif.py (the PyTorch reference is the spec). One thread owns one neuron
// and loops over the T time steps, keeping the membrane potential in a register; the layout is
// time-major [T, N], so at every step consecutive threads touch consecutive addresses.
//
// Memory traffic (per neuron and step, element size b, opmath size a):
//   forward : read x (b), write spike (b), write H (a) only when backward / v_seq needs it;
//   backward: read grad_spike (b), read H (a), [read grad_H (a)], write grad_x (b).
// Spikes are recomputed in backward as H >= V_th and V[t-1] from H[t-1], so nothing else is
// stored. The gradient of tau is reduced per neuron in registers and written once ([N]); the
// final sum over neurons is a deterministic torch reduction on the host side.
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

#include <cmath>
#include <optional>
#include <vector>

namespace graphspike {
namespace {

constexpr int kThreads = 256;

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

template <typename scalar_t, typename acc_t>
__global__ void lif_forward_kernel(const scalar_t* __restrict__ x, const scalar_t* __restrict__ v_init,
                                   const double* __restrict__ tau_ptr, scalar_t* __restrict__ spikes,
                                   acc_t* __restrict__ h_out, int64_t T, int64_t N, acc_t v_th, acc_t v_reset,
                                   bool hard, bool decay_input, bool store_h) {
  const acc_t tau = static_cast<acc_t>(*tau_ptr);
  const bool is_if = isinf(tau);
  const acc_t vr = hard ? v_reset : acc_t(0);
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += stride) {
    acc_t v = static_cast<acc_t>(v_init[n]);
#pragma unroll 4
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = t * N + n;
      const acc_t xv = static_cast<acc_t>(x[i]);
      acc_t h;
      if (is_if) {
        h = v + xv;
      } else if (decay_input) {
        h = v + (xv - (v - vr)) / tau;
      } else {
        h = v - (v - vr) / tau + xv;
      }
      const bool fire = h >= v_th;
      spikes[i] = static_cast<scalar_t>(fire ? 1.0f : 0.0f);
      if (store_h) h_out[i] = h;
      if (hard) {
        v = fire ? v_reset : h;
      } else {
        v = fire ? h - v_th : h;
      }
    }
  }
}

template <typename scalar_t, typename acc_t>
__global__ void lif_backward_kernel(const scalar_t* __restrict__ grad_s, const acc_t* __restrict__ grad_h,
                                    const acc_t* __restrict__ h_seq, const scalar_t* __restrict__ v_init,
                                    const double* __restrict__ tau_ptr, scalar_t* __restrict__ grad_x,
                                    scalar_t* __restrict__ grad_v, acc_t* __restrict__ tau_partial, int64_t T,
                                    int64_t N, acc_t v_th, acc_t v_reset, bool hard, bool decay_input,
                                    bool detach_reset, int sid, acc_t alpha) {
  const acc_t tau = static_cast<acc_t>(*tau_ptr);
  const bool is_if = isinf(tau);
  const acc_t inv_tau = is_if ? acc_t(0) : acc_t(1) / tau;
  const acc_t gain_x = decay_input ? (is_if ? acc_t(1) : inv_tau) : acc_t(1);
  const acc_t vr = hard ? v_reset : acc_t(0);
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t n = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += stride) {
    acc_t carry = 0;  // dL/dV[t], flowing back from step t+1
    acc_t gtau = 0;
    acc_t h = h_seq[(T - 1) * N + n];
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t i = t * N + n;
      const acc_t h_prev = t > 0 ? h_seq[i - N] : acc_t(0);
      const acc_t sg = surrogate_grad(h - v_th, alpha, sid);
      acc_t dv_dh;
      if (hard) {
        dv_dh = h >= v_th ? acc_t(0) : acc_t(1);
        if (!detach_reset) dv_dh += (v_reset - h) * sg;
      } else {
        dv_dh = detach_reset ? acc_t(1) : acc_t(1) - v_th * sg;
      }
      acc_t gh = static_cast<acc_t>(grad_s[i]) * sg + carry * dv_dh;
      if (grad_h != nullptr) gh += grad_h[i];
      grad_x[i] = static_cast<scalar_t>(gh * gain_x);
      if (tau_partial != nullptr) {
        acc_t v_prev;
        if (t == 0) {
          v_prev = static_cast<acc_t>(v_init[n]);
        } else if (h_prev >= v_th) {
          v_prev = hard ? v_reset : h_prev - v_th;
        } else {
          v_prev = h_prev;
        }
        // dH/dtau = -(H - V[t-1]) / tau (decay_input) or (V[t-1] - V_r) / tau^2; 0 for IF.
        const acc_t dh_dtau = decay_input ? -(h - v_prev) * inv_tau : (v_prev - vr) * inv_tau * inv_tau;
        gtau += gh * dh_dtau;
      }
      carry = gh - gh * inv_tau;
      h = h_prev;
    }
    grad_v[n] = static_cast<scalar_t>(carry);
    if (tau_partial != nullptr) tau_partial[n] = gtau;
  }
}

int64_t num_blocks(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return blocks < 1 ? 1 : (blocks > (int64_t{1} << 30) ? (int64_t{1} << 30) : blocks);
}

void check_common(const at::Tensor& x, const at::Tensor& v_init, const at::Tensor& tau, const char* fn) {
  TORCH_CHECK(x.is_cuda() && x.is_contiguous(), fn, ": x must be a contiguous CUDA tensor");
  TORCH_CHECK(x.dim() >= 1 && x.size(0) >= 1, fn, ": x must be [T, ...] with T >= 1 (got ", x.sizes(), ")");
  TORCH_CHECK(v_init.device() == x.device() && v_init.is_contiguous() && v_init.scalar_type() == x.scalar_type() &&
                  v_init.numel() * x.size(0) == x.numel(),
              fn, ": v_init must be a contiguous tensor of one time step, same dtype and device as x");
  TORCH_CHECK(tau.device() == x.device() && tau.numel() == 1 && tau.scalar_type() == at::kDouble, fn,
              ": tau must be a 1-element float64 tensor on the device of x");
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
  at::Tensor h_seq = store_h ? at::empty(x.sizes(), x.options().dtype(opmath)) : at::empty({0}, x.options().dtype(opmath));
  if (N == 0) return {spikes, h_seq};
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "lif_forward", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    lif_forward_kernel<scalar_t, acc_t><<<num_blocks(N), kThreads, 0, stream>>>(
        x.data_ptr<scalar_t>(), v_init.data_ptr<scalar_t>(), tau.data_ptr<double>(), spikes.data_ptr<scalar_t>(),
        store_h ? h_seq.data_ptr<acc_t>() : nullptr, T, N, static_cast<acc_t>(v_threshold),
        static_cast<acc_t>(v_reset.value_or(0.0)), v_reset.has_value(), decay_input, store_h);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {spikes, h_seq};
}

std::vector<at::Tensor> lif_backward(const at::Tensor& grad_spikes, const std::optional<at::Tensor>& grad_h,
                                     const at::Tensor& h_seq, const at::Tensor& v_init, const at::Tensor& tau,
                                     double v_threshold, std::optional<double> v_reset, bool decay_input,
                                     bool detach_reset, int64_t surrogate_id, double alpha, bool need_tau_grad) {
  check_common(grad_spikes, v_init, tau, "lif_backward");
  const auto opmath = at::toOpMathType(grad_spikes.scalar_type());
  TORCH_CHECK(h_seq.device() == grad_spikes.device() && h_seq.is_contiguous() && h_seq.scalar_type() == opmath &&
                  h_seq.numel() == grad_spikes.numel(),
              "lif_backward: h_seq must be contiguous, in the op-math dtype, one value per element of grad_spikes");
  if (grad_h.has_value()) {
    TORCH_CHECK(grad_h->device() == grad_spikes.device() && grad_h->is_contiguous() &&
                    grad_h->scalar_type() == opmath && grad_h->numel() == grad_spikes.numel(),
                "lif_backward: grad_h must match h_seq");
  }
  TORCH_CHECK(surrogate_id == 0 || surrogate_id == 1, "lif_backward: surrogate id must be 0 or 1 (got ",
              surrogate_id, ")");
  const c10::cuda::CUDAGuard guard(grad_spikes.device());
  const int64_t T = grad_spikes.size(0);
  const int64_t N = grad_spikes.numel() / T;
  at::Tensor grad_x = at::empty_like(grad_spikes);
  at::Tensor grad_v = at::empty_like(v_init);
  at::Tensor tau_partial = need_tau_grad ? at::empty({N}, grad_spikes.options().dtype(opmath)) : at::Tensor();
  if (N > 0) {
    const auto stream = c10::cuda::getCurrentCUDAStream();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_spikes.scalar_type(), "lif_backward", [&] {
      using acc_t = at::opmath_type<scalar_t>;
      lif_backward_kernel<scalar_t, acc_t><<<num_blocks(N), kThreads, 0, stream>>>(
          grad_spikes.data_ptr<scalar_t>(), grad_h.has_value() ? grad_h->data_ptr<acc_t>() : nullptr,
          h_seq.data_ptr<acc_t>(), v_init.data_ptr<scalar_t>(), tau.data_ptr<double>(), grad_x.data_ptr<scalar_t>(),
          grad_v.data_ptr<scalar_t>(), need_tau_grad ? tau_partial.data_ptr<acc_t>() : nullptr, T, N,
          static_cast<acc_t>(v_threshold), static_cast<acc_t>(v_reset.value_or(0.0)), v_reset.has_value(),
          decay_input, detach_reset, static_cast<int>(surrogate_id), static_cast<acc_t>(alpha));
    });
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  at::Tensor grad_tau = need_tau_grad ? tau_partial.sum(at::kDouble) : at::zeros({}, tau.options());
  return {grad_x, grad_v, grad_tau};
}

}  // namespace graphspike
