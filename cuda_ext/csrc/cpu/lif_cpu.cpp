// Fused multi-step LIF neuron on the CPU: forward and backward loops over T in one pass.
//
// Semantics: cuda_ext/neuron.py (the PyTorch reference step is the spec); the float operations
// and their order are those of csrc/lif.cu, so the forward (spikes, H, V[T-1]) is bitwise the
// PyTorch path's. The backward differs from PyTorch by rounding only: the sigmoid surrogate's
// exp is a branch-free polynomial (fast_exp; measured within 0.97 ulp of the true exp on 4.5M
// points of [-110, 90]) that the compiler vectorises, where ATen calls Sleef or libm.
//
// Layout: time-major [T, N] contiguous. Neurons are split into blocks of kBlock consecutive
// neurons; each block loops over the T steps with its state (V, or dL/dV in backward) in a
// stack array, so every step streams x[t, block] once and the state never leaves L1. Blocks run
// in parallel (at::parallel_for, torch's intra-op threads). Per element and step the forward
// reads x and writes the spike (and H when backward needs it); the backward reads H, the spike
// gradient (and the H gradient) and writes the input gradient. No atomics: the tau gradient is
// reduced per block in double, then over blocks in a fixed order, so results do not depend on
// the thread count.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/scalar_tensor.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/python.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

namespace graphspike {
namespace {

// x86-64: an AVX2 clone of each block loop beside the baseline (SSE2) one, picked at load time
// for the CPU it runs on. Contraction is off (-ffp-contract=off), so both clones round alike.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GS_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GS_SIMD_CLONES
#endif

constexpr int64_t kBlock = 1024;  // neurons per block: state + one step of I/O stay in L1/L2

// exp(x) for float without branches or library calls (Cephes expf's reduction and polynomial),
// so loops that call it vectorise. Rounds to nearest with the 1.5 * 2^23 trick (no floor call);
// 2^n is applied as two exact power-of-two factors, so the whole range of expf is covered:
// subnormal results below -87.3, 0 below -104, +inf above 88.72, NaN for NaN.
inline float fast_exp(float x_in) {
  const float x = std::min(std::max(x_in, -104.0f), 89.0f);
  const float magic = 12582912.0f;                                 // 1.5 * 2^23
  const float fx = (x * 1.44269504088896341f + magic) - magic;     // n = round(x / ln 2)
  const float r = (x - fx * 0.693359375f) - fx * -2.12194440e-4f;  // x - n ln 2, in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;                               // exp(r), |r| <= ln(2) / 2
  const int32_t n = static_cast<int32_t>(fx), n1 = n / 2, n2 = n - n1;  // n in [-150, 128]
  const int32_t bits1 = (n1 + 127) << 23, bits2 = (n2 + 127) << 23;
  float pow1, pow2;
  std::memcpy(&pow1, &bits1, sizeof(pow1));
  std::memcpy(&pow2, &bits2, sizeof(pow2));
  return x_in != x_in ? x_in : (y * pow1) * pow2;  // NaN in, NaN out (the clamp would hide it)
}
inline double fast_exp(double x) { return std::exp(x); }

template <typename acc_t>
inline acc_t surrogate_grad(acc_t x, acc_t alpha, int64_t sid) {
  // Same expressions as cuda_ext/surrogate.py and csrc/lif.cu.
  if (sid == 0) {
    const acc_t s = acc_t(1) / (acc_t(1) + fast_exp(-(alpha * x)));
    return (acc_t(1) - s) * s * alpha;
  }
  const acc_t z = x * (acc_t(1.5707963267948966) * alpha);
  return (alpha / acc_t(2)) / (acc_t(1) + z * z);
}

enum Charge { kIF = 0, kDecayInput = 1, kDecayState = 2 };

// H = V + (X - (V - V_r)) / tau  |  V - (V - V_r) / tau + X  |  V + X (IF)
template <int charge, typename acc_t>
inline acc_t charge_h(acc_t v, acc_t x, acc_t vr, acc_t tau) {
  if (charge == kIF) return v + x;
  if (charge == kDecayInput) return v + (x - (v - vr)) / tau;
  return v - (v - vr) / tau + x;
}

template <typename scalar_t, int charge, bool hard>
GS_SIMD_CLONES void forward_block(const scalar_t* __restrict__ x, scalar_t* __restrict__ v,
                                  scalar_t* __restrict__ spikes, scalar_t* __restrict__ h_out, int64_t T, int64_t N,
                                  int64_t n0, int64_t len, scalar_t tau, scalar_t v_th, scalar_t v_reset) {
  const scalar_t vr = hard ? v_reset : scalar_t(0);
  for (int64_t t = 0; t < T; ++t) {
    const scalar_t* __restrict__ xt = x + t * N + n0;
    scalar_t* __restrict__ st = spikes + t * N + n0;
    scalar_t* __restrict__ ht = h_out == nullptr ? nullptr : h_out + t * N + n0;
    if (ht != nullptr) {
      for (int64_t i = 0; i < len; ++i) {
        const scalar_t h = charge_h<charge>(v[i], xt[i], vr, tau);
        const bool fire = h >= v_th;
        st[i] = fire ? scalar_t(1) : scalar_t(0);
        ht[i] = h;
        v[i] = fire ? (hard ? v_reset : h - v_th) : h;
      }
    } else {
      for (int64_t i = 0; i < len; ++i) {
        const scalar_t h = charge_h<charge>(v[i], xt[i], vr, tau);
        const bool fire = h >= v_th;
        st[i] = fire ? scalar_t(1) : scalar_t(0);
        v[i] = fire ? (hard ? v_reset : h - v_th) : h;
      }
    }
  }
}

template <typename scalar_t, int charge, bool hard>
void forward_all(const scalar_t* x, const scalar_t* v_init, scalar_t* spikes, scalar_t* v_last, scalar_t* h_out,
                 int64_t T, int64_t N, scalar_t tau, scalar_t v_th, scalar_t v_reset) {
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    scalar_t v[kBlock];
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * kBlock, len = std::min(kBlock, N - n0);
      std::copy(v_init + n0, v_init + n0 + len, v);
      forward_block<scalar_t, charge, hard>(x, v, spikes, h_out, T, N, n0, len, tau, v_th, v_reset);
      std::copy(v, v + len, v_last + n0);
    }
  });
}

struct BackwardArgs {
  int64_t T, N, sid;
  bool hard, decay_input, detach_reset;
  double tau, v_th, v_reset, alpha;
};

// One block, t = T-1 .. 0; carry = dL/dV[t] from step t+1, starting at dL/dV[T-1]. Absent
// gradients read a block of zeros (adding 0 changes no bit), so the step loop has no branch and
// vectorises. Returns the block's sum of dL/dH * dH/dtau when tau_grad is set.
template <typename scalar_t, int sid, bool hard, bool detach_reset>
GS_SIMD_CLONES double backward_block(const scalar_t* grad_s, const scalar_t* grad_vl, const scalar_t* grad_h,
                                     const scalar_t* h_seq, const scalar_t* v_init, scalar_t* grad_x, scalar_t* carry,
                                     const BackwardArgs& a, int64_t n0, int64_t len, bool tau_grad) {
  const int64_t T = a.T, N = a.N;
  const scalar_t tau = static_cast<scalar_t>(a.tau), v_th = static_cast<scalar_t>(a.v_th);
  const scalar_t v_reset = static_cast<scalar_t>(a.v_reset), alpha = static_cast<scalar_t>(a.alpha);
  const bool is_if = std::isinf(tau);
  const scalar_t inv_tau = is_if ? scalar_t(0) : scalar_t(1) / tau;
  const scalar_t gain_x = a.decay_input ? (is_if ? scalar_t(1) : inv_tau) : scalar_t(1);
  const scalar_t vr = hard ? v_reset : scalar_t(0);
  scalar_t zeros[kBlock] = {};
  scalar_t gh_buf[kBlock];  // dL/dH[t] of the block, for the tau gradient
  if (grad_vl != nullptr) {
    std::copy(grad_vl + n0, grad_vl + n0 + len, carry);
  } else {
    std::fill(carry, carry + len, scalar_t(0));
  }
  double gtau = 0.0;
  for (int64_t t = T - 1; t >= 0; --t) {
    const int64_t off = t * N + n0;
    const scalar_t* __restrict__ ht = h_seq + off;
    const scalar_t* __restrict__ gst = grad_s == nullptr ? zeros : grad_s + off;
    const scalar_t* __restrict__ ght = grad_h == nullptr ? zeros : grad_h + off;
    scalar_t* __restrict__ gxt = grad_x + off;
    scalar_t* __restrict__ c = carry;
    scalar_t* __restrict__ gb = gh_buf;
    for (int64_t i = 0; i < len; ++i) {
      const scalar_t h = ht[i];
      const scalar_t sg = surrogate_grad<scalar_t>(h - v_th, alpha, sid);
      scalar_t dv_dh;
      if (hard) {
        dv_dh = h >= v_th ? scalar_t(0) : scalar_t(1);
        if (!detach_reset) dv_dh += (v_reset - h) * sg;
      } else {
        dv_dh = detach_reset ? scalar_t(1) : scalar_t(1) - v_th * sg;
      }
      const scalar_t gh = gst[i] * sg + c[i] * dv_dh + ght[i];
      gxt[i] = gh * gain_x;
      c[i] = gh - gh * inv_tau;
      gb[i] = gh;
    }
    if (!tau_grad) continue;
    for (int64_t i = 0; i < len; ++i) {
      scalar_t v_prev;
      if (t == 0) {
        v_prev = v_init[n0 + i];
      } else {
        const scalar_t hp = ht[i - N];
        v_prev = hp >= v_th ? (hard ? v_reset : hp - v_th) : hp;
      }
      // dH/dtau = -(H - V[t-1]) / tau (decay_input) or (V[t-1] - V_r) / tau^2; 0 for IF.
      const scalar_t dh_dtau = a.decay_input ? -(ht[i] - v_prev) * inv_tau : (v_prev - vr) * inv_tau * inv_tau;
      gtau += static_cast<double>(gb[i] * dh_dtau);
    }
  }
  return gtau;
}

template <typename scalar_t, int sid, bool hard, bool detach_reset>
double backward_all(const scalar_t* grad_s, const scalar_t* grad_vl, const scalar_t* grad_h, const scalar_t* h_seq,
                    const scalar_t* v_init, scalar_t* grad_x, scalar_t* grad_v, const BackwardArgs& a, bool tau_grad) {
  const int64_t blocks = (a.N + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * kBlock, len = std::min(kBlock, a.N - n0);
      partial[b] = backward_block<scalar_t, sid, hard, detach_reset>(grad_s, grad_vl, grad_h, h_seq, v_init, grad_x,
                                                                     grad_v + n0, a, n0, len, tau_grad);
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;  // fixed order: independent of the thread count
  return total;
}

// Runtime flags -> template arguments, so every inner loop is branch-free and vectorises.
template <typename scalar_t>
void forward_dispatch(int charge, bool hard, const scalar_t* x, const scalar_t* v_init, scalar_t* spikes,
                      scalar_t* v_last, scalar_t* h_out, int64_t T, int64_t N, scalar_t tau, scalar_t v_th,
                      scalar_t v_reset) {
  auto run = [&](auto charge_c, auto hard_c) {
    forward_all<scalar_t, decltype(charge_c)::value, decltype(hard_c)::value>(x, v_init, spikes, v_last, h_out, T, N,
                                                                              tau, v_th, v_reset);
  };
  auto with_hard = [&](auto charge_c) {
    if (hard) {
      run(charge_c, std::true_type{});
    } else {
      run(charge_c, std::false_type{});
    }
  };
  if (charge == kIF) {
    with_hard(std::integral_constant<int, kIF>{});
  } else if (charge == kDecayInput) {
    with_hard(std::integral_constant<int, kDecayInput>{});
  } else {
    with_hard(std::integral_constant<int, kDecayState>{});
  }
}

template <typename scalar_t>
double backward_dispatch(const scalar_t* grad_s, const scalar_t* grad_vl, const scalar_t* grad_h, const scalar_t* h_seq,
                         const scalar_t* v_init, scalar_t* grad_x, scalar_t* grad_v, const BackwardArgs& a,
                         bool tau_grad) {
  auto run = [&](auto sid_c, auto hard_c, auto detach_c) {
    return backward_all<scalar_t, decltype(sid_c)::value, decltype(hard_c)::value, decltype(detach_c)::value>(
        grad_s, grad_vl, grad_h, h_seq, v_init, grad_x, grad_v, a, tau_grad);
  };
  auto with_detach = [&](auto sid_c, auto hard_c) {
    return a.detach_reset ? run(sid_c, hard_c, std::true_type{}) : run(sid_c, hard_c, std::false_type{});
  };
  auto with_hard = [&](auto sid_c) {
    return a.hard ? with_detach(sid_c, std::true_type{}) : with_detach(sid_c, std::false_type{});
  };
  return a.sid == 0 ? with_hard(std::integral_constant<int, 0>{}) : with_hard(std::integral_constant<int, 1>{});
}

void check_cpu(const at::Tensor& t, const char* name, at::ScalarType dtype, int64_t numel) {
  TORCH_CHECK(t.device().is_cpu(), "lif (CPU kernel): ", name, " must be a CPU tensor (got ", t.device(), ")");
  TORCH_CHECK(t.scalar_type() == dtype, "lif (CPU kernel): ", name, " must be ", dtype, " (got ", t.scalar_type(), ")");
  TORCH_CHECK(t.is_contiguous(), "lif (CPU kernel): ", name, " must be contiguous");
  TORCH_CHECK(t.numel() == numel, "lif (CPU kernel): ", name, " has ", t.numel(), " elements (expected ", numel, ")");
}

}  // namespace

// x [T, *N] float32/float64 contiguous; v_init [*N] same dtype -> [spikes [T, *N], v_last [*N], h_seq].
std::vector<at::Tensor> lif_forward_cpu(const at::Tensor& x, const at::Tensor& v_init, double tau, double v_threshold,
                                        std::optional<double> v_reset, bool decay_input, bool store_h) {
  TORCH_CHECK(x.dim() >= 1, "lif (CPU kernel): x must be [T, ...] (got ", x.dim(), " dims)");
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble,
              "lif (CPU kernel): x must be float32 or float64 (got ", x.scalar_type(), ")");
  const int64_t T = x.size(0), N = T == 0 ? 0 : x.numel() / T;
  check_cpu(x, "x", x.scalar_type(), T * N);
  check_cpu(v_init, "v_init", x.scalar_type(), N);
  auto spikes = at::empty(x.sizes(), x.options());
  auto v_last = at::empty(v_init.sizes(), x.options());
  auto h_seq = store_h ? at::empty(x.sizes(), x.options()) : at::empty({0}, x.options());
  const bool hard = v_reset.has_value();
  const int charge = std::isinf(tau) ? kIF : (decay_input ? kDecayInput : kDecayState);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "lif_forward_cpu", [&] {
    const auto* xp = x.data_ptr<scalar_t>();
    const auto* vp = v_init.data_ptr<scalar_t>();
    auto* sp = spikes.data_ptr<scalar_t>();
    auto* vl = v_last.data_ptr<scalar_t>();
    auto* hp = store_h ? h_seq.data_ptr<scalar_t>() : nullptr;
    const auto ta = static_cast<scalar_t>(tau), th = static_cast<scalar_t>(v_threshold);
    const auto rs = static_cast<scalar_t>(hard ? *v_reset : 0.0);
    forward_dispatch<scalar_t>(charge, hard, xp, vp, sp, vl, hp, T, N, ta, th, rs);
  });
  return {spikes, v_last, h_seq};
}

// Writes grad_x [T, *N]; returns [grad_v_init [*N], grad_tau (float64 scalar)].
std::vector<at::Tensor> lif_backward_cpu(at::Tensor& grad_x, const std::optional<at::Tensor>& grad_spikes,
                                         const std::optional<at::Tensor>& grad_v_last,
                                         const std::optional<at::Tensor>& grad_h, const at::Tensor& h_seq,
                                         const at::Tensor& v_init, double tau, double v_threshold,
                                         std::optional<double> v_reset, bool decay_input, bool detach_reset,
                                         int64_t surrogate_id, double alpha, bool need_tau_grad) {
  const auto dtype = h_seq.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble, "lif (CPU kernel): h_seq must be float32 or float64");
  TORCH_CHECK(h_seq.dim() >= 1, "lif (CPU kernel): h_seq must be [T, ...]");
  TORCH_CHECK(surrogate_id == 0 || surrogate_id == 1, "lif (CPU kernel): unknown surrogate id ", surrogate_id);
  const int64_t T = h_seq.size(0), N = T == 0 ? 0 : h_seq.numel() / T;
  check_cpu(h_seq, "h_seq", dtype, T * N);
  check_cpu(grad_x, "grad_x", dtype, T * N);
  check_cpu(v_init, "v_init", dtype, N);
  if (grad_spikes) check_cpu(*grad_spikes, "grad_spikes", dtype, T * N);
  if (grad_v_last) check_cpu(*grad_v_last, "grad_v_last", dtype, N);
  if (grad_h) check_cpu(*grad_h, "grad_h", dtype, T * N);
  auto grad_v = at::empty(v_init.sizes(), v_init.options());
  BackwardArgs a;
  a.T = T;
  a.N = N;
  a.sid = surrogate_id;
  a.hard = v_reset.has_value();
  a.decay_input = decay_input;
  a.detach_reset = detach_reset;
  a.tau = tau;
  a.v_th = v_threshold;
  a.v_reset = v_reset.value_or(0.0);
  a.alpha = alpha;
  double gtau = 0.0;
  AT_DISPATCH_FLOATING_TYPES(dtype, "lif_backward_cpu", [&] {
    const scalar_t* gs = grad_spikes ? grad_spikes->data_ptr<scalar_t>() : nullptr;
    const scalar_t* gv = grad_v_last ? grad_v_last->data_ptr<scalar_t>() : nullptr;
    const scalar_t* gh = grad_h ? grad_h->data_ptr<scalar_t>() : nullptr;
    const scalar_t* hs = h_seq.data_ptr<scalar_t>();
    const scalar_t* vi = v_init.data_ptr<scalar_t>();
    scalar_t* gx = grad_x.data_ptr<scalar_t>();
    scalar_t* gvo = grad_v.data_ptr<scalar_t>();
    gtau = backward_dispatch<scalar_t>(gs, gv, gh, hs, vi, gx, gvo, a, need_tau_grad);
  });
  return {grad_v, at::scalar_tensor(gtau, at::TensorOptions().dtype(at::kDouble))};
}

}  // namespace graphspike

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "graphspike CPU kernels: fused multi-step LIF forward and backward";
  m.def("lif_forward", &graphspike::lif_forward_cpu, "fused multi-step LIF forward -> [spikes, v_last, h_seq]",
        pybind11::arg("x"), pybind11::arg("v_init"), pybind11::arg("tau"), pybind11::arg("v_threshold"),
        pybind11::arg("v_reset"), pybind11::arg("decay_input"), pybind11::arg("store_h"));
  m.def("lif_backward", &graphspike::lif_backward_cpu,
        "fused multi-step LIF backward: writes grad_x, returns [grad_v_init, grad_tau]", pybind11::arg("grad_x"),
        pybind11::arg("grad_spikes"), pybind11::arg("grad_v_last"), pybind11::arg("grad_h"), pybind11::arg("h_seq"),
        pybind11::arg("v_init"), pybind11::arg("tau"), pybind11::arg("v_threshold"), pybind11::arg("v_reset"),
        pybind11::arg("decay_input"), pybind11::arg("detach_reset"), pybind11::arg("surrogate_id"),
        pybind11::arg("alpha"), pybind11::arg("need_tau_grad"));
}
